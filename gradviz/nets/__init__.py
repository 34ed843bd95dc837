"""Small torch nets on 2-D toy data: datasets, MLP builder, and a recording training loop.

Names load on first use, so reading DATASETS (for the CLI's choices) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DATASETS": "gradviz.nets.data", "make_dataset": "gradviz.nets.data", "train_val_split": "gradviz.nets.data",
    "ACTIVATIONS": "gradviz.nets.choices", "INITS": "gradviz.nets.choices", "mlp": "gradviz.nets.models",
    "initialize": "gradviz.nets.models", "train": "gradviz.nets.training",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gradviz.nets' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
