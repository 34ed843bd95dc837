"""A user's loss, as every consumer of a model reads it: the loss half of the data-and-loss layer (the data
half, DataSource and Batch, is gradviz.analysis.sources).

`LossRule.value(model, batch)` is the batch's mean loss with whatever weights are in the model at the call. The
default follows the ecosystem: a batch without separate targets (a dict, as
Hugging Face batches are) whose model returns an output with a `.loss` (transformers' ModelOutput) uses
that loss, as `model(**batch).loss` gives it; otherwise the output's logits (the tensor itself, the first
element of a tuple, or `.logits`) and the targets go through `loss_fn` (outputs, targets) -> mean loss,
by default BCE-with-logits for one output and cross-entropy for several (class indices, or probabilities
shaped like the logits: soft or one-hot labels). For anything else the one hook is `compute_loss`:
`(model, batch) -> mean loss`, the batch as the data gave it (moved to the device), as Hugging Face's
`Trainer.compute_loss(model, inputs)` and Lightning's `training_step(batch)` take it.

`LossRule.check(model, source)` reads the first batch before any grid is evaluated and turns each problem a
first batch shows (a model that cannot take the inputs, labels out of range, a loss that is a sum, NaN in
the inputs or the weights, ...) into one line that names the batch and what to change.

`per_sample_values` gives each sample's value of the losses whose per-sample form is known (the default, the
named ones, accuracy), for the standard errors of landscape(samples=N); a callable loss, a compute_loss and a
model's own `.loss` give batch means only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from gradviz.analysis.choices import METRICS
from gradviz.analysis.sources import HOOK, Batch, DataSource, _describe, _tensors
from gradviz.i18n import _
from gradviz.registry import InvalidArgument, normalize_name, unknown_name_message

__all__ = ["LossRule", "FirstBatch", "default_loss", "logits_of", "own_loss", "per_sample_values", "has_per_sample",
           "LOSSES", "IGNORE_INDEX"]

IGNORE_INDEX = -100  # cross_entropy's label for positions without a loss (padding), as torch and transformers use it


def logits_of(outputs: Any) -> torch.Tensor:
    """A model's output -> its logits: the tensor itself, `.logits` (transformers' ModelOutput, or a dict's
    'logits'), or the first element of a tuple or list ((logits, aux) models)."""
    if isinstance(outputs, torch.Tensor):
        return outputs
    logits = getattr(outputs, "logits", None)
    if logits is None and isinstance(outputs, Mapping):
        logits = outputs.get("logits")
    if isinstance(logits, torch.Tensor):
        return logits
    if isinstance(outputs, (tuple, list)) and outputs and isinstance(outputs[0], torch.Tensor):
        return outputs[0]
    raise InvalidArgument(f"the model returned {_describe(outputs)} with no logits in it (a tensor, a tuple whose "
                          f"first element is the logits, or an object with .logits): give {HOOK}")


def own_loss(outputs: Any) -> torch.Tensor | None:
    """The loss a model computed itself: `.loss` of a ModelOutput (or a dict's 'loss'), or None."""
    if isinstance(outputs, (torch.Tensor, tuple, list)):
        return None
    loss = getattr(outputs, "loss", None)
    if loss is None and isinstance(outputs, Mapping):
        loss = outputs.get("loss")
    return loss if isinstance(loss, torch.Tensor) else None


def _cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy on (n, classes) logits: class indices (n,), or probabilities shaped like the logits
    (soft or one-hot labels)."""
    if targets.is_floating_point() and targets.shape == outputs.shape:
        return nn.functional.cross_entropy(outputs, targets.to(outputs.dtype))
    return nn.functional.cross_entropy(outputs, targets.reshape(-1).long())


def default_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """BCE-with-logits for one output, cross-entropy for several (mean over the batch): the loss `train`
    minimises and the landscapes draw by default. Cross-entropy takes class indices or probabilities."""
    if outputs.dim() != 2:
        raise InvalidArgument(f"the model's output has shape {tuple(outputs.shape)}; the default loss needs "
                              f"(n, classes) logits: give loss_fn= for other outputs (e.g. nn.MSELoss()) or {HOOK}")
    if outputs.shape[-1] == 1:
        return nn.functional.binary_cross_entropy_with_logits(outputs[:, 0], targets.reshape(-1).to(outputs.dtype))
    return _cross_entropy(outputs, targets)


def _accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    if outputs.dim() != 2:
        raise InvalidArgument(f"the model's output has shape {tuple(outputs.shape)}; accuracy needs (n, classes) "
                              "logits and class targets: give metric= a callable for other outputs")
    predicted = (outputs[:, 0] > 0).long() if outputs.shape[-1] == 1 else outputs.argmax(-1)
    if targets.is_floating_point() and targets.shape == outputs.shape and outputs.shape[-1] > 1:
        targets = targets.argmax(-1)  # one-hot or soft labels: their most likely class
    return (predicted == targets.reshape(-1).long()).to(outputs.dtype).mean()


def _mse(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(outputs, targets.reshape(outputs.shape).to(outputs.dtype))


def _l1(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.l1_loss(outputs, targets.reshape(outputs.shape).to(outputs.dtype))


def _bce(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(outputs.reshape(-1), targets.reshape(-1).to(outputs.dtype))


# name -> (loss, what it is); the CLI's --loss choices read this
LOSSES: dict[str, tuple[Callable[..., torch.Tensor], str]] = {
    "default": (default_loss, "BCE-with-logits for one output, cross-entropy for several (as train)"),
    "cross-entropy": (_cross_entropy, "F.cross_entropy on (n, classes) logits: class indices or probabilities"),
    "bce": (_bce, "binary cross-entropy with logits on one output"),
    "mse": (_mse, "mean squared error (regression)"),
    "l1": (_l1, "mean absolute error (regression)"),
}


def has_per_sample(rule: LossRule, first: FirstBatch | None = None) -> bool:
    """Whether per_sample_values knows `rule`'s per-sample form: the default loss, a named loss or accuracy,
    on the logits and tensor targets (where batch 0 gave `first`: not the model's own .loss)."""
    if rule.compute_loss is not None or (first is not None and not first.from_targets):
        return False
    if rule.metric == "accuracy":
        return True
    if rule.metric != "loss":
        return False
    return rule.default or any(fn is rule.loss for fn, _ in LOSSES.values())


def per_sample_values(rule: LossRule, outputs: Any, batch: Batch) -> torch.Tensor | None:
    """Each sample's value of `rule` on one batch, (samples,), whose mean is the batch's value: for the default
    loss, the named losses and accuracy on the logits and the batch's tensor targets. None where the per-sample
    form is unknown: a callable loss or metric, a compute_loss, the model's own .loss (they give the batch's
    mean only). Positions labelled IGNORE_INDEX carry no loss and are left out."""
    targets = batch.labels
    if not has_per_sample(rule) or not isinstance(targets, torch.Tensor):
        return None
    if rule.default and rule.metric == "loss" and batch.targets is None and own_loss(outputs) is not None:
        return None
    logits = logits_of(outputs)
    n = logits.shape[0]
    soft = targets.is_floating_point() and targets.shape == logits.shape and logits.dim() == 2
    name = "default" if rule.default else next(key for key, (fn, _) in LOSSES.items() if fn is rule.loss)
    if rule.metric == "accuracy":
        predicted = (logits[:, 0] > 0).long() if logits.shape[-1] == 1 else logits.argmax(-1)
        labels = targets.argmax(-1) if soft and logits.shape[-1] > 1 else targets.reshape(-1).long()
        return (predicted == labels).to(logits.dtype)
    if name == "bce" or (name == "default" and logits.shape[-1] == 1):
        each = nn.functional.binary_cross_entropy_with_logits(
            logits.reshape(-1), targets.reshape(-1).to(logits.dtype), reduction="none")
        return each.reshape(n, -1).mean(1)
    if name in ("default", "cross-entropy"):
        if soft:
            return nn.functional.cross_entropy(logits, targets.to(logits.dtype), reduction="none")
        labels = targets.reshape(-1).long()
        kept = labels != IGNORE_INDEX
        return nn.functional.cross_entropy(logits[kept], labels[kept], reduction="none")
    difference = logits - targets.reshape(logits.shape).to(logits.dtype)
    each = difference * difference if name == "mse" else difference.abs()
    return each.reshape(n, -1).mean(1)  # equal elements per sample: the mean of these is the batch's mean


def _callable_name(fn: Any) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    module = getattr(fn, "__module__", None) or type(fn).__module__
    return f"{module}.{name}"


def _scalar(out: Any, what: str) -> torch.Tensor:
    if not isinstance(out, torch.Tensor) or out.numel() != 1:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise InvalidArgument(f"{what} returned {shape}, not one number: it must return the batch's mean "
                              "(reduction='mean')")
    return out.reshape(())


def _reduction(loss_fn: Any) -> str:
    """A loss's reduction where it says one: nn.CrossEntropyLoss(reduction='sum'), partial(F.mse_loss, ...)."""
    if isinstance(loss_fn, functools.partial):
        return str(loss_fn.keywords.get("reduction", "mean"))
    return str(getattr(loss_fn, "reduction", "mean"))


@dataclass(frozen=True)
class FirstBatch:
    """What the checks learned from batch 0, which says which of an evaluator's shortcuts apply. plain: one
    positional tensor input, 1-D targets, a tensor output (the fused default loss over a chunk's outputs).
    outputs: the output's type name ('Tensor', 'tuple', 'SequenceClassifierOutput', or 'compute_loss').
    one_input: one positional tensor input and no keyword inputs, and gradviz calls the model (no
    compute_loss): what the first layer once per batch needs. from_targets: the value comes from the logits
    and tensor targets (not the model's own .loss, not a compute_loss): what per-sample values need."""

    plain: bool
    outputs: str
    one_input: bool = False
    from_targets: bool = False


@dataclass(frozen=True)
class LossRule:
    """The value at one batch: `value(model, batch)`, the batch's mean loss (or metric) with whatever weights
    are in the model at the call. `loss`: (outputs, targets) -> mean loss on the logits; `compute_loss`:
    (model, batch) -> mean loss, the one hook for everything else; `default`: the default rule (the model's
    own `.loss` for batches without targets, else BCE / cross-entropy). metric: 'loss', 'accuracy' or a
    callable (logits, targets) -> the batch's mean value. `key` names them, for a cache's fingerprint."""

    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    metric: Any
    default: bool
    key: str
    compute_loss: Callable[[nn.Module, Any], torch.Tensor] | None = None
    name: str = "default"

    @classmethod
    def build(cls, loss_fn: Any = None, metric: Any = "loss", compute_loss: Any = None) -> "LossRule":
        if compute_loss is not None and not callable(compute_loss):
            raise InvalidArgument(f"invalid compute_loss: {compute_loss!r} (a callable (model, batch) -> mean loss)")
        if compute_loss is not None and loss_fn is not None and not (
                isinstance(loss_fn, str) and normalize_name(loss_fn) == "default"):
            raise InvalidArgument("give loss_fn=(outputs, targets) -> loss or compute_loss=(model, batch) -> loss, "
                                  "not both: compute_loss computes the whole loss")
        if loss_fn is None or (isinstance(loss_fn, str) and normalize_name(loss_fn) == "default"):
            loss, default, loss_key, name = default_loss, compute_loss is None, "default", "default"
        elif isinstance(loss_fn, str):
            name = normalize_name(loss_fn)
            if name not in LOSSES:
                raise InvalidArgument(unknown_name_message("loss", loss_fn, LOSSES))
            loss, default, loss_key = LOSSES[name][0], False, name
        elif callable(loss_fn):
            if _reduction(loss_fn) != "mean":
                raise InvalidArgument(f"loss {loss_fn!r} has reduction={_reduction(loss_fn)!r}: gradviz needs the "
                                      "batch's mean (reduction='mean'); it weights batch means by their sizes itself")
            loss, default, loss_key, name = loss_fn, False, _callable_name(loss_fn) + repr(loss_fn)[:200], "own"
        else:
            raise InvalidArgument(f"invalid loss_fn: {loss_fn!r} (a callable (outputs, targets) -> mean loss, "
                                  f"or one of: {', '.join(LOSSES)})")
        if compute_loss is not None:
            loss_key, name = "compute_loss " + _callable_name(compute_loss) + repr(compute_loss)[:200], "hook"
        if callable(metric) and not isinstance(metric, str):
            metric_key = _callable_name(metric)
        else:
            metric_name = METRICS.lookup(normalize_name(str(metric))).name
            metric, metric_key = metric_name, metric_name
        if compute_loss is not None and metric != "loss":
            raise InvalidArgument(f"metric {metric_key!r} reads the model's logits, which compute_loss does not "
                                  "give: draw the loss, or give loss_fn=(outputs, targets) instead")
        return cls(loss, metric, default, f"{loss_key}|{metric_key}", compute_loss, name)

    @property
    def label(self) -> str:
        if self.metric == "loss":
            return _("mean training loss") if self.default else _("mean loss")
        if self.metric == "accuracy":
            return _("training accuracy")
        return getattr(self.metric, "__name__", "metric")

    def value(self, model: Any, batch: Batch) -> torch.Tensor:
        """The batch's mean loss or metric (a 0-d tensor), the model called with the weights it holds now."""
        if self.compute_loss is not None:
            return _scalar(self.compute_loss(model, batch.data), "compute_loss")
        return self.of_outputs(batch.call(model), batch)

    def of_outputs(self, outputs: Any, batch: Batch) -> torch.Tensor:
        """The batch's mean loss or metric from the model's outputs on it."""
        if self.metric == "loss" and self.default and batch.targets is None:
            loss = own_loss(outputs)
            if loss is not None:
                return _scalar(loss, "the model's .loss")
        targets = batch.labels
        if not isinstance(targets, torch.Tensor):
            raise InvalidArgument(
                f"batch {batch.index} has no targets and the model returned {_describe(outputs)} with no .loss: "
                "give batches (inputs..., targets), a dict with 'labels' for a model that returns .loss "
                f"(transformers), or {HOOK}")
        logits = logits_of(outputs)
        if self.metric == "loss":
            return _scalar(self.loss(logits, targets), "the loss")
        if self.metric == "accuracy":
            return _scalar(_accuracy(logits, targets), "accuracy")
        return _scalar(self.metric(logits, targets), "the metric")

    # -- the first batch's checks ---------------------------------------------------------------------------

    def check(self, model: nn.Module, source: DataSource, *, device: Any = "cpu",
              dtype: torch.dtype = torch.float32) -> FirstBatch:
        """Read batch 0 and refuse, in one line that names the batch and what to change, what would make every
        value of a grid wrong or raise inside it. The model runs once in eval mode, without gradients, and is
        left as it was found."""
        _check_weights(model)
        batch = source.first(device, dtype)
        _check_finite(batch)
        flags = [(m, m.training) for m in model.modules()]
        model.eval()
        try:
            with torch.no_grad():
                if self.compute_loss is not None:
                    value = self.value(model, batch)
                    _check_mean(value, lambda: self.value(model, _twice(batch)), batch, "compute_loss")
                    return FirstBatch(False, "compute_loss")
                head = _head(batch)
                try:
                    outputs = _forward(model, head)
                    if head is not batch and not _rows(outputs, head.n):  # dim 0 was not the samples: all of it
                        head, outputs = batch, _forward(model, batch)
                except InvalidArgument:
                    self._check_labels_inside(model, batch)  # a model that computes its own loss raised on them
                    raise
                uses_own = self.metric == "loss" and self.default and batch.targets is None \
                    and own_loss(outputs) is not None
                if not uses_own and isinstance(batch.labels, torch.Tensor):
                    logits = logits_of(outputs)
                    if head is not batch:  # the head's logits stand for the whole batch's: every label is checked
                        logits = logits[:1].expand(batch.targets.shape[0], *logits.shape[1:])
                    self._check_targets(logits, batch.labels, batch)
                value = self.of_outputs(outputs, head)
                if self.metric == "loss" and self.name == "own":
                    logits, targets = logits_of(outputs), head.labels
                    _check_mean(value, lambda: self.loss(torch.cat([logits, logits]), torch.cat([targets, targets])),
                                batch, "the loss")
        finally:
            for module, flag in flags:
                module.training = flag
        one_input = len(batch.args) == 1 and not batch.kwargs and isinstance(batch.args[0], torch.Tensor)
        plain = (one_input and isinstance(outputs, torch.Tensor) and isinstance(batch.targets, torch.Tensor)
                 and batch.targets.dim() == 1)
        from_targets = not uses_own and isinstance(batch.labels, torch.Tensor)
        return FirstBatch(plain, type(outputs).__name__, one_input, from_targets)

    def _check_labels_inside(self, model: nn.Module, batch: Batch) -> None:
        """A dict batch's labels against the logits the model gives without them: a transformers model that
        raised on its own loss raised on its labels, and this says how they are wrong."""
        labels = batch.kwargs.get("labels")
        if not isinstance(labels, torch.Tensor):
            return
        rest = {k: v for k, v in batch.kwargs.items() if k != "labels"}
        try:
            logits = logits_of(model(*batch.args, **rest))
        except (RuntimeError, TypeError, ValueError, IndexError, InvalidArgument):
            return  # the model needs its labels: the first error stands
        if logits.dim() == 2:
            self._check_targets(logits, labels, batch)

    def _check_targets(self, logits: torch.Tensor, targets: torch.Tensor, batch: Batch) -> None:
        where = f"batch {batch.index}"
        if self.name in ("mse", "l1") and targets.numel() != logits.numel():
            raise InvalidArgument(f"{where}: targets of shape {tuple(targets.shape)} for outputs of shape "
                                  f"{tuple(logits.shape)}: loss {self.name!r} compares them element by element")
        if self.name == "cross-entropy" and logits.dim() == 2 and logits.shape[-1] == 1:
            raise InvalidArgument(f"{where}: loss 'cross-entropy' on a model with 1 output is 0 everywhere: use "
                                  "'bce' (or the default) for one output, or give the model one output per class")
        if self.name not in ("default", "cross-entropy", "bce") or logits.dim() != 2:
            return
        binary = self.name == "bce" or (self.name == "default" and logits.shape[-1] == 1)
        if targets.is_floating_point() and not bool(torch.isfinite(targets).all()):
            return  # _check_finite named it already; NaN targets cannot reach here
        lo, hi = float(targets.min()), float(targets.max())
        if binary:
            if targets.numel() != len(logits):
                raise InvalidArgument(f"{where}: targets of shape {tuple(targets.shape)} for {len(logits)} one-output "
                                      "logits: binary cross-entropy takes one target in [0, 1] per sample")
            if lo < 0 or hi > 1:
                hint = " (labels -1/+1? map them with (y + 1) / 2)" if lo == -1 and hi == 1 else ""
                raise InvalidArgument(f"{where}: binary cross-entropy targets must lie in [0, 1], these run from "
                                      f"{lo:g} to {hi:g}{hint}")
            return
        classes = logits.shape[-1]
        if targets.is_floating_point() and targets.shape == logits.shape:
            sums = targets.sum(-1)
            if lo < 0 or hi > 1 or float((sums - 1).abs().max()) > 1e-3:
                raise InvalidArgument(f"{where}: float targets shaped like the logits {tuple(logits.shape)} are read as "
                                      f"probabilities per class, but these run from {lo:g} to {hi:g} with rows "
                                      f"summing to {float(sums.min()):.4g}..{float(sums.max()):.4g} (each row must "
                                      "sum to 1)")
            return
        if targets.reshape(-1).shape[0] != len(logits):
            raise InvalidArgument(f"{where}: targets of shape {tuple(targets.shape)} for logits of shape "
                                  f"{tuple(logits.shape)}: cross-entropy takes class indices ({len(logits)},) or "
                                  f"probabilities {tuple(logits.shape)}")
        if targets.is_floating_point() and not bool((targets == targets.round()).all()):
            raise InvalidArgument(f"{where}: fractional targets of shape {tuple(targets.shape)} (from {lo:g} to {hi:g}) "
                                  f"for cross-entropy: give class indices 0..{classes - 1} or probabilities shaped "
                                  f"{tuple(logits.shape)}")
        used = targets[targets != IGNORE_INDEX]
        if used.numel() and (float(used.min()) < 0 or float(used.max()) >= classes):
            raise InvalidArgument(f"{where}: labels run from {float(used.min()):g} to {float(used.max()):g} but the "
                                  f"model has {classes} outputs (classes 0 to {classes - 1}): give it one output per "
                                  f"class, or labels from 0 to {classes - 1}")


def _check_weights(model: nn.Module) -> None:
    for kind, items in (("weight", model.named_parameters()), ("buffer", model.named_buffers())):
        for name, t in items:
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                bad = int((~torch.isfinite(t)).sum())
                raise InvalidArgument(f"the model's {kind} {name!r} has {bad} NaN or infinite value(s) of "
                                      f"{t.numel()}: load weights that are finite (a diverged checkpoint?)")


def _check_finite(batch: Batch) -> None:
    named = [("input x" if len(batch.args) == 1 else f"input x{i + 1}", t) for i, t in enumerate(batch.args)]
    named += [(f"entry {key!r}", t) for key, t in batch.kwargs.items()] + [("targets", batch.targets)]
    for what, value in named:
        for name, t in _tensors(value):
            if not t.is_floating_point() or bool(torch.isfinite(t).all()):
                continue
            bad = int((~torch.isfinite(t)).sum())
            label = what + (f" {name}" if name else "")
            raise InvalidArgument(f"batch {batch.index} of the data: {label} of shape {tuple(t.shape)} has {bad} NaN "
                                  "or infinite value(s): clean the data (drop or impute those samples)")


def _first_layer(model: nn.Module) -> nn.Module | None:
    return next((m for m in model.modules() if not list(m.children()) and
                 any(True for _ in m.parameters(recurse=False))), None)


def _hint(model: nn.Module, batch: Batch, error: Exception) -> str:
    """What to change, where the inputs show it: integers into a float layer, images into a Linear layer, the
    wrong number of inputs."""
    first = _first_layer(model)
    inputs = [t for t in (*batch.args, *batch.kwargs.values()) if isinstance(t, torch.Tensor)]
    x = inputs[0] if inputs else None
    if x is not None and not x.is_floating_point() and not x.is_complex() \
            and isinstance(first, (nn.Linear, nn.modules.conv._ConvNd)):
        return (f"; the inputs are {str(x.dtype).replace('torch.', '')} but the first layer "
                f"({type(first).__name__}) computes in floats: convert them with x.float() (token ids need an "
                "nn.Embedding first)")
    if x is not None and isinstance(first, nn.Linear) and x.dim() >= 2 and x.shape[-1] != first.in_features:
        if x.dim() > 2 and math.prod(x.shape[1:]) == first.in_features:
            return (f"; the inputs have shape {tuple(x.shape)} but the first layer is Linear({first.in_features}, "
                    f"{first.out_features}): add nn.Flatten() in front of it or reshape the data to (n, "
                    f"{first.in_features})")
        return (f"; the inputs have {x.shape[-1]} features (shape {tuple(x.shape)}) but the first layer, "
                f"Linear({first.in_features}, {first.out_features}), takes {first.in_features}")
    if isinstance(error, TypeError):
        return (f"; batches (x1, ..., xk, y) call model(x1, ..., xk) with the last element as the targets, dicts call "
                f"model(**batch): for another layout give {HOOK}")
    return ""


def _forward(model: nn.Module, batch: Batch) -> Any:
    try:
        return batch.call(model)
    except (RuntimeError, TypeError, ValueError, IndexError) as error:
        text = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise InvalidArgument(f"batch {batch.index}: {batch.calling()} raised {type(error).__name__}: {text}"
                              f"{_hint(model, batch, error)}") from error


HEAD_ROWS = 8  # rows of batch 0 the checks run the model on, where the batch is one input tensor and targets


def _head(batch: Batch) -> Batch:
    """The first HEAD_ROWS samples of a batch of one input tensor and tensor targets that share dim 0 (the
    checks' forward on them instead of all of batch 0: on ResNet-18 with one batch of 64 that forward was a
    whole grid point's cost); any other batch whole."""
    x, targets = batch.args[0] if len(batch.args) == 1 else None, batch.targets
    if (batch.kwargs or not isinstance(x, torch.Tensor) or not isinstance(targets, torch.Tensor) or x.dim() < 2
            or not targets.dim() or x.shape[0] != targets.shape[0] or x.shape[0] <= 2 * HEAD_ROWS):
        return batch
    data = batch.data
    if isinstance(data, (tuple, list)) and len(data) == 2 and data[0] is x and data[1] is targets:
        data = type(data)((x[:HEAD_ROWS], targets[:HEAD_ROWS]))
    return Batch(data, (x[:HEAD_ROWS],), {}, targets[:HEAD_ROWS], HEAD_ROWS, batch.index)


def _rows(outputs: Any, rows: int) -> bool:
    """Whether the outputs have one row per sample of the head (a model that reads dim 0 as time does not)."""
    logits = logits_of(outputs)
    return logits.dim() >= 1 and logits.shape[0] == rows


def _twice(batch: Batch) -> Batch:
    """The batch given twice (every tensor concatenated with itself): a mean is unchanged, a sum doubles."""
    def double(t: Any) -> Any:
        if isinstance(t, torch.Tensor) and t.dim():
            return torch.cat([t, t])
        if isinstance(t, Mapping):
            return {k: double(v) for k, v in t.items()}
        if isinstance(t, (tuple, list)):
            return type(t)(double(v) for v in t)
        return t

    args, kwargs, targets = double(batch.args), double(batch.kwargs), double(batch.targets)
    return Batch(double(batch.data), args, kwargs, targets, 2 * batch.n, batch.index)


def _check_mean(value: torch.Tensor, on_twice: Callable[[], torch.Tensor], batch: Batch, what: str) -> None:
    once = float(value)
    if once == 0 or not math.isfinite(once):
        return
    try:
        twice = float(on_twice())
    except (RuntimeError, ValueError, IndexError, TypeError):  # a loss that needs the batch's own size: no test
        return
    if abs(twice / once - 2) < 0.1:
        raise InvalidArgument(f"{what} at batch {batch.index} is {once:.6g}, and {twice:.6g} on the batch given twice: "
                              "it sums over the samples; return their mean (reduction='mean'): gradviz weights "
                              "batch means by their sizes itself")
