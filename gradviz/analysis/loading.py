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

import contextlib
import importlib
import importlib.util
import inspect
import os
import re
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from gradviz.analysis.files import check_weights_file, expand_checkpoints
from gradviz.registry import InvalidArgument, UserCodeError

__all__ = ["load_object", "load_model", "load_data", "load_loss", "read_state_dict", "load_weights",
           "checkpoint_vectors", "expand_checkpoints", "user_code_errors", "TRACEBACK_HINT",
           "load_compute_loss", "checkpoint_pattern"]

# what each kind of the user's own code is called in a message
ROLES = {"model": "model factory", "data": "data function", "loss": "loss"}
TRACEBACK_HINT = "GRADVIZ_TRACEBACK=1 or --traceback shows the whole traceback"
_LOADED_FILES: dict[str, str] = {}  # 'MODULE:NAME' -> the resolved path of the file it was loaded from
_LIBRARY_ROOTS = tuple(str(Path(p).resolve()) for p in
                       {os.path.dirname(os.__file__), os.path.dirname(torch.__file__),
                        os.path.dirname(os.path.dirname(__file__)), os.path.dirname(np.__file__)})

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
    if getattr(module, "__file__", None):
        _LOADED_FILES[str(spec)] = str(Path(module.__file__).resolve())
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


def _signature(fn: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):  # builtins and C extensions may have none
        return None


def _user_frame(error: BaseException) -> traceback.FrameSummary | None:
    """The innermost frame of `error`'s traceback in the user's own files (not Python's, torch's, numpy's or
    gradviz's), where their code raised or called what raised."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        where = str(Path(frame.filename).resolve()) if frame.filename and not frame.filename.startswith("<") else ""
        if where and not where.startswith(_LIBRARY_ROOTS) and "site-packages" not in where:
            return frame
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else ""
    line = line if len(line) <= 200 else line[:200] + "..."
    return f"{type(error).__name__}: {line}" if line else type(error).__name__


def user_error(role: str, spec: Any, error: BaseException) -> UserCodeError:
    """One line naming which of the user's pieces raised what, and where in their files."""
    frame = _user_frame(error)
    at = f" at {os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}" if frame is not None else ""
    shown = f" {spec!r}" if isinstance(spec, str) else ""
    return UserCodeError(f"your {role}{shown} raised {_first_line(error)}{at} ({TRACEBACK_HINT})", error)


@contextlib.contextmanager
def user_code_errors(**specs: Any) -> Iterator[None]:
    """Inside: an exception raised in the user's own files (a model's forward, a Dataset's __getitem__, a
    loss) becomes a UserCodeError naming whose it is (model='mynets:make_cnn', data='mydata:loader': the
    one whose module holds the frame; 'code' when none does) and the frame. gradviz's own errors, interrupts
    and errors that never passed through the user's files go through as they are."""
    try:
        yield
    except InvalidArgument as error:
        cause = error.__cause__
        if isinstance(error, UserCodeError) or not isinstance(cause, Exception) or isinstance(cause, InvalidArgument) \
                or _user_frame(cause) is None:
            raise
        # the first-batch check (gradviz.analysis.losses) wrapped an error raised in the user's files: whose it
        # is and where, with the check's batch and advice
        text = str(error)
        batch, _, rest = text.partition(": ") if text.startswith("batch ") else ("", "", text)
        line = str(cause).strip().splitlines()[0][:200] if str(cause).strip() else ""
        advice = rest[rest.index(line) + len(line):] if line and line in rest else ""
        found = str(_whose(cause, specs)).replace(f" ({TRACEBACK_HINT})", f"{advice} ({TRACEBACK_HINT})")
        raise UserCodeError(f"{batch + ': ' if batch else ''}{found}", cause) from cause
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as error:
        if _user_frame(error) is None:
            raise
        raise _whose(error, specs) from error


def _whose(error: BaseException, specs: dict[str, Any]) -> UserCodeError:
    """user_error for the one of `specs` whose module holds the frame that raised ('code' when none does)."""
    here = str(Path(_user_frame(error).filename).resolve())
    role, spec = "code", None
    for name, value in specs.items():
        if isinstance(value, str) and _LOADED_FILES.get(value) == here:
            role, spec = {"model": "model", "data": "data function"}.get(name, name), value
            break
    return user_error(role, spec, error)


def _call(fn: Any, spec: str, what: str) -> Any:
    if not callable(fn):
        return fn
    signature = _signature(fn)
    if signature is not None:
        try:
            signature.bind()
        except TypeError:
            raise InvalidArgument(f"{what} {spec!r} takes {signature}: gradviz calls it with no arguments "
                                  f"(wrap it: def make(): return {spec.rpartition(':')[2]}(...))") from None
    try:
        return fn()
    except (InvalidArgument, KeyboardInterrupt, MemoryError):
        raise
    except Exception as error:
        raise user_error(ROLES.get(what, what), spec, error) from error


class UserLoss:
    """The user's (outputs, targets) -> loss, whose errors name it (see user_error). Its name and repr are
    the function's own, so a cache's fingerprint is the same with or without the wrapper."""

    def __init__(self, fn: Any, spec: str) -> None:
        self.fn, self.spec = fn, spec
        self.__qualname__ = getattr(fn, "__qualname__", None) or type(fn).__qualname__
        self.__module__ = getattr(fn, "__module__", None) or type(fn).__module__
        self.__name__ = getattr(fn, "__name__", self.__qualname__)

    def __call__(self, outputs: Any, targets: Any) -> Any:
        try:
            return self.fn(outputs, targets)
        except (InvalidArgument, KeyboardInterrupt, MemoryError):
            raise
        except Exception as error:
            raise user_error("loss", self.spec, error) from error

    def __repr__(self) -> str:
        return repr(self.fn)


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
    if (getattr(target, "__module__", None) or type(target).__module__) == "builtins":
        raise InvalidArgument(f"loss {spec!r} is Python's built-in {getattr(target, '__name__', type(target).__name__)}"
                              ", not a loss: give a function (outputs, targets) -> the batch's mean loss")
    signature = _signature(target)
    if signature is not None:
        try:
            signature.bind(None, None)
        except TypeError:
            raise InvalidArgument(f"loss {spec!r} takes {signature}: a loss is called as loss(outputs, targets) "
                                  "and returns the batch's mean") from None
    return UserLoss(target, spec)


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
        path = check_weights_file(source, what)
        try:
            with warnings.catch_warnings():  # torch warns about pickle protocols before it refuses
                warnings.simplefilter("ignore")
                state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch.load raises pickle, zip and runtime errors of many kinds
            raise InvalidArgument(_unreadable(what, name, error)) from None
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


def _unreadable(what: str, name: str, error: BaseException) -> str:
    """Why torch.load(weights_only=True) refused a file, in one line, without torch's advice to load it unsafely."""
    text = str(error)
    found = re.search(r"GLOBAL ([\w.]+)", text)
    if found:
        return (f"{what} file {name!r} holds Python objects other than tensors ({found.group(1)}) and is refused "
                "for safety: loading it could run code; save tensors only, torch.save(model.state_dict(), PATH)")
    if "Weights only load failed" in text:
        return (f"{what} file {name!r} is not a torch state_dict file: not tensors written by torch.save (another "
                "kind of pickle, refused for safety, or no pickle at all)")
    if "zip archive" in text or "central directory" in text:
        return f"{what} file {name!r} is not a torch state_dict file: damaged or cut short (write it again)"
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"{what} file {name!r} is not a torch state_dict file ({first[:120]})"


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
