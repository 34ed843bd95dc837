"""The lecture's last topics as figures (issue 31): what eval() and no_grad() switch, gradients adding up
across backward() calls, and no free lunch, each checked on its numbers and its drawn text."""

from __future__ import annotations

import numpy as np
import pytest

from gradviz.lecture.free_lunch import cube, no_free_lunch, threshold_labelings
from gradviz.lecture.modes import CHECKS, MODES, gradient_accumulation, train_eval_modes
from gradviz.render.frames import drawn_texts


@pytest.fixture(scope="module")
def modes():
    return train_eval_modes()


def _value(table, check, mode):
    return table.values[CHECKS.index(check)][MODES.index(mode)]


def test_eval_switches_layers_not_requires_grad(modes):
    # the lecture says eval() makes every requires_grad False: measured, it leaves all 6 tensors True
    assert _value(modes, "parameters with requires_grad=True", "model.eval()") == "6/6"
    assert _value(modes, "Dropout zeroes units", "model.eval()") is False
    assert _value(modes, "Dropout zeroes units", "model.train()") is True
    assert _value(modes, "BatchNorm uses the batch's statistics", "model.eval()") is False
    assert _value(modes, "a graph is built (grad_fn)", "model.eval()") is True
    assert modes.spread[MODES.index("model.eval()")] == 0.0 and modes.spread[0] > 0.1


def test_no_grad_switches_the_graph_and_freezing_switches_requires_grad(modes):
    assert _value(modes, "a graph is built (grad_fn)", "train() + no_grad()") is False
    assert _value(modes, "Dropout zeroes units", "train() + no_grad()") is True  # no_grad leaves dropout on
    assert _value(modes, "parameters with requires_grad=True", "fc1.requires_grad_(False)") == "4/6"
    assert _value(modes, "fc1.weight.grad after backward()", "fc1.requires_grad_(False)") == "None"
    assert _value(modes, "fc1.weight.grad after backward()", "model.train()") == "set"


def test_the_seminars_backward_calls_add_up_and_zero_grad_resets():
    record = gradient_accumulation()
    np.testing.assert_allclose(record.accumulated, np.outer([-0.2, -0.4, -0.6, -0.8, -1.0], np.ones(5)), atol=1e-6)
    np.testing.assert_allclose(record.zeroed, -0.2, atol=1e-7)
    np.testing.assert_allclose(record.micro, record.full, rtol=1e-12)  # loss / 4 over 4 micro-batches
    np.testing.assert_allclose(record.micro_unscaled, 4 * record.full, rtol=1e-12)


def test_no_free_lunch_is_exact_over_all_targets_and_not_over_smooth_ones():
    assert len(threshold_labelings(cube(3))) == 104  # the number of threshold functions of 3 inputs (A000609)
    assert len(threshold_labelings(cube(2))) == 14
    record = no_free_lunch()
    assert record.counts == (256, 104, 70, 4)
    np.testing.assert_allclose(record.mean_all, 0.5, atol=1e-12)
    nearest, linear, majority, contrarian = record.mean_smooth
    assert max(nearest, linear) < majority < 0.5 < contrarian
    # each target's error of the contrarian is 1 - nearest neighbour's: a win somewhere is a loss elsewhere
    np.testing.assert_allclose(record.errors_all[0] + record.errors_all[3], 1.0)


def test_the_figures_show_their_numbers(modes):
    from gradviz.render.seminar import draw_accumulation, draw_modes

    texts = [t.get_text() for t in drawn_texts(draw_modes(modes))]
    assert any("does not set requires_grad=False" in t for t in texts)
    assert sum(t == "6/6" for t in texts) == 4 and "4/6" in texts
    texts = [t.get_text() for t in drawn_texts(draw_accumulation(gradient_accumulation()))]
    assert {"-0.2", "-0.4", "-0.6", "-0.8", "-1.0"} <= set(texts)


def test_empirical_risk_is_maximum_likelihood_and_estimates_the_true_risk():
    from gradviz.lecture.risk import empirical_risk

    r = empirical_risk(seeds=8)
    # Gaussian: NLL = MSE / (2 sigma^2) + log(2 pi sigma^2) / 2, so one argmin
    np.testing.assert_allclose(r.gaussian_nll, r.mse / (2 * r.sigma**2) + 0.5 * np.log(2 * np.pi * r.sigma**2),
                               rtol=1e-10)
    assert np.argmin(r.gaussian_nll) == np.argmin(r.mse)
    np.testing.assert_allclose(r.bce, r.bernoulli_nll, atol=1e-9)  # Bernoulli: BCE is the mean NLL itself
    assert r.true_risk == (r.theta_fixed - r.theta_true) ** 2 + r.sigma**2
    error = np.abs(r.risks - r.true_risk).mean(0)
    assert error[-1] < 0.1 * error[0] and np.all(np.abs(r.risks[:, -1] - r.true_risk) < 4 * r.spread[-1])


def test_augmentation_lowers_held_out_loss_on_every_seed():
    from gradviz.lecture.augmentation import data_augmentation

    a = data_augmentation(seeds=3, steps=150, test=500)
    np.testing.assert_allclose(np.linalg.norm(a.augmented, axis=1) < a.radius, a.augmented_labels > 0)  # label kept
    assert a.augmented.shape == (a.n * a.copies, 2)
    assert a.wins == 3 and np.all(a.augmented_test[:, -1] < a.plain_test[:, -1])
    assert np.all(a.plain_train[:, -1] < a.plain_test[:, -1])  # the plain net fits its 16 points, not the task
