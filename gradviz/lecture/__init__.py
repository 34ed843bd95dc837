"""The lecture's world: analytic 2-D test functions, the lecture's optimizers, traces across them, the toy
nets of its seminar (2-D data sets, MLPs, a recording training loop) and the numbers behind its figures.

Everything a lecture slide needs and nothing about a user's own network (that is gradviz.analysis).
Names load on first use, so reading a registry (for the CLI's choices) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FUNCTIONS": "gradviz.lecture.functions", "get_function": "gradviz.lecture.expressions",
    "TestFunction": "gradviz.lecture.functions", "expression": "gradviz.lecture.expressions",
    "OPTIMIZERS": "gradviz.lecture.optim", "get_optimizer": "gradviz.lecture.optim",
    "trace": "gradviz.lecture.tracing", "SCHEDULERS": "gradviz.lecture.schedules",
    "DATASETS": "gradviz.lecture.data", "make_dataset": "gradviz.lecture.data",
    "train_val_split": "gradviz.lecture.data", "ACTIVATIONS": "gradviz.lecture.choices",
    "INITS": "gradviz.lecture.choices", "mlp": "gradviz.lecture.models", "initialize": "gradviz.lecture.models",
    "train": "gradviz.lecture.training", "FIGURES": "gradviz.lecture.figures",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gradviz.lecture' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
