"""The activation and initialization registries, readable without importing torch.

`gradviz list activations`, the CLI's checks and error messages read names and summaries from here in a
fraction of a second; torch is imported only when a layer is built or initialized (gradviz.lecture.models).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from gradviz.registry import Registry

__all__ = ["ACTIVATIONS", "INITS", "Activation", "Init"]


def _module(name: str, *args: Any) -> Callable[[], Any]:
    """A factory for torch.nn.<name>(*args), importing torch only when called."""
    def make() -> Any:
        from torch import nn

        return getattr(nn, name)(*args)

    make.__name__ = name
    return make


@dataclass(frozen=True)
class Activation:
    name: str
    make: Callable[[], Any]
    max_slope: float  # sup |f'|: the per-layer factor in the backward bound (sigmoid: 1/4)
    gain: float  # torch.nn.init.calculate_gain for this nonlinearity
    summary: str
    slope_rms: float = 1.0  # sqrt(E[f'(z)^2]) for small centred z: the typical per-layer backward factor


ACTIVATIONS: Registry = Registry("activation")
ACTIVATIONS.register("sigmoid", Activation("sigmoid", _module("Sigmoid"), 0.25, 1.0, "1 / (1 + e^-x), slope at most 1/4", 0.25))
ACTIVATIONS.register("tanh", Activation("tanh", _module("Tanh"), 1.0, 5 / 3, "tanh x, slope at most 1"))
ACTIVATIONS.register("relu", Activation("relu", _module("ReLU"), 1.0, math.sqrt(2), "max(0, x)", math.sqrt(0.5)))
ACTIVATIONS.register("leaky-relu", Activation("leaky-relu", _module("LeakyReLU", 0.01), 1.0,
                                              math.sqrt(2 / (1 + 0.01**2)), "max(0.01 x, x)",
                                              math.sqrt((1 + 0.01**2) / 2)))
ACTIVATIONS.register("gelu", Activation("gelu", _module("GELU"), 1.13, math.sqrt(2), "x * Phi(x)", math.sqrt(0.5)))
ACTIVATIONS.register("elu", Activation("elu", _module("ELU"), 1.0, math.sqrt(2), "x if x > 0 else e^x - 1", math.sqrt(0.5)))
ACTIVATIONS.register("identity", Activation("identity", _module("Identity"), 1.0, 1.0, "no nonlinearity"))


@dataclass(frozen=True)
class Init:
    name: str
    apply: Callable[[Any, Activation, float | None], None]
    summary: str
    needs_std: bool = False


def _default(layer: Any, activation: Activation, std: float | None) -> None:
    layer.reset_parameters()  # PyTorch's own: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases


def _xavier(layer: Any, activation: Activation, std: float | None) -> None:
    from torch import nn

    nn.init.xavier_normal_(layer.weight, gain=1.0)
    nn.init.zeros_(layer.bias)


def _he(layer: Any, activation: Activation, std: float | None) -> None:
    from torch import nn

    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    nn.init.zeros_(layer.bias)


def _normal(layer: Any, activation: Activation, std: float | None) -> None:
    from torch import nn

    nn.init.normal_(layer.weight, 0.0, std if std is not None else 0.01)
    nn.init.zeros_(layer.bias)


def _scaled(layer: Any, activation: Activation, std: float | None) -> None:
    from torch import nn

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
