import numpy as np
import pytest
import torch

from gradviz.lecture.functions import FUNCTIONS
from gradviz.lecture.optim import OPTIMIZERS
from gradviz.registry import InvalidArgument
from gradviz.lecture.tracing import trace


def plain_loop(function, spec, start, steps, **hyperparams):
    """What a user writes by hand: zero_grad, loss, backward, step (LBFGS through a closure)."""
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = spec.cls([x], **spec.fixed, **{**spec.defaults, **hyperparams})
    points = [x.detach().clone()]
    for _ in range(steps):
        if spec.needs_closure:
            def closure():
                optimizer.zero_grad()
                loss = function(x)
                loss.backward()
                return loss
            optimizer.step(closure)
        else:
            optimizer.zero_grad()
            function(x).backward()
            optimizer.step()
        points.append(x.detach().clone())
    return torch.stack(points).numpy()


@pytest.mark.parametrize("name", [n for n, spec in OPTIMIZERS.items() if spec.uses_gradient])
def test_points_equal_a_plain_torch_loop(name):
    fn = FUNCTIONS["rosenbrock"]
    record = trace(fn, name, steps=40)
    expected = plain_loop(fn, OPTIMIZERS[name], fn.start, 40)
    assert record.diverged_at is None
    np.testing.assert_array_equal(record.points, expected)


@pytest.mark.parametrize("name", ["sgd", "adam", "adabelief", "lbfgs"])
def test_other_functions_and_hyperparameters_match_too(name):
    fn = FUNCTIONS["himmelblau"]
    record = trace("himmelblau", name, steps=30, start=(0.5, -0.5), lr=0.01)
    np.testing.assert_array_equal(record.points, plain_loop(fn, OPTIMIZERS[name], (0.5, -0.5), 30, lr=0.01))


def test_record_contents_are_consistent():
    record = trace("rosenbrock", "adam", steps=50)
    fn = FUNCTIONS["rosenbrock"]
    assert record.points.shape == (51, 2) and record.losses.shape == (51,) and record.lrs.shape == (50,)
    np.testing.assert_allclose(record.losses, fn(record.points), rtol=1e-12)
    x = torch.tensor(record.points[7], dtype=torch.float64, requires_grad=True)
    fn(x).backward()
    assert record.grad_norms[7] == pytest.approx(torch.linalg.vector_norm(x.grad).item(), rel=1e-12)
    assert (record.lrs == 0.1).all() and record.hyperparams == {"lr": 0.1}
    assert record.optimizer == "adam" and record.function == "rosenbrock" and record.steps == 50
    assert record.label == "adam (lr=0.1)"
    assert trace("rosenbrock", "momentum", steps=2).label == "momentum (lr=0.001, \u03bc=0.9)"
    with pytest.raises(ValueError):
        record.points[0, 0] = 1.0  # records are frozen, their arrays too


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw",
                                  "nadam", "radam", "adamax", "adabelief", "lbfgs"])
def test_a_batch_of_starts_equals_tracing_each_alone(name):
    starts = np.array([[-1.5, 2.0], [0.0, 0.0], [1.5, -0.5], [-0.5, 2.5]])
    batch = trace("rosenbrock", name, start=starts, steps=30)
    assert isinstance(batch, list) and len(batch) == 4
    for start, record in zip(starts, batch):
        alone = trace("rosenbrock", name, start=start, steps=30)
        np.testing.assert_array_equal(record.points, alone.points)
        np.testing.assert_array_equal(record.losses, alone.losses)


def test_a_batch_s_records_are_views_of_one_frozen_array():
    starts = np.array([[-1.5, 2.0], [0.0, 0.0], [1.5, -0.5]])
    batch = trace("himmelblau", "adam", start=starts, steps=5)
    def owner(array):
        while isinstance(array.base, np.ndarray):
            array = array.base
        return array

    assert owner(batch[0].points) is owner(batch[2].points) and owner(batch[0].points).shape == (6, 3, 2)
    assert not any(r.points.flags.writeable or r.grad_norms.flags.writeable for r in batch)
    np.testing.assert_array_equal([r.points[0] for r in batch], starts)


