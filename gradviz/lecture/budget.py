"""How long a method may run: a number of steps or a number of function evaluations.

`parse_budget` turns `("evaluations", 400)`, `"evaluations:400"`, `("steps", 200)` or `"steps:200"` into a
checked `(kind, n)` pair without importing torch, so the CLI can reject a bad budget at once. Comparing
methods by evaluations rather than steps is what makes a gradient method and a direct method fair
neighbours (see gradviz.lecture.optim.stepping for how evaluations are counted).
"""

from __future__ import annotations

import math
from typing import Any

from gradviz.registry import InvalidArgument

__all__ = ["parse_budget", "BUDGET_KINDS"]

BUDGET_KINDS = ("steps", "evaluations")


def parse_budget(budget: Any) -> tuple[str, int]:
    """'evaluations:400' or ('evaluations', 400) -> ('evaluations', 400); InvalidArgument otherwise."""
    text = budget if isinstance(budget, str) else None
    try:
        if text is not None:
            kind, sep, number = text.partition(":")
            if not sep:
                raise ValueError
            kind, n = kind.strip().lower(), number.strip()
            n = int(n) if n.isdigit() else float(n)
        else:
            kind, n = budget
    except (TypeError, ValueError):
        raise InvalidArgument(f"invalid budget {budget!r} (expected steps:N or evaluations:N, N >= 1)") from None
    if (kind not in BUDGET_KINDS or isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n)
            or n != int(n) or n < 1):
        raise InvalidArgument(f"invalid budget {budget!r} (expected steps:N or evaluations:N, N >= 1)")
    from gradviz.limits import check_at_most

    check_at_most("budget", n, "trace-steps" if kind == "steps" else "evaluations", shown=f"{kind}:{int(n)}")
    return kind, int(n)
