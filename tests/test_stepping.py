"""Every optimizer traces (and trains) exactly as its own loop would: one stepping rule, bit for bit.

The classes below are written for the purpose: each breaks a different shortcut a tracer could take
(calling step() without a closure, a plain backward, a (1, 2) parameter, float(lr), refusing **kwargs).
"""

import math

import numpy as np
import pytest
import torch

from gradviz.lecture.functions import FUNCTIONS
from gradviz.lecture.optim import get_optimizer, parse_optimizer
from gradviz.lecture.optim.stepping import Stepper, needs_create_graph
from gradviz.registry import InvalidArgument
from gradviz.lecture.tracing import trace

ROSENBROCK = FUNCTIONS["rosenbrock"]


class ClosureTwice(torch.optim.Optimizer):
    """SAM-like and closure-only: gradient at x, then at x + rho g/|g|, step with the second one."""

    def __init__(self, params, lr=1e-3, rho=0.05):
        super().__init__(params, dict(lr=lr, rho=rho))

    def step(self, closure=None):
        if closure is None:
            raise RuntimeError("ClosureTwice needs a closure")
        loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                e = group["rho"] * p.grad / (p.grad.norm() + 1e-12)
                self.state[p]["e"] = e
                with torch.no_grad():
                    p.add_(e)
        closure()
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    p.sub_(self.state[p]["e"])
                    p.add_(p.grad, alpha=-group["lr"])
        return loss


class NeedsGraph(torch.optim.Optimizer):
    """Diagonal Newton-like step from a Hessian-vector product: differentiates p.grad (create_graph)."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr))

    def step(self, closure=None):
        params = [p for group in self.param_groups for p in group["params"]]
        hvs = torch.autograd.grad([p.grad for p in params], params,
                                  grad_outputs=[torch.ones_like(p) for p in params])
        with torch.no_grad():
            for p, hv in zip(params, hvs):
                p.add_(p.grad / (hv.abs() + 10.0), alpha=-self.param_groups[0]["lr"])
        return None


class MatrixAware(torch.optim.Optimizer):
    """Gradient centralization on matrices (as Ranger does), plain SGD on vectors."""

    def __init__(self, params, lr=1e-3):
        super().__init__(params, dict(lr=lr))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g.ndim > 1:
                    g = g - g.mean(dim=-1, keepdim=True)
                p.add_(g, alpha=-group["lr"])
        return None


class LrNoneKwargs(torch.optim.Optimizer):
    """Adafactor-like: lr=None means a relative step; extra settings only through **kwargs."""

    def __init__(self, params, lr=None, **kwargs):
        super().__init__(params, dict(lr=lr, scale=kwargs.pop("scale", 0.01), **kwargs))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                lr = group["lr"] if group["lr"] is not None else group["scale"] * max(1e-3, float(p.norm()))
                p.add_(p.grad.sign(), alpha=-lr)
        return None


def user_loop(cls, start, steps, *, function=ROSENBROCK, create_graph=False, closure_only=False, **settings):
    """A user's own loop over a (2,) tensor, written the way each kind of optimizer documents."""
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = cls([x], **settings)
    points = [x.detach().clone()]
    for _ in range(steps):
        def closure():
            optimizer.zero_grad()
            loss = function(x)
            loss.backward()
            return loss

        if closure_only:
            optimizer.step(closure)
        else:
            optimizer.zero_grad()
            function(x).backward(create_graph=create_graph)
            optimizer.step(closure) if "SAM" in cls.__name__ else optimizer.step()
        points.append(x.detach().clone())
    return torch.stack(points).numpy()


@pytest.mark.parametrize("cls, settings, loop", [
    (ClosureTwice, dict(lr=1e-3, rho=0.05), dict(closure_only=True)),
    (NeedsGraph, dict(lr=0.1), dict(create_graph=True)),
    (MatrixAware, dict(lr=1e-3), {}),
    (LrNoneKwargs, dict(scale=0.02), {}),
])
def test_purpose_written_classes_trace_as_their_own_loop(cls, settings, loop):
    record = trace(ROSENBROCK, cls, steps=30, **settings)
    expected = user_loop(cls, ROSENBROCK.start, 30, **loop, **settings)
    assert record.points.shape == (31, 2)
    np.testing.assert_array_equal(record.points, expected)


def test_a_one_by_two_matrix_would_have_taken_another_path():
    # the shortcut this guards against: MatrixAware on a (1, 2) parameter moves along the other diagonal
    x = torch.tensor([ROSENBROCK.start], dtype=torch.float64, requires_grad=True)
    optimizer = MatrixAware([x], lr=1e-3)
    for _ in range(30):
        optimizer.zero_grad()
        ROSENBROCK(x).sum().backward()
        optimizer.step()
    assert not np.allclose(x.detach().numpy()[0], trace(ROSENBROCK, MatrixAware, steps=30).points[-1])


