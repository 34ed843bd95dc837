"""Comparing optimizers the way the lecture does: over learning rates, noise seeds, many starts and tuning.

Each function returns records and draws nothing: `lr_sweep` and `noise_bundle` return Trajectories (one
`trace` per rate or per seed, so each equals the single trace it stands for), `trace_swarm` traces many
starts of one optimizer as one batched (N, 2) tensor and returns a `Swarm`, `basin_map` colours a fine grid
of starts by the minimum each reaches (`BasinMap`), and `tune` scores every candidate rate with a declared
objective (`TuningTable`, which is also the data of the final-loss-versus-rate "U" curve).

The batched loop of `trace_swarm` is `trace`'s loop with the recording made cheap: positions and losses go
into preallocated tensors, written in place, and become numpy once at the end; no per-start record is built.
Torch is imported only inside the functions, so the CLI can use `parse_runs` without it.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from gradviz.i18n import _
from gradviz.lecture.functions import TestFunction
from gradviz.lecture.expressions import get_function
from gradviz.lecture.grids import DEFAULT_GRID_NOTE, StartSet, default_grid, get_objective, parse_lrs, parse_starts
from gradviz.lecture.optim import OptimizerSpec, get_optimizer, parse_optimizer
from gradviz.records import (BasinMap, Swarm, Trajectory, TuningTable, _freeze, finite_prefix,
                             format_hyperparams, legend_hyperparams)
from gradviz.registry import InvalidArgument, check_positive
from gradviz.lecture.schedules import Schedule, parse_schedule, split_schedule

__all__ = ["Run", "parse_runs", "default_lr", "lr_sweep", "noise_bundle", "trace_swarm", "basin_map", "tune",
           "score_trajectory", "optimizer_run"]

Run = tuple[OptimizerSpec, dict[str, Any], "Schedule | None"]


def parse_runs(optimizers: Iterable[Any]) -> list[Run]:
    """'sgd:lr=0.01@cosine:T_max=200', 'adam', ('adam', {'lr': 0.1}) or a class -> (spec, settings, schedule),
    every name and setting checked."""
    out: list[Run] = []
    for item in optimizers:
        schedule = None
        if isinstance(item, str):
            text, schedule_text = split_schedule(item)
            name, hyperparams = parse_optimizer(text)
            spec = get_optimizer(name)
            schedule = parse_schedule(schedule_text) if schedule_text else None
        elif isinstance(item, tuple) and len(item) in (2, 3) and isinstance(item[1], Mapping):
            spec, hyperparams = get_optimizer(item[0]), dict(item[1])
            schedule = parse_schedule(item[2]) if len(item) == 3 and item[2] is not None else None
        else:
            spec, hyperparams = get_optimizer(item), {}
        spec.resolve(hyperparams)
        out.append((spec, hyperparams, schedule))
    if not out:
        raise InvalidArgument("no optimizers given")
    return out


def check_has_learning_rate(spec: OptimizerSpec, what: str = "sweep") -> None:
    """A direct method has no rate to sweep or tune: say so, rather than blame an lr nobody typed."""
    if not spec.uses_gradient:
        raise InvalidArgument(f"{spec.name} is a direct (gradient-free) method: it has no learning rate to {what}; "
                              "choose gradient methods (see gradviz list optimizers)")


def default_lr(function: Any, optimizer: Any) -> float:
    """The learning rate `trace` uses when none is given (the registry's, scaled for the function)."""
    fn, spec = get_function(function), get_optimizer(optimizer)
    if "lr" not in spec.defaults:
        raise InvalidArgument(f"optimizer {spec.name!r} has no default learning rate: give lr=")
    scale = fn.lr_scale.get(spec.family)
    lr = float(spec.defaults["lr"])
    return float(f"{lr * scale:.2g}") if scale is not None else lr


def lr_sweep(function: Any, optimizer: Any = "adam", lrs: Any = "1e-3:1:7", *, start: Any = None, steps: int = 200,
             seed: int = 0, schedule: Any = None, noise: float = 0.0, noise_seed: int | None = None,
             **hyperparams: Any) -> list[Trajectory]:
    """One trajectory per learning rate (a list, or 'LOW:HIGH:COUNT' log-spaced), same start and settings.

    Each equals `trace(function, optimizer, lr=rate, ...)`; a run that diverges keeps its finite prefix
    and says where it left (Trajectory.diverged_at)."""
    from gradviz.lecture.tracing import trace

    rates = parse_lrs(lrs)
    if "lr" in hyperparams:
        raise InvalidArgument("lr_sweep takes the rates in lrs=, not lr=")
    return [trace(function, optimizer, start=start, steps=steps, seed=seed, schedule=schedule, noise=noise,
                  noise_seed=noise_seed, lr=rate, **hyperparams) for rate in rates]


def noise_bundle(function: Any, optimizer: Any = "sgd", *, noise: float = 0.5, seeds: int | Sequence[int] = 8,
                 start: Any = None, steps: int = 200, seed: int = 0, schedule: Any = None,
                 **hyperparams: Any) -> list[Trajectory]:
    """The same run under Gaussian gradient noise of scale `noise`, once per noise seed (an int n means
    seeds 0..n-1): the bundle of paths that mini-batch SGD would spread into."""
    from gradviz.lecture.tracing import trace

    check_positive("noise", noise)
    seed_list = list(range(check_positive("seeds", seeds, integer=True))) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise InvalidArgument("invalid seeds: give at least one noise seed")
    return [trace(function, optimizer, start=start, steps=steps, seed=seed, schedule=schedule, noise=noise,
                  noise_seed=int(s), **hyperparams) for s in seed_list]


def _starts_array(starts: Any, fn: TestFunction, seed: int) -> np.ndarray:
    if isinstance(starts, (str, StartSet)):
        start_set = parse_starts(starts) if isinstance(starts, str) else starts
        if fn.domain is None:
            raise InvalidArgument(f"function {fn.name!r} has no plot window to spread starts over: pass an array")
        return start_set.points(fn.domain, seed=seed, margin=0.03)
    array = np.asarray(starts, dtype=float)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0 or not np.isfinite(array).all():
        raise InvalidArgument(f"invalid starts of shape {array.shape} (expected a finite (N, 2) array)")
    return array


def _swarm_loop(fn: TestFunction, spec: OptimizerSpec, starts: np.ndarray, steps: int, hyperparams: dict[str, Any],
                *, dtype: Any, seed: int, noise: float, noise_seed: int, schedule: Any,
                visit: Callable[[int, Any, Any], None]) -> list[float]:
    """trace's loop for an elementwise optimizer over (N, 2) starts; visit(k, x, loss) sees each point
    (no autograd) before step k + 1. Returns the lr of each step. Stops early once no start is finite."""
    import torch

    from gradviz.lecture.tracing import _parse_dtype

    x = torch.tensor(starts, dtype=_parse_dtype(dtype), requires_grad=True)
    lrs: list[float] = []
    # One thread: each op touches only N x 2 numbers, too few to split between threads with profit, and
    # on a busy machine a second thread waiting for a core made a 120 x 120 basin map 10x slower here.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _steps(x, fn, spec, starts, steps, hyperparams, seed=seed, noise=noise, noise_seed=noise_seed,
               schedule=schedule, visit=visit, lrs=lrs)
    finally:
        torch.set_num_threads(threads)
    return lrs


