"""Training small nets on 2-D points and recording what an animation or a landscape needs.

`train` is an ordinary torch training loop (zero_grad, forward, loss, backward, [clip], step; stepped
through a closure by the one rule of gradviz.lecture.optim.stepping, so closure optimizers such as SAM and
second-order ones such as AdaHessian train as in their own loops) that also
keeps, cheaply: the loss and accuracy of every step (from the logits the step computed anyway, kept on the
device and moved to the host once at the end), and at every `record_every` steps a parameter snapshot, the
validation loss and accuracy, and the class probabilities on a grid (those three in eval mode under
inference_mode, training mode restored after). Mini-batches are drawn from a torch.Generator seeded with
`seed`: each epoch is one torch.randperm of the training set, cut into batches in order. Dropout masks
come from torch's global generator, seeded with `seed` for the run and restored afterwards.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from gradviz.lecture.functions import domain_around
from gradviz.analysis.losses import default_loss
from gradviz.lecture.optim import OptimizerSpec, get_optimizer
from gradviz.lecture.optim.stepping import Stepper, needs_create_graph
from gradviz.records import TrainingRun, format_hyperparams
from gradviz.limits import check_count
from gradviz.registry import InvalidArgument, check_positive, check_seed, unknown_name_message
from gradviz.lecture.schedules import build_scheduler, parse_schedule
from gradviz.lecture.tracing import _learning_rate

__all__ = ["train", "loss_function", "freeze_layers", "batches"]


loss_function = default_loss  # the one rule, shared with the landscapes (gradviz.analysis.losses)


def _correct(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    predicted = (logits[:, 0] > 0).long() if logits.shape[-1] == 1 else logits.argmax(dim=-1)
    return (predicted == y).float().mean()


def _probabilities(logits: torch.Tensor) -> torch.Tensor:
    if logits.shape[-1] == 1:
        p = torch.sigmoid(logits)
        return torch.cat([1 - p, p], dim=-1)
    return torch.softmax(logits, dim=-1)


def freeze_layers(model: nn.Module, names: Sequence[str]) -> list[nn.Parameter]:
    """Set requires_grad=False on the parameters of the named layers; unknown names list the valid ones."""
    modules = dict(model.named_modules())
    layers = [name for name, module in modules.items() if name and any(True for _ in module.parameters())]
    frozen = []
    for name in names:
        if name not in layers:
            raise InvalidArgument(unknown_name_message("layer", name, layers, where=" to freeze"))
        for parameter in modules[name].parameters():
            parameter.requires_grad_(False)
            frozen.append(parameter)
    return frozen


def batches(n: int, batch_size: int | None, steps: int, generator: torch.Generator) -> list[torch.Tensor | None]:
    """The index batches of `steps` steps: None (the whole set) for full-batch training."""
    if batch_size is None or batch_size >= n:
        return [None] * steps
    out: list[torch.Tensor | None] = []
    while len(out) < steps:
        order = torch.randperm(n, generator=generator)
        out.extend(order[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size))
    return out[:steps]


def _as_data(data: Any, what: str = "data") -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(data, str):
        from gradviz.lecture.data import make_dataset

        return make_dataset(data)
    hint = "; to hold out a fraction, split first: gradviz.lecture.data.train_val_split" if what == "validation" else ""
    try:
        X, y = data
        X, y = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
    except (TypeError, ValueError, RuntimeError):
        shown = repr(data) if len(repr(data)) <= 40 else type(data).__name__
        raise InvalidArgument(f"invalid {what}: {shown} (must be (X, y) tensors or a dataset name{hint})") from None
    if X.ndim != 2 or y.shape != (len(X),):
        raise InvalidArgument(f"{what} must be X of shape (n, d) and y of shape (n,), got {tuple(X.shape)} and "
                              f"{tuple(y.shape)}")
    if len(X) == 0:
        raise InvalidArgument(f"{what} has no points (X of shape {tuple(X.shape)}): there is nothing to train on")
    return X, y


def _check_model_takes(model: nn.Module, X: torch.Tensor) -> None:
    """The first layer's width against the data's, then one sample through the net, before any training."""
    first = next((m for m in model.modules() if isinstance(getattr(m, "in_features", None), int)), None)
    if first is not None and first.in_features != X.shape[1]:
        raise InvalidArgument(f"the model takes {first.in_features} input features, the data have {X.shape[1]} "
                              f"(X of shape {tuple(X.shape)}): build the net with {X.shape[1]} inputs")
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(X[:1])
    except (RuntimeError, ValueError, TypeError, IndexError) as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise InvalidArgument(f"the model cannot take the data (X of shape {tuple(X.shape)}): {first_line}") from None
    finally:
        model.train(was_training)


def train(
    model: nn.Module,
    data: Any,
    optimizer: str | type | OptimizerSpec = "adam",
    *,
    steps: int = 300,
    lr: float | None = None,
    schedule: Any = None,
    batch_size: int | None = None,
    weight_decay: float = 0.0,
    freeze: Sequence[str] = (),
    clip: float | None = None,
    seed: int = 0,
    record_every: int = 1,
    validation: Any = None,
    grid: int = 80,
    domain: tuple[tuple[float, float], tuple[float, float]] | None = None,
    record_gradients: bool = False,
    label: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    create_graph: bool | None = None,
    **hyperparams: Any,
) -> TrainingRun:
    """Train `model` in place on `data` and return the TrainingRun.

    optimizer: a registry name or a torch.optim.Optimizer class; lr defaults to the registry's net_lr.
    schedule: a torch lr scheduler by name with arguments ('cosine', 'warmup:total_iters=20+cosine', see
    gradviz.lecture.schedules.SCHEDULERS, as gradviz.trace takes it), stepped once after every optimizer step; the
    run's lrs record the rate each step used.
    batch_size: None is full-batch gradient descent, 1 is SGD, anything else mini-batch. freeze: names of
    layers (from model.named_modules()) whose parameters get requires_grad=False. clip: max total gradient
    norm. The model's output size picks the loss: 1 -> BCE-with-logits, k -> cross-entropy.
    progress: called as progress(step, steps) about a hundred times, for a sign of life.
    create_graph: backward with create_graph=True (AdaHessian, Sophia); None finds out (see gradviz.trace).
    A class from elsewhere whose own lr default is None (Adafactor) keeps it unless lr is given.
    """
    if not isinstance(model, nn.Module):
        raise InvalidArgument(f"invalid model: {model!r:.60} is a {type(model).__name__}, not a torch nn.Module "
                              "(build one with gradviz.lecture.mlp(2, [16, 16], 1))")
    X, y = _as_data(data)
    spec = get_optimizer(optimizer)
    steps, seed, record_every, batch_size, grid = _check_numbers(steps=steps, seed=seed, record_every=record_every,
                                                                 weight_decay=weight_decay, clip=clip,
                                                                 batch_size=batch_size, grid=grid)
    schedule = parse_schedule(schedule) if schedule is not None else None
    settings = _settings(spec, lr, weight_decay, hyperparams)
    opt, params, scheduler, create_graph = _optimizer(model, spec, settings, freeze=freeze, schedule=schedule,
                                                      steps=steps, create_graph=create_graph)
    Xv, yv = _as_data(validation, "validation") if validation is not None else (None, None)
    _check_model_takes(model, X)

    plan = batches(len(X), batch_size, steps, torch.Generator().manual_seed(seed))
    recording = _Recording(model, (X, y), (Xv, yv), _picture_grid(X, domain, grid))
    losses, accuracies, lrs, record = recording.losses, recording.accuracies, recording.lrs, recording.record
    if record_gradients:
        from gradviz.analysis.gradients import record_gradients as recorder

        recorder_context = recorder(model, opt)
    else:
        recorder_context = contextlib.nullcontext(None)
    batch: dict[str, torch.Tensor] = {}

    def objective() -> torch.Tensor:
        batch["logits"] = model(batch["x"])
        return loss_function(batch["logits"], batch["y"])

    stepper = Stepper(opt, params, objective, create_graph=bool(create_graph),
                      after_backward=None if clip is None else lambda: nn.utils.clip_grad_norm_(params, clip))
    model.train()
    # dropout draws from torch's global generator: seed it for this run, and restore it afterwards
    with torch.random.fork_rng(devices=[]), recorder_context as gradient_log:
        torch.manual_seed(seed)
        every = max(1, steps // 100)
        for step in range(steps + 1):
            if progress is not None and (step % every == 0 or step == steps):
                progress(step, steps)
            if step % record_every == 0 or step == steps:
                record(step)
            index = plan[step] if step < steps else None
            xb, yb = (X, y) if index is None else (X[index], y[index])
            if step == steps:  # the loss after the last update, without updating
                recording.last(xb, yb)
                break

            batch["x"], batch["y"] = xb, yb
            loss = stepper.evaluate()
            losses.append(loss.detach())
            accuracies.append(_correct(batch["logits"].detach(), yb))
            lrs.append(_learning_rate(opt))
            stepper.step()
            if scheduler is not None:
                scheduler.step()  # after the optimizer's step, as a plain torch loop steps it
            if step % 50 == 49 and not bool(torch.isfinite(loss)):
                break  # diverged: diverged_at is read off the recorded losses below

    return recording.run(spec.name, settings, label=label, schedule=schedule,
                         gradients=gradient_log.result() if gradient_log is not None else None)


def _check_numbers(*, steps: Any, seed: Any, record_every: Any, weight_decay: Any, clip: Any, batch_size: Any,
                   grid: Any) -> tuple[int, int, int, int | None, int]:
    """train's counts and sizes checked -> (steps, seed, record_every, batch_size, grid)."""
    check_positive("weight_decay", weight_decay, allow_zero=True)
    if clip is not None:
        check_positive("clip", clip)
    if batch_size is not None:
        batch_size = check_positive("batch_size", batch_size, integer=True)
    return (check_count("steps", steps, "train-steps"), check_seed(seed),
            check_positive("record_every", record_every, integer=True), batch_size,
            check_positive("grid", grid, integer=True))


