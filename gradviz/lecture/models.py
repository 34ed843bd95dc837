"""Small MLPs built like the seminar builds them by hand, with activation and initialization registries.

`mlp(2, [16, 16], 1, activation="sigmoid")` is an nn.Sequential with readable layer names (fc1, act1,
fc2, act2, out); `hidden=[]` is logistic (one output) or softmax (several) regression. The gradient-flow
experiments use the same registries, so "relu" and "he" mean the same thing everywhere.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
from torch import nn

from gradviz.lecture.choices import ACTIVATIONS, INITS, Activation
from gradviz.limits import check_at_most
from gradviz.registry import InvalidArgument, check_positive, check_seed

__all__ = ["ACTIVATIONS", "INITS", "mlp", "initialize"]


def initialize(model: nn.Module, init: str, *, activation: str = "relu", std: float | None = None) -> nn.Module:
    """Re-initialize every nn.Linear of `model` in place with an INITS entry."""
    spec = INITS.lookup(init)
    act = ACTIVATIONS.lookup(activation)
    if std is not None:
        check_positive("std", std)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            spec.apply(module, act, std)
    return model


def mlp(in_features: int, hidden: Sequence[int], out_features: int, *, activation: str = "relu",
        init: str = "default", dropout: float = 0.0, std: float | None = None, seed: int | None = None) -> nn.Sequential:
    """An nn.Sequential MLP: fc1, act1[, drop1], ..., out. hidden=[] is logistic/softmax regression.

    seed: when given, weights are drawn from a generator seeded with it (the global one is left alone), so
    two models with the same seed and sizes start from the same weights whatever the activation.
    """
    check_positive("in_features", in_features, integer=True)
    check_positive("out_features", out_features, integer=True)
    hidden = list(hidden)
    for size in hidden:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise InvalidArgument(f"invalid hidden layer size: {size!r} (must be a whole number >= 1)")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise InvalidArgument(f"invalid dropout: {dropout!r} (must be in [0, 1))")
    # the CLI's bounds, here too: before nn.Linear allocates, not after
    check_at_most("number of layers", len(hidden) + 1, "depth")
    sizes = [int(in_features), *hidden, int(out_features)]
    weights = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    check_at_most("parameters", weights, "parameters", shown=f"{weights:,} ({' x '.join(map(str, sizes))})")
    if seed is not None:
        seed = check_seed(seed)
    act = ACTIVATIONS.lookup(activation)
    INITS.lookup(init)
    if seed is None:
        return _build(in_features, hidden, out_features, act, init, dropout, std)
    # nn.Linear draws its default weights as it is built: seed that too, and leave the global generator alone
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _build(in_features, hidden, out_features, act, init, dropout, std)


def _build(in_features: int, hidden: list[int], out_features: int, act: Activation, init: str, dropout: float,
           std: float | None) -> nn.Sequential:
    layers: "OrderedDict[str, nn.Module]" = OrderedDict()
    sizes = [in_features, *hidden]
    for index in range(1, len(sizes)):
        layers[f"fc{index}"] = nn.Linear(sizes[index - 1], sizes[index])
        layers[f"act{index}"] = act.make()
        if dropout > 0:
            layers[f"drop{index}"] = nn.Dropout(dropout)
    layers["out"] = nn.Linear(sizes[-1], out_features)
    return initialize(nn.Sequential(layers), init, activation=act.name, std=std)
