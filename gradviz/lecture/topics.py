"""The numbers behind the lecture's own figures: formulas evaluated and real torch runs, as records.

Each function here computes what one figure of `gradviz.FIGURES` draws and returns a frozen record of
numpy arrays (or Trajectory/Surface records for the animated ones), so render/figure.py draws without
torch and the tests check the numbers without drawing: loss curves as functions of the margin, activations
and their autograd derivatives, the 0.25^L bound beside gradviz's own deep-MLP measurement, gradient
descent on quadratics with four learning rates, full-batch/mini-batch/SGD paths over an exact empirical
risk, momentum in a ravine, Adam's moment estimates read from torch.optim.Adam's state, L1/L2 constrained
optima and regularization paths, and one-hidden-layer nets of growing width. Facts checked against
shared/reference/lecture-figures.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import torch

from gradviz.i18n import N_
from gradviz.records import Surface, Trajectory

__all__ = [
    "Curves", "loss_curves", "activation_curves", "vanishing_bound", "LearningRates", "learning_rates",
    "BatchPaths", "batch_size_paths", "MomentumPaths", "momentum_paths", "AdamBias", "adam_bias", "AdaptivePaths",
    "adaptive_paths", "Regularization",
    "regularization", "UniversalFits", "universal_approximation",
]


def _frozen(array: Any) -> np.ndarray:
    out = np.array(array, dtype=float, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Curves:
    """Named curves y(x) over one shared x (e.g. losses against the margin), plus named scalars."""

    x: np.ndarray
    curves: Mapping[str, np.ndarray]
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", _frozen(self.x))
        object.__setattr__(self, "curves", {k: _frozen(v) for k, v in self.curves.items()})
        object.__setattr__(self, "extra", dict(self.extra))


# -- losses and activations ---------------------------------------------------------------------------------

def loss_curves(margin: tuple[float, float] = (-2.0, 3.0), n: int = 1001) -> Curves:
    """Classification losses against the margin m = y f(x), computed with torch's own loss functions where
    torch has one (the logistic loss is F.binary_cross_entropy_with_logits, i.e. -log p(y|x))."""
    m = torch.linspace(margin[0], margin[1], n, dtype=torch.float64)
    ones = torch.ones_like(m)
    logistic = torch.nn.functional.binary_cross_entropy_with_logits(m, ones, reduction="none")
    curves = {
        "0-1": (m <= 0).double(),
        "hinge": torch.nn.functional.relu(1 - m),
        "logistic / ln 2": logistic / math.log(2),
        "squared": (1 - m) ** 2,
        "exponential": torch.exp(-m),
    }
    p = torch.linspace(0.005, 1.0, 400, dtype=torch.float64)
    nll = -torch.log(p)
    return Curves(m.numpy(), {k: v.numpy() for k, v in curves.items()},
                  extra={"p": _frozen(p.numpy()), "nll": _frozen(nll.numpy())})


ACTIVATION_FUNCTIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "ReLU": torch.relu,
    "leaky ReLU (a=0.01)": lambda x: torch.nn.functional.leaky_relu(x, 0.01),  # torch's default, as `gradviz list`
}
SATURATION = 0.01  # sigmoid' below this counts as saturated


def activation_curves(limit: float = 7.0, n: int = 1401) -> Curves:
    """Activations and their derivatives by autograd; extra["saturated"]: |x| beyond which sigmoid' < 0.01."""
    x = torch.linspace(-limit, limit, n, dtype=torch.float64, requires_grad=True)
    curves = {}
    for name, function in ACTIVATION_FUNCTIONS.items():
        y = function(x)
        (grad,) = torch.autograd.grad(y.sum(), x)
        curves[name] = y.detach().numpy()
        curves[name + "'"] = grad.numpy()
    # s' = s(1 - s) = c  ->  s = (1 + sqrt(1 - 4c)) / 2  ->  x = log(s / (1 - s))
    s = (1 + math.sqrt(1 - 4 * SATURATION)) / 2
    return Curves(x.detach().numpy(), curves, extra={"saturated": math.log(s / (1 - s)), "max_sigmoid_slope": 0.25})


