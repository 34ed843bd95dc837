"""Direct (gradient-free) methods as torch.optim.Optimizer subclasses, driven only through the closure.

Each class never reads `.grad`: `step(closure)` moves the parameter to the points it wants to know,
calls `closure()` there (which returns f), and leaves the parameter at the point it keeps (the best
vertex, the base, the parent, the best sample or the annealer's current state). `step` returns f at that
point, so a caller needs no extra evaluation to know it. `geometry()` describes the method's state as
numpy arrays (simplex, stencil, population with mean and covariance, proposal) for drawing; it can be
called before the first step. Random methods draw from their own generator when given `seed`, else from
torch's global one (so `gradviz.trace(..., seed=s)` makes them repeatable).

A loop a user writes by hand is the plain closure loop:

    x = torch.tensor([-1.2, 1.0], dtype=torch.float64)
    opt = NelderMead([x])
    for _ in range(100):
        loss = opt.step(lambda: rosenbrock(x))

See shared/reference/direct-methods.md for the algorithms they follow.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import numpy as np
import torch

__all__ = ["DirectOptimizer", "NelderMead", "PatternSearch", "RandomSearch", "PureRandomSearch", "CMAES",
           "SimulatedAnnealing"]

Closure = Callable[[], torch.Tensor]


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


class DirectOptimizer(torch.optim.Optimizer):
    """What the direct methods share: one parameter tensor (the point), evaluations through the closure.

    The parameter is treated as a flat vector x of n numbers (a (2,) point for gradviz's functions).
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any], seed: int | None = None) -> None:
        super().__init__(params, defaults)
        tensors = [p for group in self.param_groups for p in group["params"]]
        _check(len(tensors) == 1, f"Invalid params: a direct method optimizes one tensor, got {len(tensors)}")
        self.x = tensors[0]
        _check(seed is None or (isinstance(seed, int) and not isinstance(seed, bool)), f"Invalid seed: {seed!r}")
        self.generator = None if seed is None else torch.Generator().manual_seed(seed)
        self.start = self.x.detach().reshape(-1).clone()
        self.n = self.start.numel()
        self.best_loss: float | None = None  # f at the point the parameter holds, once known

    # -- helpers ---------------------------------------------------------------------------------------------

    def _randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=self.generator, dtype=self.start.dtype)

    def _rand(self, *shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=self.generator, dtype=self.start.dtype)

    def _move(self, point: torch.Tensor) -> None:
        with torch.no_grad():
            self.x.copy_(point.reshape(self.x.shape))

    def _f(self, closure: Closure, point: torch.Tensor | None = None) -> float:
        """f at `point` (at the parameter as it is, without moving it, when None)."""
        if point is not None:
            self._move(point)
        with torch.enable_grad():  # as torch.optim does: a closure may take gradients, direct methods ignore them
            value = closure()
        return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)

    def _leave(self, point: torch.Tensor, value: float) -> torch.Tensor:
        """Put the parameter at the kept point; -> its loss as a tensor (what step returns)."""
        self._move(point)
        self.best_loss = value
        return torch.tensor(value, dtype=self.start.dtype)

    def _point(self) -> torch.Tensor:
        return self.x.detach().reshape(-1).clone()

    def geometry(self) -> dict[str, np.ndarray]:
        """The method's state for drawing, as numpy arrays."""
        return {}