def _steps(x: Any, fn: TestFunction, spec: OptimizerSpec, starts: np.ndarray, steps: int,
           hyperparams: dict[str, Any], *, seed: int, noise: float, noise_seed: int, schedule: Any,
           visit: Callable[[int, Any, Any], None], lrs: list[float]) -> None:
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        optimizer = spec.build([x], **hyperparams)
        scheduler = None
        if schedule is not None:
            from gradviz.lecture.schedules import build_scheduler

            scheduler = build_scheduler(optimizer, schedule, steps=steps)
        generator = torch.Generator().manual_seed(noise_seed) if noise else None
        ones = torch.ones(len(starts), dtype=x.dtype)  # d(sum of losses)/d(loss_i), without building the sum
        for k in range(steps + 1):
            optimizer.zero_grad()
            loss = fn(x)
            if not isinstance(loss, torch.Tensor) or tuple(loss.shape) != (len(starts),):
                raise InvalidArgument(f"function {fn.name!r} must map shape (N, 2) to (N,)")
            visit(k, x.detach(), loss.detach())
            # a finiteness check costs a sync and a reduction: every 25 steps is enough to stop early
            if k == steps or (k % 25 == 24 and not bool(torch.isfinite(loss).any())):
                break
            loss.backward(ones)
            if generator is not None:
                x.grad.add_(torch.randn(x.shape, generator=generator, dtype=x.dtype), alpha=noise)
            lrs.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.step()
            if scheduler is not None:
                scheduler.step()


