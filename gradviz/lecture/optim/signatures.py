"""The __init__ signatures of the registry's optimizer classes, as data, so '-O adam:lr=abc' or a misspelt
setting is refused while the command line is parsed, before the seconds it takes to import torch.

Each entry is (name, default, flags) per argument after params: flags "int" where the argument is
annotated int, "*" where it is keyword-only. torch's classes gain arguments between releases, so their
rows are used only under the torch release they were read from (TORCH_RELEASE); under another the
check waits for the real class. tests/test_inputs.py keeps every row equal to the live signature.
"""

from __future__ import annotations

import inspect
from typing import Any, Mapping

__all__ = ["SIGNATURES", "TORCH_RELEASE", "static_parameters"]

TORCH_RELEASE = "2.13"

SIGNATURES: dict[str, tuple[tuple[str, Any, str], ...]] = {
    "torch.optim.SGD": (
        ("lr", 0.001, ""), ("momentum", 0, ""), ("dampening", 0, ""), ("weight_decay", 0, ""),
        ("nesterov", False, ""), ("maximize", False, "*"), ("foreach", None, "*"), ("differentiable", False, "*"),
        ("fused", None, "*"),
    ),
    "torch.optim.Adagrad": (
        ("lr", 0.01, ""), ("lr_decay", 0, ""), ("weight_decay", 0, ""), ("initial_accumulator_value", 0, ""),
        ("eps", 1e-10, ""), ("foreach", None, ""), ("maximize", False, "*"), ("differentiable", False, "*"),
        ("fused", None, "*"),
    ),
    "torch.optim.Adadelta": (
        ("lr", 1.0, ""), ("rho", 0.9, ""), ("eps", 1e-06, ""), ("weight_decay", 0, ""), ("foreach", None, ""),
        ("capturable", False, "*"), ("maximize", False, "*"), ("differentiable", False, "*"),
    ),
    "torch.optim.RMSprop": (
        ("lr", 0.01, ""), ("alpha", 0.99, ""), ("eps", 1e-08, ""), ("weight_decay", 0, ""), ("momentum", 0, ""),
        ("centered", False, ""), ("capturable", False, ""), ("foreach", None, ""), ("maximize", False, ""),
        ("differentiable", False, ""),
    ),
    "torch.optim.Adam": (
        ("lr", 0.001, ""), ("betas", (0.9, 0.999), ""), ("eps", 1e-08, ""), ("weight_decay", 0, ""),
        ("amsgrad", False, ""), ("foreach", None, "*"), ("maximize", False, "*"), ("capturable", False, "*"),
        ("differentiable", False, "*"), ("fused", None, "*"), ("decoupled_weight_decay", False, "*"),
    ),
    "torch.optim.AdamW": (
        ("lr", 0.001, ""), ("betas", (0.9, 0.999), ""), ("eps", 1e-08, ""), ("weight_decay", 0.01, ""),
        ("amsgrad", False, ""), ("maximize", False, "*"), ("foreach", None, "*"), ("capturable", False, "*"),
        ("differentiable", False, "*"), ("fused", None, "*"),
    ),
    "torch.optim.NAdam": (
        ("lr", 0.002, ""), ("betas", (0.9, 0.999), ""), ("eps", 1e-08, ""), ("weight_decay", 0, ""),
        ("momentum_decay", 0.004, ""), ("decoupled_weight_decay", False, ""), ("foreach", None, "*"),
        ("maximize", False, "*"), ("capturable", False, "*"), ("differentiable", False, "*"),
    ),
    "torch.optim.RAdam": (
        ("lr", 0.001, ""), ("betas", (0.9, 0.999), ""), ("eps", 1e-08, ""), ("weight_decay", 0, ""),
        ("decoupled_weight_decay", False, ""), ("foreach", None, "*"), ("maximize", False, "*"),
        ("capturable", False, "*"), ("differentiable", False, "*"),
    ),
    "torch.optim.Adamax": (
        ("lr", 0.002, ""), ("betas", (0.9, 0.999), ""), ("eps", 1e-08, ""), ("weight_decay", 0, ""),
        ("foreach", None, ""), ("maximize", False, "*"), ("differentiable", False, "*"), ("capturable", False, "*"),
    ),
    "gradviz.lecture.optim.adabelief.AdaBelief": (
        ("lr", 0.001, ""), ("betas", (0.9, 0.999), ""), ("eps", 1e-16, ""), ("weight_decay", 0.0, ""),
        ("weight_decouple", True, ""), ("fixed_decay", False, ""), ("amsgrad", False, ""),
    ),
    "torch.optim.LBFGS": (
        ("lr", 1, ""), ("max_iter", 20, "int"), ("max_eval", None, ""), ("tolerance_grad", 1e-07, ""),
        ("tolerance_change", 1e-09, ""), ("history_size", 100, "int"), ("line_search_fn", None, ""),
    ),
    "gradviz.lecture.optim.direct.NelderMead": (
        ("initial_simplex", None, ""), ("rho", 1.0, ""), ("chi", 2.0, ""), ("gamma", 0.5, ""), ("sigma", 0.5, ""),
        ("nonzdelt", 0.05, ""), ("zdelt", 0.00025, ""),
    ),
    "gradviz.lecture.optim.direct.PatternSearch": (
        ("step", 0.5, ""), ("shrink", 0.5, ""),
    ),
    "gradviz.lecture.optim.direct.RandomSearch": (
        ("sigma", 0.5, ""), ("seed", None, ""),
    ),
    "gradviz.lecture.optim.direct.PureRandomSearch": (
        ("bounds", None, ""), ("seed", None, ""),
    ),
    "gradviz.lecture.optim.direct.CMAES": (
        ("sigma0", 0.5, ""), ("popsize", None, ""), ("seed", None, ""),
    ),
    "gradviz.lecture.optim.direct.SimulatedAnnealing": (
        ("temperature", 10.0, ""), ("cooling", 0.97, ""), ("step", 0.5, ""), ("seed", None, ""),
    ),
}


def _torch_release() -> str | None:
    """'2.13' for the installed torch, read from its metadata (torch itself is not imported)."""
    from importlib import metadata

    try:
        return ".".join(metadata.version("torch").split("+")[0].split(".")[:2])
    except metadata.PackageNotFoundError:
        return None


def static_parameters(target: str) -> Mapping[str, inspect.Parameter] | None:
    """inspect.Parameters of the class at `target` from the table, or None where the table cannot vouch
    for them (a class it does not hold, or torch's class under another torch release)."""
    rows = SIGNATURES.get(target)
    if rows is None or (target.startswith("torch.") and _torch_release() != TORCH_RELEASE):
        return None
    parameters = {name: inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                  for name in ("self", "params")}
    for name, default, flags in rows:
        kind = inspect.Parameter.KEYWORD_ONLY if "*" in flags else inspect.Parameter.POSITIONAL_OR_KEYWORD
        annotation = int if "int" in flags else inspect.Parameter.empty
        parameters[name] = inspect.Parameter(name, kind, default=default, annotation=annotation)
    return parameters