class NelderMead(DirectOptimizer):
    """Nelder-Mead simplex search (Nelder & Mead 1965), as Lagarias, Reeds, Wright & Wright (1998) state it.

    One step is one iteration on the ordered simplex f(x_1) <= ... <= f(x_{n+1}) with centroid xbar of
    the best n: reflect x_r = xbar + rho (xbar - x_{n+1}); accept it if f_1 <= f_r < f_n; if f_r < f_1
    expand x_e = xbar + chi (x_r - xbar) and keep x_e if f_e < f_r, else x_r; if f_n <= f_r < f_{n+1}
    contract outside x_c = xbar + gamma (x_r - xbar), kept if f_c <= f_r; if f_r >= f_{n+1} contract
    inside x_cc = xbar - gamma (xbar - x_{n+1}), kept if f_cc < f_{n+1}; a rejected contraction shrinks
    every vertex towards the best, x_i <- x_1 + sigma (x_i - x_1). Ties in the ordering keep the older
    vertex first (a stable sort, as the paper's rule does for the new vertex). The first step also
    evaluates the initial simplex. The parameter holds the best vertex.

    Args:
        initial_simplex: (n + 1, n) vertices; default: the start x0 and, per coordinate i, x0 with
            coordinate i scaled by 1 + nonzdelt (0.05), or set to zdelt (0.00025) where it is 0 (the rule of
            scipy.optimize and MATLAB's fminsearch).
        rho, chi, gamma, sigma: reflection 1, expansion 2, contraction 1/2, shrink 1/2.
    """

    def __init__(self, params: Iterable[Any], initial_simplex: Any = None, rho: float = 1.0, chi: float = 2.0,
                 gamma: float = 0.5, sigma: float = 0.5, nonzdelt: float = 0.05, zdelt: float = 0.00025) -> None:
        _check(rho > 0, f"Invalid reflection coefficient rho: {rho}")
        _check(chi > 1 and chi > rho, f"Invalid expansion coefficient chi: {chi} (must be > 1 and > rho)")
        _check(0 < gamma < 1, f"Invalid contraction coefficient gamma: {gamma}")
        _check(0 < sigma < 1, f"Invalid shrink coefficient sigma: {sigma}")
        _check(nonzdelt > 0 and zdelt > 0, f"Invalid initial simplex steps: {nonzdelt}, {zdelt}")
        super().__init__(params, dict(rho=rho, chi=chi, gamma=gamma, sigma=sigma))
        n, x0 = self.n, self.start
        if initial_simplex is None:
            simplex = x0.repeat(n + 1, 1)
            for i in range(n):
                simplex[i + 1, i] = (1 + nonzdelt) * x0[i] if x0[i] != 0 else zdelt
        else:
            try:
                simplex = torch.as_tensor(np.asarray(initial_simplex, dtype=float), dtype=x0.dtype)
            except (TypeError, ValueError):
                raise ValueError(f"Invalid initial_simplex: {initial_simplex!r}") from None
            _check(tuple(simplex.shape) == (n + 1, n),
                   f"Invalid initial_simplex of shape {tuple(simplex.shape)}: expected ({n + 1}, {n})")
            _check(bool(torch.isfinite(simplex).all()), f"Invalid initial_simplex: {initial_simplex!r} (not finite)")
        edges = simplex[1:] - simplex[0]
        size = float(edges.abs().max()) if edges.numel() else 0.0
        volume = abs(float(torch.linalg.det(edges))) if size > 0 else 0.0
        _check(size > 0 and volume > 1e-12 * size**n,
               f"Invalid initial_simplex: {simplex.tolist()} is degenerate (its vertices lie in a lower dimension)")
        self.simplex = simplex.clone()
        self.values: torch.Tensor | None = None

    def _order(self) -> None:
        order = torch.argsort(self.values, stable=True)
        self.simplex, self.values = self.simplex[order], self.values[order]

    @torch.no_grad()
    def step(self, closure: Closure) -> torch.Tensor:  # type: ignore[override]
        group = self.param_groups[0]
        rho, chi, gamma, sigma = group["rho"], group["chi"], group["gamma"], group["sigma"]
        if self.values is None:
            start_is_vertex = bool((self.simplex[0] == self._point()).all())
            values = [self._f(closure) if start_is_vertex else self._f(closure, self.simplex[0])]
            values += [self._f(closure, v) for v in self.simplex[1:]]
            self.values = torch.tensor(values, dtype=self.simplex.dtype)
            self._order()
        s, f = self.simplex, self.values
        best, worst = float(f[0]), float(f[-1])
        second_worst = float(f[-2])
        xbar = s[:-1].mean(dim=0)
        xr = xbar + rho * (xbar - s[-1])
        fr = self._f(closure, xr)
        new: tuple[torch.Tensor, float] | None = None
        if best <= fr < second_worst:
            new = (xr, fr)
        elif fr < best:
            xe = xbar + chi * (xr - xbar)
            fe = self._f(closure, xe)
            new = (xe, fe) if fe < fr else (xr, fr)
        elif fr < worst:
            xc = xbar + gamma * (xr - xbar)
            fc = self._f(closure, xc)
            new = (xc, fc) if fc <= fr else None
        else:
            xcc = xbar - gamma * (xbar - s[-1])
            fcc = self._f(closure, xcc)
            new = (xcc, fcc) if fcc < worst else None
        if new is not None:
            s[-1], f[-1] = new[0], new[1]
        else:
            for i in range(1, len(s)):
                s[i] = s[0] + sigma * (s[i] - s[0])
                f[i] = self._f(closure, s[i])
        self._order()
        return self._leave(self.simplex[0], float(self.values[0]))

    def geometry(self) -> dict[str, np.ndarray]:
        return {"simplex": self.simplex.detach().cpu().numpy().copy()}


