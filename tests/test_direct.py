"""Direct (gradient-free) methods: convergence, independent references, no backward, seeds, records, pictures."""

import math

import numpy as np
import pytest
import torch

from gradviz.lecture.budget import parse_budget
from gradviz.lecture.functions import FUNCTIONS
from gradviz.lecture.optim import DIRECT_METHODS, OPTIMIZERS
from gradviz.lecture.optim.direct import CMAES, NelderMead
from gradviz.registry import InvalidArgument
from gradviz.lecture.tracing import trace

HIMMELBLAU_MINIMA = np.array([[3.0, 2.0], [-2.80511809, 3.13131252], [-3.77931025, -3.28318599],
                              [3.58442834, -1.84812653]])
CONVERGING = [m for m in DIRECT_METHODS if m != "pure-random"]


def rosenbrock(p):
    return (1 - p[..., 0]) ** 2 + 100 * (p[..., 1] - p[..., 0] ** 2) ** 2


def test_the_direct_family_is_registered():
    assert set(DIRECT_METHODS) == {"nelder-mead", "pattern-search", "random-search", "pure-random", "cma-es",
                                   "simulated-annealing"}
    for name in DIRECT_METHODS:
        assert not OPTIMIZERS[name].uses_gradient and OPTIMIZERS[name].cls.__doc__.count("\n") > 5


@pytest.mark.parametrize("name", DIRECT_METHODS)
def test_trace_equals_a_plain_closure_loop(name):
    torch.manual_seed(5)
    spec, fn = OPTIMIZERS[name], FUNCTIONS["himmelblau"]
    record = trace(fn, name, steps=25, seed=5)
    x = torch.tensor(fn.start, dtype=torch.float64, requires_grad=True)
    optimizer = spec.build([x], **record.hyperparams)
    points = [x.detach().clone()]
    for _ in range(25):
        optimizer.step(lambda: fn(x))
        points.append(x.detach().clone())
    np.testing.assert_array_equal(record.points, torch.stack(points).numpy())


@pytest.mark.parametrize("name", CONVERGING)
def test_converges_on_a_convex_quadratic(name):
    bowl = lambda p: (p[..., 0] - 1) ** 2 + 3 * (p[..., 1] + 0.5) ** 2 + 0.5 * p[..., 0] * p[..., 1]
    record = trace(bowl, name, start=(2.0, 1.5), budget="evaluations:1000", seed=0)
    x_star = np.linalg.solve([[2.0, 0.5], [0.5, 6.0]], [2.0, -3.0])
    f_star = float(bowl(torch.tensor(x_star)))
    assert record.losses[-1] - f_star < 1e-8
    np.testing.assert_allclose(record.points[-1], x_star, atol=1e-3)


@pytest.mark.parametrize("name", CONVERGING)
def test_reaches_a_himmelblau_minimum_within_1000_evaluations(name):
    # the documented budget: 1000 evaluations from the default start (measured: 109 to 706)
    record = trace("himmelblau", name, budget="evaluations:1000", seed=0)
    assert record.evaluations_spent <= 1000
    assert record.losses[-1] < 1e-6
    assert np.linalg.norm(HIMMELBLAU_MINIMA - record.points[-1], axis=1).min() < 1e-3


def test_pure_random_only_keeps_its_best_sample():
    record = trace("himmelblau", "pure-random", budget="evaluations:1000", seed=0)
    assert (np.diff(record.losses) <= 0).all() and record.losses[-1] < 1.0  # it finds a basin, never 1e-6
    (x0, x1), (y0, y1) = FUNCTIONS["himmelblau"].domain
    inside = record.evaluated[1:]
    assert ((inside[:, 0] >= x0) & (inside[:, 0] <= x1) & (inside[:, 1] >= y0) & (inside[:, 1] <= y1)).all()


def test_nelder_mead_needs_no_more_evaluations_than_scipy_on_rosenbrock():
    # Textbook reference: scipy.optimize.minimize(method="Nelder-Mead") with the same initial simplex rule
    # (x0 and x0 with one coordinate scaled by 1.05) reaches f < 1e-8 from (-1.2, 1) at its 151st
    # evaluation (scipy 1.17); gradviz's NelderMead, the same algorithm (Lagarias et al. 1998), also at 151.
    optimize = pytest.importorskip("scipy.optimize")
    calls, first = [0], [None]

    def f(p):
        calls[0] += 1
        value = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
        if value < 1e-8 and first[0] is None:
            first[0] = calls[0]
        return value

    optimize.minimize(f, [-1.2, 1.0], method="Nelder-Mead", options=dict(xatol=1e-14, fatol=1e-14, maxfev=2000))
    record = trace("rosenbrock", "nelder-mead", start=(-1.2, 1.0), budget="evaluations:1000")
    ours = int(record.evaluations[np.flatnonzero(record.losses < 1e-8)[0]])
    assert first[0] is not None and ours <= first[0]
    assert ours == 151


