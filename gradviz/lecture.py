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

from gradviz.records import Surface, Trajectory

__all__ = [
    "Curves", "loss_curves", "activation_curves", "vanishing_bound", "LearningRates", "learning_rates",
    "BatchPaths", "batch_size_paths", "momentum_paths", "AdamBias", "adam_bias", "Regularization",
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
    "leaky ReLU (a=0.1)": lambda x: torch.nn.functional.leaky_relu(x, 0.1),
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


def vanishing_bound(depths: tuple[int, ...] = (2, 3, 4, 5, 6, 8, 10, 12), *, width: int = 64,
                    seed: int = 0) -> Curves:
    """0.25^n against the number n of sigmoid layers, beside the measured first/last backward-signal ratio
    of gradviz's deep sigmoid MLP (PyTorch's default init) at its first step, for each depth (n = depth-1)."""
    from gradviz.diagnosis import diagnose
    from gradviz.gradients import gradflow_experiment

    layers = np.array([d - 1 for d in depths], dtype=float)
    measured = []
    for depth in depths:
        log = gradflow_experiment(depth=depth, width=width, activation="sigmoid", init="default", steps=1,
                                  batch_size=128, seed=seed)
        measured.append(diagnose(log, step=0).ratio)
    n = np.arange(1, max(depths), dtype=float)
    return Curves(n, {"bound": 0.25**n}, extra={"layers": _frozen(layers), "measured": _frozen(measured)})


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


def batch_size_paths(*, n: int = 64, batch_sizes: tuple[int, ...] = (64, 8, 1), lr: float = 0.5, steps: int = 60,
                     start: tuple[float, float] = (-2.5, 2.5), domain: tuple[tuple[float, float], ...] =
                     ((-3.0, 4.0), (-3.0, 3.5)), resolution: int = 200, seed: int = 0) -> BatchPaths:
    """Each path takes `steps` torch.optim.SGD steps on the mean log loss of a random batch of the given
    size (drawn without replacement within an epoch); batch n is full-batch gradient descent."""
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
        label = "full-batch GD" if size == n else ("SGD" if size == 1 else "mini-batch GD")  # legend adds batch=
        paths.append(Trajectory(points=torch.stack(points).numpy(), losses=np.array(losses),
                                grad_norms=np.array(norms), lrs=np.full(steps, lr), optimizer=label,
                                hyperparams={"lr": lr, "batch": size}, function=surface.name,
                                steps_requested=steps))
    return BatchPaths(surface=surface, paths=tuple(paths), X=X.numpy(), y=y.numpy())


MOMENTUM_RUNS = (("sgd", {"lr": 0.076}), ("momentum", {"lr": 0.076, "momentum": 0.5}),
                 ("nesterov", {"lr": 0.04, "momentum": 0.7}))


def momentum_paths(*, curvatures: tuple[float, float] = (1.0, 25.0), runs: tuple = MOMENTUM_RUNS,
                   start: tuple[float, float] = (-4.0, 1.5), steps: int = 80, resolution: int = 200
                   ) -> tuple[Surface, tuple[Trajectory, ...]]:
    """GD, heavy-ball momentum and Nesterov (torch.optim.SGD) on the ravine (1/2)(a1 x^2 + a2 y^2).

    GD's lr * a2 = 1.9 zig-zags across the ravine (the steep factor is 1 - 1.9 = -0.9); heavy ball with the
    same lr and mu = 0.5 damps it; Nesterov in torch's form is only stable for lr * a2 < 2(1 + mu)/(1 + 2 mu),
    so it runs at lr * a2 = 1 with mu = 0.7 (every setting is in the legend).
    """
    from gradviz.functions import TestFunction
    from gradviz.tracing import trace

    a1, a2 = curvatures
    ravine = TestFunction(name="ravine", expr=lambda x, y, m: 0.5 * (a1 * x**2 + a2 * y**2),
                          domain=((-4.5, 1.5), (-2.0, 2.0)), minima=((0.0, 0.0),), f_min=0.0, start=start,
                          log_scale=True, formula=f"({a1:g} x^2 + {a2:g} y^2)/2")
    paths = tuple(trace(ravine, name, start=start, steps=steps, **hp) for name, hp in runs)
    return ravine.surface(resolution=resolution), paths


# -- Adam ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class AdamBias:
    """Adam's moment estimates over the first steps for a constant gradient g, read from torch.optim.Adam's
    state (exp_avg = m_t, exp_avg_sq = v_t), and their bias-corrected forms; then the per-coordinate step
    |delta theta_i| of Adagrad, RMSprop and Adam on an anisotropic quadratic (steps[name]: (T, 2))."""

    t: np.ndarray
    gradient: float
    m: np.ndarray
    v: np.ndarray
    m_hat: np.ndarray
    v_hat: np.ndarray
    betas: tuple[float, float]
    eps: float
    steps: Mapping[str, np.ndarray]
    curvatures: tuple[float, float]
    lr: float


def adam_bias(*, gradient: float = 1.0, n: int = 60, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
              curvatures: tuple[float, float] = (1.0, 100.0), lr: float = 0.05, quadratic_steps: int = 150
              ) -> AdamBias:
    """Adam's state on f(w) = g w (its gradient is g at every step) and step sizes on (a1 x^2 + a2 y^2)/2."""
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    adam = torch.optim.Adam([w], lr=1e-3, betas=betas, eps=eps)
    m, v = [], []
    for _ in range(n):
        adam.zero_grad()
        (gradient * w).sum().backward()
        adam.step()
        state = adam.state[w]
        m.append(float(state["exp_avg"][0]))
        v.append(float(state["exp_avg_sq"][0]))
    t = np.arange(1, n + 1, dtype=float)
    m_arr, v_arr = np.array(m), np.array(v)
    a1, a2 = curvatures
    steps = {}
    for name, cls in (("Adagrad", torch.optim.Adagrad), ("RMSprop", torch.optim.RMSprop), ("Adam", torch.optim.Adam)):
        x = torch.tensor([3.0, 1.0], dtype=torch.float64, requires_grad=True)
        optimizer = cls([x], lr=lr)
        previous, deltas = x.detach().clone(), []
        for _ in range(quadratic_steps):
            optimizer.zero_grad()
            (0.5 * (a1 * x[0] ** 2 + a2 * x[1] ** 2)).backward()
            optimizer.step()
            deltas.append((x.detach() - previous).abs())
            previous = x.detach().clone()
        steps[name] = torch.stack(deltas).numpy()
    return AdamBias(t=t, gradient=gradient, m=m_arr, v=v_arr, m_hat=m_arr / (1 - betas[0] ** t),
                    v_hat=v_arr / (1 - betas[1] ** t), betas=tuple(betas), eps=eps, steps=steps,
                    curvatures=(a1, a2), lr=lr)


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


# -- universal approximation --------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class UniversalFits:
    """x: (n,) inputs, target: (n,), fits[width]: (n,) the trained net's output, errors[width]: its MSE."""

    x: np.ndarray
    target: np.ndarray
    fits: Mapping[int, np.ndarray]
    errors: Mapping[int, float]


def ua_target(x: np.ndarray | torch.Tensor) -> Any:
    """A smooth part plus a step: sin(2x) + 0.5 [x > 0.5]."""
    m = torch if isinstance(x, torch.Tensor) else np
    return m.sin(2 * x) + 0.5 * (x > 0.5)


def universal_approximation(*, widths: tuple[int, ...] = (1, 3, 10, 50), n: int = 200, steps: int = 1500,
                            seed: int = 0) -> UniversalFits:
    """Train Linear(1, width) -> sigmoid -> Linear(width, 1) on the target with Adam (full batch, MSE)."""
    x = torch.linspace(-3, 3, n, dtype=torch.float32)[:, None]
    target = ua_target(x)
    if not isinstance(target, torch.Tensor):
        target = torch.as_tensor(target)
    target = target.float()
    fits, errors = {}, {}
    for width in widths:
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(1, width), torch.nn.Sigmoid(), torch.nn.Linear(width, 1))
        with torch.no_grad():  # spread the sigmoids' centres over the interval so every width starts sensibly
            net[0].weight.mul_(4.0)
            net[0].bias.copy_(-net[0].weight[:, 0] * torch.linspace(-2.5, 2.5, width))
        optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
        for _ in range(steps):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(net(x), target)
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            out = net(x)
            fits[width] = out[:, 0].double().numpy()
            errors[width] = float(torch.nn.functional.mse_loss(out, target))
    return UniversalFits(x=x[:, 0].double().numpy(), target=target[:, 0].double().numpy(), fits=fits, errors=errors)
