"""A user's data, as every consumer of a model reads it: landscape, hessian, gradflow_model, the CLI.

The data half of the data-and-loss layer (the loss half, LossRule and the first-batch checks, is
gradviz.analysis.losses). It answers two questions for every batch, whatever its form:

- **What the batch is.** `DataSource` wraps whole tensors (split into batches of `batch_size`), a torch
  DataLoader, or any re-iterable of batches, or the name of a toy data set, and yields `Batch`es one at a time
  (a data set larger than memory is read as its DataLoader reads it). A batch is read as people write them:

  ==========================  =========================  ====================================
  batch                       the model is called as     targets
  ==========================  =========================  ====================================
  `x` (a tensor alone)        `model(x)`                 none (the model's `.loss`, or `compute_loss`)
  `(x, y)`                    `model(x)`                 `y`
  `(x1, ..., xk, y)`          `model(x1, ..., xk)`       `y` (the last element)
  `{"input_ids": ..., ...}`   `model(**batch)`           `batch["labels"]` where present
  `(dict, y)`                 `model(**dict)`            `y`
  ==========================  =========================  ====================================

  Whole data in memory take the same forms: `(x, y)`, `(x1, ..., xk, y)` tensors with one row per sample, a
  dict of such tensors, or `(dict, y)`. A list whose last element is not a tensor is a list of batches, so a
  list of exactly two batches is two batches, never (inputs, targets).

- **How many samples a batch holds.** A quantity over the data is the mean over samples: the batches' means
  weighted by their sample counts, as one pass over the whole set gives it. The count is the length of the
  targets (or, without targets, of the first tensor of the batch: a dict's first entry, e.g. the rows of
  `input_ids`), so a language model's loss is weighted by sequences. `count=` (batch -> number) overrides
  it, e.g. the number of tokens that carry a label, if the mean over tokens is what you want.

`subset(source, N)` draws the same N samples (rows) of any of these forms at random, for landscape(samples=N).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import torch

from gradviz.registry import InvalidArgument, check_positive

__all__ = ["DataSource", "Batch", "as_source", "subset", "DEFAULT_BATCH", "HOOK"]

DEFAULT_BATCH = 1024  # samples per batch when the data come as tensors (bounds a CNN's activations)
HOOK = "compute_loss=(model, batch) -> mean loss"


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


# -- batches -------------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Batch:
    """One batch as the layer reads it, on the device: `data` as the user's data gave it (what compute_loss
    receives), the model's positional `args` and keyword `kwargs`, the `targets` (None for a dict batch or a
    tensor alone), the sample count `n` and the batch's `index` in the pass."""

    data: Any
    args: tuple
    kwargs: dict
    targets: Any
    n: float
    index: int

    @property
    def labels(self) -> Any:
        """The targets, or a dict batch's 'labels' entry."""
        return self.targets if self.targets is not None else self.kwargs.get("labels")

    @property
    def x(self) -> Any:
        """The one positional input (the toy nets' path), or all of them."""
        return self.args[0] if len(self.args) == 1 else self.args

    def call(self, model: Any) -> Any:
        return model(*self.args, **self.kwargs)

    def calling(self) -> str:
        """How the model is called, in words, for messages."""
        if self.kwargs:
            return f"model(**batch) with keys {', '.join(map(str, self.kwargs))}"
        names = ", ".join(f"x{i + 1}" for i in range(len(self.args))) if len(self.args) > 1 else "x"
        return f"model({names})"


def _is_array(x: Any) -> bool:
    return isinstance(x, (torch.Tensor, np.ndarray))


def _tensor_map(x: Any) -> bool:
    return isinstance(x, Mapping) and bool(x) and all(_is_array(v) for v in x.values())


def _parts(batch: Any, index: int) -> tuple[tuple, dict, Any]:
    """A batch as the user wrote it -> (positional inputs, keyword inputs, targets)."""
    if isinstance(batch, Mapping):
        return (), dict(batch), None
    if isinstance(batch, torch.Tensor):
        return (batch,), {}, None
    if isinstance(batch, (tuple, list)) and len(batch) == 1:
        return _parts(batch[0], index)
    if isinstance(batch, (tuple, list)) and len(batch) == 2 and isinstance(batch[0], Mapping):
        return (), dict(batch[0]), batch[1]
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return tuple(batch[:-1]), {}, batch[-1]
    raise InvalidArgument(f"batch {index} of the data is {_describe(batch)}: batches are (inputs..., targets) "
                          "tuples, dicts of tensors (the model called as model(**batch)), (dict, targets), or a "
                          f"tensor alone; for other batches give {HOOK}")


