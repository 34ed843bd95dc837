"""Recording gradient flow through any nn.Module (the lecture's deep-MLP experiment is gradviz.lecture.deepnets).

Layers are the modules with parameters of their own, named as named_modules() names them, in the order
of the forward pass (an MLP's Linears; a CNN's Conv2d, BatchNorm2d and Linear; a transformer layer's
attention, Linears and LayerNorms; a module the forward never calls, like nn.MultiheadAttention's
out_proj, right after the module before it, with no backward signal of its own).

`record_gradients(model, optimizer)` is a context manager around an ordinary training loop. Per step it
records, for every leaf module that has parameters, the weight-gradient norm, the norm of the gradient
reaching the module's output (the backward signal) and the parameter norm, plus the total gradient norm
before and after clipping, the update-to-weight ratio, NaN/inf counts and the share of dead ReLU units.

How, and why so (see shared/reference/gradient-flow.md):
- Backward signal: a forward hook registers a pre-hook on the autograd node that produced the module's
  output (the node-level twin of out.register_hook, at a third of its cost). That works with
  nn.ReLU(inplace=True), where register_full_backward_hook raises. The forward hook returns None (a
  returned value would replace the module's output). The output gradients wait for the pass to end,
  SIGNAL_BUFFER bytes of them at most, and are measured by the same _foreach_norm as the weight gradients
  (one fused launch on CUDA). A module called twice adds both signals (root sum of squares).
- Weight gradients are read from p.grad when the optimizer is about to step (its step pre-hook): that is
  what the optimizer sees, right under gradient accumulation and after clipping. The norm before clipping
  is taken when each backward pass ends (a callback queued with the autograd engine by the first output
  gradient of the pass); when nothing touched the gradients since (their _version is unchanged), those
  norms are reused at the step.
  Without an optimizer, a step is a backward pass.
- Parameter norm and update: the step pre-hook measures the layers' weights and copies them (one
  _foreach_norm, one _foreach_copy_), the post-hook subtracts the new weights from the copies and
  measures the difference (one _foreach_sub_, one _foreach_norm). On a step with real arithmetic on a
  CPU these passes over the weights are most of the recorder's cost (the copy and the subtraction read
  and write memory); updates=False keeps the parameter norm and skips the copy, the subtraction and the
  update ratio.
- every=k records steps 0, k, 2k, ...: on the other steps the modules carry no hooks (they are removed
  after a recorded optimizer step and put back before the next recorded one) and the optimizer's return
  at once: no norm, no copy, no host transfer. The GradientLog's `steps` says which steps it holds.
- All norms are computed on the device (gradients with torch._foreach_norm) and moved to the host once
  per step, as one concatenated row; grouping into layers happens in numpy, in result().
- Every hook handle is kept and removed on exit, exceptions included.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from gradviz.records import GradientLog
from gradviz.limits import check_count
from gradviz.registry import InvalidArgument, check_positive, check_seed
from gradviz.lecture.schedules import build_scheduler

__all__ = ["record_gradients", "GradientRecorder", "gradflow_model", "StepRow"]

RELU_FAMILY = (nn.ReLU, nn.ReLU6, nn.LeakyReLU)
LOW_PRECISION = (torch.float16, torch.bfloat16)
SIGNAL_BUFFER = 32 * 2**20  # bytes of output gradients kept waiting for one _foreach_norm, at most


@dataclass(frozen=True)
class PassNorms:
    """One backward pass's norms on the device, stacked into one tensor: named blocks in `names`, each
    `lengths` long ('grads': every parameter that has a gradient; 'signal': the output gradients that
    arrived, of layers `signal_layers`; 'params': the weights, when there is no optimizer step to measure
    them)."""

    norms: torch.Tensor
    names: tuple[str, ...]
    lengths: tuple[int, ...]
    signal_layers: tuple[int, ...]


@dataclass(frozen=True)
class StepRow:
    """One recorded step on the host: every norm measured that step, moved in one transfer, and where each
    named block lies in it. Blocks: 'pass<k>.grads', 'pass<k>.signal' (and 'pass<k>.params') for each
    backward pass k of the step, then 'seen' (the gradients again, when clipping changed them before the
    step), 'params' and 'updates' (the weights before the step and the step's update) and 'dead' (the share
    of dead units of each ReLU). A new statistic is one more named block: written in _finish_step, read by
    name in result()."""

    values: np.ndarray
    layout: Mapping[str, slice]
    present: np.ndarray  # which parameters had a gradient
    signal_layers: tuple[tuple[int, ...], ...]  # per pass, the layer of each 'pass<k>.signal' value

    def __contains__(self, name: str) -> bool:
        return name in self.layout

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[self.layout[name]]

    @property
    def passes(self) -> int:
        return len(self.signal_layers)


def _layout(blocks: Sequence[tuple[str, int]]) -> dict[str, slice]:
    """Named block lengths, in order -> each name's slice of the concatenated row."""
    layout, at = {}, 0
    for name, length in blocks:
        layout[name] = slice(at, at + length)
        at += length
    return layout


