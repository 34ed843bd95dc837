"""Comparisons: sweeps equal single traces, schedules equal torch's, noise repeats by seed, basins go to the
nearest minimum, tuning picks the argmin of the declared objective; and the bad input of each."""

import math

import numpy as np
import pytest
import torch

from gradviz.lecture.compare import basin_map, compare_paths, lr_sweep, noise_bundle, trace_swarm, tune
from gradviz.lecture.expressions import get_function
from gradviz.lecture.grids import OBJECTIVES, parse_lrs, parse_starts
from gradviz.records import TuningTable
from gradviz.registry import InvalidArgument
from gradviz.lecture.schedules import SCHEDULERS, parse_schedule
from gradviz.lecture.tracing import trace


def test_a_sweep_equals_single_traces_at_the_same_rates():
    paths = lr_sweep("rosenbrock", "momentum", "1e-4:1e-2:3", steps=30)
    assert [p.hyperparams["lr"] for p in paths] == [1e-4, 1e-3, 1e-2]
    for path in paths:
        alone = trace("rosenbrock", "momentum", steps=30, lr=path.hyperparams["lr"])
        np.testing.assert_array_equal(path.points, alone.points)
        assert path.diverged_at == alone.diverged_at
    assert paths[-1].diverged_at is not None and "diverged at step" in paths[-1].label  # 1e-2 leaves


def test_a_swarm_equals_tracing_each_start_alone_diverged_ones_included():
    starts = np.array([[-1.5, 2.0], [0.5, 0.5], [1.8, -0.5], [-1.9, 2.9]])
    swarm = trace_swarm("rosenbrock", "sgd", starts=starts, steps=40, lr=2e-3)
    assert swarm.diverged.any() and not swarm.diverged.all()
    for i, start in enumerate(starts):
        alone = trace("rosenbrock", "sgd", start=start, steps=40, lr=2e-3)
        mine = swarm.trajectory(i)
        np.testing.assert_array_equal(mine.points, alone.points)
        np.testing.assert_array_equal(mine.losses, alone.losses)
        assert mine.diverged_at == alone.diverged_at
    assert np.isnan(swarm.points[-1][swarm.diverged]).all()


def test_a_grid_of_starts_covers_the_window_row_by_row():
    points = parse_starts("grid:4x2").points(((0.0, 4.0), (0.0, 2.0)))
    np.testing.assert_array_equal(points, [[0.5, 0.5], [1.5, 0.5], [2.5, 0.5], [3.5, 0.5],
                                           [0.5, 1.5], [1.5, 1.5], [2.5, 1.5], [3.5, 1.5]])
    random = parse_starts("random:50").points(((-1.0, 1.0), (2.0, 3.0)), seed=3)
    assert random.shape == (50, 2) and (random[:, 1] >= 2).all()
    np.testing.assert_array_equal(random, parse_starts("random:50").points(((-1.0, 1.0), (2.0, 3.0)), seed=3))


def _torch_rates(schedule_class, steps, lr, **arguments):
    x = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=lr, momentum=0.9)
    scheduler = schedule_class(optimizer, **arguments)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


S = torch.optim.lr_scheduler


@pytest.mark.parametrize("text, cls, arguments", [
    ("step:step_size=7,gamma=0.5", S.StepLR, dict(step_size=7, gamma=0.5)),
    ("exponential:gamma=0.9", S.ExponentialLR, dict(gamma=0.9)),
    ("cosine", S.CosineAnnealingLR, dict(T_max=30)),  # T_max defaults to the steps
    ("cosine:T_max=10,eta_min=1e-4", S.CosineAnnealingLR, dict(T_max=10, eta_min=1e-4)),
    ("onecycle", S.OneCycleLR, dict(max_lr=1e-3, total_steps=30)),
    ("warmup:total_iters=5", S.LinearLR, dict(start_factor=0.1, end_factor=1.0, total_iters=5)),
    ("multistep:milestones=5/12", S.MultiStepLR, dict(milestones=(5, 12))),
])
def test_a_schedulers_rates_equal_torchs_own(text, cls, arguments):
    path = trace("rosenbrock", "momentum", steps=30, lr=1e-3, schedule=text)
    np.testing.assert_allclose(path.lrs, _torch_rates(cls, 30, 1e-3, **arguments), rtol=1e-12)
    assert path.schedule == text and f"@{text}" in path.label


def test_a_sequence_of_schedules_is_torchs_sequential_lr():
    path = trace("rosenbrock", "momentum", steps=30, lr=1e-3, schedule="warmup:total_iters=10+cosine:T_max=20")

    def sequential(optimizer, **_):
        first = S.LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=10)
        return S.SequentialLR(optimizer, [first, S.CosineAnnealingLR(optimizer, T_max=20)], milestones=[10])

    np.testing.assert_allclose(path.lrs, _torch_rates(sequential, 30, 1e-3), rtol=1e-12)


