"""Analytic 2-D test functions for optimizers, and the `FUNCTIONS` registry.

Each function is written once, as an expression in x, y and a math namespace, so the same formula runs on
torch tensors (for tracing, with autograd) and on numpy arrays (for drawing contours without torch).
A `TestFunction` is called on an array of shape (..., 2) and returns shape (...): one call evaluates a
whole grid or a batch of points. Definitions, domains and minima follow the SFU Virtual Library of
Simulation Experiments and Wikipedia's "Test functions for optimization" (see shared/reference).
torch is imported only when a tensor is passed, so listing the registry stays fast.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from gradviz.records import Surface
from gradviz.registry import InvalidArgument, Registry

__all__ = ["TestFunction", "FUNCTIONS"]

Domain = tuple[tuple[float, float], tuple[float, float]]


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "torch"


@dataclass(frozen=True, eq=False)
class TestFunction:
    """A scalar function of two variables with what it takes to plot and check it.

    expr(x, y, m) computes f from the coordinates with m = torch or numpy; `call`, for a user's own torch
    callable, replaces it (and then numpy input is converted through torch). `minima` may be empty (the
    saddles have none) and `f_min` is None where f is unbounded below. `log_scale` asks for log colours of
    f - f_min, which Rosenbrock, Beale and Goldstein-Price need to be readable. `lr_scale` multiplies the
    registry's default learning rate (tuned on Rosenbrock) per optimizer family, "gradient" (sgd, momentum,
    nesterov: step = lr * gradient) or "adaptive" (step ~ lr), so that the default animation of this
    function is readable too; examples/tune_learning_rates.py finds them.
    """

    __test__ = False  # not a pytest test class, despite the name

    name: str
    expr: Callable[[Any, Any, Any], Any] | None
    domain: Domain | None
    minima: tuple[tuple[float, float], ...] = ()
    f_min: float | None = None
    start: tuple[float, float] | None = None
    log_scale: bool = False
    formula: str = ""
    showcase: bool = False
    lr_scale: Mapping[str, float] = field(default_factory=dict)
    call: Callable[[Any], Any] | None = field(default=None, repr=False)

    def __call__(self, xy: Any) -> Any:
        if self.call is not None:
            if _is_tensor(xy):
                return self.call(xy)
            import torch  # a user's callable only speaks torch

            with torch.no_grad():
                return self.call(torch.as_tensor(np.asarray(xy, dtype=float))).cpu().numpy()
        if _is_tensor(xy):
            math_ns = sys.modules["torch"]
        else:
            xy = np.asarray(xy, dtype=float)
            math_ns = np
        if xy.shape[-1] != 2:
            raise InvalidArgument(f"{self.name} takes points of shape (..., 2), got shape {tuple(xy.shape)}")
        return self.expr(xy[..., 0], xy[..., 1], math_ns)

    def surface(self, domain: Domain | None = None, *, resolution: int = 300) -> Surface:
        """f sampled on a resolution x resolution grid over `domain` (default: the function's own)."""
        (x0, x1), (y0, y1) = domain or self.domain
        x = np.linspace(x0, x1, resolution)
        y = np.linspace(y0, y1, resolution)
        grid = np.stack(np.meshgrid(x, y), axis=-1)
        z = np.asarray(self(grid), dtype=float)
        floor = self.f_min if self.f_min is not None else None
        log_scale = self.log_scale
        if self.call is not None and floor is None:
            # A user's function: log colours when it is positive over many decades.
            finite = z[np.isfinite(z)]
            if finite.size and finite.min() > 0 and finite.max() / finite.min() > 1e3:
                log_scale, floor = True, 0.0
        return Surface(x, y, z, name=self.name, log_scale=log_scale, floor=floor,
                       minima=np.array(self.minima, dtype=float).reshape(-1, 2))



FUNCTIONS: Registry = Registry("function")
ANONYMOUS = "f(x, y)"  # the name (and title) of a callable without a real name, such as a lambda


def _add(name: str, expr: Callable[[Any, Any, Any], Any], **kwargs: Any) -> None:
    FUNCTIONS.register(name, TestFunction(name=name, expr=expr, **kwargs))


PI, E = math.pi, math.e

_add("rosenbrock", lambda x, y, m: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
     formula="(1-x)^2 + 100 (y-x^2)^2", domain=((-2.0, 2.0), (-1.0, 3.0)),
     minima=((1.0, 1.0),), f_min=0.0, start=(-1.5, 2.0), log_scale=True, showcase=True)
_add("beale", lambda x, y, m: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
     formula="(1.5-x+xy)^2 + (2.25-x+xy^2)^2 + (2.625-x+xy^3)^2", domain=((-4.5, 4.5), (-4.5, 4.5)),
     minima=((3.0, 0.5),), f_min=0.0, start=(1.0, 1.5), log_scale=True, showcase=True,
     lr_scale={"gradient": 2.154435, "adaptive": 2.154435})
_add("himmelblau", lambda x, y, m: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
     formula="(x^2+y-11)^2 + (x+y^2-7)^2", domain=((-5.0, 5.0), (-5.0, 5.0)),
     minima=((3.0, 2.0), (-2.80511809, 3.13131252), (-3.77931025, -3.28318599), (3.58442834, -1.84812653)),
     f_min=0.0, start=(-0.3, -0.3), log_scale=True, showcase=True,
     lr_scale={"gradient": 4.641589, "adaptive": 4.641589})
_add("rastrigin", lambda x, y, m: 20 + (x**2 - 10 * m.cos(2 * PI * x)) + (y**2 - 10 * m.cos(2 * PI * y)),
     formula="20 + sum(x_i^2 - 10 cos(2 pi x_i))", domain=((-5.12, 5.12), (-5.12, 5.12)),
     minima=((0.0, 0.0),), f_min=0.0, start=(-4.3, 4.1), showcase=True,
     # gradient 0.464159 (sgd lr 4.6e-4), not the tuner's 0.021544: from 0.021544 up, momentum and Nesterov
     # reach the nearest local minimum (-3.98, 3.98) at every scale, a tie the tuner breaks towards the
     # smallest, where plain SGD (lr 2.2e-5) had moved 0.25 and not arrived after 200 steps. At 0.464159
     # SGD arrives in about 20 steps and all three stop in that minimum; lr 4.6e-4 is well under 2/397 = 5e-3,
     # the stability limit in a basin of curvature 2 + 40 pi^2 = 397.
     lr_scale={"gradient": 0.464159, "adaptive": 1.0})
_add("ackley", lambda x, y, m: (-20 * m.exp(-0.2 * m.sqrt(0.5 * (x**2 + y**2) + 1e-30))
                                - m.exp(0.5 * (m.cos(2 * PI * x) + m.cos(2 * PI * y))) + E + 20),
     formula="-20 exp(-0.2 sqrt(0.5 (x^2+y^2))) - exp(0.5 (cos 2pi x + cos 2pi y)) + e + 20",
     domain=((-5.0, 5.0), (-5.0, 5.0)), minima=((0.0, 0.0),), f_min=0.0, start=(3.6, -3.2), showcase=True,
     lr_scale={"gradient": 0.464159, "adaptive": 1.0})
_add("booth", lambda x, y, m: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2,
     formula="(x+2y-7)^2 + (2x+y-5)^2", domain=((-10.0, 10.0), (-10.0, 10.0)),
     minima=((1.0, 3.0),), f_min=0.0, start=(-8.0, -6.0), log_scale=True,
     lr_scale={"gradient": 10.0, "adaptive": 21.544347})
_add("goldstein-price",
     lambda x, y, m: ((1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2))
                      * (30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2))),
     formula="[1+(x+y+1)^2 (19-14x+3x^2-14y+6xy+3y^2)] [30+(2x-3y)^2 (18-32x+12x^2+48y-36xy+27y^2)]",
     domain=((-2.0, 2.0), (-2.0, 2.0)), minima=((0.0, -1.0),), f_min=3.0, start=(-0.5, 0.5), log_scale=True,
     showcase=True,
     lr_scale={"gradient": 0.003, "adaptive": 1.0})
