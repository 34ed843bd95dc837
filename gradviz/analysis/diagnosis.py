"""A short verdict on a GradientLog: per-layer slope, first/last ratio, vanishing/exploding/healthy.

The verdict is taken at one recorded step, by default the first: at initialization, before any update,
where the theory of vanishing and exploding gradients (a constant factor per layer) holds. Later steps
show what training did to the profile; diagnose(log, step=K) names them. Non-finite values anywhere in
the log are counted and reported whatever the step.

Pure numpy on the record, so rendering and the CLI can both use it without torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradviz.i18n import _
from gradviz.records import GradientLog
from gradviz.registry import InvalidArgument

__all__ = ["Diagnosis", "diagnose", "depth_profile", "step_index", "step_phrase", "PER_LAYER", "TOTAL", "RULE"]

# The verdict needs both a steady trend and a large total, so it means the same at every depth:
# - PER_LAYER: the fitted factor per layer (10**|slope|) beyond which the signal is said to shrink or grow
#   steadily. Theory (k * sqrt(E[f'^2]) per hop) gives 1 for ReLU/He and tanh/Xavier; measured at depth
#   10 and 20 (width 64, seeds 0-2) they give |slope| <= 0.02 and 0.03-0.05 decades (1.05x-1.12x, the
#   finite width and tanh's curvature), while ReLU with N(0, 1/n) (k = 1, theory 1/sqrt 2) gives -0.15 and
#   sigmoid/default -0.85. 1.2x (0.08 decades) lies between the factors meant to be flat and the first
#   that are not.
# - TOTAL: an order of magnitude between the first and the last layer: one learning rate no longer suits
#   both ends. A steady 1.2x per layer reaches it after about 13 layers; a shallow net needs a larger
#   factor per hop to get there (3.2x per hop with 3 layers).
# The old fixed 100x first/last alone called an 80x shrink over 10 layers (1.6x per layer) healthy.
# - EXTREME: a first/last ratio past a million is vanishing or exploding at any slope. A 2000-layer ReLU/He
#   net drifts by about 1.02x per layer, under PER_LAYER, yet ends 1e-20 first to last: at one learning
#   rate its first layer learns 1e20 times slower than its last, which no depth makes healthy.
PER_LAYER, TOTAL, EXTREME = 1.2, 10.0, 1e6
SLOPE = float(np.log10(PER_LAYER))  # 0.079 decades per layer
RULE = (f"vanishing/exploding: the signal shrinks/grows by over {PER_LAYER:g}x per layer towards the input "
        f"and by {TOTAL:g}x or more first to last, or by {EXTREME:.0e}x or more first to last at any slope")


def step_index(log: GradientLog, step: int | None = None) -> int:
    """The column of `log` holding training step `step` (default: the first recorded step)."""
    if len(log.steps) == 0:
        raise InvalidArgument("the gradient log holds no steps")
    if step is None:
        return 0
    found = np.flatnonzero(log.steps == step)
    if found.size == 0:
        shown = ", ".join(str(s) for s in log.steps[:6]) + (", ..." if len(log.steps) > 6 else "")
        raise InvalidArgument(f"step {step} is not recorded (recorded steps: {shown}; last {int(log.steps[-1])})")
    return int(found[0])


def step_phrase(log: GradientLog, step: int | None = None) -> str:
    """'at initialization (step 0)' or 'at step K': where a profile or verdict was taken."""
    value = int(log.steps[step_index(log, step)])
    return _("at initialization (step 0)") if value == 0 else _("at step {step}").format(step=value)


def depth_profile(log: GradientLog, quantity: str = "signal", *, step: int | None = None) -> np.ndarray:
    """Per-layer norms at training step `step` (default: the first recorded, the initialization), in depth
    order."""
    matrix = log.matrix(quantity)
    if matrix.size == 0:
        return np.full(len(log.names), np.nan)
    return matrix[:, step_index(log, step)]


@dataclass(frozen=True)
class Diagnosis:
    verdict: str  # "vanishing", "exploding", "healthy", "one layer", "two layers", "non-finite" or "no gradient"
    slope: float  # decades of signal per layer, towards the input (negative: shrinking); NaN for one layer
    ratio: float  # backward signal at the first layer over the last
    nonfinite_steps: int
    first_nonfinite: int | None
    no_gradient: tuple[str, ...]
    theory: float | None = None  # expected per-layer factor, when known
    step: int = 0  # the training step the verdict is taken at
    layers: int = 0  # layers with a finite, positive signal at that step

    @property
    def where(self) -> str:
        return _("at initialization (step 0)") if self.step == 0 else _("at step {step}").format(step=self.step)

    @property
    def text(self) -> str:
        if self.verdict == "two layers":
            parts = [f"two layers {self.where}: signal first/last = {self.ratio:.2g} over one hop, too few "
                     "layers for a trend"]
        elif self.layers >= 2:
            parts = [f"{self.verdict} {self.where}: signal first/last = {self.ratio:.2g}, "
                     f"{self.slope:+.2f} decades per layer"]
            if self.theory is not None:  # the theory holds at initialization, and is said so elsewhere
                when = "" if self.step == 0 else ", for the initialization"
                parts.append(f"(theory {np.log10(self.theory):+.2f}{when})")
        elif self.verdict == "one layer":
            parts = [f"one layer {self.where}: too few layers to fit a slope"]
        else:
            parts = [f"{self.verdict} {self.where}"]
        text = " ".join(parts)
        if self.nonfinite_steps:
            text += f"; non-finite from step {self.first_nonfinite} ({self.nonfinite_steps} recorded steps)"
        if self.no_gradient:
            text += f"; no gradient: {', '.join(self.no_gradient)}"
        return text


def diagnose(log: GradientLog, *, step: int | None = None) -> Diagnosis:
    """Fit log10 of the backward signal against depth at `step` (default: initialization) and name it.

    vanishing: the fitted slope shrinks the signal by more than PER_LAYER (1.2x) per layer towards the
    input AND the first layer's signal is at most 1/TOTAL (1/10) of the last's; exploding: the same,
    growing. Both, so that the verdict means the same at depth 3 and depth 30: a small steady factor over
    many layers, or one large hop, is not called a trend. A first/last ratio past EXTREME (1e6) either way
    is vanishing or exploding at any slope (a 2000-layer net that ends 1e-20 first to last). A net of two layers (one hop) gets "two layers".
    """
    column = step_index(log, step)
    at = int(log.steps[column])
    profile = depth_profile(log, "signal", step=at)
    nonfinite_any = np.zeros(len(log.steps), dtype=bool)
    for name in log.names:
        nonfinite_any |= log.nonfinite[name] > 0
    nonfinite_any |= ~np.isfinite(log.total_norm)
    if log.losses is not None:
        nonfinite_any |= ~np.isfinite(log.losses) & ~np.isnan(log.losses)
    first = int(log.steps[np.flatnonzero(nonfinite_any)[0]]) if nonfinite_any.any() else None
    no_grad = tuple(name for name in log.names if not log.has_gradient[name].any())
    usable = np.isfinite(profile) & (profile > 0)
    theory = log.meta.get("factor")
    count = int(usable.sum())
    common = dict(nonfinite_steps=int(nonfinite_any.sum()), first_nonfinite=first, no_gradient=no_grad,
                  theory=theory, step=at, layers=count)
    if count < 2:
        if count == 1 and len(log.names) == 1:
            verdict = "one layer"
        elif nonfinite_any[column] or np.isinf(profile).any():
            verdict = "non-finite"
        else:
            verdict = "no gradient"
        return Diagnosis(verdict, float("nan"), float("nan"), **common)
    depth = np.arange(len(profile))[usable]
    values = np.log10(profile[usable])
    slope = float(-np.polyfit(depth, values, 1)[0])  # decades per layer, stepping from the output back to the input
    ratio = float(profile[usable][0] / profile[usable][-1])
    if nonfinite_any[column]:
        verdict = "exploding"
    elif count == 2 and len(log.names) == 2:  # one hop: a factor, not yet a trend through depth
        verdict = "two layers"
    elif (slope < -SLOPE and ratio <= 1 / TOTAL) or ratio <= 1 / EXTREME:
        verdict = "vanishing"
    elif (slope > SLOPE and ratio >= TOTAL) or ratio >= EXTREME:
        verdict = "exploding"
    else:
        verdict = "healthy"
    return Diagnosis(verdict, slope, ratio, **common)