class PatternSearch(DirectOptimizer):
    """Hooke-Jeeves pattern search (Hooke & Jeeves 1961, J. ACM 8(2)).

    Exploratory move around a point: for each coordinate try +delta, then -delta, keep an improvement.
    One step: after a successful step, first a pattern move from the base b_k to p = b_k + (b_k - b_{k-1})
    with an exploration around p, kept if it improves on f(b_k); otherwise (or without a pattern) an
    exploration around the base; no improvement halves delta (delta <- shrink * delta). The parameter holds
    the base. geometry: the stencil b +- delta e_i and delta.

    Args:
        step: the initial delta (default 0.5). shrink: the factor on failure (default 1/2).
    """

    def __init__(self, params: Iterable[Any], step: float = 0.5, shrink: float = 0.5) -> None:
        _check(isinstance(step, (int, float)) and math.isfinite(step) and step > 0, f"Invalid step: {step}")
        _check(0 < shrink < 1, f"Invalid shrink factor: {shrink} (must be in (0, 1))")
        super().__init__(params, dict(step=step, shrink=shrink))
        self.delta = float(step)
        self.previous: torch.Tensor | None = None

    def _explore(self, closure: Closure, point: torch.Tensor, value: float) -> tuple[torch.Tensor, float]:
        point = point.clone()
        for i in range(self.n):
            for sign in (1.0, -1.0):
                trial = point.clone()
                trial[i] += sign * self.delta
                f = self._f(closure, trial)
                if f < value:
                    point, value = trial, f
                    break
        return point, value

    @torch.no_grad()
    def step(self, closure: Closure) -> torch.Tensor:  # type: ignore[override]
        base = self._point()
        fb = self.best_loss if self.best_loss is not None else self._f(closure)
        if self.previous is not None:
            pattern = base + (base - self.previous)
            x, fx = self._explore(closure, pattern, self._f(closure, pattern))
            if fx < fb:
                self.previous = base
                return self._leave(x, fx)
        x, fx = self._explore(closure, base, fb)
        if fx < fb:
            self.previous = base
            return self._leave(x, fx)
        self.previous = None
        self.delta *= self.param_groups[0]["shrink"]
        return self._leave(base, fb)

    def geometry(self) -> dict[str, np.ndarray]:
        base = self._point()
        eye = torch.eye(self.n, dtype=base.dtype) * self.delta
        stencil = torch.cat([base + eye, base - eye])
        return {"stencil": stencil.cpu().numpy(), "step": np.array(self.delta)}