def _picture_grid(X: torch.Tensor, domain: Any, grid: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The decision boundary's grid: x and y coordinates (the data's window plus a tenth, or `domain`) and the
    (grid * grid, 2) points, row by row."""
    (x0, x1), (y0, y1) = domain or domain_around([X[:, :2].numpy()], margin=0.1)
    gx, gy = torch.linspace(x0, x1, grid), torch.linspace(y0, y1, grid)
    return gx, gy, torch.stack(torch.meshgrid(gx, gy, indexing="xy"), dim=-1).reshape(-1, 2)


def _settings(spec: OptimizerSpec, lr: float | None, weight_decay: float, hyperparams: dict[str, Any]) -> dict[str, Any]:
    """The optimizer's settings: lr (the registry's net_lr by default; None for a class that picks its own),
    weight decay where there is one, then the rest."""
    settings = dict(hyperparams)
    if lr is None and spec.family == "custom" and spec.default_of("lr") is None:
        settings["lr"] = None  # the class chooses its own step size
    else:
        settings["lr"] = lr if lr is not None else spec.net_lr
    if not spec.uses_gradient:
        raise InvalidArgument(f"{spec.name} is a direct (gradient-free) method for 2-D functions; "
                              "train nets with a gradient optimizer")
    if weight_decay:
        settings["weight_decay"] = weight_decay
    return settings


def _optimizer(model: nn.Module, spec: OptimizerSpec, settings: dict[str, Any], *, freeze: Sequence[str],
               schedule: Any, steps: int, create_graph: bool | None) -> tuple[Any, list[Any], Any, bool]:
    """Freeze `freeze`, then build the optimizer over what is left, its scheduler, and whether its backward
    needs create_graph -> (optimizer, trained parameters, scheduler or None, create_graph)."""
    freeze_layers(model, freeze)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise InvalidArgument("every layer is frozen: nothing to train")
    opt = spec.build(params, **settings)
    scheduler = build_scheduler(opt, schedule, steps=steps) if schedule is not None else None
    if create_graph is None:
        create_graph = spec.second_order
        if create_graph is None:
            create_graph = needs_create_graph(lambda probe: spec.build(probe, **settings),
                                              [tuple(p.shape) for p in params], params[0].dtype)
    return opt, params, scheduler, bool(create_graph)


class _Recording:
    """What train keeps while it runs: each step's loss, accuracy and learning rate, and at each recorded
    step the weights, the class probabilities over the picture's grid, and the loss and accuracy of the net
    with dropout off on the training points (and the held-out ones)."""

    def __init__(self, model: nn.Module, data: tuple[torch.Tensor, torch.Tensor],
                 validation: tuple[torch.Tensor | None, torch.Tensor | None],
                 grid: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> None:
        self.model, (self.X, self.y), (self.Xv, self.yv), self.grid = model, data, validation, grid
        self.losses: list[torch.Tensor] = []
        self.accuracies: list[torch.Tensor] = []
        self.lrs: list[float] = []
        self.record_steps: list[int] = []
        self.snapshots: list[torch.Tensor] = []
        self.probabilities: list[torch.Tensor] = []
        self.val_losses: list[torch.Tensor] = []
        self.val_accuracies: list[torch.Tensor] = []
        self.eval_losses: list[torch.Tensor] = []
        self.eval_accuracies: list[torch.Tensor] = []

    def record(self, step: int) -> None:
        model = self.model
        was_training = model.training
        model.eval()
        with torch.inference_mode():
            self.record_steps.append(step)
            self.snapshots.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
            self.probabilities.append(_probabilities(model(self.grid[2])))
            # the training set's loss with dropout off: the loss of the net that is drawn and evaluated
            logits = model(self.X)
            self.eval_losses.append(loss_function(logits, self.y))
            self.eval_accuracies.append(_correct(logits, self.y))
            if self.Xv is not None:
                logits = model(self.Xv)
                self.val_losses.append(loss_function(logits, self.yv))
                self.val_accuracies.append(_correct(logits, self.yv))
        model.train(was_training)

    def last(self, xb: torch.Tensor, yb: torch.Tensor) -> None:
        """The loss and accuracy after the last update, without updating."""
        with torch.no_grad():
            logits = self.model(xb)
            self.losses.append(loss_function(logits, yb).detach())
        self.accuracies.append(_correct(logits, yb))

    def run(self, optimizer: str, settings: dict[str, Any], *, label: str | None, schedule: Any,
            gradients: Any) -> TrainingRun:
        """The TrainingRun of what was recorded; its label by default names the optimizer, its settings and
        its schedule."""
        model, (gx, gy, _) = self.model, self.grid
        schedule = schedule.describe() if schedule is not None else None
        if label is None:
            label = f"{optimizer} ({format_hyperparams(settings, symbols=True)})" + (f" @{schedule}" if schedule else "")
        loss_array = torch.stack(self.losses).cpu().numpy().astype(float)
        bad = np.flatnonzero(~np.isfinite(loss_array))
        nan = np.full(len(self.record_steps), np.nan)
        return TrainingRun(
            loss=loss_array, accuracy=torch.stack(self.accuracies).cpu().numpy(),
            record_steps=np.array(self.record_steps), snapshots=torch.stack(self.snapshots).cpu().numpy(),
            val_loss=torch.stack(self.val_losses).cpu().numpy() if self.val_losses else nan,
            val_accuracy=torch.stack(self.val_accuracies).cpu().numpy() if self.val_accuracies else nan,
            param_names=tuple(name for name, _ in model.named_parameters()),
            param_shapes=tuple(tuple(p.shape) for p in model.parameters()),
            probabilities=torch.stack(self.probabilities).reshape(len(self.record_steps), len(gy), len(gx), -1)
            .cpu().numpy(),
            grid_x=gx.numpy(), grid_y=gy.numpy(), X=self.X.numpy(), y=self.y.numpy(), optimizer=optimizer,
            hyperparams=settings, label=label, diverged_at=int(bad[0]) if bad.size else None, gradients=gradients,
            lrs=np.array(self.lrs, dtype=float), schedule=schedule,
            train_eval_loss=torch.stack(self.eval_losses).cpu().numpy(),
            train_eval_accuracy=torch.stack(self.eval_accuracies).cpu().numpy(),
        )
