"""A user's data and loss, as the landscape and curvature code reads them: batches streamed one at a time.

`DataSource` wraps whatever the user has: (inputs, targets) tensors of any shape (points (N, d), images
(N, C, H, W), token sequences (N, T)), a torch DataLoader or any re-iterable of (inputs, targets) batches, or
the name of one of gradviz's toy data sets. Its `batches(device)` yields one batch at a time, so a data set
larger than memory is read as the DataLoader reads it; a quantity "over the data" is the mean over every
sample, i.e. the batch means weighted by the batches' sizes, as one pass over the whole set gives it.

`LossRule` is the loss (and metric) at one batch: the lecture's rule by default (BCE-with-logits for one
output, cross-entropy for several, as `train` minimises it), or any callable (outputs, targets) -> mean
loss the user gives (`nn.MSELoss()`, `F.cross_entropy`, their own).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import nn

from gradviz.analysis.choices import METRICS
from gradviz.registry import InvalidArgument, check_positive, normalize_name, unknown_name_message

__all__ = ["DataSource", "LossRule", "as_source", "default_loss", "LOSSES", "DEFAULT_BATCH"]

DEFAULT_BATCH = 1024  # samples per batch when the data come as tensors (bounds a CNN's activations)


def default_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """BCE-with-logits for one output, cross-entropy for several (mean over the batch): the loss `train`
    minimises and the landscapes draw by default."""
    if outputs.dim() != 2:
        raise InvalidArgument(f"the model's output has shape {tuple(outputs.shape)}; the default loss needs "
                              "(n, classes) logits: give loss_fn= for other outputs (e.g. nn.MSELoss())")
    if outputs.shape[-1] == 1:
        return nn.functional.binary_cross_entropy_with_logits(outputs[:, 0], targets.to(outputs.dtype))
    return nn.functional.cross_entropy(outputs, targets.long())


def _accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    if outputs.dim() != 2:
        raise InvalidArgument(f"the model's output has shape {tuple(outputs.shape)}; accuracy needs (n, classes) "
                              "logits and class targets: give metric= a callable for other outputs")
    predicted = (outputs[:, 0] > 0).long() if outputs.shape[-1] == 1 else outputs.argmax(-1)
    return (predicted == targets.long()).to(outputs.dtype).mean()


def _mse(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(outputs, targets.reshape(outputs.shape).to(outputs.dtype))


def _l1(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.l1_loss(outputs, targets.reshape(outputs.shape).to(outputs.dtype))


def _cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(outputs, targets.long())


def _bce(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(outputs.reshape(-1), targets.reshape(-1).to(outputs.dtype))


# name -> (loss, what it is); the CLI's --loss choices read this
LOSSES: dict[str, tuple[Callable[..., torch.Tensor], str]] = {
    "default": (default_loss, "BCE-with-logits for one output, cross-entropy for several (as train)"),
    "cross-entropy": (_cross_entropy, "F.cross_entropy on (n, classes) logits and class indices"),
    "bce": (_bce, "binary cross-entropy with logits on one output"),
    "mse": (_mse, "mean squared error (regression)"),
    "l1": (_l1, "mean absolute error (regression)"),
}


def _callable_name(fn: Any) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    module = getattr(fn, "__module__", None) or type(fn).__module__
    return f"{module}.{name}"


@dataclass(frozen=True)
class LossRule:
    """The value at one batch: `loss` (outputs, targets) -> mean loss, and the metric the landscape draws.

    metric: 'loss', 'accuracy' (the default rule's classes: logit > 0, or the arg-max), or a callable
    (outputs, targets) -> the batch's mean value. `key` names both, for a cache's fingerprint."""

    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    metric: Any
    default: bool
    key: str

    @classmethod
    def build(cls, loss_fn: Any = None, metric: Any = "loss") -> "LossRule":
        if loss_fn is None or (isinstance(loss_fn, str) and normalize_name(loss_fn) == "default"):
            loss, default, loss_key = default_loss, True, "default"
        elif isinstance(loss_fn, str):
            name = normalize_name(loss_fn)
            if name not in LOSSES:
                raise InvalidArgument(unknown_name_message("loss", loss_fn, LOSSES))
            loss, default, loss_key = LOSSES[name][0], False, name
        elif callable(loss_fn):
            loss, default, loss_key = loss_fn, False, _callable_name(loss_fn) + repr(loss_fn)[:200]
        else:
            raise InvalidArgument(f"invalid loss_fn: {loss_fn!r} (a callable (outputs, targets) -> mean loss, "
                                  f"or one of: {', '.join(LOSSES)})")
        if callable(metric) and not isinstance(metric, str):
            metric_key = _callable_name(metric)
        else:
            name = normalize_name(str(metric))
            name = METRICS.lookup(name).name
            metric, metric_key = name, name
        return cls(loss, metric, default, f"{loss_key}|{metric_key}")

    @property
    def label(self) -> str:
        if self.metric == "loss":
            return "mean training loss" if self.default else "mean loss"
        if self.metric == "accuracy":
            return "training accuracy"
        return getattr(self.metric, "__name__", "metric")

    def value(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The batch's mean value of the metric (a 0-d tensor)."""
        if self.metric == "loss":
            out = self.loss(outputs, targets)
        elif self.metric == "accuracy":
            out = _accuracy(outputs, targets)
        else:
            out = self.metric(outputs, targets)
        if not isinstance(out, torch.Tensor) or out.numel() != 1:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise InvalidArgument(f"the loss/metric returned {shape}, not one number: it must return the batch's "
                                  "mean (reduction='mean')")
        return out.reshape(())


def _batch_size(inputs: Any) -> int:
    if isinstance(inputs, torch.Tensor):
        return int(inputs.shape[0]) if inputs.dim() else 1
    if isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], torch.Tensor):
        return int(inputs[0].shape[0])
    raise InvalidArgument(f"a batch's inputs must be a tensor, got {type(inputs).__name__}")