def test_cma_es_agrees_with_hansens_cma_package_in_evaluations_to_target():
    # Median evaluations to f < 1e-8 on Rosenbrock from (-1.2, 1), sigma0 = 0.5, lambda = 6, over seeds 1-5:
    # measured 745 (gradviz, positive weights as the tutorial) and 646 (cma 4.5, active CMA), ratio 1.15;
    # over seeds 1-11, 733 and 627. The test allows a factor 1.5 either way.
    cma = pytest.importorskip("cma")
    ours, reference = [], []
    for seed in range(1, 6):
        record = trace(rosenbrock, "cma-es", start=(-1.2, 1.0), budget="evaluations:3000", seed=seed, sigma0=0.5)
        hit = np.flatnonzero(record.losses < 1e-8)
        ours.append(record.evaluations[hit[0]] if hit.size else math.inf)
        es = cma.CMAEvolutionStrategy([-1.2, 1.0], 0.5, {"seed": seed, "verbose": -9, "popsize": 6, "tolfun": 0,
                                                          "tolx": 0, "tolfunhist": 0, "tolstagnation": 10**9})
        first = None
        while first is None and es.countevals < 3000:
            X = es.ask()
            F = [float(rosenbrock(torch.tensor(x))) for x in X]
            hits = [i for i, v in enumerate(F) if v < 1e-8]
            if hits:
                first = es.countevals + hits[0] + 1
            es.tell(X, F)
        reference.append(first if first is not None else math.inf)
    ratio = np.median(ours) / np.median(reference)
    assert 1 / 1.5 <= ratio <= 1.5, (ours, reference)


def test_cma_es_uses_the_tutorial_defaults():
    opt = CMAES([torch.zeros(2, dtype=torch.float64)])
    assert opt.lam == 6 and opt.mu == 3 and math.isclose(float(opt.weights.sum()), 1.0)
    assert math.isclose(opt.mu_eff, 1 / float((opt.weights**2).sum()))
    assert math.isclose(opt.chi_n, math.sqrt(2) * (1 - 1 / 8 + 1 / 84))


@pytest.mark.parametrize("name", DIRECT_METHODS)
def test_no_direct_method_calls_backward(name):
    class NoBackward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, p):
            return rosenbrock(p)

        @staticmethod
        def backward(ctx, grad):
            raise RuntimeError("backward was called")

    record = trace(NoBackward.apply, name, start=(-1.0, 1.5), budget="evaluations:60", seed=0, **(
        {"bounds": ((-2, 2), (-1, 3))} if name == "pure-random" else {}))
    assert record.evaluations_spent <= 60 and np.isnan(record.grad_norms).all()
    with pytest.raises(RuntimeError, match="backward was called"):
        trace(NoBackward.apply, "sgd", start=(-1.0, 1.5), steps=2)  # so the guard itself works


