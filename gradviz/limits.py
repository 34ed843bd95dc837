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

__all__ = ["Limit", "LIMITS", "check_at_most", "check_count", "check_product", "check_memory", "MEMORY_LIMIT"]


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
    "window": Limit(1e6, "past 1e6 a test function's values overflow float64 and the contours say nothing"),
    "grid": Limit(401, "a 401 x 401 surface is 160,801 points, each a pass over the data, finer than the picture"),
    "traced-steps": Limit(100_000, "a traced step takes 1-2 ms per path: 100,000 in all is minutes already"),
    "start-steps": Limit(100_000_000, "a batched step takes about 2 us per start: 100M start-steps is minutes"),
}

# What one call may allocate at once (estimated before it allocates): past this a typo of a few zeros would
# swap or be killed rather than answer.
MEMORY_LIMIT = Limit(8 * 2**30, "more than 8 GiB at once would swap or be killed on most machines")


def check_at_most(name: str, value: float, limit: str, *, shown: str | None = None) -> float:
    """InvalidArgument naming `value`, the bound and its reason when `value` is past LIMITS[limit]."""
    bound = LIMITS[limit]
    if value > bound.most:
        raise InvalidArgument(f"invalid {name}: {shown or value} (at most {bound.most:,.0f}: {bound.why})")
    return value


def check_count(name: str, value: object, limit: str | None = None, *, least: int = 1) -> int:
    """A whole number from `least` to LIMITS[limit] (no ceiling without one): the library's and the CLI's
    one check of a count, InvalidArgument naming the value and the bound's reason otherwise."""
    if isinstance(value, bool) or not (isinstance(value, int) or hasattr(value, "__index__")
                                       or isinstance(value, float) and value.is_integer()):
        raise InvalidArgument(f"invalid {name}: {value!r} (must be a whole number >= {least})")
    number = int(value)  # type: ignore[call-overload]
    if number < least:
        raise InvalidArgument(f"invalid {name}: {value!r} (must be a whole number >= {least})")
    if limit is not None:
        check_at_most(name, number, limit)
    return number


def check_product(name: str, factors: dict[str, float], limit: str) -> float:
    """Each factor within its own bound, their product past LIMITS[limit]: InvalidArgument that shows the
    product ('resolution^2 x steps = 1000^2 x 100000 = ...') and the reason."""
    product = 1.0
    for value in factors.values():
        product *= value
    bound = LIMITS[limit]
    if product > bound.most:
        shown = " x ".join(factors) + " = " + " x ".join(f"{v:,.0f}" for v in factors.values())
        raise InvalidArgument(f"invalid {name}: {shown} = {product:,.0f} (at most {bound.most:,.0f}: {bound.why})")
    return product


def check_memory(what: str, nbytes: float) -> float:
    """InvalidArgument when an allocation estimated at `nbytes` is past MEMORY_LIMIT, before it is made."""
    if nbytes > MEMORY_LIMIT.most:
        raise InvalidArgument(f"{what} would need about {nbytes / 2**30:,.1f} GiB at once (at most "
                              f"{MEMORY_LIMIT.most / 2**30:.0f} GiB: {MEMORY_LIMIT.why})")
    return nbytes
