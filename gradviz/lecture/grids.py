"""Grids of settings to compare over: learning-rate lists and log ranges, start points, tuning objectives.

Everything here is parsing and numpy, no torch, so the CLI can check `--lr 1e-4:1e-1:7`,
`--starts grid:20x20` or `--objective auc` and fail in a line before torch is imported. An objective
scores one path from its losses (f - f* where f* is known) so that tuning can name what it minimised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from gradviz.i18n import N_
from gradviz.registry import InvalidArgument, Registry

__all__ = ["parse_lrs", "log_grid", "default_grid", "DEFAULT_GRID_NOTE", "StartSet", "parse_starts", "Objective",
           "OBJECTIVES", "get_objective"]


def _number(text: str, what: str, whole: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidArgument(f"invalid {what} {text.strip()!r} in {whole!r} (expected a number)") from None
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgument(f"invalid {what} {text.strip()!r} in {whole!r} (must be a finite number > 0)")
    return value


def log_grid(low: float, high: float, count: int) -> tuple[float, ...]:
    """count rates spaced evenly in log from low to high, each rounded to 3 significant digits."""
    if count < 2 or not (0 < low < high):
        raise InvalidArgument(f"invalid log grid {low:g}:{high:g}:{count} (need 0 < low < high and count >= 2)")
    return tuple(float(f"{v:.3g}") for v in np.geomspace(low, high, count))


def parse_lrs(text: str | float | Sequence[float], *, minimum: int = 1) -> tuple[float, ...]:
    """'1e-4,1e-3,1e-2' or a log range 'LOW:HIGH:COUNT' ('1e-4:1e-1:7') -> learning rates, increasing.

    minimum: how many distinct rates are needed (a tuning grid needs 2).
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        rates: tuple[float, ...] = (_number(str(text), "learning rate", str(text)),)
    elif isinstance(text, str):
        whole = text.strip()
        if not whole:
            raise InvalidArgument("invalid learning rates '': give a list like 1e-3,1e-2 or a range like "
                                  "1e-4:1e-1:7")
        if ":" in whole:
            parts = whole.split(":")
            if len(parts) != 3 or "," in whole:
                raise InvalidArgument(f"invalid learning-rate range {whole!r} "
                                      "(expected LOW:HIGH:COUNT, e.g. 1e-4:1e-1:7)")
            low, high = (_number(p, "learning rate", whole) for p in parts[:2])
            try:
                count = int(parts[2])
            except ValueError:
                raise InvalidArgument(f"invalid count {parts[2]!r} in {whole!r} "
                                      "(expected a whole number >= 2)") from None
            if count < 2 or count > 200 or not low < high:
                raise InvalidArgument(f"invalid learning-rate range {whole!r} (need LOW < HIGH and 2 <= COUNT <= 200)")
            rates = log_grid(low, high, count)
        else:
            items = whole.split(",")
            if any(not item.strip() for item in items):
                raise InvalidArgument(f"invalid learning-rate list {whole!r} (an empty item; expected e.g. 1e-3,1e-2)")
            rates = tuple(_number(item, "learning rate", whole) for item in items)
            twice = sorted({rate for rate in rates if rates.count(rate) > 1})
            if twice:
                raise InvalidArgument(f"learning rate {twice[0]:g} is given twice in {whole!r}: give each rate once")
            if len(rates) > 200:
                raise InvalidArgument(f"invalid learning-rate list: {len(rates)} rates (at most 200, as in a range)")
    else:
        try:
            rates = tuple(_number(str(float(v)), "learning rate", str(list(text))) for v in text)
        except (TypeError, ValueError):
            raise InvalidArgument(f"invalid learning rates {text!r}") from None
    rates = tuple(sorted(set(rates)))
    if len(rates) < minimum:
        raise InvalidArgument(f"invalid learning-rate grid {text!r}: {len(rates)} distinct value"
                              f"{'s' if len(rates) != 1 else ''}, need at least {minimum}")
    return rates