_add("matyas", lambda x, y, m: 0.26 * (x**2 + y**2) - 0.48 * x * y,
     formula="0.26 (x^2+y^2) - 0.48 xy", domain=((-10.0, 10.0), (-10.0, 10.0)),
     minima=((0.0, 0.0),), f_min=0.0, start=(-8.0, -4.0), log_scale=True,
     lr_scale={"gradient": 464.158883, "adaptive": 10.0})
_add("levi-n13", lambda x, y, m: (m.sin(3 * PI * x) ** 2 + (x - 1) ** 2 * (1 + m.sin(3 * PI * y) ** 2)
                                  + (y - 1) ** 2 * (1 + m.sin(2 * PI * y) ** 2)),
     formula="sin^2(3 pi x) + (x-1)^2 (1+sin^2(3 pi y)) + (y-1)^2 (1+sin^2(2 pi y))",
     domain=((-4.0, 6.0), (-4.0, 6.0)), minima=((1.0, 1.0),), f_min=0.0, start=(-3.0, 4.5), log_scale=True,
     lr_scale={"gradient": 1.0, "adaptive": 4.641589})
_add("six-hump-camel", lambda x, y, m: (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2,
     formula="(4-2.1x^2+x^4/3) x^2 + xy + (-4+4y^2) y^2", domain=((-2.0, 2.0), (-1.2, 1.2)),
     minima=((0.08984201, -0.71265640), (-0.08984201, 0.71265640)), f_min=-1.03162845, start=(-1.6, -0.2),
     log_scale=True, showcase=True,
     lr_scale={"gradient": 10.0, "adaptive": 0.464159})
_add("three-hump-camel", lambda x, y, m: 2 * x**2 - 1.05 * x**4 + x**6 / 6 + x * y + y**2,
     formula="2x^2 - 1.05x^4 + x^6/6 + xy + y^2", domain=((-3.0, 3.0), (-3.0, 3.0)),
     minima=((0.0, 0.0),), f_min=0.0, start=(-2.6, 2.4), log_scale=True,
     lr_scale={"gradient": 10.0, "adaptive": 4.641589})
_add("easom", lambda x, y, m: -m.cos(x) * m.cos(y) * m.exp(-((x - PI) ** 2) - (y - PI) ** 2),
     formula="-cos x cos y exp(-(x-pi)^2 - (y-pi)^2)", domain=((0.0, 6.0), (0.0, 6.0)),
     minima=((PI, PI),), f_min=-1.0, start=(2.0, 4.2),
     lr_scale={"gradient": 46.415888, "adaptive": 1.0})
_add("mccormick", lambda x, y, m: m.sin(x + y) + (x - y) ** 2 - 1.5 * x + 2.5 * y + 1,
     formula="sin(x+y) + (x-y)^2 - 1.5x + 2.5y + 1", domain=((-1.5, 4.0), (-3.0, 4.0)),
     minima=((0.5 - PI / 3, -0.5 - PI / 3),), f_min=-math.sqrt(3) / 2 - PI / 3, start=(3.5, 3.5), log_scale=True,
     lr_scale={"gradient": 4.641589, "adaptive": 0.464159})
_add("styblinski-tang", lambda x, y, m: 0.5 * ((x**4 - 16 * x**2 + 5 * x) + (y**4 - 16 * y**2 + 5 * y)),
     formula="0.5 sum(x_i^4 - 16 x_i^2 + 5 x_i)", domain=((-5.0, 5.0), (-5.0, 5.0)),
     minima=((-2.90353403, -2.90353403),), f_min=-78.33233141, start=(0.3, 4.6), log_scale=True,
     lr_scale={"gradient": 10.0, "adaptive": 4.641589})
_add("saddle", lambda x, y, m: x**2 - y**2,
     formula="x^2 - y^2", domain=((-2.0, 2.0), (-2.0, 2.0)), start=(-1.8, 0.01), showcase=True,
     lr_scale={"gradient": 50.0, "adaptive": 0.3})
_add("monkey-saddle", lambda x, y, m: x**3 - 3 * x * y**2,
     formula="x^3 - 3xy^2", domain=((-2.0, 2.0), (-2.0, 2.0)), start=(1.5, 0.05),
     lr_scale={"gradient": 50.0, "adaptive": 0.3})


def parse_domain(text: str) -> Domain:
    """'X0:X1,Y0:Y1' -> ((x0, x1), (y0, y1)), each range increasing and finite."""
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        bounds = [tuple(float(v) for v in part.split(":")) for part in parts]
        if any(len(b) != 2 for b in bounds):
            raise ValueError
    except ValueError:
        raise InvalidArgument(f"invalid domain {text!r} (expected X0:X1,Y0:Y1, e.g. -2:2,-1:3)") from None
    for (lo, hi) in bounds:
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise InvalidArgument(f"invalid domain {text!r}: each range needs finite lo < hi")
    from gradviz.limits import LIMITS

    most = LIMITS["window"]
    if max(abs(v) for b in bounds for v in b) > most.most:
        # the window's fault, not f's: 1e308 - (-1e308) is inf, and f of 1e200 overflows
        raise InvalidArgument(f"invalid domain {text!r}: every bound within +-{most.most:.0e} ({most.why})")
    return bounds[0], bounds[1]  # type: ignore[return-value]


def domain_around(points: Sequence[np.ndarray], *, margin: float = 0.15) -> Domain:
    """A plot window that holds all finite points, padded by `margin` of its span on each side."""
    stacked = np.concatenate([np.asarray(p, dtype=float).reshape(-1, 2) for p in points])
    stacked = stacked[np.isfinite(stacked).all(axis=1)]
    if stacked.size == 0:
        return (-1.0, 1.0), (-1.0, 1.0)
    lo, hi = stacked.min(axis=0), stacked.max(axis=0)
    span = np.maximum(hi - lo, 1e-3 * np.maximum(1.0, np.abs(hi)))
    lo, hi = lo - margin * span, hi + margin * span
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))
