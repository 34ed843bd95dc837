"""Named registries and the one error type for bad user input.

Every list of choices in gradviz (test functions, optimizers, datasets, ...) is a `Registry`: a plain
dict from a kebab-case name to an entry. The CLI's choices, `gradviz list`, the tests' parametrization and
the gallery all read the same dicts, so one new entry shows up everywhere. Looking a name up through
`Registry.lookup` turns a typo into an `InvalidArgument` that names the bad value, suggests the closest
valid one and lists them all.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, Iterable

__all__ = ["InvalidArgument", "UserCodeError", "Registry", "Choice", "registry_of", "normalize_name",
           "check_positive", "check_seed", "unknown_name_message", "MAX_SEED"]


class InvalidArgument(ValueError):
    """A value supplied by the user that gradviz cannot use. The message names the value.

    The CLI turns it into a one-line error with exit code 2; library callers can catch it as ValueError.
    """


class UserCodeError(InvalidArgument):
    """The user's own code (a model factory, a data function, a loss, a model's forward) raised.

    The message names which of theirs raised what, in one line; the original exception is the __cause__
    (the CLI prints the whole traceback with --traceback or GRADVIZ_TRACEBACK=1). It is an InvalidArgument,
    so the CLI answers it with exit code 2 and library callers can catch it as ValueError.
    """

    def __init__(self, message: str, original: BaseException | None = None) -> None:
        super().__init__(message)
        self.original = original


def normalize_name(name: str) -> str:
    """'Six_Hump Camel' -> 'six-hump-camel': names are case-, space- and underscore-insensitive."""
    return "-".join(str(name).strip().lower().replace("_", " ").replace("-", " ").split())


def unknown_name_message(kind: str, name: Any, choices: Iterable[str], *, where: str = "") -> str:
    """"unknown optimizer 'adamm'; did you mean 'adam'? (valid: ...)", `where` after the name."""
    choices = list(choices)
    shown = str(name) if len(str(name)) <= 60 else str(name)[:40] + "..."  # a pasted page is not echoed whole
    message = f"unknown {kind} {shown!r}{where}"
    close = difflib.get_close_matches(normalize_name(str(name)), choices, n=1, cutoff=0.5)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return message + f" (valid: {', '.join(choices)})"


class Registry(dict):
    """A dict of named entries that knows what it holds, for error messages."""

    def __init__(self, kind: str, entries: Iterable[tuple[str, Any]] = ()):
        super().__init__(entries)
        self.kind = kind

    def register(self, name: str, entry: Any) -> Any:
        if name != normalize_name(name):
            raise ValueError(f"registry names are kebab-case: {name!r}")
        if name in self:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self[name] = entry
        return entry

    def lookup(self, name: str) -> Any:
        """The entry called `name` (any case, '_' or '-'), or InvalidArgument naming the valid ones."""
        key = normalize_name(name) if isinstance(name, str) else name
        if key in self:
            return self[key]
        raise InvalidArgument(unknown_name_message(self.kind, name, self.keys()))


@dataclass(frozen=True)
class Choice:
    """A named choice and the one line that `--help` and `gradviz list` show for it; subclasses add what the
    choice needs (see gradviz.analysis.choices.PlaneChoice)."""

    name: str
    summary: str


def registry_of(kind: str, *entries: Any) -> Registry:
    """A Registry of `kind` holding each entry under its `.name`."""
    registry = Registry(kind)
    for entry in entries:
        registry.register(entry.name, entry)
    return registry


def check_positive(name: str, value: Any, *, integer: bool = False, allow_zero: bool = False) -> Any:
    """Return `value` if it is a finite number > 0 (>= 0 with allow_zero), else InvalidArgument."""
    bad = isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__")
    if not bad:
        number = float(value)
        bad = not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero)
        if integer and not bad and number != int(number):
            bad = True
    if bad:
        need = "a whole number" if integer else "a finite number"
        need += " >= 0" if allow_zero else " > 0"
        raise InvalidArgument(f"invalid {name}: {value!r} (must be {need})")
    return int(value) if integer else value


# numpy's legacy generators and every torch generator take seeds up to 2**32 - 1; one bound for all of them
MAX_SEED = 2**32 - 1


def check_seed(value: Any, name: str = "seed") -> int:
    """A seed: a whole number from 0 to MAX_SEED (int, or a string of one, as the CLI passes), else
    InvalidArgument naming the value."""
    number = value
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            number = None
    elif hasattr(value, "__index__") and not isinstance(value, bool):
        number = int(value.__index__())
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= MAX_SEED:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:30] + "..."
        raise InvalidArgument(f"invalid {name}: {shown} (must be a whole number from 0 to {MAX_SEED:,})")
    return number