# weight scales of the vanishing-bound figure: PyTorch's default init (|W| small) and N(0, k^2/fan_in) with k = 4
# (|W| large); the 0.25^n bound holds for the product of sigmoid' factors in both, the gradient ratio only in
# the first
BOUND_INITS = (("default", None), ("scaled", 4.0))


def signal_through_sigmoids(depth: int, *, width: int = 64, init: str = "default", std: float | None = None,
                            batch_size: int = 128, seed: int = 0) -> tuple[float, float]:
    """-> (mean-sigma' product, gradient ratio) of a deep sigmoid MLP at initialization (n = depth - 1).

    One backward pass of the cross-entropy on N(0, I) inputs with random labels: the ratio is
    ||dL/dz_1|| / ||dL/dz_depth|| (z_l: the output of Linear l), the product is the mean over units and
    inputs of sigma'(z_l), multiplied over the n sigmoid layers the gradient passes through. Each sigma'
    is at most 1/4, so the product is at most 0.25^n; the ratio is that product times the weight matrices,
    so larger weights lift it above 0.25^n."""
    from gradviz.lecture.deepnets import deep_mlp, random_data

    model = deep_mlp(depth, width, activation="sigmoid", init=init, std=std, seed=seed).double()
    X, y = random_data(batch_size, width, 10, seed=seed + 1)
    h, outputs = X.double(), []
    for module in model:
        h = module(h)
        if isinstance(module, torch.nn.Linear):
            h.retain_grad()
            outputs.append(h)
    torch.nn.functional.cross_entropy(h, y).backward()
    product = 1.0
    for z in outputs[:-1]:
        s = torch.sigmoid(z.detach())
        product *= float((s * (1 - s)).mean())
    return product, float(outputs[0].grad.norm() / outputs[-1].grad.norm())


def vanishing_bound(depths: tuple[int, ...] = (2, 3, 4, 5, 6, 8, 10, 12), *, width: int = 64,
                    seed: int = 0) -> Curves:
    """0.25^n against the number n of sigmoid layers, beside what a deep sigmoid MLP measures at its first
    step (n = depth - 1) for each weight scale of BOUND_INITS: the product of its mean sigma' factors
    (bounded by 0.25^n) and its first/last gradient ratio (which includes the weights: not bounded).
    extra["product"][init] and extra["ratio"][init]: (len(depths),) arrays; extra["measured"]: the default
    init's ratio."""
    layers = np.array([d - 1 for d in depths], dtype=float)
    product: dict[str, Any] = {}
    ratio: dict[str, Any] = {}
    for init, std in BOUND_INITS:
        values = [signal_through_sigmoids(depth, width=width, init=init, std=std, seed=seed) for depth in depths]
        key = init if std is None else f"{init} {std:g}"
        product[key] = _frozen([v[0] for v in values])
        ratio[key] = _frozen([v[1] for v in values])
    n = np.arange(1, max(depths), dtype=float)
    return Curves(n, {"bound": 0.25**n}, extra={"layers": _frozen(layers), "product": product, "ratio": ratio,
                                                "measured": ratio["default"]})


# -- learning rates on quadratics ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class LearningRates:
    """Gradient descent on f(x) = (a/2) x^2 and on (1/2)(a1 x^2 + a2 y^2), one run per learning rate.

    factors: lr * a (1-D) and lr * a2 (2-D). paths_1d: (k, steps+1) iterates; paths_2d: (k, steps+1, 2);
    losses_2d: (k, steps+1) f along the 2-D paths.
    """

    names: tuple[str, ...]
    factors: np.ndarray
    curvature: float
    curvatures_2d: tuple[float, float]
    paths_1d: np.ndarray
    paths_2d: np.ndarray
    losses_1d: np.ndarray
    losses_2d: np.ndarray


LR_CHOICES = (("too small", 0.1), ("right", 1.0), ("oscillating", 1.8), ("diverging", 2.1))


def _gd(function: Any, start: list[float], lr: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=lr)
    points, losses = [], []
    for k in range(steps + 1):
        optimizer.zero_grad()
        loss = function(x)
        points.append(x.detach().clone())
        losses.append(float(loss.detach()))
        if k < steps:
            loss.backward()
            optimizer.step()
    return torch.stack(points).numpy(), np.array(losses)