def _first_rows(values: Any) -> int | None:
    for value in values:
        if isinstance(value, torch.Tensor) and value.dim():
            return int(value.shape[0])
        if isinstance(value, (tuple, list)) or isinstance(value, Mapping):
            rows = _first_rows(value.values() if isinstance(value, Mapping) else value)
            if rows is not None:
                return rows
    return None


def _rows_of(structure: Any) -> list[int]:
    if _is_array(structure):
        return [int(structure.shape[0])] if structure.ndim else [-1]
    if isinstance(structure, Mapping):
        return [r for v in structure.values() for r in _rows_of(v)]
    return [r for v in structure for r in _rows_of(v)]


def _shapes(structure: Any) -> str:
    if _is_array(structure):
        return str(tuple(structure.shape))
    if isinstance(structure, Mapping):
        return "{" + ", ".join(f"{k}: {_shapes(v)}" for k, v in structure.items()) + "}"
    return ", ".join(_shapes(v) for v in structure)


def _whole(data: Any) -> bool:
    """Whether `data` is a whole data set in memory (split into batches here), not an iterable of batches: a
    tensor, a dict of tensors, or a tuple/list of tensors whose last element is a tensor ((x1, ..., xk, y),
    (dict, y)). A list of batches has batches, not tensors, as its elements, so it is never read as one."""
    if _is_array(data) or _tensor_map(data):
        return True
    if isinstance(data, (tuple, list)) and len(data) >= 2 and _is_array(data[-1]):
        return all(_is_array(v) or (i == 0 and _tensor_map(v)) for i, v in enumerate(data[:-1]))
    return False


def _slice(structure: Any, start: int, stop: int) -> Any:
    if _is_array(structure):
        return structure[start:stop]
    if isinstance(structure, Mapping):
        return {k: _slice(v, start, stop) for k, v in structure.items()}
    return type(structure)(_slice(v, start, stop) for v in structure)


