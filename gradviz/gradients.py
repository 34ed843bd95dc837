"""Recording gradient flow through any nn.Module, and the classic deep-MLP experiment.

`record_gradients(model, optimizer)` is a context manager around an ordinary training loop. Per step it
records, for every leaf module that has parameters, the weight-gradient norm, the norm of the gradient
reaching the module's output (the backward signal) and the parameter norm, plus the total gradient norm
before and after clipping, the update-to-weight ratio, NaN/inf counts and the share of dead ReLU units.

How, and why so (see shared/reference/gradient-flow.md):
- Backward signal: a forward hook registers a tensor hook on the module's output. That works with
  nn.ReLU(inplace=True), where register_full_backward_hook raises. The forward hook returns None (a
  returned value would replace the module's output). A module called twice adds both signals (root sum
  of squares).
- Weight gradients are read from p.grad when the optimizer is about to step (its step pre-hook): that is
  what the optimizer sees, right under gradient accumulation and after clipping. The norm before clipping
  is taken when each backward pass ends (a callback queued by the first parameter's post-accumulate hook).
  Without an optimizer, a step is a backward pass.
- All norms are computed on the device with torch._foreach_norm and moved to the host once per step.
- Every hook handle is kept and removed on exit, exceptions included.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from gradviz.records import GradientLog
from gradviz.registry import InvalidArgument, check_positive

__all__ = ["record_gradients", "GradientRecorder", "deep_mlp", "gradflow_experiment", "random_data",
           "theoretical_factor"]

RELU_FAMILY = (nn.ReLU, nn.ReLU6, nn.LeakyReLU)


class GradientRecorder:
    """The state behind `record_gradients`; `result()` gives the GradientLog recorded so far."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> None:
        if not isinstance(model, nn.Module):
            raise InvalidArgument(f"record_gradients needs an nn.Module, got {type(model).__name__}")
        self.model, self.optimizer = model, optimizer
        self.layers = [(name, module) for name, module in model.named_modules()
                       if name and any(True for _ in module.parameters(recurse=False))]
        if not self.layers and any(True for _ in model.parameters(recurse=False)):
            self.layers = [("(model)", model)]
        self.relus = [(name, module) for name, module in model.named_modules() if isinstance(module, RELU_FAMILY)]
        self.params = [p for _, module in self.layers for p in module.parameters(recurse=False)]
        self._owner = [index for index, (_, module) in enumerate(self.layers) for _ in module.parameters(recurse=False)]
        self._weight_of = [self._weight_index(module) for _, module in self.layers]
        self._order: list[int] = []
        self._handles: list[Any] = []
        self._rows: list[np.ndarray] = []
        self._has_grad: list[np.ndarray] = []
        self._nonfinite: list[np.ndarray] = []
        self._losses: list[float] = []
        self._signal: dict[int, torch.Tensor] = {}
        self._dead: dict[int, torch.Tensor] = {}
        self._pre_clip: torch.Tensor | None = None
        self._backward_queued = False
        self._before: list[torch.Tensor] | None = None
        self._pending_grads: tuple[torch.Tensor, torch.Tensor] | None = None

    def _weight_index(self, module: nn.Module) -> int | None:
        weight = getattr(module, "weight", None)
        for index, p in enumerate(self.params):
            if p is weight:
                return index
        return None

    # -- hooks ---------------------------------------------------------------------------------------------

    def __enter__(self) -> "GradientRecorder":
        try:
            for index, (_, module) in enumerate(self.layers):
                self._handles.append(module.register_forward_hook(self._forward_hook(index)))
            for index, (_, module) in enumerate(self.relus):
                self._handles.append(module.register_forward_hook(self._dead_hook(index)))
            for p in self.params:
                if p.requires_grad:
                    self._handles.append(p.register_post_accumulate_grad_hook(self._on_accumulate))
            if self.optimizer is not None:
                self._handles.append(self.optimizer.register_step_pre_hook(self._before_step))
                self._handles.append(self.optimizer.register_step_post_hook(self._after_step))
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Remove every hook (idempotent)."""
        while self._handles:
            self._handles.pop().remove()

    def _forward_hook(self, index: int) -> Any:
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if index not in self._order:
                self._order.append(index)
            if isinstance(output, torch.Tensor) and output.requires_grad:
                output.register_hook(lambda grad: self._on_signal(index, grad))
            return None  # a returned value would replace the module's output

        return hook

    def _dead_hook(self, index: int) -> Any:
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if isinstance(output, torch.Tensor) and output.ndim >= 1 and torch.is_grad_enabled():
                flat = output.detach().reshape(output.shape[0], -1) if output.ndim > 1 else output.detach()[None]
                self._dead[index] = (flat <= 0).all(dim=0).float().mean()
            return None

        return hook

    def _on_signal(self, index: int, grad: torch.Tensor) -> None:
        square = torch.linalg.vector_norm(grad.detach()).square()
        self._signal[index] = self._signal[index] + square if index in self._signal else square
        return None

    def _on_accumulate(self, parameter: torch.Tensor) -> None:
        if not self._backward_queued:
            self._backward_queued = True
            torch.autograd.Variable._execution_engine.queue_callback(self._on_backward_end)

    def _grad_norms(self) -> tuple[torch.Tensor, list[bool]]:
        """Per-parameter gradient norms (NaN where there is no gradient), on the device."""
        present = [p.grad is not None for p in self.params]
        grads = [p.grad for p in self.params if p.grad is not None]
        norms = torch.full((len(self.params),), math.nan, dtype=torch.float32)
        if grads:
            values = torch.stack(torch._foreach_norm(grads)).float()
            norms = norms.to(values.device)
            norms[torch.tensor(present, device=values.device)] = values
        return norms, present

    def _on_backward_end(self) -> None:
        self._backward_queued = False
        norms, present = self._grad_norms()
        total = torch.linalg.vector_norm(torch.nan_to_num(norms, nan=0.0)) if any(present) else norms.new_tensor(math.nan)
        self._pre_clip = total
        if self.optimizer is None:
            self._finish_step(norms, present, update=None, clipped_total=total)

    def _before_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        self._pending_grads = self._grad_norms()
        self._before = [p.detach().clone() for p in self.params]

    def _after_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        norms, present = self._pending_grads if self._pending_grads is not None else self._grad_norms()
        update = None
        if self._before is not None:
            update = torch.stack(torch._foreach_norm(torch._foreach_sub([p.detach() for p in self.params],
                                                                        self._before))).float()
        clipped = torch.linalg.vector_norm(torch.nan_to_num(norms, nan=0.0))
        self._finish_step(norms, present, update=update, clipped_total=clipped, before=self._before)
        self._before, self._pending_grads = None, None

    # -- one row a step --------------------------------------------------------------------------------------

    def _finish_step(self, norms: torch.Tensor, present: list[bool], *, update: torch.Tensor | None,
                     clipped_total: torch.Tensor, before: list[torch.Tensor] | None = None) -> None:
        n_layers = len(self.layers)
        device = norms.device
        owner = torch.tensor(self._owner, device=device, dtype=torch.long)
        squares = torch.zeros(n_layers, device=device).index_add_(0, owner, torch.nan_to_num(norms, nan=0.0).square())
        weight = torch.stack([norms[w] if w is not None else squares[i].sqrt()
                              for i, w in enumerate(self._weight_of)]) if n_layers else norms.new_zeros(0)
        params_now = before if before is not None else [p.detach() for p in self.params]
        param_norms = torch.stack(torch._foreach_norm(params_now)).float() if params_now else norms.new_zeros(0)
        param_sq = torch.zeros(n_layers, device=device).index_add_(0, owner, param_norms.square())
        layer_param = torch.stack([param_norms[w] if w is not None else param_sq[i].sqrt()
                                   for i, w in enumerate(self._weight_of)]) if n_layers else norms.new_zeros(0)
        if update is not None:
            update_sq = torch.zeros(n_layers, device=device).index_add_(0, owner, update.square())
            layer_update = update_sq.sqrt() / param_sq.sqrt().clamp_min(1e-30)
        else:
            layer_update = torch.full((n_layers,), math.nan, device=device)
        signal = torch.stack([self._signal[i].sqrt() if i in self._signal else norms.new_tensor(math.nan)
                              for i in range(n_layers)]) if n_layers else norms.new_zeros(0)
        dead = torch.stack([self._dead[i] if i in self._dead else norms.new_tensor(math.nan)
                            for i in range(len(self.relus))]) if self.relus else norms.new_zeros(0)
        pre = self._pre_clip if self._pre_clip is not None else clipped_total
        row = torch.cat([weight, signal, layer_param, layer_update, dead,
                         torch.stack([pre.float(), clipped_total.float()])]).cpu().numpy()  # the one transfer
        self._rows.append(row)
        has = np.zeros(n_layers, dtype=bool)
        for p_index, layer in enumerate(self._owner):
            has[layer] |= present[p_index]
        self._has_grad.append(has)
        counts = np.zeros(n_layers, dtype=np.int64)
        if not np.isfinite(row[: 2 * n_layers][np.concatenate([has, has])]).all():
            for p_index, p in enumerate(self.params):  # rare: count exactly only when something is off
                if p.grad is not None:
                    counts[self._owner[p_index]] += int((~torch.isfinite(p.grad)).sum())
        self._nonfinite.append(counts)
        self._signal.clear()
        self._dead.clear()
        self._pre_clip = None

    def record_loss(self, loss: torch.Tensor | float) -> None:
        """Optionally note the step's loss (kept on the device until result())."""
        self._losses.append(loss.detach() if isinstance(loss, torch.Tensor) else float(loss))

    def result(self, *, label: str = "", meta: dict[str, Any] | None = None) -> GradientLog:
        """The frozen GradientLog of every step recorded so far."""
        n_layers, n_relus = len(self.layers), len(self.relus)
        rows = np.stack(self._rows) if self._rows else np.zeros((0, 4 * n_layers + n_relus + 2))
        order = self._order + [i for i in range(n_layers) if i not in self._order]
        names = tuple(self.layers[i][0] for i in order)
        has = np.stack(self._has_grad) if self._has_grad else np.zeros((0, n_layers), dtype=bool)
        counts = np.stack(self._nonfinite) if self._nonfinite else np.zeros((0, n_layers), dtype=np.int64)

        def column(block: int, i: int) -> np.ndarray:
            return rows[:, block * n_layers + i]

        weight = {self.layers[i][0]: np.where(has[:, i], column(0, i), np.nan) for i in order}
        losses = None
        if self._losses and len(self._losses) == len(rows):
            losses = np.array([float(v) for v in self._losses])
        return GradientLog(
            names=names, steps=np.arange(len(rows)), weight_norms=weight,
            signal_norms={self.layers[i][0]: column(1, i) for i in order},
            param_norms={self.layers[i][0]: column(2, i) for i in order},
            update_ratios={self.layers[i][0]: column(3, i) for i in order},
            has_gradient={self.layers[i][0]: has[:, i] for i in order},
            nonfinite={self.layers[i][0]: counts[:, i] for i in order},
            dead_fraction={name: rows[:, 4 * n_layers + j] for j, (name, _) in enumerate(self.relus)},
            total_norm=rows[:, -2], total_norm_clipped=rows[:, -1], losses=losses, label=label, meta=meta or {},
        )