def learning_rates(*, curvature: float = 1.0, curvatures_2d: tuple[float, float] = (1.0, 4.0),
                   start: float = 2.0, steps: int = 12) -> LearningRates:
    """torch.optim.SGD with lr = c/a for c in 0.1 (too small), 1 (right), 1.8 (oscillating), 2.1 (diverging)."""
    a1, a2 = curvatures_2d
    p1, l1, p2, l2 = [], [], [], []
    for _, c in LR_CHOICES:
        path, loss = _gd(lambda x: 0.5 * curvature * (x**2).sum(), [start], c / curvature, steps)
        p1.append(path[:, 0])
        l1.append(loss)
        path, loss = _gd(lambda x: 0.5 * (a1 * x[0] ** 2 + a2 * x[1] ** 2), [-start, 0.5 * start], c / a2, steps)
        p2.append(path)
        l2.append(loss)
    return LearningRates(names=tuple(n for n, _ in LR_CHOICES), factors=np.array([c for _, c in LR_CHOICES]),
                         curvature=curvature, curvatures_2d=(a1, a2), paths_1d=np.array(p1),
                         paths_2d=np.array(p2), losses_1d=np.array(l1), losses_2d=np.array(l2))


# -- batch size on a 2-parameter model ----------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class BatchPaths:
    """Logistic regression without bias on 2-D points: the exact empirical risk over (w1, w2) and the
    paths of full-batch GD, mini-batch GD and SGD on it (losses are the full empirical risk)."""

    surface: Surface
    paths: tuple[Trajectory, ...]
    X: np.ndarray
    y: np.ndarray


def _risk_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two overlapping Gaussian clouds with labels in {-1, +1}: the risk has a finite minimum."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.where(torch.rand(n, generator=generator, dtype=torch.float64) < 0.5, -1.0, 1.0).double()
    noise = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    X = y[:, None] * torch.tensor([0.5, 0.3], dtype=torch.float64) + noise
    return X, y


