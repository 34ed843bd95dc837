"""Tracing: run an optimizer over a 2-D function and record its path as a `Trajectory`.

This is where tensors live. `trace` drives a real torch.optim optimizer exactly as a user's own loop
would: the parameter is the point (x, y), a (2,) tensor, and every step follows one rule
(gradviz.lecture.optim.stepping.Stepper): evaluate as a plain loop does (zero_grad, loss, backward, with
create_graph for optimizers that differentiate their gradients), then `step(closure)`, so first-order,
closure (LBFGS, SAM) and second-order (AdaHessian, Sophia) optimizers all take their own path. Direct
(gradient-free) methods get the same closure and no backward pass. Several starts of a registry optimizer
known to act elementwise are traced together as one (N, 2) parameter: the loss is the sum of the per-row
losses, so each row gets exactly its own gradient and its own optimizer state. Tensors become numpy once,
at the end, when the records are built.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch

from gradviz.lecture.budget import parse_budget
from gradviz.lecture.functions import TestFunction
from gradviz.lecture.expressions import get_function
from gradviz.lecture.optim import OptimizerSpec, get_optimizer
from gradviz.lecture.optim.stepping import SECOND_ORDER_HINTS, BudgetSpent, Stepper, needs_create_graph
from gradviz.records import Trajectory, _freeze, finite_prefix
from gradviz.limits import check_count, check_memory
from gradviz.registry import InvalidArgument, check_positive, check_seed

__all__ = ["trace"]

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def _parse_dtype(dtype: Any) -> torch.dtype:
    if isinstance(dtype, torch.dtype) and dtype in _DTYPES.values():
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    raise InvalidArgument(f"invalid dtype {dtype!r} (valid: {', '.join(_DTYPES)})")


def _parse_start(start: Any, function: TestFunction) -> tuple[np.ndarray, bool]:
    """-> (starts of shape (N, 2), whether the caller asked for a batch)."""
    if start is None:
        if function.start is None:
            raise InvalidArgument(f"function {function.name!r} has no default start: pass start=(x, y)")
        start = function.start
    try:
        starts = np.array(start, dtype=float)
    except (TypeError, ValueError):
        raise InvalidArgument(f"invalid start {start!r} (expected (x, y) or an (N, 2) array)") from None
    batched = starts.ndim == 2
    if starts.shape[-1:] != (2,) or starts.ndim not in (1, 2) or starts.size == 0:
        raise InvalidArgument(f"invalid start of shape {starts.shape} (expected (2,) or (N, 2))")
    if not np.isfinite(starts).all():
        raise InvalidArgument(f"invalid start {start!r}: coordinates must be finite")
    return starts.reshape(-1, 2), batched


def trace(
    function: str | TestFunction | Callable[[torch.Tensor], torch.Tensor],
    optimizer: str | type | OptimizerSpec = "adam",
    *,
    start: Sequence[float] | np.ndarray | None = None,
    steps: int = 200,
    seed: int = 0,
    dtype: str | torch.dtype = "float64",
    progress: Callable[[int, int], None] | None = None,
    noise: float = 0.0,
    noise_seed: int | None = None,
    schedule: Any = None,
    budget: tuple[str, int] | str | None = None,
    create_graph: bool | None = None,
    **hyperparams: Any,
) -> Trajectory | list[Trajectory]:
    """Run `optimizer` on `function` for `steps` steps and return the path it took.

    function: a name from FUNCTIONS, a TestFunction, or any callable mapping a (..., 2) tensor to (...).
    optimizer: a name from OPTIMIZERS, a dotted path to a class ('pytorch_optimizer.Lion') or any
        torch.optim.Optimizer class; hyperparams go to it (the registry's defaults fill the rest; without an
        lr, the default is scaled by the function's lr_scale for the optimizer's family, so each function
        animates well out of the box).
    start: (x, y), or an (N, 2) array for N paths (then a list of N Trajectories is returned, traced as
        one batch where the optimizer acts elementwise, and equal to tracing each start alone).
    budget: ('steps', N) or ('evaluations', N) (or 'evaluations:N'); replaces `steps`. With evaluations,
        the method runs until it has spent N evaluations of f and never more (a step that would spend the
        N+1st is left out). Every record counts its evaluations (Trajectory.evaluations).
    create_graph: backward with create_graph=True, as second-order optimizers (AdaHessian, Sophia) need;
        None finds out: the registry says, and a class from elsewhere is probed with one throwaway step.
    seed: seeds torch's generator for the run (for stochastic user functions and methods), restored afterwards.
    A path whose loss or position stops being finite ends there; its record says where (diverged_at).
    progress: called as progress(step, steps) about a hundred times per path, for a sign of life.
    noise: the standard deviation of Gaussian noise added to every gradient coordinate the optimizer
        sees (a stand-in for mini-batch SGD), drawn from its own generator seeded by noise_seed (default:
        seed), so the same seed repeats the path exactly. grad_norms are then of the noisy gradient.
    schedule: a torch lr scheduler by name with arguments ('cosine:T_max=200', 'warmup+cosine', see
        gradviz.lecture.schedules.SCHEDULERS), stepped after every optimizer step; lrs records the rates used.
    """
    fn = get_function(function)
    spec = get_optimizer(optimizer)
    steps = check_count("steps", steps, "trace-steps")
    seed = check_seed(seed)
    kind, amount = parse_budget(budget) if budget is not None else ("steps", steps)
    max_steps, max_evaluations = (amount, None) if kind == "steps" else (amount, amount)
    scale = fn.lr_scale.get(spec.family)
    if scale is not None and "lr" not in hyperparams and "lr" in spec.defaults:
        # two significant digits: legends read lr=0.0022, not lr=0.00215443
        hyperparams = {**hyperparams, "lr": float(f"{spec.defaults['lr'] * scale:.2g}")}
    if fn.domain is not None:
        (x0, x1), (y0, y1) = fn.domain
        for key, fraction in spec.window_defaults.items():
            if key not in hyperparams:
                size = min(x1 - x0, y1 - y0) * fraction if fraction is not None else None
                hyperparams = {**hyperparams, key: float(f"{size:.2g}") if size is not None else fn.domain}
    resolved = spec.resolve(hyperparams)
    starts, batched = _parse_start(start, fn)
    # every path keeps about ten float64 numbers a step (position, loss, gradient, rate, ...)
    check_memory(f"a trace of {len(starts):,} path(s) x {amount:,} steps", len(starts) * (amount + 1) * 10 * 8)
    torch_dtype = _parse_dtype(dtype)
    if create_graph is None:
        create_graph = spec.second_order
        if create_graph is None:
            create_graph = needs_create_graph(lambda params: spec.build(params, **resolved), [(2,)], torch_dtype)
    run = _Run(fn, spec, resolved, torch_dtype, max_steps=max_steps, max_evaluations=max_evaluations,
               create_graph=bool(create_graph), progress=progress,
               **_extras(noise=noise, noise_seed=noise_seed, seed=seed, schedule=schedule))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if len(starts) > 1 and spec.elementwise and spec.uses_gradient and not create_graph:
            results = run(starts)
        else:
            results = [r for row in starts for r in run(row)]
    return results if batched else results[0]


def _learning_rate(optimizer: Any) -> float:
    """The lr of the first param group as a float; NaN where the class has none (lr=None: it chooses)."""
    lr = optimizer.param_groups[0].get("lr")
    if isinstance(lr, torch.Tensor) and lr.numel() == 1:
        return float(lr)
    return float(lr) if isinstance(lr, (int, float)) and not isinstance(lr, bool) else math.nan


def _extras(*, noise: float, noise_seed: int | None, seed: int, schedule: Any) -> dict[str, Any]:
    """Check the noise and schedule options of trace -> keyword arguments of _Run."""
    from gradviz.lecture.schedules import parse_schedule

    noise = check_positive("noise", noise, allow_zero=True)
    if noise_seed is not None:
        noise_seed = check_seed(noise_seed, "noise_seed")
    return {"noise": float(noise), "noise_seed": seed if noise_seed is None else noise_seed,
            "schedule": None if schedule is None else parse_schedule(schedule)}


class _Run:
    """One traced run: starts of shape (2,) (one path) or (N, 2) (a batch) -> list of Trajectories."""

    def __init__(self, fn: TestFunction, spec: OptimizerSpec, hyperparams: dict[str, Any], dtype: torch.dtype, *,
                 max_steps: int, max_evaluations: int | None, create_graph: bool,
                 progress: Callable[[int, int], None] | None = None, noise: float = 0.0, noise_seed: int = 0,
                 schedule: Any = None) -> None:
        self.fn, self.spec, self.hyperparams, self.dtype = fn, spec, hyperparams, dtype
        self.progress = progress
        self.noise, self.noise_seed, self.schedule = noise, noise_seed, schedule
        self.max_steps, self.max_evaluations, self.create_graph = max_steps, max_evaluations, create_graph

    def __call__(self, starts: np.ndarray) -> list[Trajectory]:
        fn, spec = self.fn, self.spec
        x = torch.tensor(starts, dtype=self.dtype, requires_grad=True)
        optimizer = spec.build([x], **self.hyperparams)
        expected = tuple(x.shape[:-1])
        direct = not spec.uses_gradient
        current: dict[str, torch.Tensor] = {}
        evaluated: list[tuple[torch.Tensor, torch.Tensor, int]] = []  # direct methods: (point, loss, step)

        def objective() -> torch.Tensor:
            loss = fn(x)
            if not isinstance(loss, torch.Tensor) or tuple(loss.shape) != expected:
                shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
                raise InvalidArgument(f"function {fn.name!r} must map shape (..., 2) to (...), got {shape} "
                                      f"for input {tuple(x.shape)}")
            current["rows"] = loss.detach().reshape(-1)
            if direct:
                evaluated.append((x.detach().clone(), loss.detach().clone(), len(evaluations)))
            return loss.sum()

        scheduler = None
        if self.schedule is not None:
            from gradviz.lecture.schedules import build_scheduler

            scheduler = build_scheduler(optimizer, self.schedule, steps=self.max_steps)
        add_noise = None
        if self.noise and not direct:  # seeded Gaussian noise on every gradient: a stand-in for mini-batches
            generator = torch.Generator().manual_seed(self.noise_seed)

            def add_noise() -> None:
                x.grad.add_(torch.randn(x.shape, generator=generator, dtype=x.dtype), alpha=self.noise)

        stepper = Stepper(optimizer, [x], objective, backward=not direct, create_graph=self.create_graph,
                          after_backward=add_noise, max_evaluations=self.max_evaluations)
        count = len(starts.reshape(-1, 2))
        # Every row the run can record, preallocated (untouched rows cost no memory): each step is one copy
        # into memory that the records then share as views, not a clone per step stacked again at the end.
        rows = (np.empty((self.max_steps + 1, count, 2)), np.empty((self.max_steps + 1, count)),
                np.empty((self.max_steps + 1, count)))
        point_rows, loss_rows, norm_rows = (torch.from_numpy(array) for array in rows)
        lrs, evaluations, geometry = [], [], []

        def record(k: int, loss_row: torch.Tensor) -> bool:
            """Keep the point after k steps; -> whether to go on (some row may still be finite)."""
            point = x.detach().reshape(-1, 2)
            point_rows[k].copy_(point)
            loss_rows[k].copy_(loss_row)
            if x.grad is None or direct:
                norm_rows[k].fill_(math.nan)
            elif x.dtype == norm_rows.dtype:
                torch.linalg.vector_norm(x.grad.detach().reshape(-1, 2), dim=-1, out=norm_rows[k])
            else:
                norm_rows[k].copy_(torch.linalg.vector_norm(x.grad.detach().reshape(-1, 2), dim=-1))
            evaluations.append(stepper.evaluations)
            if self.progress is not None and (k % max(1, self.max_steps // 100) == 0 or k == self.max_steps):
                self.progress(k, self.max_steps)
            if hasattr(optimizer, "geometry"):
                geometry.append(optimizer.geometry())
            if count > 1 and k % 25 != 24:  # a batch stops early only once every start has left: check seldom
                return True
            return bool((torch.isfinite(loss_row) & torch.isfinite(point).all(dim=-1)).any())

        stepper.evaluate()
        going = record(0, current["rows"])
        recorded = 1
        while going and recorded <= self.max_steps:
            try:
                lr = _learning_rate(optimizer)
                returned = self._step(stepper)
                if scheduler is not None:
                    scheduler.step()
                if direct:  # a direct method's step returns f at the point it leaves: no new evaluation
                    loss_row = returned.detach().reshape(-1)
                else:
                    stepper.evaluate()
                    loss_row = current["rows"]
            except BudgetSpent:
                break
            lrs.append(lr)
            going = record(recorded, loss_row)
            recorded += 1
        x.grad = None  # after create_graph, a gradient holds its graph (and the parameter): let both go
        return self._records(starts, [array[:recorded] for array in rows], lrs, evaluations, geometry, evaluated)

    def _step(self, stepper: Stepper) -> Any:
        try:
            return stepper.step()
        except RuntimeError as error:
            if not self.create_graph and any(hint in str(error) for hint in SECOND_ORDER_HINTS):
                raise InvalidArgument(f"{self.spec.name} differentiates its gradients (it needs "
                                      "backward(create_graph=True)): pass create_graph=True") from None
            raise

    def _records(self, starts: np.ndarray, rows: list[np.ndarray], lrs: list, evaluations: list,
                 geometry: list, evaluated: list) -> list[Trajectory]:
        fn, spec = self.fn, self.spec
        starts = starts.reshape(-1, 2)
        all_points, all_losses, all_norms = rows  # (n, N, 2), (n, N), (n, N): frozen here, shared by the records
        _freeze(*rows)
        counts = np.array(evaluations, dtype=np.int64)
        if len(starts) > 1:  # a batch: each row spent one evaluation of its own per evaluation of the sum
            counts = np.arange(1, len(all_points) + 1, dtype=np.int64)
        prefix = finite_prefix(all_points, all_losses)
        if (prefix == 0).any():  # a start itself is not finite for f
            raise InvalidArgument(f"{fn.name} is not finite at start {tuple(map(float, starts[int(np.argmin(prefix))]))}")
        common = {"optimizer": spec.name, "hyperparams": self.hyperparams, "function": fn.name,
                  "steps_requested": None if self.max_evaluations else self.max_steps,
                  "evaluations_requested": self.max_evaluations,
                  "schedule": None if self.schedule is None else self.schedule.describe()}
        if not geometry and not evaluated:
            return Trajectory.batch(all_points, all_losses, all_norms, np.array(lrs, dtype=float), prefix - 1,
                                    evaluations=counts, **common)
        # a direct method: traced one start at a time, with its geometry and every point it evaluated
        end = int(prefix[0])
        extra: dict[str, Any] = {}
        if geometry:
            extra["geometry"] = {key: np.stack([np.asarray(g[key], dtype=float) for g in geometry])[:end]
                                 for key in geometry[0]}
        if evaluated:
            at = np.array([k for _, _, k in evaluated], dtype=np.int64)
            kept = at < end
            extra["evaluated"] = torch.stack([p.reshape(2) for p, _, _ in evaluated]).cpu().numpy()[kept]
            extra["evaluated_losses"] = torch.stack([v.reshape(()) for _, v, _ in evaluated]).cpu().numpy()[kept]
            extra["evaluated_at"] = at[kept]
        return [Trajectory(points=all_points[:end, 0], losses=all_losses[:end, 0], grad_norms=all_norms[:end, 0],
                           lrs=np.array(lrs[: end - 1], dtype=float), evaluations=counts[:end],
                           diverged_at=end if end < len(all_points) else None, **extra, **common)]