@contextmanager
def record_gradients(model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> Iterator[GradientRecorder]:
    """Record per-layer gradient flow of `model` for every step taken inside the block.

        with gradviz.record_gradients(model, optimizer) as log:
            for x, y in batches: ...loss.backward(); optimizer.step()...
        flow = log.result()          # a GradientLog

    Given the optimizer, a step is an optimizer step and gradients are those it sees; without, a step is
    a backward pass. Hooks are removed when the block ends, exceptions included.
    """
    recorder = GradientRecorder(model, optimizer)
    with recorder:
        yield recorder


# -- the classic experiment -------------------------------------------------------------------------------


def theoretical_factor(activation: str, init: str, *, std: float | None = None, width: int = 64) -> float:
    """Expected ratio of backward-signal norms between consecutive square layers, ||gz_l|| / ||gz_l+1||.

    k = weight std * sqrt(fan_in) of the init; the factor is k * sqrt(E[f'(z)^2]): k / sqrt 2 for ReLU,
    k / 4 for sigmoid and k for tanh near the origin (Glorot & Bengio 2010; He et al. 2015).
    """
    from gradviz.nets.models import ACTIVATIONS, INITS

    act, spec = ACTIVATIONS.lookup(activation), INITS.lookup(init)
    k = {"default": 1 / math.sqrt(3), "xavier": 1.0, "he": math.sqrt(2),
         "normal": (std if std is not None else 0.01) * math.sqrt(width),
         "scaled": std if std is not None else 1.0}[spec.name]
    return k * act.slope_rms


def deep_mlp(depth: int, width: int, *, in_features: int | None = None, out_features: int = 10,
             activation: str = "sigmoid", init: str = "default", std: float | None = None, seed: int = 0,
             inplace: bool = False) -> nn.Sequential:
    """depth Linear layers: depth - 1 blocks of Linear(width, width) + activation, then Linear(width, out).

    The same seed draws the same standard-normal numbers for every normal init, so sigmoid against ReLU
    or default against He compares nets that differ only in what is being compared.
    """
    from gradviz.nets.models import mlp

    depth = check_positive("depth", depth, integer=True)
    width = check_positive("width", width, integer=True)
    model = mlp(in_features or width, [width] * (depth - 1), out_features, activation=activation, init=init,
                std=std, seed=seed)
    if inplace:
        for module in model.modules():
            if isinstance(module, nn.ReLU):
                module.inplace = True
    return model


def random_data(n: int, features: int, classes: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """x ~ N(0, I), labels uniform over `classes`: the reference setting for gradient magnitudes."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, features, generator=generator), torch.randint(0, classes, (n,), generator=generator)


def gradflow_experiment(
    *,
    depth: int = 10,
    width: int = 64,
    activation: str = "sigmoid",
    init: str = "default",
    std: float | None = None,
    optimizer: str = "sgd",
    lr: float = 0.1,
    steps: int = 100,
    batch_size: int = 128,
    clip: float | None = None,
    data: str = "random",
    classes: int = 10,
    seed: int = 0,
    label: str | None = None,
) -> GradientLog:
    """Train deep_mlp(...) with the registry's `optimizer` and return its GradientLog.

    data: "random" (N(0, I) inputs of size `width`, random labels over `classes`, a fresh batch each step)
    or a dataset name of gradviz.nets (2-D points, their own classes).
    """
    from gradviz.nets.data import DATASETS, make_dataset
    from gradviz.optim import get_optimizer

    steps = check_positive("steps", steps, integer=True)
    batch_size = check_positive("batch_size", batch_size, integer=True)
    if clip is not None:
        check_positive("clip", clip)
    spec = get_optimizer(optimizer)
    if data == "random":
        features = width
        X, y = random_data(batch_size * steps, features, classes, seed=seed + 1)
    else:
        DATASETS.lookup(data)
        X, y = make_dataset(data, n=max(batch_size, 256), seed=seed)
        features, classes = 2, int(y.max()) + 1
    model = deep_mlp(depth, width, in_features=features, out_features=classes, activation=activation, init=init,
                     std=std, seed=seed)
    opt = spec.build(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed + 2)
    meta = dict(depth=depth, width=width, activation=activation, init=init, std=std, optimizer=spec.name, lr=lr,
                clip=clip, batch_size=batch_size, data=data,
                factor=theoretical_factor(activation, init, std=std, width=width))
    with record_gradients(model, opt) as log:
        for step in range(steps):
            if data == "random":
                xb, yb = X[step * batch_size:(step + 1) * batch_size], y[step * batch_size:(step + 1) * batch_size]
            else:
                index = torch.randperm(len(X), generator=generator)[:batch_size]
                xb, yb = X[index], y[index]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            log.record_loss(loss)
            opt.step()
    name = label or f"{activation} / {init}" + (f" (std {std:g})" if std is not None else "")
    return log.result(label=name, meta=meta)