@dataclass(frozen=True)
class StartSet:
    """Start points to draw from a window: a kind ('grid' or 'random') and its size."""

    kind: str
    shape: tuple[int, int]

    @property
    def count(self) -> int:
        return self.shape[0] * self.shape[1]

    def points(self, domain: tuple[tuple[float, float], tuple[float, float]], *, seed: int = 0,
               margin: float = 0.0) -> np.ndarray:
        """(count, 2) starts in `domain` (shrunk by `margin` of its span on each side). A grid's points are
        the cell centres, row by row from the bottom (y) and left (x); random ones are uniform, seeded."""
        (x0, x1), (y0, y1) = domain
        dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
        x0, x1, y0, y1 = x0 + dx, x1 - dx, y0 + dy, y1 - dy
        if self.kind == "grid":
            nx, ny = self.shape
            x = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
            y = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
            return np.stack(np.meshgrid(x, y), axis=-1).reshape(-1, 2)
        rng = np.random.default_rng(seed)
        return np.column_stack([rng.uniform(x0, x1, self.count), rng.uniform(y0, y1, self.count)])


_MAX_STARTS = 250_000


def parse_starts(text: str) -> StartSet:
    """'grid:20x20' (or 'grid:20' for 20x20) or 'random:100' -> StartSet."""
    kind, sep, size = str(text).strip().lower().partition(":")
    valid = "expected grid:NXxNY, grid:N or random:N, e.g. grid:20x20"
    if not sep or kind not in ("grid", "random"):
        raise InvalidArgument(f"invalid starts {text!r} ({valid})")
    try:
        numbers = [int(part) for part in size.split("x")]
    except ValueError:
        raise InvalidArgument(f"invalid starts {text!r} ({valid})") from None
    if kind == "random" and len(numbers) != 1 or len(numbers) not in (1, 2):
        raise InvalidArgument(f"invalid starts {text!r} ({valid})")
    if min(numbers) <= 0:
        what = "a number of random starts" if kind == "random" else "grid sizes"
        raise InvalidArgument(f"invalid starts {text!r}: {what} must be whole numbers >= 1")
    shape = (numbers[0], 1) if kind == "random" else (numbers[0], numbers[-1])
    start_set = StartSet(kind, shape)
    if start_set.count > _MAX_STARTS:
        raise InvalidArgument(f"invalid starts {text!r}: {start_set.count} points (at most {_MAX_STARTS})")
    return start_set


@dataclass(frozen=True)
class Objective:
    """A score of one run to minimise, from its per-step gaps f - f* (or f where f* is unknown).

    A run that diverged scores +inf, so it never wins a tuning.
    """

    name: str
    summary: str
    score: Callable[[np.ndarray, float], float]
    short: str = ""  # for a figure's note: 'final f - f*'


def _final(gaps: np.ndarray, tol: float) -> float:
    return float(gaps[-1])


def _auc(gaps: np.ndarray, tol: float) -> float:
    # mean over steps of log10(f - f*), floored at 1e-16 so reaching the minimum exactly is finite
    return float(np.mean(np.log10(np.maximum(gaps, 1e-16))))


def _steps_to_tol(gaps: np.ndarray, tol: float) -> float:
    below = np.flatnonzero(gaps <= tol)
    return float(below[0]) if below.size else math.inf


OBJECTIVES: Registry = Registry("objective")
OBJECTIVES.register("final", Objective("final", N_("f - f* after the last step"), _final, N_("final f - f*")))
OBJECTIVES.register("auc", Objective("auc", N_("mean of log10(f - f*) over all steps (area under the log curve)"),
                                     _auc, N_("mean log10(f - f*) over the steps")))
OBJECTIVES.register("steps-to-tol", Objective("steps-to-tol", N_("steps until f - f* <= tol (inf if never)"),
                                              _steps_to_tol, N_("steps until f - f* <= tol")))


def default_grid(lr: float) -> tuple[float, ...]:
    """The tuning grid around a default rate: 7 log-spaced rates from lr/100 to 10 lr (3 digits)."""
    return tuple(float(f"{lr * 10**e:.3g}") for e in np.linspace(-2, 1, 7))


DEFAULT_GRID_NOTE = N_("7 log-spaced rates from 1/100x to 10x each default")


def get_objective(objective: Any) -> Objective:
    return objective if isinstance(objective, Objective) else OBJECTIVES.lookup(objective)
