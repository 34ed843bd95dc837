"""Upper bounds on the sizes a user can ask for, each with the reason a message gives.

Every count the CLI takes has a floor (1, or what the method needs) and a ceiling here, so a typo of a
few zeros answers at once with the bound and why, instead of running for an hour, filling memory or
crashing the interpreter. The ceilings come from time and memory measured on a 2-core CPU (a traced
step of one optimizer is about 1 ms; a training step of the small nets about 10-100 ms at their ceilings)
and from the picture (no more cells or frames than it can show). Nothing here imports torch.
"""

from __future__ import annotations

from typing import NamedTuple

from gradviz.registry import InvalidArgument

__all__ = ["Limit", "LIMITS", "check_at_most"]


class Limit(NamedTuple):
    most: float
    why: str


LIMITS: dict[str, Limit] = {
    "trace-steps": Limit(100_000, "a traced step takes about 1 ms per optimizer: 100000 is minutes already"),
    "evaluations": Limit(100_000, "an evaluation takes about 1 ms: 100000 is minutes already"),
    "train-steps": Limit(20_000, "a training step of the small nets takes 10-100 ms: 20000 is minutes already"),
    "frames": Limit(3_000, "a frame takes about 30 ms to draw and adds to the file: 3000 is minutes and a large file"),
    "n": Limit(100_000, "each step and each frame passes every point through the net: 100000 is seconds a step"),
    "hidden": Limit(4_096, "wider layers draw no differently on a 2-D data set, and cost time every step"),
    "hidden-layers": Limit(16, "a deeper MLP on 2-D points draws no differently and trains slower"),
    "depth": Limit(2_000, "a 2000-layer net already takes about 2 minutes; far deeper ones crash the backward pass"),
    "width": Limit(4_096, "a layer of width w holds w^2 weights: 4096 is 16M per layer"),
    "parameters": Limit(50_000_000, "weights, gradients and the optimizer's state of 50M parameters fill GBs"),
    "batch-size": Limit(65_536, "a batch is drawn through the whole net each step: 65536 is GBs of activations"),
    "resolution": Limit(1_000, "a basin map of 1000 x 1000 starts is finer than the picture's pixels"),
    "seeds": Limit(100, "a bundle of 100 paths per optimizer is already a solid band"),
    "pixels": Limit(7_680, "8K is the largest frame a player shows; each frame is held in memory"),
}


def check_at_most(name: str, value: float, limit: str, *, shown: str | None = None) -> float:
    """InvalidArgument naming `value`, the bound and its reason when `value` is past LIMITS[limit]."""
    bound = LIMITS[limit]
    if value > bound.most:
        raise InvalidArgument(f"invalid {name}: {shown or value} (at most {bound.most:,.0f}: {bound.why})")
    return value
