"""Loading a user's own pieces by name: a model factory, a data function, a loss, weights and checkpoints.

The CLI names them as `MODULE:NAME` (an importable module, or a .py file's path, and an attribute in it); the
current folder is on the import path while they load, as it is for `python -m`. A factory is called with no
arguments and returns an nn.Module; a data function returns (inputs, targets) tensors or a DataLoader.
Weights and checkpoints are state_dict files written by `torch.save(model.state_dict(), path)` (or a dict
holding one under 'state_dict', 'model_state_dict' or 'model', as training scripts often save them; a
'module.' prefix from DistributedDataParallel is dropped). Files are read with weights_only=True.
Every failure is one line naming what was asked for and what is wrong.
"""

from __future__ import annotations

import glob as globbing
import importlib
import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from gradviz.registry import InvalidArgument

__all__ = ["load_object", "load_model", "load_data", "load_loss", "load_compute_loss", "read_state_dict", "load_weights",
           "checkpoint_vectors", "expand_checkpoints", "checkpoint_pattern"]

WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net")


def _split(spec: str, what: str) -> tuple[str, str]:
    text = str(spec).strip()
    module, sep, name = text.rpartition(":")
    if not sep or not module or not name or not name.replace(".", "_").isidentifier():
        raise InvalidArgument(f"invalid {what} {spec!r} (write MODULE:NAME, e.g. mymodels:make_cnn or "
                              f"path/to/file.py:make_cnn)")
    return module, name


def load_object(spec: str, *, what: str = "object") -> Any:
    """'MODULE:NAME' or 'path/file.py:NAME' -> the attribute (dotted names follow attributes)."""
    module_name, name = _split(spec, what)
    if module_name.endswith(".py") or os.sep in module_name or "/" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise InvalidArgument(f"{what} {spec!r}: no file {module_name!r}")
        unique = "gradviz_user_" + re.sub(r"\W", "_", str(path.resolve()))
        loader_spec = importlib.util.spec_from_file_location(unique, path)
        if loader_spec is None or loader_spec.loader is None:
            raise InvalidArgument(f"{what} {spec!r}: {module_name!r} is not a Python file")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[unique] = module
        _execute(lambda: loader_spec.loader.exec_module(module), spec, what)
    else:
        here = os.getcwd()
        added = here not in sys.path and "" not in sys.path
        if added:
            sys.path.insert(0, here)
        try:
            module = _execute(lambda: importlib.import_module(module_name), spec, what)
        finally:
            if added:
                sys.path.remove(here)
    target: Any = module
    for part in name.split("."):
        if not hasattr(target, part):
            public = sorted(n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n)))
            raise InvalidArgument(f"{what} {spec!r}: module {module_name!r} has no attribute {part!r}"
                                  + (f" (it has: {', '.join(public[:12])})" if public else ""))
        target = getattr(target, part)
    return target


def _execute(action: Any, spec: str, what: str) -> Any:
    try:
        return action()
    except ModuleNotFoundError as error:
        raise InvalidArgument(f"{what} {spec!r}: no module named {error.name!r} (the current folder, "
                              f"{os.getcwd()}, is on the import path)") from None
    except SyntaxError as error:
        raise InvalidArgument(f"{what} {spec!r}: syntax error in {error.filename}, line {error.lineno}") from None


def _call(fn: Any, spec: str, what: str) -> Any:
    if not callable(fn):
        return fn
    try:
        return fn()
    except TypeError as error:
        raise InvalidArgument(f"{what} {spec!r} could not be called with no arguments: {error}") from None


def load_model(spec: str) -> nn.Module:
    """'MODULE:FACTORY' -> the nn.Module the factory returns (or the module-level nn.Module itself)."""
    target = load_object(spec, what="model")
    model = target if isinstance(target, nn.Module) else _call(target, spec, "model")
    if not isinstance(model, nn.Module):
        raise InvalidArgument(f"model {spec!r} returned {type(model).__name__}, not a torch nn.Module")
    return model


def load_data(spec: str) -> Any:
    """'MODULE:FUNCTION' -> what it returns: tensors ((x, y), (x1, ..., y), a dict of tensors, (dict, y)) or a
    DataLoader (or list) of batches in those forms, dict batches of a transformers model included."""
    from collections.abc import Mapping

    data = _call(load_object(spec, what="data"), spec, "data")
    if isinstance(data, (tuple, list, Mapping)):
        return data
    if hasattr(data, "__iter__") and not isinstance(data, (str, bytes)):
        return data
    raise InvalidArgument(f"data {spec!r} returned {type(data).__name__}: it must return (inputs, targets) "
                          "tensors, a dict of tensors or a DataLoader")