class RandomSearch(DirectOptimizer):
    """Local random search: the (1+1)-ES with the 1/5 success rule (Rechenberg 1973; Auger & Hansen).

    One step draws one offspring y = x + sigma N(0, I) and keeps it if f(y) <= f(x); the step size
    follows the success rule in its online form sigma <- sigma exp((success - 1/5) / d), d = sqrt(n + 1),
    so it grows while more than a fifth of the offspring succeed and shrinks otherwise.

    Args:
        sigma: the initial step size (default 0.5). seed: for the generator (None: torch's global one).
    """

    def __init__(self, params: Iterable[Any], sigma: float = 0.5, seed: int | None = None) -> None:
        _check(isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0, f"Invalid sigma: {sigma}")
        super().__init__(params, dict(sigma=sigma), seed=seed)
        self.sigma = float(sigma)
        self.proposal = self.start.clone().fill_(math.nan)

    @torch.no_grad()
    def step(self, closure: Closure) -> torch.Tensor:  # type: ignore[override]
        x = self._point()
        fx = self.best_loss if self.best_loss is not None else self._f(closure)
        y = x + self.sigma * self._randn(self.n)
        fy = self._f(closure, y)
        self.proposal = y
        success = fy <= fx
        self.sigma *= math.exp((float(success) - 0.2) / math.sqrt(self.n + 1))
        return self._leave(y, fy) if success else self._leave(x, fx)

    def geometry(self) -> dict[str, np.ndarray]:
        return {"proposal": self.proposal.cpu().numpy().copy(), "sigma": np.array(self.sigma)}


class PureRandomSearch(DirectOptimizer):
    """Pure random search (Brooks 1958): uniform samples over a box, keeping the best one seen.

    It ignores everything it learned, which is why it is here: to contrast with the methods that do not.

    Args:
        bounds: ((x0, x1), (y0, y1), ...) the box to sample (gradviz.trace passes the function's window).
        seed: for the generator (None: torch's global one).
    """

    def __init__(self, params: Iterable[Any], bounds: Any = None, seed: int | None = None) -> None:
        super().__init__(params, dict(bounds=bounds), seed=seed)
        try:
            box = torch.as_tensor(np.asarray(bounds, dtype=float), dtype=self.start.dtype)
        except (TypeError, ValueError):
            raise ValueError(f"Invalid bounds: {bounds!r} (expected one (low, high) pair per coordinate)") from None
        _check(tuple(box.shape) == (self.n, 2) and bool(torch.isfinite(box).all()) and bool((box[:, 1] > box[:, 0]).all()),
               f"Invalid bounds: {bounds!r} (expected one finite (low, high) pair with low < high per coordinate)")
        self.box = box
        self.proposal = self.start.clone().fill_(math.nan)

    @torch.no_grad()
    def step(self, closure: Closure) -> torch.Tensor:  # type: ignore[override]
        x = self._point()
        fx = self.best_loss if self.best_loss is not None else self._f(closure)
        y = self.box[:, 0] + (self.box[:, 1] - self.box[:, 0]) * self._rand(self.n)
        fy = self._f(closure, y)
        self.proposal = y
        return self._leave(y, fy) if fy < fx else self._leave(x, fx)

    def geometry(self) -> dict[str, np.ndarray]:
        return {"proposal": self.proposal.cpu().numpy().copy()}