class DataSource:
    """(inputs, targets) tensors, a DataLoader or a re-iterable of batches, read one batch at a time.

    Floating inputs and targets take the model's dtype (`dtype`) on the way to the device; integer ones (class
    labels, token ids) are kept as they are. batch_size splits tensors (default DEFAULT_BATCH samples);
    a DataLoader keeps its own batches.
    """

    def __init__(self, data: Any, *, batch_size: int | None = None) -> None:
        self.tensors: tuple[torch.Tensor, torch.Tensor] | None = None
        self.loader: Any = None
        if batch_size is not None:
            batch_size = check_positive("batch_size", batch_size, integer=True)
        if isinstance(data, str):
            from gradviz.lecture.data import make_dataset

            data = make_dataset(data)
        if isinstance(data, (tuple, list)) and len(data) == 2 and all(
                isinstance(part, (torch.Tensor, np.ndarray)) for part in data):
            inputs, targets = (torch.as_tensor(part) for part in data)
            if inputs.dim() == 0 or targets.dim() == 0 or len(inputs) != len(targets):
                raise InvalidArgument(f"inputs and targets must have one row per sample, got shapes "
                                      f"{tuple(inputs.shape)} and {tuple(targets.shape)}")
            if len(inputs) == 0:
                raise InvalidArgument("the data set is empty")
            self.tensors = (inputs, targets)
            self.batch_size = batch_size or min(len(inputs), DEFAULT_BATCH)
        elif isinstance(data, (tuple, list)) and len(data) == 2:
            raise InvalidArgument(f"data must be (inputs, targets) tensors, a DataLoader or an iterable of "
                                  f"(inputs, targets) batches; got a pair of {type(data[0]).__name__} and "
                                  f"{type(data[1]).__name__}")
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
            if iter(data) is data:
                raise InvalidArgument("data is a one-shot iterator: give a DataLoader or a list of batches, which "
                                      "can be read again for every grid chunk")
            self.loader = data
            self.batch_size = getattr(data, "batch_size", None)
        else:
            raise InvalidArgument(f"data must be (inputs, targets) tensors, a DataLoader or an iterable of (inputs, "
                                  f"targets) batches, not {type(data).__name__}")

    @property
    def in_memory(self) -> bool:
        """True when the data are one batch of tensors: evaluators may keep work done on it between chunks."""
        return self.tensors is not None and self.batch_size >= len(self.tensors[0])

    def _raw(self) -> Iterator[tuple[Any, Any]]:
        if self.tensors is not None:
            inputs, targets = self.tensors
            for start in range(0, len(inputs), self.batch_size):
                yield inputs[start:start + self.batch_size], targets[start:start + self.batch_size]
            return
        for index, batch in enumerate(self.loader):
            try:
                inputs, targets = batch
            except (TypeError, ValueError):
                raise InvalidArgument(f"batch {index} of the data is not an (inputs, targets) pair "
                                      f"({type(batch).__name__})") from None
            yield inputs, targets

    def batches(self, device: torch.device | str = "cpu",
                dtype: torch.dtype = torch.float32) -> Iterator[tuple[Any, torch.Tensor, int]]:
        """(inputs, targets, n) one batch at a time, on `device`; floating tensors in `dtype`."""
        total = 0
        for inputs, targets in self._raw():
            n = _batch_size(inputs)
            targets = torch.as_tensor(targets)
            if targets.dim() == 0 or len(targets) != n:
                raise InvalidArgument(f"a batch has {n} inputs but targets of shape {tuple(targets.shape)}")
            total += n
            yield _to(inputs, device, dtype), _to(targets, device, dtype), n
        if total == 0:
            raise InvalidArgument("the data set is empty")

    def fingerprint(self) -> str:
        """Order-free summary of the data (count, sums and sums of squares, in float64): what a cache checks."""
        count, parts = 0, []
        sums = None
        for inputs, targets, n in self.batches("cpu", torch.float64):
            count += n
            here = [_moments(inputs), _moments(targets)]
            sums = here if sums is None else [[a + b for a, b in zip(s, h)] for s, h in zip(sums, here)]
        parts = [count] + [f"{v:.9e}" for pair in (sums or []) for v in pair]
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _moments(t: Any) -> list[float]:
    if isinstance(t, (list, tuple)):
        return [sum(_moments(x)[i] for x in t) for i in range(2)]
    t = t.detach().to("cpu", torch.float64)
    return [float(t.sum()), float((t * t).sum())]


def _to(t: Any, device: torch.device | str, dtype: torch.dtype) -> Any:
    if isinstance(t, (list, tuple)):
        return type(t)(_to(x, device, dtype) for x in t)
    t = torch.as_tensor(t)
    if t.is_floating_point():
        return t.to(device=device, dtype=dtype)
    return t.to(device)


def as_source(data: Any, *, batch_size: int | None = None) -> DataSource:
    """A DataSource, or the one given."""
    return data if isinstance(data, DataSource) else DataSource(data, batch_size=batch_size)