@pytest.mark.parametrize("text, shown", [
    ("cosin", "did you mean 'cosine'"), ("cosine:Tmax=5", "'Tmax' for cosine; did you mean 'T_max'"),
    ("step+cosine", "step can only be the last phase"), ("cosine:T_max", "'T_max'"),
])
def test_bad_schedules_name_the_value(text, shown):
    with pytest.raises(InvalidArgument, match=shown):
        parse_schedule(text)
    assert set(SCHEDULERS) >= {"step", "exponential", "cosine", "onecycle", "warmup"}


def test_noise_repeats_with_its_seed_and_is_the_seeded_gaussian_added_to_the_gradient():
    lr, scale, steps = 1e-3, 0.5, 15
    one = trace("rosenbrock", "sgd", steps=steps, lr=lr, noise=scale, noise_seed=4)
    again = trace("rosenbrock", "sgd", steps=steps, lr=lr, noise=scale, noise_seed=4)
    other = trace("rosenbrock", "sgd", steps=steps, lr=lr, noise=scale, noise_seed=5)
    np.testing.assert_array_equal(one.points, again.points)
    assert not np.allclose(one.points, other.points)
    # sgd: x' = x - lr (g + noise), so the noise is recovered from the path and autograd's gradient
    x = torch.tensor(one.points[:-1], requires_grad=True)
    get_function("rosenbrock")(x).sum().backward()
    recovered = (one.points[:-1] - one.points[1:]) / lr - x.grad.numpy()
    draws = torch.Generator().manual_seed(4)
    expected = np.stack([scale * torch.randn((1, 2), generator=draws, dtype=torch.float64).numpy()[0]
                         for _ in range(steps + 1)])[:steps]
    np.testing.assert_allclose(recovered, expected, atol=1e-6)


def test_a_noise_bundle_is_one_path_per_seed_and_zero_noise_is_refused():
    paths = noise_bundle("himmelblau", "sgd", noise=5.0, seeds=3, steps=10)
    assert len(paths) == 3 and len({p.points[-1].tobytes() for p in paths}) == 3
    with pytest.raises(InvalidArgument, match="noise"):
        noise_bundle("himmelblau", "sgd", noise=0.0)
    with pytest.raises(InvalidArgument, match="noise: -1"):
        trace("himmelblau", "sgd", noise=-1)


@pytest.fixture(scope="module")
def himmelblau_basins():
    return basin_map("himmelblau", "sgd", resolution=20, steps=300)


def test_himmelblau_basins_give_each_minimum_to_the_starts_nearest_it(himmelblau_basins):
    basin = himmelblau_basins
    xx, yy = np.meshgrid(basin.x, basin.y)
    for k, (mx, my) in enumerate(basin.minima):
        near = np.hypot(xx - mx, yy - my) < 1.0
        assert near.sum() >= 4 and (basin.labels[near] == k).all(), k
    assert (basin.labels >= 0).all() and not basin.diverged.any()
    assert math.isclose(basin.shares().sum(), 1.0)
    # a start right next to its minimum settles sooner than the average start of the basin
    i, j = np.unravel_index(np.argmin(np.hypot(xx - 3, yy - 2)), xx.shape)
    assert basin.steps[i, j] < np.median(basin.steps[basin.labels == basin.labels[i, j]])


@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_tuning_picks_the_candidate_that_minimises_the_declared_objective(objective):
    grid = (1e-4, 1e-3, 3e-3, 1e-2)
    table = tune("rosenbrock", ["sgd", "adam"], lrs=grid, objective=objective, steps=40, tol=8.0)
    for row, name in enumerate(("sgd", "adam")):
        by_hand = []
        for rate in grid:
            path = trace("rosenbrock", name, steps=40, lr=rate)
            gaps = path.losses  # f* = 0
            if path.diverged_at is not None:
                by_hand.append(math.inf)
            elif objective == "final":
                by_hand.append(gaps[-1])
            elif objective == "auc":
                by_hand.append(np.mean(np.log10(np.maximum(gaps, 1e-16))))
            else:
                below = np.flatnonzero(gaps <= 8.0)
                by_hand.append(below[0] if below.size else math.inf)
        np.testing.assert_allclose(table.scores[row], by_hand)
        assert np.isfinite(by_hand).any()
        assert table.best[row] == int(np.argmin(by_hand))
    assert table.diverged[0, -1]  # sgd at 1e-2 diverges on Rosenbrock, and never wins
    assert objective in table.format() and "*" in table.format()


def test_a_table_where_every_candidate_diverged_has_no_winner():
    table = TuningTable(optimizers=("sgd",), lrs=[[1.0, 2.0]], scores=[[math.inf, math.inf]],
                        finals=[[math.inf, math.inf]], diverged=[[True, True]], objective="final")
    assert table.best.tolist() == [-1] and np.isnan(table.best_lrs[0])


@pytest.mark.parametrize("text, shown", [
    ("1e-3,,1e-2", "empty item"), ("1e-4:1e-1", "LOW:HIGH:COUNT"), ("1e-1:1e-4:5", "LOW < HIGH"),
    ("0,1", "'0'"), ("a", "'a'"), ("1e-4:1:x", "'x'"), ("-1", "'-1'"),
])
def test_malformed_rates_name_the_value(text, shown):
    with pytest.raises(InvalidArgument, match=shown):
        parse_lrs(text)


