"""The numbers behind the universal-approximation figure: one-hidden-layer sigmoid nets of growing width,
and two-hidden-layer ones, fitted to a continuous target with a kink, over several seeds.

The theorem's measure is the uniform error, the largest |error| over the interval. A trained net's largest
error sits at the interval's ends (x = ±3, where few sigmoids reach), so the figure reports the largest
error inside [-2.5, 2.5] and says so; and since one seed can mislead (one run had three of four deep nets
stuck near a constant), every number is the median over seeds, with their range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import torch

__all__ = ["UniversalFits", "ua_target", "universal_approximation", "INNER"]

INNER = 2.5  # errors are measured on [-INNER, INNER], away from the interval's ends


@dataclass(frozen=True, eq=False)
class UniversalFits:
    """x: (n,) inputs, target: (n,), fits[width]: (n,) the first seed's trained one-hidden-layer net,
    errors[width]: its MSE. max_errors[width]: the median over seeds of the largest |error| inside
    [-inner, inner]; spread[width]: (min, max) of it over seeds; edge_errors[width]: the median largest
    |error| over the whole interval (the ends included). params[width]: parameter count. deep[width]:
    (params, median inner max |error|) of two hidden layers of that width; deep_spread the range."""

    x: np.ndarray
    target: np.ndarray
    fits: Mapping[int, np.ndarray]
    errors: Mapping[int, float]
    max_errors: Mapping[int, float] = field(default_factory=dict)
    params: Mapping[int, int] = field(default_factory=dict)
    deep: Mapping[int, tuple[int, float]] = field(default_factory=dict)
    spread: Mapping[int, tuple[float, float]] = field(default_factory=dict)
    deep_spread: Mapping[int, tuple[float, float]] = field(default_factory=dict)
    edge_errors: Mapping[int, float] = field(default_factory=dict)
    seeds: int = 1
    inner: float = INNER


def ua_target(x: np.ndarray | torch.Tensor) -> Any:
    """A continuous function with a kink (the theorem's class: continuous on a compact set):
    sin(2x) + 0.5 |x - 0.5|."""
    m = torch if isinstance(x, torch.Tensor) else np
    return m.sin(2 * x) + 0.5 * m.abs(x - 0.5)


def _fit(hidden: tuple[int, ...], x: torch.Tensor, target: torch.Tensor, steps: int, seed: int) -> torch.nn.Module:
    """Linear -> sigmoid (-> Linear -> sigmoid) -> Linear, trained with Adam (full batch, MSE)."""
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = []
    fan_in = 1
    for width in hidden:
        layers += [torch.nn.Linear(fan_in, width), torch.nn.Sigmoid()]
        fan_in = width
    net = torch.nn.Sequential(*layers, torch.nn.Linear(fan_in, 1))
    with torch.no_grad():  # spread the first sigmoids' centres over the interval so every width starts sensibly
        first = net[0]
        first.weight.mul_(4.0)
        first.bias.copy_(-first.weight[:, 0] * torch.linspace(-2.5, 2.5, hidden[0]))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(net(x), target).backward()
        optimizer.step()
    return net


def _errors(hidden: tuple[int, ...], x: torch.Tensor, target: torch.Tensor, inside: torch.Tensor, steps: int,
            seeds: list[int]) -> tuple[list[float], list[float], torch.Tensor, int]:
    """Inner and whole-interval max |error| per seed; the first seed's output; the parameter count."""
    inner, whole, first, count = [], [], None, 0
    for s in seeds:
        net = _fit(hidden, x, target, steps, s)
        with torch.no_grad():
            out = net(x)
        gap = (out - target).abs()[:, 0]
        inner.append(float(gap[inside].max()))
        whole.append(float(gap.max()))
        if first is None:
            first, count = out, sum(p.numel() for p in net.parameters())
    return inner, whole, first, count


def universal_approximation(*, widths: tuple[int, ...] = (1, 3, 10, 50), deep_widths: tuple[int, ...] = (2, 3, 5, 10),
                            n: int = 200, steps: int = 1500, seed: int = 0, seeds: int = 3,
                            inner: float = INNER) -> UniversalFits:
    """Train one-hidden-layer sigmoid nets of each width, and two-hidden-layer ones of each deep width, on
    the target over [-3, 3] (Adam, full batch, MSE), each with seeds seed, seed + 1, ..., seed + seeds - 1."""
    x = torch.linspace(-3, 3, n, dtype=torch.float32)[:, None]
    target = ua_target(x).float()
    inside = x[:, 0].abs() <= inner
    runs = list(range(seed, seed + seeds))
    out: dict[str, dict[int, Any]] = {k: {} for k in ("fits", "errors", "max", "params", "spread", "edge",
                                                      "deep", "deep_spread")}
    for width in widths:
        errors, whole, first, count = _errors((width,), x, target, inside, steps, runs)
        out["fits"][width] = first[:, 0].double().numpy()
        out["errors"][width] = float(torch.nn.functional.mse_loss(first, target))
        out["max"][width] = float(np.median(errors))
        out["spread"][width] = (min(errors), max(errors))
        out["edge"][width] = float(np.median(whole))
        out["params"][width] = count
    for width in deep_widths:
        errors, _whole, _first, count = _errors((width, width), x, target, inside, steps, runs)
        out["deep"][width] = (count, float(np.median(errors)))
        out["deep_spread"][width] = (min(errors), max(errors))
    return UniversalFits(x=x[:, 0].double().numpy(), target=target[:, 0].double().numpy(), fits=out["fits"],
                         errors=out["errors"], max_errors=out["max"], params=out["params"], deep=out["deep"],
                         spread=out["spread"], deep_spread=out["deep_spread"], edge_errors=out["edge"],
                         seeds=seeds, inner=inner)