def empirical_risk(w: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(1/N) sum_i log(1 + exp(-y_i <w, x_i>)) for w of shape (..., 2) -> shape (...)."""
    margins = (w @ X.T) * y
    return torch.nn.functional.softplus(-margins).mean(dim=-1)


def batch_size_paths(*, n: int = 64, batch_sizes: tuple[int, ...] = (64, 8, 1), lr: float = 0.5, epochs: int = 30,
                     start: tuple[float, float] = (-2.5, 2.5), domain: tuple[tuple[float, float], ...] =
                     ((-3.0, 4.0), (-3.0, 3.5)), resolution: int = 200, seed: int = 0) -> BatchPaths:
    """Each path takes torch.optim.SGD steps on the mean log loss of a random batch of the given size
    (drawn without replacement within an epoch) until it has seen `epochs` x n samples: the same work for
    every batch size, so full-batch GD (batch n) takes `epochs` steps and SGD n times as many. Each
    Trajectory's `evaluations` count the samples seen when its point was reached (0, size, 2 size, ...)."""
    X, y = _risk_data(n, seed)
    (x0, x1), (y0, y1) = domain
    gx, gy = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    grid = torch.tensor(np.stack(np.meshgrid(gx, gy), axis=-1))
    z = empirical_risk(grid, X, y).numpy()
    # the minimizer, by Newton's method on the (strictly convex) risk, with its analytic gradient and Hessian
    w = torch.zeros(2, dtype=torch.float64)
    for _ in range(30):
        s = torch.sigmoid(-(X @ w) * y)
        gradient = -(X * (y * s)[:, None]).mean(dim=0)
        hessian = (X[:, :, None] * X[:, None, :] * (s * (1 - s))[:, None, None]).mean(dim=0)
        w = w - torch.linalg.solve(hessian, gradient)
    minimum = w.numpy()
    surface = Surface(gx, gy, z, name="empirical risk of logistic regression", log_scale=False,
                      floor=float(empirical_risk(w, X, y)), minima=minimum[None])
    generator = torch.Generator().manual_seed(seed + 1)
    paths = []
    for size in batch_sizes:
        size = min(int(size), n)
        steps = epochs * n // size
        w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([w], lr=lr)
        points, losses, norms, order = [], [], [], torch.empty(0, dtype=torch.long)
        for k in range(steps + 1):
            with torch.no_grad():
                points.append(w.detach().clone())
                losses.append(float(empirical_risk(w, X, y)))
            if k == steps:
                break
            if len(order) < size:
                order = torch.randperm(n, generator=generator)
            batch, order = order[:size], order[size:]
            optimizer.zero_grad()
            loss = empirical_risk(w, X[batch], y[batch])
            loss.backward()
            norms.append(float(w.grad.norm()))
            optimizer.step()
        norms.append(float("nan"))
        label = N_("full-batch GD") if size == n else (N_("SGD") if size == 1 else N_("mini-batch GD"))  # + batch=
        paths.append(Trajectory(points=torch.stack(points).numpy(), losses=np.array(losses),
                                grad_norms=np.array(norms), lrs=np.full(steps, lr), optimizer=label,
                                hyperparams={"lr": lr, "batch": size}, function=surface.name,
                                steps_requested=steps, evaluations=np.arange(steps + 1) * size,
                                evaluations_requested=epochs * n))
    return BatchPaths(surface=surface, paths=tuple(paths), X=X.numpy(), y=y.numpy())


# One lr for all three (lr * a2 = 1.2 on the ravine below) and one mu for both momentum methods: what differs
# is the method alone. GD's steep factor 1 - 1.2 = -0.2 zig-zags; heavy ball swings across the ravine
# (|root| = sqrt(mu) = 0.84 there); Nesterov at the same (lr, mu) damps the swing (0.58), because its
# gradient is taken at the look-ahead point.
MOMENTUM_LR, MOMENTUM_MU = 1.2 / 25.0, 0.7
MOMENTUM_RUNS = (("sgd", {"lr": MOMENTUM_LR}), ("momentum", {"lr": MOMENTUM_LR, "momentum": MOMENTUM_MU}),
                 ("nesterov", {"lr": MOMENTUM_LR, "momentum": MOMENTUM_MU}))


@dataclass(frozen=True, eq=False)
class MomentumPaths:
    """GD, heavy ball and Nesterov on the ravine. Nesterov's path is its positions x_k; lookahead[k] is the
    point y_k = x_k + mu (x_k - x_(k-1)) where its gradient is taken (torch's own iterate, see
    momentum_paths)."""

    surface: Surface
    paths: tuple[Trajectory, ...]
    lookahead: np.ndarray


def momentum_paths(*, curvatures: tuple[float, float] = (1.0, 25.0), runs: tuple = MOMENTUM_RUNS,
                   start: tuple[float, float] = (-4.0, 1.5), steps: int = 80, resolution: int = 200
                   ) -> MomentumPaths:
    """GD, heavy-ball momentum and Nesterov (torch.optim.SGD) on the ravine (1/2)(a1 x^2 + a2 y^2).

    torch's Nesterov keeps the look-ahead point as its parameter: its iterates are y_k, where the gradient
    is taken, and the positions are x_(k+1) = y_k - lr grad f(y_k) (Sutskever et al. 2013's form, x_0 = y_0);
    y_k = x_k + mu (x_k - x_(k-1)). The Nesterov path drawn is x; the look-ahead points are kept beside it.
    """
    import dataclasses

    from gradviz.lecture.functions import TestFunction
    from gradviz.lecture.tracing import trace

    a1, a2 = curvatures
    ravine = TestFunction(name="ravine", expr=lambda x, y, m: 0.5 * (a1 * x**2 + a2 * y**2),
                          domain=((-4.5, 1.5), (-2.0, 2.0)), minima=((0.0, 0.0),), f_min=0.0, start=start,
                          log_scale=True, formula=f"({a1:g} x^2 + {a2:g} y^2)/2")
    paths = []
    lookahead = np.empty((0, 2))
    for name, hp in runs:
        path = trace(ravine, name, start=start, steps=steps, **hp)
        if name == "nesterov":
            lookahead = np.array(path.points, dtype=float)
            curvature = np.array([a1, a2])
            positions = np.vstack([lookahead[:1], lookahead[:-1] - hp["lr"] * curvature * lookahead[:-1]])
            path = dataclasses.replace(path, points=positions, losses=0.5 * (positions**2 * curvature).sum(axis=1))
        paths.append(path)
    return MomentumPaths(surface=ravine.surface(resolution=resolution), paths=tuple(paths), lookahead=lookahead)


# -- Adam ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class AdamBias:
    """Adam's moment estimates for a constant gradient g over t = 1..n, read from torch.optim.Adam's state
    (exp_avg = m_t, exp_avg_sq = v_t), their bias-corrected forms, and the step each method takes as a
    multiple of lr: Adam's own (torch), Adam's without the correction (m_t / sqrt(v_t), what the step
    would be), and RMSprop's (torch, alpha = 0.99, no correction: 10 lr at t = 1)."""

    t: np.ndarray
    gradient: float
    m: np.ndarray
    v: np.ndarray
    m_hat: np.ndarray
    v_hat: np.ndarray
    betas: tuple[float, float]
    eps: float
    step_adam: np.ndarray
    step_uncorrected: np.ndarray
    step_rmsprop: np.ndarray
    lr: float


def _steps_on_constant_gradient(optimizer: Any, w: torch.Tensor, gradient: float, n: int,
                                state: list[tuple[float, float]] | None = None) -> np.ndarray:
    """|w_t - w_(t-1)| for n steps of `optimizer` on f(w) = g w; appends (exp_avg, exp_avg_sq) to state."""
    steps = []
    for _ in range(n):
        before = float(w.detach()[0])
        optimizer.zero_grad()
        (gradient * w).sum().backward()
        optimizer.step()
        steps.append(abs(float(w.detach()[0]) - before))
        if state is not None:
            entry = optimizer.state[w]
            state.append((float(entry["exp_avg"][0]), float(entry["exp_avg_sq"][0])))
    return np.array(steps)


def adam_bias(*, gradient: float = 1.0, n: int = 1000, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
              lr: float = 1e-3) -> AdamBias:
    """Adam's state and the steps of Adam and RMSprop on f(w) = g w (its gradient is g at every step)."""
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    state: list[tuple[float, float]] = []
    step_adam = _steps_on_constant_gradient(torch.optim.Adam([w], lr=lr, betas=betas, eps=eps), w, gradient, n,
                                            state)
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    step_rmsprop = _steps_on_constant_gradient(torch.optim.RMSprop([w], lr=lr, alpha=0.99, eps=eps), w, gradient, n)
    t = np.arange(1, n + 1, dtype=float)
    m_arr, v_arr = np.array([m for m, _ in state]), np.array([v for _, v in state])
    return AdamBias(t=t, gradient=gradient, m=m_arr, v=v_arr, m_hat=m_arr / (1 - betas[0] ** t),
                    v_hat=v_arr / (1 - betas[1] ** t), betas=tuple(betas), eps=eps, step_adam=step_adam / lr,
                    step_uncorrected=m_arr / (np.sqrt(v_arr) + eps), step_rmsprop=step_rmsprop / lr, lr=lr)


# -- the adaptive methods side by side ----------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class AdaptivePaths:
    """Plain GD and the adaptive methods on one ill-conditioned quadratic (1/2)(a1 x^2 + a2 y^2).

    names, lrs: each method and its learning rate; points[name]: (steps+1, 2); losses[name]: (steps+1,);
    rates[name]: (steps, 2) the step size each coordinate got at each step, the factor its update applies
    to the gradient (Adagrad, RMSprop, Adadelta: |dtheta_i| / |g_i|) or to the first moment (Adam,
    AdaBelief: lr / (sqrt(v_hat_i) + eps)), read from the optimizer's state; GD's is lr for both."""

    surface: Surface
    names: tuple[str, ...]
    lrs: Mapping[str, float]
    points: Mapping[str, np.ndarray]
    losses: Mapping[str, np.ndarray]
    rates: Mapping[str, np.ndarray]
    curvatures: tuple[float, float]


# Each method at a learning rate where it works on this problem: it converges without leaving the window
# (tests check it). GD's is held below 2/a2 = 0.04 by the steep direction; Adadelta's lr is torch's factor
# on its unit-free step (the paper has no lr).
ADAPTIVE_RUNS = (("sgd", 0.035), ("adagrad", 1.0), ("adadelta", 20.0), ("rmsprop", 0.05), ("adabelief", 0.15),
                 ("adam", 0.15))


def _per_coordinate_rate(name: str, optimizer: Any, parameter: torch.Tensor, moved: np.ndarray,
                         gradient: np.ndarray, lr: float) -> np.ndarray:
    state = optimizer.state[parameter]
    if name in ("adam", "adabelief"):
        key = "exp_avg_sq" if name == "adam" else "exp_avg_var"
        beta2 = optimizer.param_groups[0]["betas"][1]
        v_hat = state[key].detach().numpy() / (1 - beta2 ** float(state["step"]))
        return lr / (np.sqrt(v_hat) + optimizer.param_groups[0]["eps"])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(gradient) > 1e-300, moved / np.abs(gradient), np.nan)


