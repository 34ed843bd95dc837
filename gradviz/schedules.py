"""The `SCHEDULERS` registry: torch.optim.lr_scheduler classes by short name, and the `@` syntax.

A schedule is written after an optimizer with `@`: `sgd:lr=0.01@cosine:T_max=200`; phases of a sequence
are joined with `+` (`adam@warmup:total_iters=20+cosine`), which builds a torch SequentialLR whose
milestones are the lengths of the phases before the last. Arguments a run can supply are filled in when
left out (cosine's T_max and one-cycle's total_steps default to the number of steps, one-cycle's max_lr to
the optimizer's lr), so `@cosine` alone decays to zero at the last step. Parsing needs no torch; torch's
own classes are built (and their own argument checks run) only in `build_scheduler`. The scheduler steps
once per optimizer step, after it, as in a plain training loop.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Mapping

from gradviz.registry import InvalidArgument, Registry, unknown_name_message

__all__ = ["SchedulerSpec", "SCHEDULERS", "Schedule", "parse_schedule", "split_schedule", "build_scheduler"]


@dataclass(frozen=True)
class SchedulerSpec:
    name: str
    target: str
    summary: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # which argument is the length of the phase (for the milestones of a sequence)
    length: str | None = None

    @property
    def cls(self) -> type:
        module, _, attr = self.target.rpartition(".")
        return getattr(importlib.import_module(module), attr)


SCHEDULERS: Registry = Registry("scheduler")


def _add(name: str, cls: str, summary: str, **kwargs: Any) -> None:
    SCHEDULERS.register(name, SchedulerSpec(name, f"torch.optim.lr_scheduler.{cls}", summary, **kwargs))


# Accepted argument names, checked without importing torch (torch's signatures, less optimizer/last_epoch).
_ARGUMENTS = {
    "StepLR": ("step_size", "gamma"),
    "MultiStepLR": ("milestones", "gamma"),
    "ExponentialLR": ("gamma",),
    "CosineAnnealingLR": ("T_max", "eta_min"),
    "CosineAnnealingWarmRestarts": ("T_0", "T_mult", "eta_min"),
    "OneCycleLR": ("max_lr", "total_steps", "pct_start", "anneal_strategy", "cycle_momentum", "base_momentum",
                   "max_momentum", "div_factor", "final_div_factor", "three_phase"),
    "LinearLR": ("start_factor", "end_factor", "total_iters"),
    "ConstantLR": ("factor", "total_iters"),
    "PolynomialLR": ("total_iters", "power"),
    "CyclicLR": ("base_lr", "max_lr", "step_size_up", "step_size_down", "mode", "gamma", "cycle_momentum",
                 "base_momentum", "max_momentum"),
}

_add("step", "StepLR", "multiply lr by gamma every step_size steps", defaults={"step_size": "steps/4", "gamma": 0.5},
     length=None)
_add("multistep", "MultiStepLR", "multiply lr by gamma at each milestone (milestones=50/100)", defaults={"gamma": 0.1})
_add("exponential", "ExponentialLR", "multiply lr by gamma every step", defaults={"gamma": 0.99})
_add("cosine", "CosineAnnealingLR", "half a cosine from lr down to eta_min over T_max steps",
     defaults={"T_max": "steps"}, length="T_max")
_add("cosine-restarts", "CosineAnnealingWarmRestarts", "cosine decays restarted every T_0 steps (SGDR)",
     defaults={"T_0": "steps/4"})
_add("onecycle", "OneCycleLR", "warm up to max_lr, then anneal far below the start (Smith 2018)",
     defaults={"max_lr": "lr", "total_steps": "steps"}, length="total_steps")
_add("linear", "LinearLR", "scale lr linearly from start_factor to end_factor over total_iters steps",
     defaults={"total_iters": "steps"}, length="total_iters")
_add("warmup", "LinearLR", "linear warm-up from 0.1 lr to lr over total_iters steps",
     defaults={"start_factor": 0.1, "end_factor": 1.0, "total_iters": "steps/10"}, length="total_iters")
_add("constant", "ConstantLR", "lr times factor for total_iters steps, then lr", defaults={"factor": 0.1},
     length="total_iters")
_add("polynomial", "PolynomialLR", "decay to zero as (1 - t/total_iters)^power", defaults={"total_iters": "steps"},
     length="total_iters")
_add("cyclic", "CyclicLR", "triangle between base_lr and max_lr (Smith 2017)",
     defaults={"base_lr": "lr/10", "max_lr": "lr", "step_size_up": "steps/8", "cycle_momentum": False})


@dataclass(frozen=True)
class Schedule:
    """One or more phases, each (scheduler name, explicit arguments); `text` is how it was written."""

    phases: tuple[tuple[str, Mapping[str, Any]], ...]
    text: str = ""

    def describe(self) -> str:
        return self.text or "+".join(name for name, _ in self.phases)


def split_schedule(text: str) -> tuple[str, str | None]:
    """'sgd:lr=0.01@cosine:T_max=200' -> ('sgd:lr=0.01', 'cosine:T_max=200'); without '@' the second is None."""
    optimizer, sep, schedule = text.partition("@")
    if sep and not schedule.strip():
        raise InvalidArgument(f"invalid schedule in {text!r}: nothing after '@' (valid: {', '.join(SCHEDULERS)})")
    return optimizer, (schedule.strip() if sep else None)


def parse_schedule(text: str | Schedule) -> Schedule:
    """'cosine:T_max=200' or 'warmup:total_iters=20+cosine' -> Schedule, names and argument names checked."""
    if isinstance(text, Schedule):
        return text
    from gradviz.optim import _parse_value

    phases = []
    parts = str(text).split("+")
    for index, part in enumerate(parts):
        name, _, rest = part.strip().partition(":")
        spec = SCHEDULERS.lookup(name)
        accepted = _ARGUMENTS[spec.target.rpartition(".")[2]]
        arguments: dict[str, Any] = {}
        for item in filter(None, (p.strip() for p in rest.split(","))):
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or not key or not value.strip():
                raise InvalidArgument(f"invalid scheduler setting {item!r} in {text!r} (expected KEY=VALUE)")
            if key not in accepted:
                raise InvalidArgument(unknown_name_message("scheduler argument", key, accepted,
                                                           where=f" for {spec.name}"))
            arguments[key] = _parse_value(value)
        if index < len(parts) - 1 and spec.length is None:
            raise InvalidArgument(f"invalid schedule {text!r}: {spec.name} can only be the last phase of a sequence "
                                  "(phases before the last need a length: cosine, onecycle, linear, warmup, "
                                  "constant, polynomial)")
        phases.append((spec.name, arguments))
    return Schedule(tuple(phases), str(text))


def _fill(value: Any, steps: int, lr: float) -> Any:
    """Defaults that depend on the run: 'steps', 'steps/4', 'lr', 'lr/10'."""
    if not isinstance(value, str):
        return value
    base, _, divisor = value.partition("/")
    number = {"steps": steps, "lr": lr}[base]
    if not divisor:
        return number
    return max(1, int(number) // int(divisor)) if base == "steps" else number / float(divisor)


def resolved_phases(schedule: Schedule, *, steps: int, lr: float) -> list[tuple[SchedulerSpec, dict[str, Any]]]:
    """Each phase's spec with its defaults filled in for a run of `steps` steps at base rate `lr`."""
    out = []
    for name, arguments in schedule.phases:
        spec = SCHEDULERS[name]
        merged = {key: _fill(value, steps, lr) for key, value in {**spec.defaults, **arguments}.items()}
        if isinstance(merged.get("milestones"), (int, float)):
            merged["milestones"] = (merged["milestones"],)
        out.append((spec, merged))
    return out


def build_scheduler(optimizer: Any, schedule: str | Schedule, *, steps: int) -> Any:
    """A torch LRScheduler on `optimizer` for `schedule` (a sequence becomes SequentialLR)."""
    schedule = parse_schedule(schedule)
    lr = float(optimizer.param_groups[0]["lr"])
    phases = resolved_phases(schedule, steps=steps, lr=lr)
    built = []
    try:
        for spec, arguments in phases:
            built.append(spec.cls(optimizer, **arguments))
        if len(built) == 1:
            return built[0]
        sequential = importlib.import_module("torch.optim.lr_scheduler").SequentialLR
        milestones, total = [], 0
        for spec, arguments in phases[:-1]:
            total += int(arguments[spec.length])
            milestones.append(total)
        return sequential(optimizer, built, milestones)
    except (ValueError, TypeError, KeyError, ZeroDivisionError) as error:
        raise InvalidArgument(f"invalid schedule {schedule.describe()!r}: {error}") from None
