"""Small MLPs built like the seminar builds them by hand, with activation and initialization registries.

`mlp(2, [16, 16], 1, activation="sigmoid")` is an nn.Sequential with readable layer names (fc1, act1,
fc2, act2, out); `hidden=[]` is logistic (one output) or softmax (several) regression. The gradient-flow
experiments use the same registries, so "relu" and "he" mean the same thing everywhere.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn

from gradviz.registry import InvalidArgument, Registry, check_positive

__all__ = ["ACTIVATIONS", "INITS", "mlp", "initialize"]


@dataclass(frozen=True)
class Activation:
    name: str
    make: Callable[[], nn.Module]
    max_slope: float  # sup |f'|: the per-layer factor in the backward bound (sigmoid: 1/4)
    gain: float  # torch.nn.init.calculate_gain for this nonlinearity
    summary: str
    slope_rms: float = 1.0  # sqrt(E[f'(z)^2]) for small centred z: the typical per-layer backward factor


ACTIVATIONS: Registry = Registry("activation")
ACTIVATIONS.register("sigmoid", Activation("sigmoid", nn.Sigmoid, 0.25, 1.0, "1 / (1 + e^-x), slope at most 1/4", 0.25))
ACTIVATIONS.register("tanh", Activation("tanh", nn.Tanh, 1.0, 5 / 3, "tanh x, slope at most 1"))
ACTIVATIONS.register("relu", Activation("relu", nn.ReLU, 1.0, math.sqrt(2), "max(0, x)", math.sqrt(0.5)))
ACTIVATIONS.register("leaky-relu", Activation("leaky-relu", lambda: nn.LeakyReLU(0.01), 1.0,
                                              math.sqrt(2 / (1 + 0.01**2)), "max(0.01 x, x)",
                                              math.sqrt((1 + 0.01**2) / 2)))
ACTIVATIONS.register("gelu", Activation("gelu", nn.GELU, 1.13, math.sqrt(2), "x * Phi(x)", math.sqrt(0.5)))
ACTIVATIONS.register("elu", Activation("elu", nn.ELU, 1.0, math.sqrt(2), "x if x > 0 else e^x - 1", math.sqrt(0.5)))
ACTIVATIONS.register("identity", Activation("identity", nn.Identity, 1.0, 1.0, "no nonlinearity"))


@dataclass(frozen=True)
class Init:
    name: str
    apply: Callable[[nn.Linear, Activation, float | None], None]
    summary: str
    needs_std: bool = False


def _default(layer: nn.Linear, activation: Activation, std: float | None) -> None:
    layer.reset_parameters()  # PyTorch's own: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases


def _xavier(layer: nn.Linear, activation: Activation, std: float | None) -> None:
    nn.init.xavier_normal_(layer.weight, gain=1.0)
    nn.init.zeros_(layer.bias)


def _he(layer: nn.Linear, activation: Activation, std: float | None) -> None:
    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    nn.init.zeros_(layer.bias)


def _normal(layer: nn.Linear, activation: Activation, std: float | None) -> None:
    nn.init.normal_(layer.weight, 0.0, std if std is not None else 0.01)
    nn.init.zeros_(layer.bias)


def _scaled(layer: nn.Linear, activation: Activation, std: float | None) -> None:
    # N(0, k^2 / fan_in): the setting where k / sqrt(2) per ReLU layer decides vanishing or exploding
    k = std if std is not None else 1.0
    nn.init.normal_(layer.weight, 0.0, k / math.sqrt(layer.in_features))
    nn.init.zeros_(layer.bias)


INITS: Registry = Registry("init")
INITS.register("default", Init("default", _default, "PyTorch's U(+-1/sqrt(fan_in))"))
INITS.register("xavier", Init("xavier", _xavier, "Glorot normal, std sqrt(2 / (fan_in + fan_out))"))
INITS.register("he", Init("he", _he, "Kaiming normal, std sqrt(2 / fan_in)"))
INITS.register("normal", Init("normal", _normal, "N(0, std^2) with --std (default 0.01)", needs_std=True))
INITS.register("scaled", Init("scaled", _scaled, "N(0, k^2 / fan_in) with k = --std (default 1)", needs_std=True))


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