def adaptive_paths(*, curvatures: tuple[float, float] = (1.0, 50.0), start: tuple[float, float] = (-4.0, 1.5),
                   steps: int = 100, runs: tuple[tuple[str, float], ...] = ADAPTIVE_RUNS,
                   resolution: int = 200) -> AdaptivePaths:
    """Each method of `runs` (gradviz's registry: torch's optimizers, gradviz's AdaBelief, other settings at
    their defaults) for `steps` steps from `start`, its per-coordinate step sizes read as it goes."""
    from gradviz.lecture.functions import TestFunction
    from gradviz.lecture.optim import get_optimizer

    a1, a2 = curvatures
    function = TestFunction(name="ill-conditioned quadratic", expr=lambda x, y, m: 0.5 * (a1 * x**2 + a2 * y**2),
                            domain=((-4.5, 1.5), (-2.0, 2.0)), minima=((0.0, 0.0),), f_min=0.0, start=start,
                            log_scale=True, formula=f"({a1:g} x^2 + {a2:g} y^2)/2")
    curvature = torch.tensor([a1, a2], dtype=torch.float64)
    points, losses, rates = {}, {}, {}
    for name, lr in runs:
        x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        optimizer = get_optimizer(name).build([x], lr=lr)
        path, values, steps_taken = [x.detach().numpy().copy()], [], []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = 0.5 * (curvature * x**2).sum()
            values.append(float(loss.detach()))
            loss.backward()
            gradient = x.grad.detach().numpy().copy()
            optimizer.step()
            path.append(x.detach().numpy().copy())
            steps_taken.append(_per_coordinate_rate(name, optimizer, x, np.abs(path[-1] - path[-2]), gradient, lr))
        values.append(float(0.5 * (curvature * x.detach() ** 2).sum()))
        points[name], losses[name], rates[name] = np.array(path), np.array(values), np.array(steps_taken)
    return AdaptivePaths(surface=function.surface(resolution=resolution), names=tuple(n for n, _ in runs),
                         lrs=dict(runs), points=points, losses=losses, rates=rates, curvatures=(a1, a2))