def test_closure_calls_are_counted_as_evaluations():
    record = trace(ROSENBROCK, ClosureTwice, steps=10)
    # one evaluation at each point; each step's first closure call reuses it, the second one computes
    np.testing.assert_array_equal(record.evaluations, 1 + 2 * np.arange(11))
    assert trace(ROSENBROCK, "adam", steps=10).evaluations.tolist() == list(range(1, 12))
    lbfgs = trace(ROSENBROCK, "lbfgs", steps=10)
    assert (np.diff(lbfgs.evaluations) >= 1).all() and lbfgs.evaluations[-1] > 11  # line-search calls count


def test_second_order_is_detected_and_the_option_named_when_refused():
    assert needs_create_graph(lambda ps: NeedsGraph(ps), [(2,)])
    assert not needs_create_graph(lambda ps: torch.optim.Adam(ps), [(2,)])
    with pytest.raises(InvalidArgument, match="create_graph=True"):
        trace(ROSENBROCK, NeedsGraph, steps=3, create_graph=False)


def test_lr_none_is_recorded_as_nan_and_kwargs_pass_through():
    record = trace(ROSENBROCK, LrNoneKwargs, steps=5, scale=0.02)
    assert np.isnan(record.lrs).all() and record.hyperparams == {"scale": 0.02}
    explicit = trace(ROSENBROCK, LrNoneKwargs, steps=5, lr=None, scale=0.02)
    np.testing.assert_array_equal(explicit.points, record.points)
    with pytest.raises(InvalidArgument, match="learning rate"):
        trace(ROSENBROCK, "adam", steps=2, lr=None)  # adam's own default is not None


def test_stepper_reuses_the_evaluation_only_while_nothing_moved():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    calls = []
    stepper = Stepper(torch.optim.SGD([x], lr=0.1), [x], lambda: calls.append(1) or (x**2).sum())
    stepper.evaluate()
    stepper.closure()
    assert len(calls) == 1 and stepper.evaluations == 1
    with torch.no_grad():
        x.add_(1.0)
    stepper.closure()
    assert len(calls) == 2 and stepper.evaluations == 2


def test_dotted_paths_parse_and_missing_modules_say_how_to_install():
    assert parse_optimizer("torch.optim.SGD:lr=0.1,momentum=0.9") == ("torch.optim.SGD", {"lr": 0.1, "momentum": 0.9})
    spec = get_optimizer("torch.optim.Rprop")
    assert spec.cls is torch.optim.Rprop and not spec.elementwise
    with pytest.raises(InvalidArgument, match=r"'no_such_optim_pkg' is not installed \((?!pip)"):  # no pip for unknown
        parse_optimizer("no_such_optim_pkg.Fast:lr=1")
    with pytest.raises(InvalidArgument, match="did you mean 'SGD'"):
        get_optimizer("torch.optim.SDG")
    record = trace(ROSENBROCK, "torch.optim.SGD", steps=5, lr=1e-3)
    np.testing.assert_array_equal(record.points, user_loop(torch.optim.SGD, ROSENBROCK.start, 5, lr=1e-3))


def test_train_steps_closure_and_second_order_optimizers_as_their_own_loop():
    from gradviz.lecture import make_dataset, mlp, train
    from gradviz.lecture.training import loss_function

    X, y = make_dataset("moons", n=64, seed=0)
    for cls, settings, loop in [(ClosureTwice, dict(lr=0.1), "closure"), (NeedsGraph, dict(lr=0.1), "graph")]:
        model = mlp(2, (8,), 1, seed=0)
        run = train(model, (X, y), cls, steps=5, lr=settings["lr"], record_every=5, grid=4)
        reference = mlp(2, (8,), 1, seed=0)
        params = list(reference.parameters())
        optimizer = cls(params, **settings)
        for _ in range(5):
            def closure():
                optimizer.zero_grad()
                out = loss_function(reference(X), y)
                out.backward()
                return out

            if loop == "closure":
                optimizer.step(closure)
            else:
                optimizer.zero_grad()
                loss_function(reference(X), y).backward(create_graph=True)
                optimizer.step()
        flat = torch.cat([p.detach().reshape(-1) for p in params]).numpy()
        np.testing.assert_array_equal(run.snapshots[-1], flat)


# pytorch-optimizer (an optional test dependency): a dozen of its classes, each against its own loop.
PYTORCH_OPTIMIZER = [
    ("Lion", dict(lr=1e-3), {}), ("SOAP", dict(lr=0.01), {}), ("Shampoo", dict(lr=1e-3), {}),
    ("Ranger", dict(lr=1e-3), {}), ("Ranger21", dict(lr=1e-3, num_iterations=40), {}),
    ("AdaHessian", dict(lr=0.1), dict(create_graph=True)), ("SophiaH", dict(lr=0.01), dict(create_graph=True)),
    ("AdaFactor", dict(), {}), ("A2Grad", dict(), {}), ("DiffGrad", dict(lr=0.01), {}),
    ("MADGRAD", dict(lr=1e-3), {}), ("Prodigy", dict(), {}), ("AdamP", dict(lr=0.01), {}), ("Adan", dict(lr=0.01), {}),
    ("SAM", dict(lr=1e-3, rho=0.05), {}),
]


