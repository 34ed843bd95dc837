"""A short verdict on a GradientLog: per-layer slope, first/last ratio, vanishing/exploding/healthy.

Pure numpy on the record, so rendering and the CLI can both use it without torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradviz.records import GradientLog

__all__ = ["Diagnosis", "diagnose", "depth_profile"]

VANISHING, EXPLODING = 1e-2, 1e2  # first/last ratios of the backward signal beyond which we say so


def depth_profile(log: GradientLog, quantity: str = "signal", *, step: int | None = None) -> np.ndarray:
    """Per-layer norms at `step` (default: the geometric mean over the finite steps), in depth order."""
    matrix = log.matrix(quantity)
    if matrix.size == 0:
        return np.zeros(len(log.names))
    if step is not None:
        return matrix[:, step]
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(np.where(matrix > 0, matrix, np.nan))
        finite = np.isfinite(logs)
        counts = finite.sum(axis=1)
        means = np.where(counts > 0, np.nansum(np.where(finite, logs, 0.0), axis=1) / np.maximum(counts, 1), np.nan)
    return 10.0**means


@dataclass(frozen=True)
class Diagnosis:
    verdict: str  # "vanishing", "exploding", "healthy", "non-finite" or "no gradient"
    slope: float  # decades of signal per layer, towards the input (negative: shrinking)
    ratio: float  # backward signal at the first layer over the last
    nonfinite_steps: int
    first_nonfinite: int | None
    no_gradient: tuple[str, ...]
    theory: float | None = None  # expected per-layer factor, when known

    @property
    def text(self) -> str:
        parts = [f"{self.verdict}: signal first/last = {self.ratio:.2g}, "
                 f"{self.slope:+.2f} decades per layer"]
        if self.theory is not None:
            parts.append(f"(theory {np.log10(self.theory):+.2f})")
        if self.nonfinite_steps:
            parts.append(f"; non-finite from step {self.first_nonfinite} ({self.nonfinite_steps} steps)")
        if self.no_gradient:
            parts.append(f"; no gradient: {', '.join(self.no_gradient)}")
        return " ".join(parts)


def diagnose(log: GradientLog, *, step: int | None = None) -> Diagnosis:
    """Fit log10 of the backward signal against depth and name what it shows."""
    profile = depth_profile(log, "signal", step=step)
    nonfinite_any = np.zeros(len(log.steps), dtype=bool)
    for name in log.names:
        nonfinite_any |= log.nonfinite[name] > 0
    nonfinite_any |= ~np.isfinite(log.total_norm)
    if log.losses is not None:
        nonfinite_any |= ~np.isfinite(log.losses) & ~np.isnan(log.losses)
    first = int(np.flatnonzero(nonfinite_any)[0]) if nonfinite_any.any() else None
    no_grad = tuple(name for name in log.names if not log.has_gradient[name].any())
    usable = np.isfinite(profile) & (profile > 0)
    theory = log.meta.get("factor")
    if usable.sum() < 2:
        verdict = "non-finite" if first is not None else "no gradient"
        return Diagnosis(verdict, float("nan"), float("nan"), int(nonfinite_any.sum()), first, no_grad, theory)
    depth = np.arange(len(profile))[usable]
    values = np.log10(profile[usable])
    slope = float(-np.polyfit(depth, values, 1)[0])  # decades per layer, stepping from the output back to the input
    ratio = float(profile[usable][0] / profile[usable][-1])
    if first is not None and first < len(log.steps) // 2:
        verdict = "exploding"
    elif ratio < VANISHING:
        verdict = "vanishing"
    elif ratio > EXPLODING:
        verdict = "exploding"
    else:
        verdict = "healthy"
    return Diagnosis(verdict, slope, ratio, int(nonfinite_any.sum()), first, no_grad, theory)