class CMAES(DirectOptimizer):
    """CMA-ES (Hansen & Ostermeier 2001), with the defaults of Hansen's tutorial (arXiv:1604.00772).

    One step is one generation: lambda = 4 + floor(3 ln n) samples x_i = m + sigma B D z_i, z_i ~ N(0, I);
    the best mu = floor(lambda / 2) are recombined with log-linear positive weights
    w_i ~ ln((lambda + 1) / 2) - ln i (sum 1, mu_eff = 1 / sum w_i^2), m <- m + c_m sigma y_w (c_m = 1);
    cumulative step-size adaptation: p_sigma <- (1 - c_sigma) p_sigma + sqrt(c_sigma (2 - c_sigma) mu_eff)
    C^(-1/2) y_w, sigma <- sigma exp(c_sigma / d_sigma (|p_sigma| / E|N(0, I)| - 1)); rank-one and rank-mu
    covariance updates with p_c, h_sigma and c_1 = 2 / ((n + 1.3)^2 + mu_eff),
    c_mu = min(1 - c_1, 2 (mu_eff - 2 + 1/mu_eff) / ((n + 2)^2 + mu_eff)),
    c_sigma = (mu_eff + 2) / (n + mu_eff + 5), d_sigma = 1 + 2 max(0, sqrt((mu_eff - 1) / (n + 1)) - 1) + c_sigma,
    c_c = (4 + mu_eff / n) / (n + 4 + 2 mu_eff / n) (the tutorial's Table 1). The parameter holds the best
    sample seen. geometry: the generation's population, and the new mean and sigma^2 C.

    Args:
        sigma0: the initial step size (default 0.5; Hansen advises about a quarter of the search range, and
            gradviz.trace sets a quarter of the function's window when none is given).
        popsize: lambda (default 4 + floor(3 ln n), 6 in 2-D; at least 2).
        seed: for the generator (None: torch's global one).
    """

    def __init__(self, params: Iterable[Any], sigma0: float = 0.5, popsize: int | None = None,
                 seed: int | None = None) -> None:
        _check(isinstance(sigma0, (int, float)) and math.isfinite(sigma0) and sigma0 > 0, f"Invalid sigma0: {sigma0}")
        super().__init__(params, dict(sigma0=sigma0, popsize=popsize), seed=seed)
        n = self.n
        lam = 4 + int(math.floor(3 * math.log(n))) if popsize is None else popsize
        _check(isinstance(lam, int) and not isinstance(lam, bool) and lam >= 2,
               f"Invalid popsize: {popsize!r} (a population needs at least 2)")
        mu = lam // 2
        weights = torch.tensor([math.log((lam + 1) / 2) - math.log(i + 1) for i in range(mu)], dtype=self.start.dtype)
        weights = weights / weights.sum()
        mu_eff = float(1 / (weights**2).sum())
        self.lam, self.mu, self.weights, self.mu_eff = lam, mu, weights, mu_eff
        self.c_sigma = (mu_eff + 2) / (n + mu_eff + 5)
        self.d_sigma = 1 + 2 * max(0.0, math.sqrt((mu_eff - 1) / (n + 1)) - 1) + self.c_sigma
        self.c_c = (4 + mu_eff / n) / (n + 4 + 2 * mu_eff / n)
        self.c_1 = 2 / ((n + 1.3) ** 2 + mu_eff)
        self.c_mu = min(1 - self.c_1, 2 * (mu_eff - 2 + 1 / mu_eff) / ((n + 2) ** 2 + mu_eff))
        self.chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))
        dtype = self.start.dtype
        self.mean = self.start.clone()
        self.sigma = float(sigma0)
        self.C = torch.eye(n, dtype=dtype)
        self.p_sigma = torch.zeros(n, dtype=dtype)
        self.p_c = torch.zeros(n, dtype=dtype)
        self.generation = 0
        self.population = torch.full((lam, n), math.nan, dtype=dtype)
        self.best: tuple[torch.Tensor, float] | None = None

    @torch.no_grad()
    def step(self, closure: Closure) -> torch.Tensor:  # type: ignore[override]
        n, lam, mu, w = self.n, self.lam, self.mu, self.weights
        if self.best is None:
            self.best = (self._point(), self._f(closure))
        eigenvalues, B = torch.linalg.eigh(self.C)
        D = eigenvalues.clamp_min(1e-300).sqrt()
        z = self._randn(lam, n)
        y = (z * D) @ B.T  # y_i = B D z_i ~ N(0, C)
        population = self.mean + self.sigma * y
        values = torch.tensor([self._f(closure, x) for x in population], dtype=y.dtype)
        order = torch.argsort(values, stable=True)
        self.population = population
        if float(values[order[0]]) < self.best[1]:
            self.best = (population[order[0]].clone(), float(values[order[0]]))
        y_sel = y[order[:mu]]
        y_w = (w[:, None] * y_sel).sum(dim=0)
        self.mean = self.mean + self.sigma * y_w
        c_inv_sqrt = B @ torch.diag(1 / D) @ B.T
        cs, cc = self.c_sigma, self.c_c
        self.p_sigma = (1 - cs) * self.p_sigma + math.sqrt(cs * (2 - cs) * self.mu_eff) * (c_inv_sqrt @ y_w)
        self.generation += 1
        norm = float(torch.linalg.vector_norm(self.p_sigma))
        h_sigma = float(norm / math.sqrt(1 - (1 - cs) ** (2 * self.generation)) < (1.4 + 2 / (n + 1)) * self.chi_n)
        self.p_c = (1 - cc) * self.p_c + h_sigma * math.sqrt(cc * (2 - cc) * self.mu_eff) * y_w
        delta_h = (1 - h_sigma) * cc * (2 - cc)
        rank_mu = (w[:, None, None] * y_sel[:, :, None] * y_sel[:, None, :]).sum(dim=0)
        self.C = ((1 + self.c_1 * delta_h - self.c_1 - self.c_mu) * self.C
                  + self.c_1 * torch.outer(self.p_c, self.p_c) + self.c_mu * rank_mu)
        self.C = (self.C + self.C.T) / 2
        self.sigma *= math.exp(cs / self.d_sigma * (norm / self.chi_n - 1))
        return self._leave(*self.best)

    def geometry(self) -> dict[str, np.ndarray]:
        return {"population": self.population.cpu().numpy().copy(), "mean": self.mean.cpu().numpy().copy(),
                "covariance": (self.sigma**2 * self.C).cpu().numpy().copy()}


