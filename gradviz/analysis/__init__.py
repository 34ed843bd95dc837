"""The analysis of any model: the data-and-loss layer that reads a user's tensors, DataLoaders and dict
batches (sources) and their loss with its first-batch checks (losses), checkpoints (loading), directions and
planes, grid evaluation with caches and ranks (evaluation, gridrun, landscape), curvature, and per-layer
gradient recording with its diagnosis.

Nothing here knows the lecture's functions; the toy nets of gradviz.lecture are just one more nn.Module.
Names load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "random_directions": "gradviz.analysis.landscape",
    "pca_directions": "gradviz.analysis.landscape", "line_between": "gradviz.analysis.landscape",
    "hessian": "gradviz.analysis.curvature", "record_gradients": "gradviz.analysis.gradients",
    "gradflow_model": "gradviz.analysis.gradients", "diagnose": "gradviz.analysis.diagnosis",
    "DataSource": "gradviz.analysis.sources", "LossRule": "gradviz.analysis.losses",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gradviz.analysis' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