def _check_batchable(spec: OptimizerSpec) -> None:
    if not spec.elementwise or spec.needs_closure:
        raise InvalidArgument(f"optimizer {spec.name!r} does not act elementwise, so its starts cannot be traced "
                              "as one batch (trace them one at a time with trace)")


def trace_swarm(function: Any, optimizer: Any = "adam", *, starts: Any = "grid:10x10", steps: int = 200,
                seed: int = 0, dtype: str = "float64", noise: float = 0.0, noise_seed: int | None = None,
                schedule: Any = None, **hyperparams: Any) -> Swarm:
    """Trace many starts of one elementwise optimizer as one batched (N, 2) tensor.

    starts: 'grid:20x20', 'random:100' (spread over the function's window, seeded) or an (N, 2) array.
    Start i's path equals `trace(function, optimizer, start=starts[i], ...)` (without noise: batched
    noise is drawn for all starts at once). Returns a Swarm; Swarm.trajectory(i) is start i's Trajectory.
    """
    import torch

    fn, spec = get_function(function), get_optimizer(optimizer)
    _check_batchable(spec)
    steps = check_positive("steps", steps, integer=True)
    check_positive("noise", noise, allow_zero=True)
    if "lr" not in hyperparams and "lr" in spec.defaults:
        hyperparams = {**hyperparams, "lr": default_lr(fn, spec)}
    resolved = spec.resolve(hyperparams)
    array = _starts_array(starts, fn, seed)
    count = len(array)
    # numpy memory written through torch views: the Swarm then adopts it frozen, with no copy on the way
    points_np, losses_np = np.empty((steps + 1, count, 2)), np.empty((steps + 1, count))
    points, losses = torch.from_numpy(points_np), torch.from_numpy(losses_np)

    def record(k: int, x: Any, loss: Any) -> None:
        points[k].copy_(x)
        losses[k].copy_(loss)

    lrs = _swarm_loop(fn, spec, array, steps, resolved, dtype=dtype, seed=seed, noise=float(noise),
                      noise_seed=seed if noise_seed is None else noise_seed,
                      schedule=None if schedule is None else parse_schedule(schedule), visit=record)
    points_np[len(lrs) + 1:] = np.nan  # rows the loop never reached: it stopped once no start was finite
    losses_np[len(lrs) + 1:] = np.nan
    prefix = finite_prefix(points_np, losses_np)
    if (prefix == 0).any():
        raise InvalidArgument(f"{fn.name} is not finite at start {tuple(map(float, array[int(np.argmin(prefix))]))}")
    diverged = prefix <= steps
    ends = prefix - 1
    if diverged.any():  # nothing past the last finite point: inf - inf may have become finite again
        first = int(prefix.min())
        after = np.arange(first, steps + 1)[:, None] > ends[None, :]
        points_np[first:][after] = np.nan
        losses_np[first:][after] = np.nan
    _freeze(points_np, losses_np)
    label = f"{spec.name} ({format_hyperparams(legend_hyperparams(spec.name, resolved), symbols=True)})"
    schedule_text = None if schedule is None else parse_schedule(schedule).describe()
    if schedule_text:
        label += f" @{schedule_text}"
    return Swarm(points=points_np, losses=losses_np, ends=ends, diverged=diverged, schedule=schedule_text,
                 lrs=np.array(lrs + [np.nan] * (steps - len(lrs))), optimizer=spec.name, hyperparams=resolved,
                 function=fn.name, label=label)