class SimulatedAnnealing(DirectOptimizer):
    """Simulated annealing (Kirkpatrick, Gelatt & Vecchi 1983) with geometric cooling and Gaussian proposals.

    One step proposes y = x + scale_k N(0, I) and accepts it with probability min(1, exp(-(f(y) - f(x)) / T_k));
    the temperature cools geometrically, T_k = T_0 cooling^k, and the proposal scale shrinks with it,
    scale_k = step sqrt(T_k / T_0), so the walk settles as it freezes. The parameter holds the current
    state (not the best seen): that is what the picture of annealing shows.

    Args:
        temperature: T_0 (default 10, in units of f). cooling: the factor per step, in (0, 1) (default 0.97).
        step: the initial proposal scale (default 0.5). seed: for the generator (None: torch's global one).
    """

    def __init__(self, params: Iterable[Any], temperature: float = 10.0, cooling: float = 0.97, step: float = 0.5,
                 seed: int | None = None) -> None:
        _check(isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0,
               f"Invalid temperature: {temperature}")
        _check(isinstance(cooling, (int, float)) and 0 < cooling < 1, f"Invalid cooling rate: {cooling} (must be in (0, 1))")
        _check(isinstance(step, (int, float)) and math.isfinite(step) and step > 0, f"Invalid step: {step}")
        super().__init__(params, dict(temperature=temperature, cooling=cooling, step=step), seed=seed)
        self.T0, self.T = float(temperature), float(temperature)
        self.scale = float(step)
        self.proposal = self.start.clone().fill_(math.nan)
        self.accepted = False

    @torch.no_grad()
    def step(self, closure: Closure) -> torch.Tensor:  # type: ignore[override]
        x = self._point()
        fx = self.best_loss if self.best_loss is not None else self._f(closure)
        group = self.param_groups[0]
        y = x + self.scale * self._randn(self.n)
        fy = self._f(closure, y)
        u = float(self._rand(1))
        self.proposal = y
        self.accepted = fy <= fx or (math.isfinite(fy) and u < math.exp(-(fy - fx) / self.T))
        self.T *= group["cooling"]
        self.scale = group["step"] * math.sqrt(self.T / self.T0)
        return self._leave(y, fy) if self.accepted else self._leave(x, fx)

    def geometry(self) -> dict[str, np.ndarray]:
        return {"proposal": self.proposal.cpu().numpy().copy(), "temperature": np.array(self.T),
                "accepted": np.array(float(self.accepted))}