def test_batch_with_transcendental_function_is_close_to_alone():
    starts = np.array([[3.6, -3.2], [1.0, 1.0], [-2.5, 0.3]])
    batch = trace("ackley", "adam", start=starts, steps=40)
    for start, record in zip(starts, batch):
        np.testing.assert_allclose(record.points, trace("ackley", "adam", start=start, steps=40).points,
                                   rtol=1e-12, atol=1e-12)


def test_divergence_is_recorded_and_the_finite_prefix_kept():
    record = trace("rosenbrock", "sgd", lr=0.1, steps=100)
    assert record.diverged_at is not None and record.diverged_at < 100
    assert record.steps == record.diverged_at - 1
    assert np.isfinite(record.points).all() and np.isfinite(record.losses).all()
    assert "diverged at step" in record.label


def test_one_diverging_row_does_not_disturb_the_others():
    starts = np.array([[-1.5, 2.0], [0.9, 0.8]])
    # lr 0.0035 diverges from (-1.5, 2) where curvature is high but is stable near the minimum
    batch = trace("rosenbrock", "sgd", start=starts, steps=60, lr=0.0035)
    assert batch[0].diverged_at is not None and batch[1].diverged_at is None
    alone = trace("rosenbrock", "sgd", start=starts[1], steps=60, lr=0.0035)
    np.testing.assert_array_equal(batch[1].points, alone.points)


def test_custom_callable_and_optimizer_class():
    record = trace(lambda p: (p**2).sum(-1), torch.optim.SGD, start=(1.0, -2.0), steps=5, lr=0.25)
    # x <- x - 0.25 * 2x = x / 2 each step
    np.testing.assert_allclose(record.points[-1], np.array([1.0, -2.0]) / 32)
    assert record.optimizer == "sgd"


def test_seed_makes_a_stochastic_function_repeatable():
    def noisy(p):
        return (p**2).sum(-1) + 0.1 * (torch.randn(p.shape[:-1], dtype=p.dtype) * p[..., 0])

    a = trace(noisy, "sgd", start=(1.0, 1.0), steps=10, seed=3, lr=0.1)
    b = trace(noisy, "sgd", start=(1.0, 1.0), steps=10, seed=3, lr=0.1)
    c = trace(noisy, "sgd", start=(1.0, 1.0), steps=10, seed=4, lr=0.1)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.array_equal(a.points, c.points)


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps=0), "steps"), (dict(steps=2.5), "steps"), (dict(start=(1.0, 2.0, 3.0)), "start"),
    (dict(start=(np.nan, 1.0)), "finite"), (dict(start="here"), "start"), (dict(lr=-1), "learning rate"),
    (dict(dtype="float16"), "dtype"), (dict(momentum=0.9), "momentum"),
])
def test_bad_input_is_invalid_argument(kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        trace("rosenbrock", "adam", **kwargs)


def test_custom_function_needs_a_start_and_a_scalar_per_point():
    with pytest.raises(InvalidArgument, match="start"):
        trace(lambda p: (p**2).sum(-1), "sgd")
    with pytest.raises(InvalidArgument, match=r"must map shape"):
        trace(lambda p: p**2, "sgd", start=(1.0, 1.0))


def test_function_lr_scale_applies_only_without_an_explicit_lr():
    fn = FUNCTIONS["booth"]
    assert trace(fn, "sgd", steps=2).hyperparams["lr"] == pytest.approx(1e-3 * fn.lr_scale["gradient"], rel=0.05)
    assert trace(fn, "adam", steps=2).hyperparams["lr"] == pytest.approx(0.1 * fn.lr_scale["adaptive"], rel=0.05)
    assert trace(fn, "sgd", steps=2, lr=0.03).hyperparams["lr"] == 0.03
    assert trace(fn, "lbfgs", steps=2).hyperparams["lr"] == 1.0