def basin_map(function: Any = "himmelblau", optimizer: Any = "adam", *, resolution: int | tuple[int, int] = 200,
              domain: Any = None, steps: int = 500, tol: float | None = None, f_tol: float | None = None,
              seed: int = 0, schedule: Any = None, **hyperparams: Any) -> BasinMap:
    """Start the optimizer from every cell centre of a resolution x resolution grid over the function's
    window (all starts as one batch) and label each start by the known minimum its last point lies within
    `tol` of (default: 1% of the window's larger side), -1 for none. Its steps are the first step from
    which f - f* stayed <= f_tol (default: 1e-3 of the median f - f* over the starts); a start that
    reached a minimum's neighbourhood without getting that low counts all the steps.

    The settling test is on f, which the loop computes anyway: two elementwise ops a step. Testing the
    distance to each minimum every step instead cost several times the optimizer step itself.
    """
    import torch

    fn, spec = get_function(function), get_optimizer(optimizer)
    _check_batchable(spec)
    if not fn.minima or fn.f_min is None:
        raise InvalidArgument(f"function {fn.name!r} has no known minima to colour basins by")
    nx, ny = (resolution, resolution) if isinstance(resolution, int) else resolution
    start_set = StartSet("grid", (check_positive("resolution", nx, integer=True),
                                  check_positive("resolution", ny, integer=True)))
    window = domain or fn.domain
    steps = check_positive("steps", steps, integer=True)
    (x0, x1), (y0, y1) = window
    tol = check_positive("tol", tol) if tol is not None else 0.01 * max(x1 - x0, y1 - y0)
    if "lr" not in hyperparams and "lr" in spec.defaults:
        hyperparams = {**hyperparams, "lr": default_lr(fn, spec)}
    resolved = spec.resolve(hyperparams)
    starts = start_set.points(window)
    gaps = np.asarray(fn(starts), dtype=float) - fn.f_min
    if f_tol is None:
        f_tol = 1e-3 * float(np.median(gaps[np.isfinite(gaps)])) if np.isfinite(gaps).any() else 1e-6
    f_tol = check_positive("f_tol", f_tol)
    threshold = fn.f_min + f_tol
    count = len(starts)
    since = torch.zeros(count, dtype=torch.int64)
    state: dict[str, Any] = {}

    def track(k: int, x: Any, loss: Any) -> None:
        since.masked_fill_(loss > threshold, k + 1)  # NaN compares False: a diverged start is caught below
        state["x"], state["loss"] = x, loss

    _swarm_loop(fn, spec, starts, steps, resolved, dtype="float64", seed=seed, noise=0.0, noise_seed=seed,
                schedule=None if schedule is None else parse_schedule(schedule), visit=track)
    last = state["x"].numpy()
    finite = np.isfinite(state["loss"].numpy()) & np.isfinite(last).all(axis=1)
    minima = np.array(fn.minima, dtype=float)
    distance = np.linalg.norm(last[:, None, :] - minima[None, :, :], axis=2)
    nearest = np.argmin(np.where(np.isfinite(distance), distance, np.inf), axis=1)
    reached = finite & (distance[np.arange(count), nearest] <= tol)
    labels = np.where(reached, nearest, -1)
    settled = np.where(reached, np.minimum(since.numpy(), steps), -1)
    grid = starts.reshape(ny, nx, 2)
    text = f"{spec.name} ({format_hyperparams(legend_hyperparams(spec.name, resolved), symbols=True)})"
    if schedule is not None:
        text += f" @{parse_schedule(schedule).describe()}"
    return BasinMap(x=grid[0, :, 0], y=grid[:, 0, 1], labels=labels.reshape(ny, nx),
                    steps=settled.reshape(ny, nx), diverged=~finite.reshape(ny, nx), minima=minima,
                    optimizer=spec.name, hyperparams=resolved, function=fn.name, tol=float(tol),
                    steps_requested=steps, label=text, f_tol=float(f_tol))


