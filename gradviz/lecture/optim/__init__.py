"""The `OPTIMIZERS` registry: every optimizer of the lecture, by name, with defaults that animate well.

An entry is an `OptimizerSpec`: which torch.optim class to build (imported only when built, so listing
the registry does not import torch), fixed settings that make a variant (momentum is SGD with
momentum=0.9), default hyperparameters tuned for a readable animation on the default function, and whether
the update acts elementwise (then many starts can be traced as one batched tensor). Hyperparameters are
checked where the optimizer is built: unknown names get the closest valid one suggested, a learning
rate must be a finite number > 0, and every other value must have the form of the class's own default for
it (a bool default takes true/false, a number a finite number, a tuple as many numbers, betas in [0, 1)).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import numbers
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from gradviz.registry import InvalidArgument, Registry, unknown_name_message

__all__ = ["OptimizerSpec", "OPTIMIZERS", "get_optimizer", "parse_optimizer", "import_optimizer_class"]


# Accepted, but not worth listing as choices: they change how torch computes, not what.
_ENGINE_OPTIONS = ("foreach", "capturable", "differentiable", "fused")


@dataclass(frozen=True, eq=False)
class OptimizerSpec:
    """How to build one optimizer: torch class path, fixed settings and animation-friendly defaults."""

    name: str
    target: str | type
    summary: str = ""
    fixed: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    elementwise: bool = True
    needs_closure: bool = False  # informative only: every optimizer is stepped through a closure
    reference: str = ""
    family: str = "adaptive"  # "gradient": step = lr * g; "adaptive": step ~ lr; "newton": lr is a step fraction;
    #                            "direct": gradient-free, driven only through the closure; "custom": a class from elsewhere
    net_lr: float = 0.01  # default learning rate for training the small nets of gradviz.lecture
    second_order: bool | None = False  # needs backward(create_graph=True); None: find out with one probe step
    # hyperparameters that `trace` sets from the function's plot window when none is given: a fraction of
    # the window's shorter side (a step size), or None for the window itself ((x0, x1), (y0, y1))
    window_defaults: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def uses_gradient(self) -> bool:
        """False for the direct (gradient-free) methods: tracing them takes no backward pass."""
        return self.family != "direct"

    @property
    def cls(self) -> type:
        if isinstance(self.target, type):
            return self.target
        module, _, attr = self.target.rpartition(".")
        return getattr(importlib.import_module(module), attr)

    @property
    def parameters(self) -> Mapping[str, inspect.Parameter]:
        """The parameters of the class's __init__ (read once per class); for the registry's classes from
        the table of gradviz.lecture.optim.signatures, so checking settings imports no torch."""
        if isinstance(self.target, str):
            static = _static_parameters(self.target)
            if static is not None:
                return static
        return _init_parameters(self.cls)

    def check_without_import(self, hyperparams: Mapping[str, Any]) -> None:
        """resolve(hyperparams) where that needs no import of the class (a registry entry whose signature
        gradviz.lecture.optim.signatures holds); nothing otherwise: the class checks them when it is built."""
        if isinstance(self.target, str) and _static_parameters(self.target) is not None:
            self.resolve(hyperparams)

    def accepted(self) -> list[str]:
        """Hyperparameter names the class takes (every keyword of __init__ but params; a wrapper's base
        optimizer is given as base=)."""
        names = [n for n, p in self.parameters.items() if n not in ("self", "params")
                 and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        return ["base", *names[1:]] if self.wraps_an_optimizer else names

    @property
    def first_argument(self) -> str | None:
        """The name of __init__'s first argument after self: params for most, optimizer for a wrapper
        (Lookahead), model for a class that reads a model's named parameters (AdamMini, LOMO)."""
        names = [n for n in self.parameters if n != "self"]
        return names[0] if names else None

    @property
    def wraps_an_optimizer(self) -> bool:
        """Whether the class is built around another optimizer (Lookahead(optimizer, k=5)): given as base=."""
        return self.first_argument == "optimizer"

    def takes_any_keyword(self) -> bool:
        """Whether __init__ has **kwargs: then any hyperparameter name is passed through to the class."""
        return any(p.kind == p.VAR_KEYWORD for p in self.parameters.values())

    def default_of(self, name: str) -> Any:
        """The class's own default for hyperparameter `name` (inspect.Parameter.empty if it has none)."""
        parameter = self.parameters.get(name)
        return inspect.Parameter.empty if parameter is None else parameter.default

    def resolve(self, hyperparams: Mapping[str, Any]) -> dict[str, Any]:
        """defaults | hyperparams, checked: unknown names and bad learning rates are InvalidArgument.

        A class whose __init__ takes **kwargs gets every name passed through; lr=None is accepted where
        the class's own default is None (Adafactor, A2Grad choose their step themselves).
        """
        if self.first_argument == "model":
            raise InvalidArgument(f"optimizer {self.cls.__name__} takes a model (an nn.Module it reads named parameters "
                                  "from), not parameters: it cannot step a point; use it in your own training loop")
        accepted = self.accepted()
        open_ended = self.takes_any_keyword()
        if self.wraps_an_optimizer and "base" not in hyperparams:
            raise InvalidArgument(f"optimizer {self.name} wraps another optimizer: give it as base=, e.g. "
                                  f"-O '{_path_of(self.cls)}:base=(adam:lr=0.01)' or "
                                  f"trace(f, {self.cls.__name__}, base='adam:lr=0.01')")
        for key in hyperparams:
            if (key not in accepted and not open_ended) or key in self.fixed:
                valid = [k for k in accepted if k not in self.fixed and k not in _ENGINE_OPTIONS]
                raise InvalidArgument(unknown_name_message("hyperparameter", key, valid, where=f" for {self.name}"))
        merged = {**self.defaults, **hyperparams}
        if "lr" in merged and not (merged["lr"] is None and self.default_of("lr") is None):
            lr = merged["lr"]
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
                raise InvalidArgument(f"invalid learning rate for {self.name}: {lr!r} (must be a finite number > 0)")
        parameters = self.parameters
        for key, value in merged.items():
            if key != "lr" and key in parameters:
                merged[key] = self._check_value(key, value, parameters[key])
        if self.wraps_an_optimizer:
            base = merged["base"]
            if isinstance(base, str):
                parse_optimizer(base)
            elif not isinstance(base, OptimizerSpec) and not _is_optimizer_class(base):
                raise InvalidArgument(f"invalid base for {self.name}: {base!r} (give an optimizer as text, "
                                      "'adam:lr=0.01', or a class)")
        return merged

    def _check_value(self, key: str, value: Any, parameter: inspect.Parameter) -> Any:
        """`value` in the form of the class's default for `key`, or InvalidArgument naming both.

        A bool default takes a bool, 0/1 or true/false/yes/no/1/0 (any case) and gives a bool; a number
        default a finite number (a whole one where annotated int); a tuple default exactly as many numbers
        (None where the default has None), betas each in [0, 1). A default of None, or of any other
        type, passes the value through for the class to judge.
        """
        default = parameter.default
        if _foreign(value):  # a tensor (torch accepts one for most settings): torch judges it
            return value
        if key == "base_optimizer" and isinstance(value, str):
            # SAM(params, base_optimizer=torch.optim.SGD, **its settings) takes a class: a name on the
            # command line is that optimizer's class, its settings given beside it
            spec = get_optimizer(value.strip())
            if spec.fixed:
                fixed = ", ".join(f"{k}={v}" for k, v in spec.fixed.items())
                raise self._invalid(key, value, f"an optimizer class; {spec.name} is {spec.cls.__name__} with {fixed}: "
                                                f"write base_optimizer={spec.cls.__name__.lower()} and give {fixed} beside it")
            return spec.cls
        example = self.defaults.get(key, default)
        if default is None and _is_number(example) and not _is_number(value) and value is not None:
            # torch's default None means "its own choice" (LBFGS max_eval); gradviz's default says the form
            raise self._invalid(key, value, f"a {'whole ' if isinstance(example, int) else ''}number, "
                                            f"e.g. {_show(example)}")
        if isinstance(default, bool):
            flag = _as_bool(value)
            if flag is None:
                raise self._invalid(key, value, "true/false, yes/no or 1/0")
            return flag
        if isinstance(default, (int, float)):
            whole = parameter.annotation in (int, "int")
            if not _is_number(value) or (whole and float(value) != int(value)):
                kind = "a whole number" if whole else "a finite number"
                raise self._invalid(key, value, f"{kind}, e.g. {_show(example)}")
            return int(value) if whole else value
        if isinstance(default, tuple) and default and all(d is None or _is_number(d) for d in default):
            n = len(default)
            unit = key == "betas"
            count = _COUNTS.get(n, str(n))
            form = "/".join("abcdefgh"[i] for i in range(n)) if n <= 8 else "a/b/..."
            expected = f"{count} numbers {form}{' in [0, 1)' if unit else ''}, e.g. {_show(example)}"
            items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
            if len(items) != n or not all(_is_number(v) or (v is None and d is None) for v, d in zip(items, default)):
                raise self._invalid(key, value, expected)
            if unit and not all(0 <= v < 1 for v in items):
                raise self._invalid(key, value, expected)
            return items
        return value

    def _invalid(self, key: str, value: Any, expected: str) -> InvalidArgument:
        return InvalidArgument(f"invalid {key} for {self.name}: {_show(value)!r} (expected {expected})")

    def build(self, params: Iterable[Any], **hyperparams: Any) -> Any:
        """A torch.optim.Optimizer over `params` with defaults | hyperparams; a wrapper (Lookahead) around
        its base optimizer built over `params` first, as a user's loop builds them."""
        merged = self.resolve(hyperparams)
        if self.wraps_an_optimizer:
            base = merged.pop("base")
            name, settings = parse_optimizer(base) if isinstance(base, str) else (base, {})
            params = get_optimizer(name).build(params, **settings)
        try:
            optimizer = self.cls(params, **self.fixed, **merged)
            if self.wraps_an_optimizer and callable(getattr(optimizer, "train", None)):
                optimizer.train()  # a schedule-free wrapper steps only in train mode, as its own loop sets it
            return optimizer
        except InvalidArgument:
            raise
        except (ValueError, TypeError) as error:
            raise InvalidArgument(f"{self.name}: {error}") from None
        except Exception as error:  # noqa: BLE001 - a foreign class's own failure, said in one line
            from gradviz.lecture.optim.stepping import cannot_step_message

            raise InvalidArgument(cannot_step_message(self.cls, error)) from None

    def __call__(self, params: Iterable[Any], **hyperparams: Any) -> Any:
        return self.build(params, **hyperparams)