@pytest.mark.parametrize("name, settings, loop", PYTORCH_OPTIMIZER, ids=[n for n, _, _ in PYTORCH_OPTIMIZER])
def test_pytorch_optimizer_classes_trace_as_their_own_loop(name, settings, loop):
    po = pytest.importorskip("pytorch_optimizer")
    cls = getattr(po, name)
    if name == "SAM":
        settings = dict(base_optimizer=torch.optim.SGD, **settings)
    seed_state = torch.random.get_rng_state()
    record = trace(ROSENBROCK, f"pytorch_optimizer.{name}", steps=40, seed=0, **settings)
    torch.manual_seed(0)  # AdaHessian and Sophia draw Hutchinson vectors: the same seed as trace's
    expected = user_loop(cls, ROSENBROCK.start, 40, **loop, **settings)
    torch.random.set_rng_state(seed_state)
    assert record.steps == 40 and math.isfinite(record.losses[-1])
    np.testing.assert_array_equal(record.points, expected)


# Wrappers built around a base optimizer (Lookahead(Adam(params), k=5)): given as base=, each traced as the loop
# its documentation writes: build the base over the point, wrap it, step the wrapper.
WRAPPERS = [
    ("Lookahead", "adam:lr=0.01", torch.optim.Adam, dict(lr=0.01), dict(k=5, alpha=0.5)),
    ("OrthoGrad", "sgd:lr=0.001", torch.optim.SGD, dict(lr=0.001), {}),
    ("ScheduleFreeWrapper", "sgd:lr=0.001", torch.optim.SGD, dict(lr=0.001), {}),
    ("TRAC", "adam:lr=0.01", torch.optim.Adam, dict(lr=0.01), {}),
]


def _wrapper_loop(cls, base, steps, **settings):
    x = torch.tensor(ROSENBROCK.start, dtype=torch.float64, requires_grad=True)
    optimizer = cls(base([x]), **settings)
    if hasattr(optimizer, "train"):
        optimizer.train()  # schedule-free: its documented loop sets train mode before stepping
    points = [x.detach().clone()]
    for _ in range(steps):
        optimizer.zero_grad()
        ROSENBROCK(x).backward()
        optimizer.step()
        points.append(x.detach().clone())
    return torch.stack(points).numpy()


@pytest.mark.parametrize("name, base, base_cls, base_settings, settings", WRAPPERS, ids=[w[0] for w in WRAPPERS])
def test_wrappers_around_a_base_trace_as_their_own_loop(name, base, base_cls, base_settings, settings):
    po = pytest.importorskip("pytorch_optimizer")
    cls = getattr(po, name)
    record = trace(ROSENBROCK, cls, steps=25, base=base, **settings)
    expected = _wrapper_loop(cls, lambda params: base_cls(params, **base_settings), 25, **settings)
    np.testing.assert_array_equal(record.points, expected)
    assert not np.array_equal(record.points[-1], record.points[0])


def test_a_wrapper_in_the_command_line_form_is_the_same_loop():
    po = pytest.importorskip("pytorch_optimizer")
    name, settings = parse_optimizer("pytorch_optimizer.Lookahead:k=5,base=(adam:lr=0.01,betas=0.9/0.99)")
    assert settings == {"k": 5, "base": "adam:lr=0.01,betas=0.9/0.99"}
    record = trace(ROSENBROCK, name, steps=12, **settings)
    expected = _wrapper_loop(po.Lookahead, lambda params: torch.optim.Adam(params, lr=0.01, betas=(0.9, 0.99)), 12,
                             k=5)
    np.testing.assert_array_equal(record.points, expected)


@pytest.mark.parametrize("path, shown", [
    ("torch.optim.SparseAdam", "needs sparse gradients"), ("pytorch_optimizer.Muon", "needs 2-D (matrix) parameters"),
    ("pytorch_optimizer.AdamMini", "takes a model"), ("pytorch_optimizer.DistributedMuon", "process group"),
    ("pytorch_optimizer.Lookahead", "wraps another optimizer: give it as base="),
])
def test_a_class_that_cannot_step_a_point_says_what_it_needs(path, shown):
    if path.startswith("pytorch_optimizer"):
        pytest.importorskip("pytorch_optimizer")
    with pytest.raises(InvalidArgument) as error:
        trace(ROSENBROCK, path, steps=3)
    assert shown in str(error.value) and "\n" not in str(error.value)