def score_trajectory(trajectory: Trajectory, objective: Any = "final", *, f_min: float | None = None,
                     tol: float = 1e-3) -> float:
    """The objective of one run: lower is better, +inf if it diverged."""
    if trajectory.diverged_at is not None:
        return float("inf")
    gaps = trajectory.losses - (f_min or 0.0)
    return get_objective(objective).score(gaps, tol)


def tune(function: Any, optimizers: Iterable[Any] = ("sgd", "momentum", "adam"), *, lrs: Any = None,
         objective: Any = "final", tol: float = 1e-3, start: Any = None, steps: int = 200, seed: int = 0,
         noise: float = 0.0) -> TuningTable:
    """Score each optimizer at each learning rate of a log grid by `objective`; -> TuningTable.

    lrs: one grid for all ('1e-4:1e-1:7' or a list, at least 2 rates); default: each optimizer's own
    default rate times 10^-2 .. 10^1 in 7 half-decade steps. objective: 'final' (f - f* after the last
    step), 'auc' (mean log10(f - f*) over the steps) or 'steps-to-tol' (steps until f - f* <= tol).
    TuningTable.best is the winner per optimizer; the same table drawn as final f - f* against lr is the
    "U" curve. Each candidate is one `trace` (so each score is the single run's): tracing all candidates
    of an optimizer as one run, one param group per rate, measured slower here (4.2 s against 2.9 s of
    CPU for 3 x 11 candidates on Rosenbrock), since torch steps param groups in a Python loop and a
    diverged candidate's own trace stops early.
    """
    from gradviz.lecture.tracing import trace

    fn = get_function(function)
    runs = parse_runs(optimizers)
    chosen = get_objective(objective)
    check_positive("tol", tol)
    check_positive("noise", noise, allow_zero=True)
    shared = parse_lrs(lrs, minimum=2) if lrs is not None else None
    grids = []
    for spec, hyperparams, _ in runs:
        check_has_learning_rate(spec, "tune")
        if "lr" in hyperparams:
            raise InvalidArgument(f"{spec.name}: a tuned optimizer takes its rates from the grid, not lr=")
        grids.append(shared or default_grid(default_lr(fn, spec)))
    width = max(len(g) for g in grids)
    if any(len(g) != width for g in grids):
        raise InvalidArgument("every optimizer's grid needs the same number of candidates")
    scores, finals, diverged = (np.zeros((len(runs), width)) for _ in range(3))
    f_min = fn.f_min
    for i, ((spec, hyperparams, schedule), grid) in enumerate(zip(runs, grids)):
        for j, rate in enumerate(grid):
            path = trace(fn, spec, start=start, steps=steps, seed=seed, schedule=schedule, noise=noise,
                         lr=rate, **hyperparams)
            gone = path.diverged_at is not None
            diverged[i, j] = gone
            finals[i, j] = np.inf if gone else float(path.losses[-1] - (f_min or 0.0))
            scores[i, j] = score_trajectory(path, chosen, f_min=f_min, tol=tol)
    labels = tuple(spec.name + (f" ({format_hyperparams(h, symbols=True)})" if h else "")
                   + (f" @{s.describe()}" if s else "") for spec, h, s in runs)
    return TuningTable(optimizers=tuple(spec.name for spec, _, _ in runs), lrs=np.array(grids), scores=scores,
                       finals=finals, diverged=diverged.astype(bool), objective=chosen.name,
                       objective_summary=chosen.summary, function=fn.name, steps=steps, labels=labels,
                       objective_short=chosen.short, grid_note="" if shared else DEFAULT_GRID_NOTE)