class GradientRecorder:
    """The state behind `record_gradients`; `result()` gives the GradientLog recorded so far.

    Per step the hooks only compute per-tensor norms, with as few torch calls as they can, and send one
    concatenated row to the host; grouping parameters into layers happens once, in numpy, in result(). On
    a CPU, where each torch call costs microseconds, the number of calls per step is what the overhead is
    made of.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer | None = None, *, every: int = 1,
                 updates: bool = True) -> None:
        if not isinstance(model, nn.Module):
            raise InvalidArgument(f"record_gradients needs an nn.Module, got {type(model).__name__}")
        if not isinstance(updates, bool):
            raise InvalidArgument(f"invalid updates: {updates!r} (valid: True, False)")
        self.model, self.optimizer = model, optimizer
        self.every = check_positive("every", every, integer=True)
        self.updates = updates
        self._step = 0  # steps taken so far: optimizer steps, or backward passes without an optimizer
        self._active = True  # whether the current step is recorded (step % every == 0)
        self._recorded: list[int] = []  # the step of each row
        self.layers = [(name, module) for name, module in model.named_modules()
                       if name and any(True for _ in module.parameters(recurse=False))]
        if not self.layers and any(True for _ in model.parameters(recurse=False)):
            self.layers = [("(model)", model)]
        self.relus = [(name, module) for name, module in model.named_modules() if isinstance(module, RELU_FAMILY)]
        self.params = [p for _, module in self.layers for p in module.parameters(recurse=False)]
        self._owner = np.array([i for i, (_, module) in enumerate(self.layers)
                                for _ in module.parameters(recurse=False)], dtype=np.int64)
        weights = {id(getattr(module, "weight", None)): i for i, (_, module) in enumerate(self.layers)}
        self._weight_of = np.full(len(self.layers), -1)
        for index, p in enumerate(self.params):
            if id(p) in weights and self._owner[index] == weights[id(p)]:
                self._weight_of[weights[id(p)]] = index
        # ||W|| and ||W_after - W_before|| are taken of each layer's weight (all its parameters when it has
        # no `weight`): the quantities people read, at half the cost of covering every bias too
        self._weights: list[torch.Tensor] = []
        weight_layer: list[int] = []
        for i, (_, module) in enumerate(self.layers):
            tracked = ([self.params[self._weight_of[i]]] if self._weight_of[i] >= 0
                       else list(module.parameters(recurse=False)))
            self._weights += tracked
            weight_layer += [i] * len(tracked)
        self._weight_layer = np.array(weight_layer, dtype=np.int64)
        # half-precision tensors are reduced in float32: a norm overflows float16 long before its entries do
        self._low = any(p.dtype in LOW_PRECISION for p in self.params)
        self._pending: list[tuple[int, torch.Tensor]] = []  # output gradients waiting for a fused norm
        self._pending_bytes, self._pending_low = 0, False
        self._signal_hooks = [self._signal_hook(i) for i in range(len(self.layers))]
        self._order: list[int] = []  # layers in the order of their first call
        self._called: set[int] = set()
        self._handles: list[Any] = []
        self._module_handles: list[Any] = []  # forward hooks, removed during unrecorded steps
        self._rows: list[StepRow] = []
        self._losses: dict[int, Any] = {}
        self._signal: list[tuple[int, torch.Tensor]] = []
        self._dead: dict[int, torch.Tensor] = {}
        self._backward_queued = False
        self._last: dict[str, Any] | None = None  # the latest backward pass's norms, until the step
        self._seen: torch.Tensor | None = None
        self._copies: list[torch.Tensor] | None = None  # the weights before the step, then the step's update
        self._stepping = False  # between a recorded step's pre-hook and its post-hook
        self._param_norms: list[torch.Tensor] = []

    # -- hooks ---------------------------------------------------------------------------------------------

    def __enter__(self) -> "GradientRecorder":
        try:
            self._attach()
            if not self.layers:
                for p in self.params:  # no module outputs to watch: learn of backward passes from the params
                    if p.requires_grad:
                        self._handles.append(p.register_post_accumulate_grad_hook(self._on_gradient))
            if self.optimizer is not None:
                self._handles.append(self.optimizer.register_step_pre_hook(self._before_step))
                self._handles.append(self.optimizer.register_step_post_hook(self._after_step))
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _attach(self) -> None:
        """The modules' forward hooks. With an optimizer they are there only during recorded steps: a
        module without hooks takes torch's fast call path, so unrecorded steps cost nothing."""
        for index, (_, module) in enumerate(self.layers):
            self._module_handles.append(module.register_forward_hook(self._forward_hook(index)))
        for index, (_, module) in enumerate(self.relus):
            self._module_handles.append(module.register_forward_hook(self._dead_hook(index)))

    def _detach(self) -> None:
        while self._module_handles:
            self._module_handles.pop().remove()

    def _forward_hook(self, index: int) -> Any:
        signal_hook = self._signal_hooks[index]
        first_output = partial(signal_hook, 0)
        called = self._called

        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if not self._active:
                if self.optimizer is None and isinstance(output, torch.Tensor) and output.grad_fn is not None:
                    output.grad_fn.register_prehook(self._count_pass)  # a step is a backward pass: count it
                return None
            if index not in called:
                called.add(index)
                self._order.append(index)
            if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
                output = output[0]  # e.g. nn.MultiheadAttention's (output, weights)
            node = output.grad_fn if isinstance(output, torch.Tensor) else None
            if node is not None:
                # a pre-hook on the node that made the output gets dL/d(output) as it arrives; it is a
                # third of the cost of Tensor.register_hook, and the node keeps it through an in-place op
                output_nr = output.output_nr
                node.register_prehook(first_output if output_nr == 0 else partial(signal_hook, output_nr))
            return None  # a returned value would replace the module's output

        return hook

    def _signal_hook(self, index: int) -> Any:
        def hook(output_nr: int, grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
            grad = grad_outputs[output_nr]
            if grad is not None:
                if grad.requires_grad:  # backward(create_graph=True)
                    grad = grad.detach()
                # output gradients wait for the pass to end (or until SIGNAL_BUFFER bytes of them wait)
                # and are measured with the weight gradients by one _foreach_norm: one fused launch on
                # an accelerator, and on a CPU half the cost of a norm call per layer
                self._pending.append((index, grad))
                self._pending_low |= grad.dtype in LOW_PRECISION
                self._pending_bytes += grad.numel() * grad.element_size()
                if self._pending_bytes > SIGNAL_BUFFER:
                    self._measure([])
                if not self._backward_queued:
                    self._on_gradient(grad)
            return None

        return hook

    def _count_pass(self, grad_outputs: Any) -> None:
        """On an unrecorded step without an optimizer: learn when the backward pass ends, to count it."""
        self._on_gradient(None)

    def _dead_hook(self, index: int) -> Any:
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if self._active and isinstance(output, torch.Tensor) and output.ndim >= 1 and torch.is_grad_enabled():
                flat = output.detach().reshape(output.shape[0], -1) if output.ndim > 1 else output.detach()[None]
                # dead: <= 0 for the whole batch; amax over the batch is 5x quicker than (flat <= 0).all(0)
                self._dead[index] = (flat.amax(dim=0) <= 0).float().mean()
            return None

        return hook

    def _measure(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        """The norms of `tensors`, from one _foreach_norm that also measures the waiting output gradients
        (their norms go to self._signal)."""
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        everything = tensors + [grad for _, grad in pending]
        if not everything:
            return []
        low, self._pending_low = self._low or self._pending_low, False
        with torch.no_grad():  # parameters are passed as they are: no graph, no detach() per tensor
            norms = (torch._foreach_norm(everything, 2, dtype=torch.float32) if low
                     else torch._foreach_norm(everything))
        self._signal += [(index, norm) for (index, _), norm in zip(pending, norms[len(tensors):])]
        return list(norms[:len(tensors)])

    def _on_gradient(self, tensor: Any) -> None:
        """First gradient of a backward pass: have the engine call _on_backward_end when the pass ends."""
        if not self._backward_queued:
            self._backward_queued = True
            torch.autograd.Variable._execution_engine.queue_callback(self._on_backward_end)

    def _versions(self) -> list[int]:
        return [-1 if grad is None else grad._version for grad in (p.grad for p in self.params)]

    def _on_backward_end(self) -> None:
        """One _foreach_norm over the gradients (before any clipping) and the layers' output gradients
        (and, without an optimizer, the layers' weights); kept until the step."""
        self._backward_queued = False
        if not self._active:  # an unrecorded backward pass ends: without an optimizer, that is a step
            if self.optimizer is None:
                self._advance()
            return
        grads = [p.grad for p in self.params]
        present = [grad is not None for grad in grads]
        if not all(present):
            grads = [grad for grad in grads if grad is not None]
        tensors = grads + self._weights if self.optimizer is None else grads
        norms = self._measure(tensors)
        signal, self._signal = self._signal, []
        if self.optimizer is None:  # the blocks' order: gradients, signals, weights
            norms = norms[:len(grads)] + [norm for _, norm in signal] + norms[len(grads):]
            names, lengths = ("grads", "signal", "params"), (len(grads), len(signal), len(self._weights))
        else:
            norms += [norm for _, norm in signal]
            names, lengths = ("grads", "signal"), (len(grads), len(signal))
        part = PassNorms(torch.stack(norms) if norms else torch.zeros(0), names, lengths, tuple(i for i, _ in signal))
        last = self._last
        if last is not None and self.optimizer is not None:  # gradient accumulation: one more pass
            last["parts"].append(part)
            last["present"] = present
            last["versions"] = self._versions()
        else:
            self._last = {"parts": [part], "present": present,
                          "versions": self._versions() if self.optimizer is not None else None}
        if self.optimizer is None:
            self._finish_step([], [])
            self._advance()

    def _advance(self) -> None:
        self._step += 1
        self._active = self._step % self.every == 0
        if self.optimizer is not None and self.every > 1 and self._handles:  # not after close()
            if self._active and not self._module_handles:
                self._attach()
            elif not self._active and self._module_handles:
                self._detach()

    def _before_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if not self._active:
            return
        last = self._last
        with torch.no_grad():
            self._param_norms = self._norms(self._weights)
            if self.updates:
                if self._copies is None:
                    self._copies = [torch.empty_like(w) for w in self._weights]
                torch._foreach_copy_(self._copies, self._weights)
            self._stepping = True
            # clipping (or anything else) changed the gradients since the backward pass: what the
            # optimizer sees now is measured again
            if last is None or last["versions"] != self._versions():
                grads = [p.grad for p in self.params if p.grad is not None]
                self._seen = torch.stack(self._measure(grads)) if grads else None
            else:
                self._seen = None

    def _after_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if self._stepping:
            self._stepping = False
            update_norms = []
            if self._copies is not None:
                with torch.no_grad():
                    torch._foreach_sub_(self._copies, self._weights)  # before - after: the update, negated
                    update_norms = self._norms(self._copies)
            self._finish_step(self._param_norms, update_norms)
            self._param_norms = []
        self._advance()

    def _norms(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        if not tensors:
            return []
        if self._low:
            return list(torch._foreach_norm(tensors, 2, dtype=torch.float32))
        return list(torch._foreach_norm(tensors))

    def _finish_step(self, param_norms: list[torch.Tensor], update_norms: list[torch.Tensor]) -> None:
        last = self._last
        if last is None:  # a step without a backward pass through the model: nothing to record
            return
        blocks: list[tuple[str, torch.Tensor]] = []
        for k, part in enumerate(last["parts"]):
            blocks.append((f"pass{k}", part.norms))
        if self._seen is not None:
            blocks.append(("seen", self._seen))
        if param_norms:
            blocks.append(("params", torch.stack(param_norms)))
        if update_norms:
            blocks.append(("updates", torch.stack(update_norms)))
        if self.relus:
            nan = torch.full((), math.nan, device=blocks[0][1].device)
            blocks.append(("dead", torch.stack([self._dead.get(i, nan).float() for i in range(len(self.relus))])))
        tensors = [tensor for _, tensor in blocks]
        if len({tensor.device for tensor in tensors}) > 1:  # a model spread over devices: one transfer each
            tensors = [tensor.cpu() for tensor in tensors]
        row = torch.cat(tensors) if len(tensors) > 1 else tensors[0]
        if row.dtype not in (torch.float32, torch.float64):
            row = row.float()  # bfloat16 has no numpy twin
        named: list[tuple[str, int]] = []
        for (name, tensor), part in zip(blocks, last["parts"] + [None] * len(blocks)):
            if part is None:
                named.append((name, len(tensor)))
            else:  # a pass's tensor holds blocks of its own
                named += [(f"{name}.{sub}", length) for sub, length in zip(part.names, part.lengths)]
        self._recorded.append(self._step)
        self._rows.append(StepRow(row.cpu().numpy(), _layout(named), np.array(last["present"], dtype=bool),
                                  tuple(part.signal_layers for part in last["parts"])))  # ^ one transfer a step
        self._last, self._seen = None, None
        self._dead = {}

    def close(self) -> None:
        """Remove every hook (idempotent)."""
        self._detach()
        while self._handles:
            self._handles.pop().remove()

    def record_loss(self, loss: torch.Tensor | float) -> None:
        """Optionally note the step's loss, before optimizer.step() (kept on the device until result();
        ignored on steps that are not recorded)."""
        if self._active:
            self._losses[self._step] = loss.detach() if isinstance(loss, torch.Tensor) else float(loss)

    # -- grouping into layers, once -------------------------------------------------------------------------

    def _layer_norms(self, per_param: np.ndarray, has_layer: np.ndarray) -> np.ndarray:
        """(steps, params) -> (steps, layers): a layer's weight norm if it has a weight, else the norm of all
        its parameters; NaN where the layer had no gradient at all."""
        squares = np.zeros((per_param.shape[0], len(self.layers)))
        np.add.at(squares, (slice(None), self._owner), np.nan_to_num(per_param, nan=0.0) ** 2)
        out = np.sqrt(squares)
        has_weight = self._weight_of >= 0
        out[:, has_weight] = per_param[:, self._weight_of[has_weight]]
        return np.where(has_layer, out, np.nan)

    def _forward_order(self) -> list[int]:
        """Layers in the order of their first call; a layer never called (nn.MultiheadAttention's out_proj,
        whose weights its parent uses directly) right after the one before it in named_modules()."""
        order = list(self._order)
        for i in range(len(self.layers)):
            if i not in order:
                order.insert(order.index(i - 1) + 1 if i > 0 else 0, i)
        return order

    def result(self, *, label: str = "", meta: dict[str, Any] | None = None) -> GradientLog:
        """The frozen GradientLog of every step recorded so far."""
        n_layers, n_params, n_relus = len(self.layers), len(self.params), len(self.relus)
        steps = len(self._rows)
        present = np.zeros((steps, n_params), dtype=bool)
        pre = np.full((steps, n_params), np.nan)
        seen = np.full((steps, n_params), np.nan)
        n_weights = len(self._weights)
        param = np.full((steps, n_weights), np.nan)
        update = np.full((steps, n_weights), np.nan)
        signal_sq = np.zeros((steps, n_layers))
        signal_seen = np.zeros((steps, n_layers), dtype=bool)
        dead = np.full((steps, n_relus), np.nan)
        for step, row in enumerate(self._rows):
            present[step] = row.present
            for k, layers in enumerate(row.signal_layers):
                if k == row.passes - 1:  # the last pass holds the accumulated gradients
                    pre[step, present[step]] = row[f"pass{k}.grads"]
                np.add.at(signal_sq[step], list(layers), row[f"pass{k}.signal"] ** 2)
                signal_seen[step, list(layers)] = True
                if f"pass{k}.params" in row:  # no optimizer: the weights measured with the pass
                    param[step] = row[f"pass{k}.params"]
            seen[step] = pre[step]
            if "seen" in row:  # clipping changed the gradients before the step
                seen[step, present[step]] = row["seen"]
            if "params" in row:
                param[step] = row["params"]
            if "updates" in row:
                update[step] = row["updates"]
            if "dead" in row:
                dead[step] = row["dead"]
        signal = np.where(signal_seen, np.sqrt(signal_sq), np.nan)
        has_layer = np.zeros((steps, n_layers), dtype=bool)
        for p_index, layer in enumerate(self._owner):
            has_layer[:, layer] |= present[:, p_index]
        weight = self._layer_norms(seen, has_layer)
        with np.errstate(divide="ignore", invalid="ignore"):
            update_sq = np.zeros((steps, n_layers))
            param_sq = np.zeros((steps, n_layers))
            np.add.at(update_sq, (slice(None), self._weight_layer), update**2)
            np.add.at(param_sq, (slice(None), self._weight_layer), param**2)
            param_layers = np.sqrt(param_sq)
            ratio = np.sqrt(update_sq) / np.maximum(param_layers, 1e-30)
        total = np.sqrt(np.nansum(np.where(present, pre, 0.0) ** 2, axis=1))
        total_seen = np.sqrt(np.nansum(np.where(present, seen, 0.0) ** 2, axis=1))
        bad = present & ~np.isfinite(seen)
        counts = np.zeros((steps, n_layers), dtype=np.int64)
        for p_index, layer in enumerate(self._owner):
            counts[:, layer] += bad[:, p_index]
        order = self._forward_order()
        losses = None
        if self._losses:
            losses = np.array([float(self._losses[s]) if s in self._losses else np.nan for s in self._recorded])
        return GradientLog(
            names=tuple(self.layers[i][0] for i in order), steps=np.array(self._recorded, dtype=np.int64),
            grad_norms={self.layers[i][0]: weight[:, i] for i in order},
            signal_norms={self.layers[i][0]: signal[:, i] for i in order},
            param_norms={self.layers[i][0]: param_layers[:, i] for i in order},
            update_ratios={self.layers[i][0]: ratio[:, i] if self.optimizer is not None else np.full(steps, np.nan)
                           for i in order},
            has_gradient={self.layers[i][0]: has_layer[:, i] for i in order},
            nonfinite={self.layers[i][0]: counts[:, i] for i in order},
            dead_fraction={name: dead[:, j] for j, (name, _) in enumerate(self.relus)},
            total_norm=total, total_norm_clipped=total_seen, losses=losses, label=label, meta=meta or {},
        )


@contextmanager
def record_gradients(model: nn.Module, optimizer: torch.optim.Optimizer | None = None, *,
                     every: int = 1, updates: bool = True) -> Iterator[GradientRecorder]:
    """Record per-layer gradient flow of `model` for the steps taken inside the block.

        with gradviz.record_gradients(model, optimizer, every=10) as log:
            for x, y in batches: ...loss.backward(); optimizer.step()...
        flow = log.result()          # a GradientLog; flow.steps: 0, 10, 20, ...

    Given the optimizer, a step is an optimizer step and gradients are those it sees; without, a step is
    a backward pass. every=k records steps 0, k, 2k, ... (counted from the block's start); on the others
    the hooks return at once. Hooks are removed when the block ends, exceptions included.

    updates=False skips the update-to-weight ratio (left NaN): no copy of the weights before each recorded
    step and no subtraction after it. On a large step on a CPU those two passes over the weights are most
    of what recording costs.
    """
    recorder = GradientRecorder(model, optimizer, every=every, updates=updates)
    with recorder:
        yield recorder


def gradflow_model(
    model: nn.Module,
    data: Any,
    *,
    loss_fn: Any = None,
    compute_loss: Any = None,
    optimizer: str = "sgd",
    lr: float = 0.1,
    steps: int = 100,
    batch_size: int | None = None,
    clip: float | None = None,
    seed: int = 0,
    label: str | None = None,
) -> GradientLog:
    """Train your own `model` (in place) on your own `data` for `steps` steps and return its GradientLog.

    data: tensors, a DataLoader or a re-iterable of batches in any form gradviz.landscape takes ((x, y),
    (x1, ..., xk, y), dict batches called as model(**batch), (dict, y); tensors in batches of `batch_size`,
    default 128; a loader's own batches, cycled until `steps` steps are taken). loss_fn: a callable
    (outputs, targets) -> mean loss on the logits or a name of gradviz.analysis.losses.LOSSES (default: the
    model's own .loss for dict batches, else BCE for one output, cross-entropy for several); compute_loss:
    (model, batch) -> mean loss for anything else. Batch 0 is checked before the first step. optimizer: a registry
    name or 'NAME:KEY=VALUE,...' with an optional lr schedule after '@' (as gradflow_experiment); an lr given
    there wins over `lr`. The model trains in train mode (dropout on,
    BatchNorm updating its statistics), as in the user's own loop; torch's global generator is seeded with
    `seed` for the run and restored afterwards.
    """
    from gradviz.analysis.losses import LossRule
    from gradviz.analysis.sources import as_source

    if not isinstance(model, nn.Module):
        raise InvalidArgument(f"model must be a torch nn.Module, not {type(model).__name__}")
    steps = check_count("steps", steps, "train-steps")
    seed = check_seed(seed)
    if batch_size is not None:  # 0 is refused, as landscape refuses it, not read as the default
        batch_size = check_count("batch_size", batch_size, "batch-size")
    if clip is not None:
        check_positive("clip", clip)
    rule = LossRule.build(loss_fn, "loss", compute_loss)
    source = as_source(data, batch_size=batch_size or 128)
    from gradviz.lecture.compare import optimizer_run

    spec, hyperparams, schedule = optimizer_run(optimizer, lr)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise InvalidArgument("the model has no trainable parameters")
    opt = spec.build(params, **hyperparams)
    scheduler = build_scheduler(opt, schedule, steps=steps) if schedule is not None else None
    device, dtype = params[0].device, params[0].dtype
    rule.check(model, source, device=device, dtype=dtype)  # before the first step (the model left as found)
    meta = dict(optimizer=spec.name, lr=hyperparams["lr"], steps=steps, clip=clip, data="own",
                hyperparams={k: v for k, v in hyperparams.items() if k != "lr"},
                schedule=schedule.describe() if schedule is not None else None)
    model.train()
    with torch.random.fork_rng(devices=[]), record_gradients(model, opt) as log:
        torch.manual_seed(seed)
        step = 0
        while step < steps:
            for batch in source.batches(device, dtype):
                opt.zero_grad()
                loss = rule.value(model, batch)
                loss.backward()
                if clip is not None:
                    nn.utils.clip_grad_norm_(params, clip)
                log.record_loss(loss)
                opt.step()
                if scheduler is not None:
                    scheduler.step()
                step += 1
                if step == steps:
                    break
    return log.result(label=label or type(model).__name__, meta=meta)
