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


# Accepted arguments and the form of each, checked without importing torch (torch's signatures, less
# optimizer/last_epoch): count: a whole number >= 1; counts: whole numbers >= 1 written a/b/c; positive: a
# finite number > 0; nonnegative: >= 0; fraction: in (0, 1]; unit: in [0, 1]; open-unit: in (0, 1);
# bool: true/false; a tuple of words: one of them.
_ARGUMENTS: dict[str, dict[str, Any]] = {
    "StepLR": {"step_size": "count", "gamma": "positive"},
    "MultiStepLR": {"milestones": "counts", "gamma": "positive"},
    "ExponentialLR": {"gamma": "positive"},
    "CosineAnnealingLR": {"T_max": "count", "eta_min": "nonnegative"},
    "CosineAnnealingWarmRestarts": {"T_0": "count", "T_mult": "count", "eta_min": "nonnegative"},
    "OneCycleLR": {"max_lr": "positive", "total_steps": "count", "pct_start": "open-unit",
                   "anneal_strategy": ("cos", "linear"), "cycle_momentum": "bool", "base_momentum": "unit",
                   "max_momentum": "unit", "div_factor": "positive", "final_div_factor": "positive",
                   "three_phase": "bool"},
    "LinearLR": {"start_factor": "fraction", "end_factor": "unit", "total_iters": "count"},
    "ConstantLR": {"factor": "unit", "total_iters": "count"},
    "PolynomialLR": {"total_iters": "count", "power": "nonnegative"},
    "CyclicLR": {"base_lr": "positive", "max_lr": "positive", "step_size_up": "count", "step_size_down": "count",
                 "mode": ("triangular", "triangular2", "exp_range"), "gamma": "positive",
                 "cycle_momentum": "bool", "base_momentum": "unit", "max_momentum": "unit"},
}

_FORMS = {"count": "a whole number >= 1", "counts": "whole numbers >= 1 written a/b/c",
          "positive": "a finite number > 0", "nonnegative": "a finite number >= 0", "fraction": "a number in (0, 1]",
          "unit": "a number in [0, 1]", "open-unit": "a number in (0, 1)", "bool": "true or false"}


def _check_argument(scheduler: str, key: str, value: Any, form: Any) -> Any:
    """`value` in the form torch's scheduler takes for `key`, or InvalidArgument naming both."""
    from gradviz.lecture.optim import _as_bool, _is_number, _show

    def whole(v: Any) -> bool:
        return _is_number(v) and float(v) == int(v) and v >= 1

    if isinstance(form, tuple):
        ok = isinstance(value, str) and value in form
        expected = "one of " + ", ".join(form)
    elif form == "bool":
        flag = _as_bool(value)
        ok, expected = flag is not None, _FORMS[form]
        value = flag if ok else value
    elif form == "counts":
        items = value if isinstance(value, tuple) else (value,)
        ok, expected = all(whole(v) for v in items), _FORMS[form]
        value = tuple(int(v) for v in items) if ok else value
    else:
        low_open = form in ("positive", "fraction", "open-unit")
        high = {"fraction": (1, False), "unit": (1, False), "open-unit": (1, True)}.get(form)
        ok = _is_number(value) and (value > 0 if low_open else value >= 0)
        if ok and high is not None:
            ok = value < high[0] if high[1] else value <= high[0]
        if form == "count":
            ok = whole(value)
            value = int(value) if ok else value
        expected = _FORMS[form]
    if not ok:
        raise InvalidArgument(f"invalid {key} for {scheduler}: {_show(value)!r} (expected {expected})")
    return value


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
    # the '@' outside parentheses: inside base=(...) it belongs to the base optimizer, which parse_optimizer
    # answers ("a schedule goes after the whole optimizer"), rather than a schedule named 'cosine)'
    depth, at = 0, -1
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "@" and depth == 0:
            at = index
            break
    optimizer, sep, schedule = (text[:at], "@", text[at + 1:]) if at >= 0 else (text, "", "")
    if sep and not schedule.strip():
        raise InvalidArgument(f"invalid schedule in {text!r}: nothing after '@' (valid: {', '.join(SCHEDULERS)})")
    return optimizer, (schedule.strip() if sep else None)


def parse_schedule(text: str | Schedule) -> Schedule:
    """'cosine:T_max=200' or 'warmup:total_iters=20+cosine' -> Schedule, names and argument names checked."""
    if isinstance(text, Schedule):
        return text
    from gradviz.lecture.optim import _parse_value

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
            if key in arguments:
                raise InvalidArgument(f"{key} is given twice in {text!r}: give each setting once")
            arguments[key] = _check_argument(spec.name, key, _parse_value(value), accepted[key])
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
        # only gradviz's own defaults are templates ('steps/4'): a user's string ('linear') is torch's value
        merged = {**{key: _fill(value, steps, lr) for key, value in spec.defaults.items()}, **arguments}
        if isinstance(merged.get("milestones"), (int, float)):
            merged["milestones"] = (merged["milestones"],)
        out.append((spec, merged))
    return out


def build_scheduler(optimizer: Any, schedule: str | Schedule, *, steps: int) -> Any:
    """A torch LRScheduler on `optimizer` for `schedule` (a sequence becomes SequentialLR)."""
    schedule = parse_schedule(schedule)
    lr = optimizer.param_groups[0].get("lr")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise InvalidArgument(f"schedule {schedule.describe()!r}: {type(optimizer).__name__} has no learning rate "
                              "to schedule (a direct method, or one that chooses its own step)")
    lr = float(lr)
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