@pytest.mark.parametrize("name", ["random-search", "pure-random", "cma-es", "simulated-annealing"])
def test_same_seed_same_trajectory_another_seed_another(name):
    a, b, c = (trace("himmelblau", name, budget="evaluations:100", seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.evaluated, b.evaluated)
    assert not np.array_equal(a.evaluated, c.evaluated)
    paths = []
    for global_seed in (0, 1):  # a class built with its own seed ignores torch's global generator
        torch.manual_seed(global_seed)
        x = torch.tensor([0.5, -0.5], dtype=torch.float64)
        kwargs = {"bounds": ((-5, 5), (-5, 5))} if name == "pure-random" else {}
        opt = OPTIMIZERS[name].build([x], seed=7, **kwargs)
        paths.append([opt.step(lambda: FUNCTIONS["himmelblau"](x)).item() for _ in range(20)])
    assert paths[0] == paths[1]


def test_records_keep_evaluations_evaluated_points_and_geometry():
    record = trace("rosenbrock", "nelder-mead", budget="evaluations:50")
    n = len(record.points)
    assert record.evaluations_spent <= 50 and record.evaluations[0] == 1
    assert record.geometry["simplex"].shape == (n, 3, 2)
    assert len(record.evaluated) == record.evaluations_spent == len(record.evaluated_losses)
    np.testing.assert_allclose(record.evaluated_losses, rosenbrock(torch.tensor(record.evaluated)).numpy())
    for k in range(1, n):  # the point is the best vertex of the simplex after step k
        values = rosenbrock(torch.tensor(record.geometry["simplex"][k])).numpy()
        assert record.losses[k] == values.min()
        assert (record.evaluated_at <= k).sum() == record.evaluations[k]
    cma = trace("rosenbrock", "cma-es", budget="evaluations:100")
    assert cma.geometry["population"].shape[1:] == (6, 2) and cma.geometry["covariance"].shape[1:] == (2, 2)
    assert np.isnan(cma.geometry["population"][0]).all()  # no population before the first generation
    stencil = trace("rosenbrock", "pattern-search", budget="evaluations:40").geometry
    np.testing.assert_allclose(np.abs(stencil["stencil"][0] - FUNCTIONS["rosenbrock"].start).max(axis=1),
                               stencil["step"][0])


@pytest.mark.parametrize("make, message", [
    (lambda p: NelderMead(p, initial_simplex=[[0, 0], [1, 0]]), "shape"),
    (lambda p: NelderMead(p, initial_simplex=[[0, 0], [1, 1], [2, 2]]), "degenerate"),
    (lambda p: CMAES(p, sigma0=0), "sigma0: 0"),
    (lambda p: CMAES(p, popsize=1), "popsize: 1"),
    (lambda p: OPTIMIZERS["simulated-annealing"].build(p, cooling=1.0), "cooling rate: 1.0"),
])
def test_bad_settings_name_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make([torch.zeros(2, dtype=torch.float64, requires_grad=True)])


@pytest.mark.parametrize("budget", ["evaluations", "evaluations:0", "calls:5", "steps:-1", "steps:2.5", ("evaluations",)])
def test_bad_budgets(budget):
    with pytest.raises(InvalidArgument, match="budget"):
        parse_budget(budget)
    assert parse_budget("Evaluations:400") == ("evaluations", 400) == parse_budget(("evaluations", 400))


def test_an_evaluation_budget_is_never_exceeded_by_any_method():
    for name in ("adam", "lbfgs", "nelder-mead", "cma-es"):
        record = trace("rosenbrock", name, budget=("evaluations", 37))
        assert record.evaluations_spent <= 37 and record.evaluations_requested == 37
    assert trace("rosenbrock", "sgd", budget="evaluations:37").steps == 36  # one evaluation per point



def test_3d_view_runs_on_evaluations_too():
    from gradviz.render.surface3d import surface_3d_renderer

    records = [trace("rosenbrock", name, budget="evaluations:120") for name in ("nelder-mead", "adam")]
    renderer = surface_3d_renderer(records, FUNCTIONS["rosenbrock"].surface(resolution=40), size=(400, 240),
                                   frames=7, clock="evaluations")
    assert renderer.total_steps == 120 and renderer.word == "evals"
    labels = [t.get_text() for t in renderer.figure.legends[0].get_texts()]
    assert labels == [f"{t.label}, {t.evaluations_spent} evaluations" for t in records]
    index = 3
    renderer.frame(index)
    clock = renderer.frame_steps[index]
    for record, trail in zip(records, renderer.trails):  # each path at the last point reached within `clock`
        end = len(trail.get_data_3d()[0]) - 1
        assert record.evaluations[end] <= clock
        assert end + 1 == len(record.points) or record.evaluations[end + 1] > clock
    by_steps = surface_3d_renderer(records, FUNCTIONS["rosenbrock"].surface(resolution=40), size=(400, 240), frames=7)
    by_steps.frame(index)  # on steps, Nelder-Mead (several evaluations a step) gets further in the same frame
    assert len(by_steps.trails[0].get_data_3d()[0]) > len(renderer.trails[0].get_data_3d()[0])


def test_a_field_on_the_3d_view_is_refused_before_anything_is_written(tmp_path):
    import gradviz

    with pytest.raises(InvalidArgument, match="field 'arrows' is drawn on the 2d view only"):
        gradviz.trajectories("himmelblau", ["adam"], tmp_path / "x.gif", view="3d", field="arrows", steps=5)
    assert not (tmp_path / "x.gif").exists()

def test_renderer_draws_geometry_and_runs_on_evaluations():
    from gradviz.render.trajectories import TrajectoryRenderer

    records = [trace("rosenbrock", name, budget="evaluations:120") for name in ("nelder-mead", "cma-es", "adam")]
    renderer = TrajectoryRenderer(records, FUNCTIONS["rosenbrock"].surface(), size=(480, 270), frames=12,
                                  clock="evaluations")
    assert renderer.total_steps == 120 and renderer.loss_axes.get_xlabel() == "evaluations"
    labels = [t.get_text() for t in renderer.figure.legends[0].get_texts()]
    assert labels[-3:] == [f"{t.label}, {t.evaluations_spent} evaluations" for t in records]
    assert records[2].evaluations_spent == 120
    index = 6
    renderer.frame(index)
    clock = renderer.frame_steps[index]
    ends = renderer._ends(index)
    for record, end in zip(records, ends):  # each record at the last point reached within `clock` evaluations
        assert record.evaluations[end] <= clock and (end + 1 == len(record.points) or record.evaluations[end + 1] > clock)
    artists = {key: artist for i, key, artist in renderer.geometry.artists if i in (0, 1)}
    np.testing.assert_allclose(np.column_stack(artists["simplex"].get_data())[:3], records[0].geometry["simplex"][ends[0]])
    ellipse = np.column_stack(artists["sigma-1"].get_data())
    mean, cov = records[1].geometry["mean"][ends[1]], records[1].geometry["covariance"][ends[1]]
    d = ellipse - mean
    np.testing.assert_allclose(np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov), d), 1.0, rtol=1e-9)
    offsets = renderer.geometry.evaluated.get_offsets()
    alphas = renderer.geometry.evaluated.get_facecolors()[:, 3]
    assert len(offsets) > 0 and alphas.max() > alphas.min()  # evaluated points fade with age