# -- regularization -----------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Regularization:
    """The constrained pictures and the regularization paths.

    A, center: the loss (1/2)(w - center)^T A (w - center); radius t; l1_optimum and l2_optimum minimize it
    over ||w||_1 <= t and ||w||_2 <= t. lambdas: (k,); path_l1 and path_l2: (k, d) weights of a logistic
    regression penalized by lambda ||w||_1 and (lambda/2) ||w||_2^2; lambda_max: the smallest lambda at
    which every L1 weight is exactly 0.
    """

    A: np.ndarray
    center: np.ndarray
    radius: float
    l1_optimum: np.ndarray
    l2_optimum: np.ndarray
    lambdas: np.ndarray
    path_l1: np.ndarray
    path_l2: np.ndarray
    lambda_max: float


def _quadratic_on_l1_ball(A: np.ndarray, c: np.ndarray, t: float) -> np.ndarray:
    """Exact minimizer of (1/2)(w-c)^T A (w-c) over |w1| + |w2| <= t when c lies outside the ball: the best
    of the four edges, each a 1-D quadratic on a segment minimized in closed form."""
    corners = [np.array(p, dtype=float) * t for p in ((1, 0), (0, 1), (-1, 0), (0, -1))]
    best, best_value = None, np.inf
    for a, b in zip(corners, corners[1:] + corners[:1]):
        d = b - a
        s = float(np.clip(d @ A @ (c - a) / (d @ A @ d), 0.0, 1.0))
        w = a + s * d
        value = 0.5 * (w - c) @ A @ (w - c)
        if value < best_value:
            best, best_value = w, value
    return best