def _paths(function: TestFunction, run: Run, *, start: Any, steps: int, seed: int, noise: float,
           noise_seed: int | None = None, **extra: Any) -> Trajectory:
    from gradviz.lecture.tracing import trace

    spec, hyperparams, schedule = run
    return trace(function, spec, start=start, steps=steps, seed=seed, schedule=schedule, noise=noise,
                 noise_seed=noise_seed, **{**hyperparams, **extra})


def _run_label(run: Run) -> str:
    spec, hyperparams, schedule = run
    return spec.name + (f" @{schedule.describe()}" if schedule is not None else "")


def check_comparison(runs: Sequence[Run] = (), *, lrs: Any = None, noise: float = 0.0, seeds: int = 1,
                     starts: Any = None, tune: bool = False) -> list[str]:
    """Check a comparison's options and their combination (no torch) -> the names of those in use."""
    check_positive("noise", noise, allow_zero=True)
    seeds = check_positive("seeds", seeds, integer=True)
    if seeds > 1 and not noise:
        raise InvalidArgument(f"invalid seeds {seeds}: several seeds only differ with gradient noise (give noise > 0)")
    if lrs is not None:
        parse_lrs(lrs, minimum=2 if tune else 1)
    if isinstance(starts, str):
        parse_starts(starts)
    chosen = [name for name, used in (("lrs", lrs is not None), ("starts", starts is not None), ("tune", tune),
                                      ("seeds", seeds > 1)) if used]
    if len(chosen) > 1 and set(chosen) != {"lrs", "tune"}:
        raise InvalidArgument(f"cannot combine {' and '.join(chosen)} in one picture: give one of an lr list, "
                              "starts, tune (which may take an lr grid) or noise seeds")
    if lrs is not None or tune:
        rates = parse_lrs(lrs) if lrs is not None else ()
        for spec, hyperparams, _ in runs:
            if "lr" in hyperparams:
                name = getattr(spec, "name", spec)
                raise InvalidArgument(f"{name}: give its learning rates in the lr list or grid, not as lr=")
        if not tune and len(runs) * len(rates) > 16:
            raise InvalidArgument(f"too many paths for one picture: {len(runs)} optimizers x {len(rates)} rates "
                                  "(at most 16; `gradviz sweep` draws the U curve over many rates)")
    return chosen