def load_loss(spec: str | None) -> Any:
    """None or a name of gradviz.analysis.choices.LOSSES -> that name; 'MODULE:FUNCTION' -> the callable."""
    from gradviz.analysis.choices import LOSSES
    from gradviz.registry import normalize_name, unknown_name_message

    if spec is None:
        return None
    if ":" not in str(spec):
        name = normalize_name(spec)
        if name not in LOSSES:
            raise InvalidArgument(unknown_name_message("loss", spec, LOSSES) + " or MODULE:FUNCTION")
        return name
    target = load_object(spec, what="loss")
    if isinstance(target, type):  # a loss class such as nn.SmoothL1Loss: an instance with its defaults
        target = _call(target, spec, "loss")
    if not callable(target):
        raise InvalidArgument(f"loss {spec!r} is {type(target).__name__}, not a callable (outputs, targets) -> loss")
    return target


def load_compute_loss(spec: str | None) -> Any:
    """None, or 'MODULE:FUNCTION' -> the callable (model, batch) -> mean loss."""
    if spec is None:
        return None
    target = load_object(spec, what="compute_loss")
    if not callable(target):
        raise InvalidArgument(f"compute_loss {spec!r} is {type(target).__name__}, not a callable (model, batch) -> "
                              "mean loss")
    return target


def read_state_dict(source: Any, model: nn.Module, *, what: str = "weights") -> dict[str, torch.Tensor]:
    """A state_dict (a file's path or a dict) checked against `model`: every key present, every shape equal."""
    name = str(source) if isinstance(source, (str, os.PathLike)) else "the state_dict"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise InvalidArgument(f"{what} file {name!r} does not exist")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch.load raises pickle, zip and runtime errors of many kinds
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise InvalidArgument(f"{what} file {name!r} is not a torch state_dict file ({first[:160]})") from None
    else:
        state = source
    if isinstance(state, nn.Module):
        state = state.state_dict()
    if isinstance(state, dict):
        for key in WRAPPER_KEYS:
            if isinstance(state.get(key), dict) and not isinstance(state.get(key), torch.Tensor):
                state = state[key]
                break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InvalidArgument(f"{what} {name!r} holds {type(state).__name__}, not a state_dict of tensors")
    expected = model.state_dict()
    if state and all(k.startswith("module.") for k in state) and not any(k.startswith("module.") for k in expected):
        state = {k[len("module."):]: v for k, v in state.items()}
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    wrong = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
             if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:4])}" + (" ..." if len(missing) > 4 else ""))
        if extra:
            parts.append(f"unexpected {', '.join(extra[:4])}" + (" ..." if len(extra) > 4 else ""))
        if wrong:
            parts.append(f"shape {'; '.join(wrong[:3])}")
        raise InvalidArgument(f"{what} {name!r} does not fit the model: {'; '.join(parts)}")
    return state


def load_weights(model: nn.Module, source: Any) -> nn.Module:
    """Load a state_dict file (or dict) into `model`, checked first; returns the model."""
    state = read_state_dict(source, model)
    model.load_state_dict(state)
    return model


def checkpoint_vectors(items: Sequence[Any], model: nn.Module) -> np.ndarray:
    """Checkpoint files or state_dicts -> (n, n_params) flat parameters in model.parameters() order."""
    names = [name for name, _ in model.named_parameters()]
    rows = []
    for item in items:
        state = read_state_dict(item, model, what="checkpoint")
        rows.append(torch.cat([state[n].detach().reshape(-1).to(torch.float64) for n in names]).numpy())
    return np.stack(rows)


def _natural(path: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def checkpoint_pattern(paths: Sequence[Any]) -> str:
    """What one run's checkpoint files have in common, as a glob of their names: 'epoch-*.pt' for
    runs/epoch-1.pt ... runs/epoch-10.pt (the run's name in a legend; the folder says less: 'runs')."""
    names = [Path(str(p)).name for p in paths]
    if len(set(names)) <= 1:
        return names[0] if names else ""
    prefix = os.path.commonprefix(names)
    suffix = os.path.commonprefix([n[::-1] for n in names])[::-1]
    suffix = suffix[max(0, len(prefix) + len(suffix) - min(map(len, names))):]
    while prefix and prefix[-1].isdigit():  # epoch-1.pt ... epoch-19.pt share 'epoch-1': the number varies
        prefix = prefix[:-1]
    while suffix and suffix[0].isdigit():
        suffix = suffix[1:]
    return f"{prefix}*{suffix}"


def expand_checkpoints(pattern: str) -> list[str]:
    """A glob ('runs/epoch-*.pt') -> its files sorted by name, numbers as numbers (epoch-9 before epoch-10)."""
    files = sorted((p for p in globbing.glob(os.path.expanduser(pattern)) if os.path.isfile(p)), key=_natural)
    if len(files) < 2:
        raise InvalidArgument(f"checkpoints {pattern!r} match {len(files)} file(s): a PCA plane needs at least 2")
    return files