class DataSource:
    """Whole tensors, a DataLoader or a re-iterable of batches, read one `Batch` at a time (see the module).

    Floating tensors take the model's dtype on the way to the device; integer ones (class labels, token ids,
    masks) are kept as they are. batch_size splits whole tensors (default DEFAULT_BATCH samples); a DataLoader
    keeps its own batches. count: a callable batch -> its number of samples, as the batch's weight in every
    mean over the data (default: the targets' length, else the first tensor's)."""

    def __init__(self, data: Any, *, batch_size: int | None = None, count: Callable[[Any], Any] | None = None) -> None:
        self.whole: Any = None
        self.tensors: tuple[torch.Tensor, ...] | None = None  # whole (x1, ..., y) tensors, for direct readers
        self.loader: Any = None
        if batch_size is not None:
            batch_size = check_positive("batch_size", batch_size, integer=True)
        if count is not None and not callable(count):
            raise InvalidArgument(f"invalid count: {count!r} (a callable batch -> number of samples)")
        self.count = count
        if isinstance(data, str):
            from gradviz.lecture.data import make_dataset

            data = make_dataset(data)
        if _whole(data):
            data = _to(data, "cpu", None)
            rows = _rows_of(data)
            if min(rows) < 0 or len(set(rows)) != 1:
                raise InvalidArgument(f"inputs and targets must have one row per sample, got shapes {_shapes(data)}")
            if rows[0] == 0:
                raise InvalidArgument("the data set is empty")
            self.whole, self.rows = data, rows[0]
            if isinstance(data, (tuple, list)) and all(isinstance(v, torch.Tensor) for v in data):
                self.tensors = tuple(data)
            self.batch_size = batch_size or min(self.rows, DEFAULT_BATCH)
        elif isinstance(data, Mapping):
            bad = next(k for k, v in data.items() if not _is_array(v)) if data else None
            raise InvalidArgument("data is an empty dict" if bad is None else
                                  f"data is a dict whose entry {bad!r} is a {type(data[bad]).__name__}, not a tensor: "
                                  "a dict of tensors with one row per sample, or a DataLoader of dict batches")
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes)):
            if iter(data) is data:
                raise InvalidArgument("data is a one-shot iterator: give a DataLoader or a list of batches, which "
                                      "can be read again for every grid chunk")
            self.loader = data
            self.batch_size = getattr(data, "batch_size", None)
        else:
            raise InvalidArgument(f"data must be (inputs, targets) tensors, a dict of tensors, a DataLoader or an "
                                  f"iterable of batches, not {type(data).__name__}")

    @property
    def in_memory(self) -> bool:
        """True when the data are one batch of tensors: evaluators may keep work done on it between chunks."""
        return self.whole is not None and self.batch_size >= self.rows

    def _raw(self) -> Iterator[Any]:
        if self.whole is not None:
            for start in range(0, self.rows, self.batch_size):
                yield _slice(self.whole, start, start + self.batch_size)
            return
        yield from self.loader

    def _count(self, data: Any, args: tuple, kwargs: dict, targets: Any, index: int) -> float:
        if self.count is not None:
            value = self.count(data)
            try:
                n = float(value)
            except (TypeError, ValueError):
                raise InvalidArgument(f"count returned {type(value).__name__} for batch {index}, not a number") from None
            if not (math.isfinite(n) and n >= 0):
                raise InvalidArgument(f"count returned {value!r} for batch {index} (must be a finite number >= 0)")
            return n
        rows = _first_rows([targets]) if isinstance(targets, torch.Tensor) else None
        inputs = _first_rows([*args, *kwargs.values()])
        if rows is not None and inputs is not None and isinstance(args[0] if args else None, torch.Tensor) \
                and inputs != rows:
            raise InvalidArgument(f"batch {index} has {inputs} inputs but targets of shape {tuple(targets.shape)}")
        if isinstance(targets, torch.Tensor) and targets.dim() == 0:
            raise InvalidArgument(f"batch {index} has a single number as its targets: one target per sample, "
                                  "or count= to say how many samples the batch holds")
        n = rows if rows is not None else inputs
        if n is None:
            raise InvalidArgument(f"batch {index} holds no tensor to count its samples by: give count=(batch -> "
                                  "number of samples)")
        return n

    def batches(self, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> Iterator[Batch]:
        """One Batch at a time, on `device`; floating tensors in `dtype`."""
        total = 0.0
        for index, raw in enumerate(self._raw()):
            data = _to(raw, device, dtype)
            args, kwargs, targets = _parts(data, index)
            n = self._count(data, args, kwargs, targets, index)
            total += n
            yield Batch(data, args, kwargs, targets, n, index)
        if total == 0:
            raise InvalidArgument("the data set is empty (no batch holds a sample)")

    def first(self, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> Batch:
        """Batch 0, for the checks made before any grid."""
        for batch in self.batches(device, dtype):
            return batch
        raise InvalidArgument("the data set is empty")

    def fingerprint(self) -> str:
        """Order-free summary of the data (count, sums and sums of squares, in float64): what a cache checks."""
        count, sums = 0.0, [0.0, 0.0]
        for batch in self.batches("cpu", torch.float64):
            count += batch.n
            sums = [a + b for a, b in zip(sums, _moments(batch.data))]
        parts = [count] + [f"{v:.9e}" for v in sums]
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _tensors(structure: Any) -> Iterator[tuple[str, torch.Tensor]]:
    """(name, tensor) for every tensor in a batch: 'input_ids', 'x2', 'targets', ..."""
    if isinstance(structure, torch.Tensor):
        yield "", structure
    elif isinstance(structure, Mapping):
        for key, value in structure.items():
            for name, t in _tensors(value):
                yield str(key) + name, t
    elif isinstance(structure, (tuple, list)):
        for i, value in enumerate(structure):
            for name, t in _tensors(value):
                yield f"element {i}" + (f" {name}" if name else ""), t


def _moments(t: Any) -> list[float]:
    sums = [0.0, 0.0]
    for _, x in _tensors(t):
        x = x.detach().to("cpu", torch.float64)
        sums = [sums[0] + float(x.sum()), sums[1] + float((x * x).sum())]
    return sums


def _to(t: Any, device: torch.device | str, dtype: torch.dtype | None) -> Any:
    """Tensors (and arrays) anywhere in a batch -> on `device`, floating ones in `dtype`; the rest as it is."""
    if isinstance(t, Mapping):
        return {k: _to(v, device, dtype) for k, v in t.items()}
    if isinstance(t, (list, tuple)):
        return type(t)(_to(x, device, dtype) for x in t)
    if isinstance(t, np.ndarray):
        t = torch.as_tensor(t)
    if not isinstance(t, torch.Tensor):
        return t
    if t.is_floating_point() and dtype is not None:
        return t.to(device=device, dtype=dtype)
    return t.to(device)


def as_source(data: Any, *, batch_size: int | None = None, count: Callable[[Any], Any] | None = None) -> DataSource:
    """A DataSource, or the one given."""
    if isinstance(data, DataSource):
        return data
    return DataSource(data, batch_size=batch_size, count=count)


def _take(structure: Any, index: torch.Tensor) -> Any:
    """The rows `index` of every tensor in a batch or a whole data set, its form kept."""
    if _is_array(structure):
        return structure[index]
    if isinstance(structure, Mapping):
        return {k: _take(v, index) for k, v in structure.items()}
    return type(structure)(_take(v, index) for v in structure)


def _join(parts: list[Any]) -> Any:
    """Batches of one form -> one structure of that form, each tensor the rows of all of them in order."""
    first = parts[0]
    if _is_array(first):
        return torch.cat(parts)
    if isinstance(first, Mapping):
        return {k: _join([part[k] for part in parts]) for k in first}
    return type(first)(_join([part[i] for part in parts]) for i in range(len(first)))


def _rows_in(raw: Any, index: int) -> tuple[Any, int]:
    """A batch read for samples= -> (the batch, its rows): every tensor in it must have one row per sample."""
    if isinstance(raw, (tuple, list)) and len(raw) == 1:
        raw = raw[0]
    rows = set(_rows_of(raw)) if _whole(raw) else set()
    if len(rows) != 1 or min(rows) < 0:
        raise InvalidArgument(f"samples= draws rows, and batch {index} of the data is {_describe(raw)}, not tensors "
                              "with one row per sample ((x, y), (x1, ..., y), a dict of tensors, (dict, y)): "
                              "leave samples out for these batches")
    return raw, rows.pop()


def subset(source: DataSource, samples: int, *, seed: int = 0, batch_size: int | None = None) -> DataSource:
    """The same `samples` samples (rows) of `source`, drawn uniformly without replacement by a generator seeded
    with `seed` and kept in their order in the data, as a DataSource in memory in the data's own batch form
    ((x, y), (x1, ..., y), a dict, (dict, y)), in batches of `batch_size` (default: the source's, at most
    DEFAULT_BATCH), counted by the source's count=. All of them when the data have no more. Whole data are
    indexed; a DataLoader or other iterable is read twice, once to count its rows and once to take the chosen
    ones. `drawn_from` on the result is the number of rows they were drawn from."""
    samples = check_positive("samples", samples, integer=True)
    if source.whole is not None:
        total = source.rows
    else:
        total = sum(_rows_in(raw, index)[1] for index, raw in enumerate(source._raw()))
    generator = torch.Generator().manual_seed(int(seed))
    chosen = torch.randperm(total, generator=generator)[:samples].sort().values
    if source.whole is not None:
        whole = _take(source.whole, chosen)
    else:
        parts, offset = [], 0
        for index, raw in enumerate(source._raw()):
            raw, n = _rows_in(_to(raw, "cpu", None), index)  # as they are: no dtype chosen here
            here = chosen[(chosen >= offset) & (chosen < offset + n)] - offset
            if len(here):
                parts.append(_take(raw, here))
            offset += n
        whole = _join(parts)
    size = batch_size or min(source.batch_size or DEFAULT_BATCH, DEFAULT_BATCH)
    drawn = DataSource(whole, batch_size=min(size, len(chosen)), count=source.count)
    drawn.drawn_from = total
    return drawn