def compare_paths(function: Any, optimizers: Iterable[Any], *, lrs: Any = None, noise: float = 0.0,
                  seeds: int = 1, starts: Any = None, tune_objective: Any = None, tol: float = 1e-3,
                  start: Any = None, steps: int = 200, seed: int = 0) -> dict[str, Any]:
    """Trace what a comparison needs, checking every combination first; the engine of
    `gradviz trajectories --lr/--noise/--seeds/--starts/--tune`.

    Returns {'paths': [Trajectory] or None, 'groups': [(label, [Trajectory])] or None,
    'table': TuningTable or None, 'note': text to print in the figure or None}:
    lrs -> one path per optimizer and rate; noise with seeds > 1 -> a bundle (group) per optimizer;
    starts -> a swarm (group) per optimizer; tune_objective -> each optimizer at its best rate of the grid
    (lrs, or its default rate times 10^-2..10^1) with the table.
    """
    fn = get_function(function)
    runs = parse_runs(optimizers)
    steps = check_positive("steps", steps, integer=True)
    chosen = check_comparison(runs, lrs=lrs, noise=noise, seeds=seeds, starts=starts,
                              tune=tune_objective is not None)
    start_set = parse_starts(starts) if isinstance(starts, str) else starts
    rates = parse_lrs(lrs, minimum=2 if tune_objective is not None else 1) if lrs is not None else None
    out: dict[str, Any] = {"kind": chosen[0] if chosen else "paths", "paths": None, "groups": None, "table": None,
                           "note": None}
    if tune_objective is not None:
        table = tune(fn, [(spec, h, s) for spec, h, s in runs], lrs=rates, objective=tune_objective, tol=tol,
                     start=start, steps=steps, seed=seed, noise=noise)
        paths = []
        for run, best, label in zip(runs, table.best_lrs, table.labels):
            if not np.isfinite(best):
                raise InvalidArgument(f"{label}: no candidate of the grid scored finitely for {table.objective} "
                                      f"(every run diverged or never reached tol); widen the grid")
            paths.append(_paths(fn, run, start=start, steps=steps, seed=seed, noise=noise, lr=float(best)))
        out.update(paths=paths, table=table, note=tuning_note_text(table))
    elif rates is not None:
        out["paths"] = [_paths(fn, run, start=start, steps=steps, seed=seed, noise=noise, lr=rate)
                        for run in runs for rate in rates]
    elif start_set is not None:
        groups = []
        array = _starts_array(start_set, fn, seed)
        for run in runs:
            spec, hyperparams, schedule = run
            if spec.elementwise and not spec.needs_closure:
                swarm = trace_swarm(fn, spec, starts=array, steps=steps, seed=seed, noise=noise, schedule=schedule,
                                    **hyperparams)
                paths = [swarm.trajectory(i) for i in range(len(swarm))]
            else:
                paths = [_paths(fn, run, start=s, steps=steps, seed=seed, noise=noise) for s in array]
            groups.append((paths[0].label.split(" diverged")[0], paths))
        out["groups"] = groups
        kind = (_("a {nx}x{ny} grid").format(nx=start_set.shape[0], ny=start_set.shape[1])
                if getattr(start_set, "kind", "") == "grid"
                else _("at random") if isinstance(start_set, StartSet) else _("given"))
        out["note"] = _("{n} starts ({kind})").format(n=len(array), kind=kind) + (
            _(", gradient noise \u03c3={noise:g}").format(noise=noise) if noise else "")
    elif seeds > 1:
        groups = []
        for run in runs:
            paths = [_paths(fn, run, start=start, steps=steps, seed=seed, noise=noise, noise_seed=s)
                     for s in range(seeds)]
            groups.append((paths[0].label.split(" diverged")[0], paths))
        out["groups"] = groups
        out["note"] = _("gradient noise \u03c3={noise:g}, {seeds} seeds each").format(noise=noise, seeds=seeds)
    else:
        out["paths"] = [_paths(fn, run, start=start, steps=steps, seed=seed, noise=noise) for run in runs]
        if noise:
            out["note"] = _("gradient noise \u03c3={noise:g}").format(noise=noise)
    return out


def tuning_note_text(table: TuningTable) -> str:
    """The line a tuned figure prints: objective and grid, so nobody takes it for a verdict."""
    what = _(table.objective_short or table.objective)
    return _("Tuned, not a verdict: each lr is the best of {grid}, for {what} ({steps} steps)").format(
        grid=table.grid_text(), what=what, steps=table.steps)


def optimizer_run(optimizer: Any, lr: float) -> tuple[Any, dict[str, Any], Any]:
    """'adam:lr=0.01@cosine', a name or a class -> (spec, settings with lr, Schedule or None); an lr in the
    text wins over `lr`."""
    [(spec, hyperparams, schedule)] = parse_runs([optimizer])
    hyperparams = {"lr": lr, **hyperparams}
    spec.resolve(hyperparams)
    return spec, hyperparams, schedule
