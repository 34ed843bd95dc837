"""Tracing: run an optimizer over a 2-D function and record its path as a `Trajectory`.

This is where tensors live. `trace` drives a real torch.optim optimizer exactly as a plain training loop
does (zero_grad, loss, backward, step; LBFGS through a closure), so what is drawn is what torch computes.
Several starts of an elementwise optimizer are traced together as one (N, 2) parameter: the loss is the
sum of the per-row losses, so each row gets exactly its own gradient and its own optimizer state.
Tensors become numpy once, at the end, when the records are built.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

from gradviz.functions import TestFunction, get_function
from gradviz.optim import OptimizerSpec, get_optimizer
from gradviz.records import Trajectory
from gradviz.registry import InvalidArgument, check_positive

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
    **hyperparams: Any,
) -> Trajectory | list[Trajectory]:
    """Run `optimizer` on `function` for `steps` steps and return the path it took.

    function: a name from FUNCTIONS, a TestFunction, or any callable mapping a (..., 2) tensor to (...).
    optimizer: a name from OPTIMIZERS or a torch.optim.Optimizer class; hyperparams go to it (the
        registry's defaults fill the rest; without an lr, the default is scaled by the function's
        lr_scale for the optimizer's family, so each function animates well out of the box).
    start: (x, y), or an (N, 2) array for N paths (then a list of N Trajectories is returned, traced as
        one batch where the optimizer acts elementwise, and equal to tracing each start alone).
    seed: seeds torch's generator for the run (for stochastic user functions), restored afterwards.
    A path whose loss or position stops being finite ends there; its record says where (diverged_at).
    progress: called as progress(step, steps) about a hundred times per path, for a sign of life.
    noise: the standard deviation of Gaussian noise added to every gradient coordinate the optimizer
        sees (a stand-in for mini-batch SGD), drawn from its own generator seeded by noise_seed (default:
        seed), so the same seed repeats the path exactly. grad_norms are then of the noisy gradient.
    schedule: a torch lr scheduler by name with arguments ('cosine:T_max=200', 'warmup+cosine', see
        gradviz.schedules.SCHEDULERS), stepped after every optimizer step; lrs records the rates used.
    """
    fn = get_function(function)
    spec = get_optimizer(optimizer)
    steps = check_positive("steps", steps, integer=True)
    scale = fn.lr_scale.get(spec.family)
    if scale is not None and "lr" not in hyperparams and "lr" in spec.defaults:
        # two significant digits: legends read lr=0.0022, not lr=0.00215443
        hyperparams = {**hyperparams, "lr": float(f"{spec.defaults['lr'] * scale:.2g}")}
    resolved = spec.resolve(hyperparams)
    starts, batched = _parse_start(start, fn)
    torch_dtype = _parse_dtype(dtype)
    extras = _extras(noise=noise, noise_seed=noise_seed, seed=seed, schedule=schedule)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if spec.elementwise and not spec.needs_closure:
            results = _run(fn, spec, starts, steps, resolved, torch_dtype, progress, **extras)
        else:
            results = [r for row in starts
                       for r in _run(fn, spec, row[None], steps, resolved, torch_dtype, progress, **extras)]
    return results if batched else results[0]


def _extras(*, noise: float, noise_seed: int | None, seed: int, schedule: Any) -> dict[str, Any]:
    """Check the noise and schedule options of trace -> keyword arguments of _run."""
    from gradviz.schedules import parse_schedule

    noise = check_positive("noise", noise, allow_zero=True)
    if noise_seed is not None and (isinstance(noise_seed, bool) or not isinstance(noise_seed, int)):
        raise InvalidArgument(f"invalid noise_seed {noise_seed!r} (must be a whole number)")
    return {"noise": float(noise), "noise_seed": seed if noise_seed is None else noise_seed,
            "schedule": None if schedule is None else parse_schedule(schedule)}


def _run(fn: TestFunction, spec: OptimizerSpec, starts: np.ndarray, steps: int,
         hyperparams: dict[str, Any], dtype: torch.dtype,
         progress: Callable[[int, int], None] | None = None, *, noise: float = 0.0, noise_seed: int = 0,
         schedule: Any = None) -> list[Trajectory]:
    x = torch.tensor(starts, dtype=dtype, requires_grad=True)
    optimizer = spec.build([x], **hyperparams)
    scheduler = None
    if schedule is not None:
        from gradviz.schedules import build_scheduler

        scheduler = build_scheduler(optimizer, schedule, steps=steps)
    generator = torch.Generator().manual_seed(noise_seed) if noise else None

    def evaluate() -> torch.Tensor:
        optimizer.zero_grad()
        loss = fn(x)
        if not isinstance(loss, torch.Tensor) or tuple(loss.shape) != (len(starts),):
            shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
            raise InvalidArgument(f"function {fn.name!r} must map shape (N, 2) to (N,), got {shape}")
        loss.sum().backward()
        if generator is not None:
            x.grad.add_(torch.randn(x.shape, generator=generator, dtype=x.dtype), alpha=noise)
        return loss

    def closure() -> torch.Tensor:
        return evaluate().sum()

    points, losses, grad_norms, lrs = [], [], [], []
    every = max(1, steps // 100)
    for k in range(steps + 1):
        if progress is not None and (k % every == 0 or k == steps):
            progress(k, steps)
        loss = evaluate()
        points.append(x.detach().clone())
        losses.append(loss.detach())
        grad_norms.append(torch.linalg.vector_norm(x.grad, dim=-1))
        finite = torch.isfinite(loss) & torch.isfinite(x.detach()).all(dim=-1)
        if k == steps or not bool(finite.any()):
            break
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        if spec.needs_closure:
            optimizer.step(closure)
        else:
            optimizer.step()
        if scheduler is not None:
            scheduler.step()

    all_points = torch.stack(points).cpu().numpy()  # (n, N, 2)
    all_losses = torch.stack(losses).cpu().numpy()  # (n, N)
    all_norms = torch.stack(grad_norms).cpu().numpy()
    lr_array = np.array(lrs, dtype=float)
    finite = np.isfinite(all_losses) & np.isfinite(all_points).all(axis=-1)
    records = []
    for i in range(len(starts)):
        bad = np.flatnonzero(~finite[:, i])
        end = int(bad[0]) if bad.size else len(finite)
        if end == 0:  # the start itself is not finite for f
            raise InvalidArgument(f"{fn.name} is not finite at start {tuple(starts[i])}")
        diverged = end if bad.size else None
        records.append(Trajectory(
            points=all_points[:end, i], losses=all_losses[:end, i], grad_norms=all_norms[:end, i],
            lrs=lr_array[: end - 1], optimizer=spec.name, hyperparams=hyperparams, function=fn.name,
            diverged_at=diverged, steps_requested=steps,
            schedule=None if schedule is None else schedule.describe(),
        ))
    return records