@functools.lru_cache(maxsize=None)
def _static_parameters(target: str) -> Mapping[str, inspect.Parameter] | None:
    from gradviz.lecture.optim.signatures import static_parameters

    return static_parameters(target)


@functools.lru_cache(maxsize=None)
def _init_parameters(cls: type) -> Mapping[str, inspect.Parameter]:
    return inspect.signature(cls.__init__).parameters


_COUNTS = {1: "one", 2: "two", 3: "three", 4: "four"}
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


def _is_number(value: Any) -> bool:
    """A finite real number, not a bool (True is an int to Python, not a learning rate to a user)."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool) and type(value).__name__ != "bool_"
            and math.isfinite(value))


def _as_bool(value: Any) -> bool | None:
    """True/False for a bool, 0/1 or true/false/yes/no/1/0 (any case); None for anything else."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    return None


def _foreign(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "torch"


def _show(value: Any) -> str:
    """A value as the -O syntax writes it: 0.9/0.999 for a tuple, none for None."""
    if isinstance(value, (tuple, list)):
        return "/".join(_show(v) for v in value)
    return "none" if value is None else str(value)


OPTIMIZERS: Registry = Registry("optimizer")


def _add(name: str, target: str, summary: str, **kwargs: Any) -> None:
    OPTIMIZERS.register(name, OptimizerSpec(name=name, target=target, summary=summary, **kwargs))


# Default learning rates: each gives a readable 200-step animation on Rosenbrock from its default start.
_add("sgd", "torch.optim.SGD", "plain gradient descent: x <- x - lr g", defaults={"lr": 1e-3},
     reference="Robbins & Monro 1951", family="gradient", net_lr=0.5)
_add("momentum", "torch.optim.SGD", "heavy ball: v <- mu v + g; x <- x - lr v",
     defaults={"lr": 1e-3, "momentum": 0.9}, reference="Polyak 1964", family="gradient", net_lr=0.1)
_add("nesterov", "torch.optim.SGD", "Nesterov accelerated gradient (look-ahead momentum)",
     fixed={"nesterov": True}, defaults={"lr": 1e-3, "momentum": 0.9},
     reference="Nesterov 1983; Sutskever et al. 2013", family="gradient", net_lr=0.1)
_add("adagrad", "torch.optim.Adagrad", "per-coordinate lr / sqrt(sum of squared gradients)",
     defaults={"lr": 0.5}, reference="Duchi, Hazan & Singer 2011", net_lr=0.1)
_add("adadelta", "torch.optim.Adadelta", "Adagrad with running averages and unit-correct steps",
     defaults={"lr": 50.0}, reference="Zeiler 2012", net_lr=1.0)
_add("rmsprop", "torch.optim.RMSprop", "lr / sqrt(running average of g^2)", defaults={"lr": 0.01},
     reference="Hinton, Coursera lecture 6e, 2012", net_lr=0.01)
_add("adam", "torch.optim.Adam", "momentum + RMSprop with bias correction", defaults={"lr": 0.1},
     reference="Kingma & Ba 2015", net_lr=0.02)
_add("adamw", "torch.optim.AdamW", "Adam with decoupled weight decay", defaults={"lr": 0.1},
     reference="Loshchilov & Hutter 2019", net_lr=0.02)
_add("nadam", "torch.optim.NAdam", "Adam with Nesterov momentum", defaults={"lr": 0.1}, reference="Dozat 2016", net_lr=0.02)
_add("radam", "torch.optim.RAdam", "Adam with a rectified warm-up of the adaptive term", defaults={"lr": 0.003},
     reference="Liu et al. 2020", net_lr=0.02)
_add("adamax", "torch.optim.Adamax", "Adam with the infinity norm", defaults={"lr": 0.2},
     reference="Kingma & Ba 2015", net_lr=0.05)
_add("adabelief", "gradviz.lecture.optim.adabelief.AdaBelief", "Adam that scales by the belief (g - m)^2",
     defaults={"lr": 0.1}, reference="Zhuang et al. 2020", net_lr=0.02)
_add("lbfgs", "torch.optim.LBFGS", "quasi-Newton with a strong-Wolfe line search, one iteration a step",
     defaults={"lr": 1.0, "max_iter": 1, "max_eval": 25, "history_size": 10, "line_search_fn": "strong_wolfe"},
     elementwise=False, needs_closure=True, reference="Liu & Nocedal 1989", family="newton", net_lr=1.0)

# Direct (gradient-free) methods: driven only through the closure, compared by evaluations (--budget).
_add("nelder-mead", "gradviz.lecture.optim.direct.NelderMead", "simplex of n+1 points: reflect, expand, contract, shrink",
     elementwise=False, family="direct", reference="Nelder & Mead 1965; Lagarias et al. 1998")
_add("pattern-search", "gradviz.lecture.optim.direct.PatternSearch", "Hooke-Jeeves: stencil moves, pattern moves, halving",
     elementwise=False, family="direct", reference="Hooke & Jeeves 1961", window_defaults={"step": 0.1})
_add("random-search", "gradviz.lecture.optim.direct.RandomSearch", "(1+1)-ES: Gaussian step, 1/5 success rule",
     elementwise=False, family="direct", reference="Rechenberg 1973", window_defaults={"sigma": 0.1})
_add("pure-random", "gradviz.lecture.optim.direct.PureRandomSearch", "uniform samples over the window, best kept",
     elementwise=False, family="direct", reference="Brooks 1958", window_defaults={"bounds": None})
_add("cma-es", "gradviz.lecture.optim.direct.CMAES", "population from N(m, sigma^2 C), adapted mean, step and covariance",
     elementwise=False, family="direct", reference="Hansen & Ostermeier 2001; Hansen 2016",
     window_defaults={"sigma0": 0.25})
_add("simulated-annealing", "gradviz.lecture.optim.direct.SimulatedAnnealing",
     "Metropolis acceptance, geometric cooling, shrinking proposals", elementwise=False, family="direct",
     reference="Kirkpatrick, Gelatt & Vecchi 1983", window_defaults={"step": 0.1})

DIRECT_METHODS = tuple(name for name, spec in OPTIMIZERS.items() if spec.family == "direct")

DEFAULT_OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adagrad")


# Where a module's distribution is not simply its name with '-' for '_'.
_DISTRIBUTIONS = {"torch_optimizer": "torch-optimizer", "pytorch_optimizer": "pytorch-optimizer"}


def _path_of(cls: type) -> str:
    """'pytorch_optimizer.Lookahead' for a class of a package's top-level namespace, as -O writes it."""
    top = cls.__module__.split(".")[0]
    return f"{top}.{cls.__name__}" if getattr(sys.modules.get(top), cls.__name__, None) is cls else \
        f"{cls.__module__}.{cls.__name__}"


def _is_dotted_path(text: str) -> bool:
    module, dot, attr = text.partition(":")[0].strip().rpartition(".")
    return bool(dot and module and attr)


def _check_module_installed(path: str) -> None:
    """InvalidArgument naming the module and how to install it; imports nothing (cheap, before torch)."""
    import importlib.util

    top = path.split(".")[0]
    if importlib.util.find_spec(top) is None:
        message = f"optimizer {path!r}: module {top!r} is not installed"
        if top in _DISTRIBUTIONS:  # only a name gradviz knows gets a pip command: a misspelt one may be a trap
            raise InvalidArgument(f"{message} (pip install {_DISTRIBUTIONS[top]})")
        import difflib
        import pkgutil

        known = {*_DISTRIBUTIONS, "torch", "gradviz"}
        installed = {m.name for m in pkgutil.iter_modules()} - known
        close = (difflib.get_close_matches(top, sorted(known), n=1, cutoff=0.75)
                 or difflib.get_close_matches(top, sorted(installed), n=1, cutoff=0.75))
        hint = (f"; did you mean {close[0]!r}?" if close
                else f" (optimizer packages gradviz knows: {', '.join(_DISTRIBUTIONS)})")
        from pathlib import Path

        here = Path.cwd()
        if (here / f"{top}.py").is_file() or (here / top / "__init__.py").is_file():
            hint = (f"; {top!r} is in the current folder, which the gradviz command does not import from: "
                    f"run PYTHONPATH=. gradviz ... or python -m gradviz ...")
        raise InvalidArgument(message + hint)


def import_optimizer_class(path: str) -> type:
    """'pytorch_optimizer.Lion' -> the class, or InvalidArgument saying what is missing."""
    _check_module_installed(path)
    module_name, _, attr = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InvalidArgument(f"optimizer {path!r}: cannot import {module_name!r} ({error})") from None
    cls = getattr(module, attr, None)
    names = sorted(n for n, v in vars(module).items() if _is_optimizer_class(v))
    if cls is None:
        import difflib

        lowered = {n.lower(): n for n in names}
        close = difflib.get_close_matches(attr.lower(), list(lowered), n=1, cutoff=0.5)
        hint = f"; did you mean {lowered[close[0]]!r}?" if close else ""
        raise InvalidArgument(f"unknown optimizer class {attr!r} in {module_name}{hint} (valid: {', '.join(names)})")
    if not _is_optimizer_class(cls):
        if isinstance(cls, type) and hasattr(cls, "step"):  # torch.optim.Optimizer: steps nothing itself
            raise InvalidArgument(f"optimizer {path!r} is the abstract base class, not an optimizer "
                                  f"(valid: {', '.join(names)})")
        raise InvalidArgument(f"optimizer {path!r} is not a torch.optim.Optimizer class")
    return cls


def _is_optimizer_class(value: Any) -> bool:
    """A class with step and zero_grad that is not torch's abstract base torch.optim.Optimizer itself."""
    if not (isinstance(value, type) and hasattr(value, "step") and hasattr(value, "zero_grad")):
        return False
    optim = sys.modules.get("torch.optim")
    return optim is None or value is not optim.Optimizer


def get_optimizer(optimizer: str | type | OptimizerSpec) -> OptimizerSpec:
    """A registry name, a dotted path ('pytorch_optimizer.Lion'), an OptimizerSpec, or any
    torch.optim.Optimizer subclass -> OptimizerSpec.

    A class from outside the registry is traced one start at a time on a (2,) parameter, exactly as a
    user's loop would drive it; whether it needs second-order gradients is found out with one probe step.
    """
    if isinstance(optimizer, OptimizerSpec):
        return optimizer
    if isinstance(optimizer, str) and _is_dotted_path(optimizer):
        optimizer = import_optimizer_class(optimizer.strip())
    if isinstance(optimizer, str):
        return OPTIMIZERS.lookup(optimizer)
    if _is_optimizer_class(optimizer):
        return OptimizerSpec(name=optimizer.__name__.lower(), target=optimizer, elementwise=False,
                             needs_closure=optimizer.__name__ == "LBFGS", family="custom", second_order=None)
    raise InvalidArgument(f"invalid optimizer {optimizer!r}: give a name ({', '.join(OPTIMIZERS)}), a dotted path "
                          "to a class (pytorch_optimizer.Lion) or a torch.optim.Optimizer class")


def _parse_value(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    if "/" in text:
        return tuple(_parse_value(part) for part in text.split("/"))
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text.strip()


def _split_settings(text: str, whole: str) -> list[str]:
    """'k=5,base=(adam:lr=0.01,betas=0.9/0.99)' -> ['k=5', 'base=(adam:lr=0.01,betas=0.9/0.99)']: commas
    inside parentheses belong to the base optimizer's own settings."""
    items, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    if depth != 0:
        raise InvalidArgument(f"unbalanced parentheses in {whole!r} (a base optimizer with settings is written "
                              "base=(adam:lr=0.01,betas=0.9/0.99))")
    return [*items, current.strip()]


def parse_optimizer(text: str) -> tuple[str, dict[str, Any]]:
    """'adam:lr=0.05,betas=0.9/0.99' -> ('adam', {'lr': 0.05, 'betas': (0.9, 0.99)}).

    The name is a registry name, checked against the registry, or a dotted path to a class from any
    installed module ('pytorch_optimizer.Lion:lr=1e-3'), returned as written once its module is found
    (without importing it, so the CLI answers fast). Hyperparameter names are checked when the optimizer
    is built. Tuples are written with '/', booleans as true/false. A wrapper's base optimizer is
    base=NAME or, with its own settings, base=(NAME:KEY=VALUE,...):
    'pytorch_optimizer.Lookahead:k=5,base=(adam:lr=0.01)' -> (..., {'k': 5, 'base': 'adam:lr=0.01'}).
    """
    name, colon, rest = text.partition(":")
    if colon and not rest.strip():
        raise InvalidArgument(f"nothing after ':' in {text!r}: give settings as {name.strip()}:lr=0.01, or drop the ':'")
    if _is_dotted_path(name):
        _check_module_installed(name.strip())
        resolved = name.strip()
    else:
        resolved = OPTIMIZERS.lookup(name).name
    hyperparams: dict[str, Any] = {}
    previous = None
    items = _split_settings(rest, text) if rest.strip() else []
    if "" in items:
        raise InvalidArgument(f"empty optimizer setting in {text!r} (a ',' with nothing before or after it; "
                              "expected NAME:KEY=VALUE,KEY=VALUE)")
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            hint = ""
            if not sep and previous is not None:  # 'betas=0.9,0.99': the ',' started a new setting
                hint = f"; settings are separated by ',', so tuples are written with '/': {previous}/{item}"
            raise InvalidArgument(f"invalid optimizer setting {item!r} in {text!r} (expected KEY=VALUE{hint})")
        if key in hyperparams:
            raise InvalidArgument(f"{key} is given twice in {text!r}: give each setting once")
        if key == "base":
            value = value.strip()
            if value.startswith("(") and value.endswith(")"):
                value = value[1:-1]
            if "@" in value:
                raise InvalidArgument(f"invalid base {value!r} in {text!r}: a schedule goes after the whole "
                                      "optimizer, not inside base=(...)")
            parse_optimizer(value)
            hyperparams[key] = value.strip()
        else:
            hyperparams[key] = _parse_value(value)
        previous = item
    return resolved, hyperparams