def test_rates_parse_to_sorted_lists_and_log_ranges():
    assert parse_lrs("1e-2,1e-3") == (1e-3, 1e-2)
    assert parse_lrs("1e-4:1e-1:4") == (1e-4, 1e-3, 1e-2, 1e-1)
    with pytest.raises(InvalidArgument, match="need at least 2"):
        parse_lrs("0.1", minimum=2)
    with pytest.raises(InvalidArgument, match="0.1 is given twice in '0.1,0.1'"):  # once refused as one rate
        tune("rosenbrock", ["sgd"], lrs="0.1,0.1", steps=5)


@pytest.mark.parametrize("text, shown", [("grid:0x5", "grid sizes must be whole numbers >= 1"),
                                         ("random:-5", "a number of random starts must be whole numbers >= 1"),
                                         ("grid:", "grid:NXxNY"), ("random:3x3", "random:N"),
                                         ("spiral:5", "grid:NXxNY")])
def test_malformed_starts_name_the_value(text, shown):
    with pytest.raises(InvalidArgument, match=shown):
        parse_starts(text)


def test_comparisons_that_cannot_share_a_picture_are_refused_before_tracing():
    with pytest.raises(InvalidArgument, match="cannot combine starts and tune"):
        compare_paths("rosenbrock", ["sgd"], starts="grid:2x2", tune_objective="final")
    with pytest.raises(InvalidArgument, match="several seeds only differ with gradient noise"):
        compare_paths("rosenbrock", ["sgd"], seeds=3)
    with pytest.raises(InvalidArgument, match="lbfgs"):
        trace_swarm("rosenbrock", "lbfgs", starts="grid:2x2")


def test_boundary_takes_a_list_of_rates_and_tunes_on_the_training_loss():
    from gradviz.lecture import make_dataset, mlp, train
    from gradviz.pipelines.boundary import train_variants, tune_rates

    small = dict(n=60, hidden=(4,), steps=15, seed=0)
    runs = train_variants("moons", optimizers=["sgd"], lr="0.1,1", grid=4, **small)
    assert [run.hyperparams.get("lr") for run in runs] == [0.1, 1.0] and "lr=0.1" in runs[0].label
    table = tune_rates("moons", ["sgd", "adam"], lr="0.01,0.1,1", objective="final", **small)
    X, y = make_dataset("moons", n=60, seed=0)
    for row, name in enumerate(("sgd", "adam")):
        finals = [train(mlp(2, (4,), 1, seed=0), (X, y), name, steps=15, lr=rate, seed=0).loss[-1]
                  for rate in (0.01, 0.1, 1.0)]
        np.testing.assert_allclose(table.scores[row], finals, rtol=1e-6)
        assert table.best[row] == int(np.argmin(finals))


def test_basins_prints_shares_that_add_up_to_100_and_match_the_drawn_ones(tmp_path):
    import re

    from gradviz.pipelines.basins import basins
    from gradviz.render.basins import basins_figure

    lines = []
    basins("rosenbrock", ["momentum"], tmp_path / "b.png", resolution=10, steps=100, report=lines.append)
    (line,) = lines
    printed = [int(p) for p in re.findall(r"(\d+)%", line)]
    assert sum(printed) == 100 and "none" in line and "diverged" in line, line  # a partition of the starts
    basin = basin_map("rosenbrock", "momentum", resolution=10, steps=100)
    assert basin.diverged.any() and (basin.labels[basin.diverged] == -1).all()
    legend = next(ax.get_legend() for ax in basins_figure([basin], size=(480, 270)).axes if ax.get_legend())
    drawn = [int(re.search(r"(\d+)%", text.get_text()).group(1)) for text in legend.get_texts()]
    assert sorted(drawn) == sorted(printed)
    assert line.startswith(basin.label + ": (1.00, 1.00) ")  # each share names its minimum


def test_sweep_refuses_tol_unless_the_objective_is_steps_to_tol(tmp_path, monkeypatch):
    from gradviz.pipelines.sweep import sweep

    with pytest.raises(InvalidArgument, match="tol 0.1 applies only to objective 'steps-to-tol', not 'final'"):
        sweep("rosenbrock", ["sgd"], tmp_path / "s.png", tol=0.1)
    with pytest.raises(InvalidArgument, match="not 'auc'"):
        sweep("rosenbrock", ["sgd"], tmp_path / "s.png", objective="auc", tol=0.1)
    assert not (tmp_path / "s.png").exists()
    path = sweep("rosenbrock", ["sgd"], tmp_path / "s.png", lrs=[1e-4, 1e-3], steps=5, objective="steps-to-tol",
                 tol=100.0)
    assert path.exists()


def test_swarm_and_basin_labels_show_every_setting_that_was_set():
    label = trace_swarm("himmelblau", "adam", starts="grid:2x2", steps=2, eps=0.5).label
    assert label.startswith("adam (lr=") and label.endswith(", eps=0.5)")  # eps was hidden before
    assert basin_map("himmelblau", "momentum", resolution=3, steps=2, dampening=0.5).label.endswith(
        "dampening=0.5)")