def _quadratic_on_l2_ball(A: np.ndarray, c: np.ndarray, t: float) -> np.ndarray:
    """Minimizer over ||w||_2 <= t: w(mu) = (A + mu I)^-1 A c with ||w(mu)|| = t, mu by bisection."""
    def w(mu: float) -> np.ndarray:
        return np.linalg.solve(A + mu * np.eye(2), A @ c)

    lo, hi = 0.0, 1.0
    while np.linalg.norm(w(hi)) > t:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.linalg.norm(w(mid)) > t else (lo, mid)
    return w(hi)


def _path_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 5, generator=generator, dtype=torch.float64)
    true = torch.tensor([2.0, -1.5, 1.0, 0.0, 0.0], dtype=torch.float64)
    p = torch.sigmoid(X @ true)
    y = (torch.rand(n, generator=generator, dtype=torch.float64) < p).double()
    return X, y


def regularization(*, n: int = 200, lambdas: int = 30, seed: int = 0, iterations: int = 300) -> Regularization:
    """The L1/L2 picture (exact optima) and the paths of a 5-feature logistic regression (no bias): L1 by
    proximal gradient (soft thresholding gives exact zeros), L2 by gradient descent; warm-started along lambda."""
    A = np.array([[1.0, 0.4], [0.4, 2.0]])
    center = np.array([2.2, 0.3])
    radius = 1.0
    X, y = _path_data(n, seed)

    def loss_grad(w: torch.Tensor) -> torch.Tensor:
        # the mean log loss's gradient X^T (sigmoid(Xw) - y) / n (tests check it against autograd)
        return X.T @ (torch.sigmoid(X @ w) - y) / n

    # for lambda >= ||grad at 0||_inf the L1 optimum is w = 0 (0 is in the subdifferential)
    lambda_max = float(loss_grad(torch.zeros(5, dtype=torch.float64)).abs().max())
    grid = np.geomspace(lambda_max * 2, lambda_max * 1e-3, lambdas)
    step = 1.0  # < 4 / lambda_max(X^T X / n): the log loss's gradient is (||X||^2 / 4n)-Lipschitz
    step = float(min(step, 3.0 / (torch.linalg.matrix_norm(X, ord=2) ** 2 / n)))
    w1 = torch.zeros(5, dtype=torch.float64)
    w2 = torch.zeros(5, dtype=torch.float64)
    path_l1, path_l2 = [], []
    for lam in grid:
        for _ in range(iterations):
            z = w1 - step * loss_grad(w1)
            w1 = torch.sign(z) * torch.clamp(z.abs() - step * lam, min=0.0)
            w2 = w2 - step * (loss_grad(w2) + lam * w2)
        path_l1.append(w1.numpy().copy())
        path_l2.append(w2.numpy().copy())
    return Regularization(A=A, center=center, radius=radius, l1_optimum=_quadratic_on_l1_ball(A, center, radius),
                          l2_optimum=_quadratic_on_l2_ball(A, center, radius), lambdas=grid,
                          path_l1=np.array(path_l1), path_l2=np.array(path_l2), lambda_max=lambda_max)


# universal approximation lives in its own module; its names stay importable from here
from gradviz.lecture.approximation import UniversalFits, ua_target, universal_approximation  # noqa: E402
