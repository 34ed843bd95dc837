"""Test functions typed as text: `gradviz.expression("x**2 + 10*sin(y)")` -> a TestFunction.

The text is parsed by `ast.parse(mode="eval")` (which only builds a syntax tree; it runs nothing) and the
tree is walked against an allow-list: numbers, the variables x and y, + - * / **, unary minus and plus,
parentheses, and the functions and constants of `ALLOWED_FUNCTIONS` / `ALLOWED_CONSTANTS`. Everything else
(attribute access, subscripts, other names or calls, keywords, strings, lambdas, comprehensions, ...) is
refused with a one-line InvalidArgument that names the offending piece and its column, counted from 0 as
the number of characters before it ("x**2 + foo(y)": unknown function 'foo' at column 7). The accepted tree
becomes nested Python closures over numpy or torch operations; nothing is ever passed to eval, exec or
compile. Sub-expressions without x and y are folded to one number when parsed, so `9**9**9`, `1/0` or
`exp(1000)` fail at once instead of drawing nothing; exponents are limited to |p| <= 100.

Without `domain` the window is DEFAULT_DOMAIN, [-3, 3] x [-3, 3]; without `start` paths start a fifth of the
way in from the window's top-left corner (`default_start`: (-1.8, 1.8) in the default window). Without
`minimum` the minimum is unknown: nothing is marked and loss panels show f, not f - f*.
"""

from __future__ import annotations

import ast
import math
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from gradviz.lecture.functions import ANONYMOUS, Domain, TestFunction
from gradviz.registry import InvalidArgument

__all__ = ["expression", "function_from_text", "ExpressionFunction", "ALLOWED_FUNCTIONS", "ALLOWED_CONSTANTS", "DEFAULT_DOMAIN",
           "default_start", "fit_window", "MAX_LENGTH", "MAX_EXPONENT", "get_function"]

MAX_LENGTH = 500
MAX_EXPONENT = 100.0
MAX_NODES = 400
# contour levels over values past ~1e200 overflow inside matplotlib ("upper_level must be larger than
# lower_level"); 1e150 leaves room for the levels' own arithmetic
MAX_DRAWABLE = 1e150
DEFAULT_DOMAIN: Domain = ((-3.0, 3.0), (-3.0, 3.0))


def _sigmoid(m: Any, v: Any) -> Any:
    return m.sigmoid(v) if m is not np else 1.0 / (1.0 + np.exp(-v))


# name -> f(m, value) with m = numpy or torch; every one takes exactly one argument
ALLOWED_FUNCTIONS: dict[str, Callable[[Any, Any], Any]] = {
    "sin": lambda m, v: m.sin(v), "cos": lambda m, v: m.cos(v), "tan": lambda m, v: m.tan(v),
    "exp": lambda m, v: m.exp(v), "log": lambda m, v: m.log(v), "sqrt": lambda m, v: m.sqrt(v),
    "abs": lambda m, v: m.abs(v), "tanh": lambda m, v: m.tanh(v), "sinh": lambda m, v: m.sinh(v),
    "cosh": lambda m, v: m.cosh(v), "atan": lambda m, v: m.arctan(v), "sigmoid": _sigmoid,
}
ALLOWED_CONSTANTS = {"pi": math.pi, "e": math.e}
VARIABLES = ("x", "y")
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

Evaluator = Callable[[Any, Any, Any], Any]  # (x, y, m) -> value


@dataclass(frozen=True, eq=False)
class ExpressionFunction(TestFunction):
    """A TestFunction made from text; `source` is the text as typed."""

    __test__ = False
    source: str = ""


class _Compiler:
    """Walks the tree; each node becomes a float (no x or y below it) or an evaluator closure."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.nodes = 0

    def column(self, node: ast.AST) -> int:
        # ast counts UTF-8 bytes; report characters
        offset = getattr(node, "col_offset", 0)
        return len(self.text.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))

    def fail(self, what: str, node: ast.AST, hint: str = "") -> InvalidArgument:
        return InvalidArgument(f"invalid expression {self.text!r}: {what} at column {self.column(node)}"
                               + (f"; {hint}" if hint else ""))

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or "?"

    def constant(self, value: float, node: ast.AST) -> float:
        if not math.isfinite(value):
            raise self.fail(f"{self.segment(node)!r} is not a finite number", node)
        return value

    def visit(self, node: ast.AST) -> float | Evaluator:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(f"too many terms (at most {MAX_NODES})", node)
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(f"{type(value).__name__} literal {self.segment(node)!r} is not allowed "
                                "(only numbers)", node)
            try:
                return self.constant(float(value), node)
            except OverflowError:
                raise self.fail(f"number {self.segment(node)[:20]!r} is too large", node) from None
        if isinstance(node, ast.Name):
            if node.id == "x":
                return lambda x, y, m: x
            if node.id == "y":
                return lambda x, y, m: y
            if node.id in ALLOWED_CONSTANTS:
                return ALLOWED_CONSTANTS[node.id]
            if node.id in ALLOWED_FUNCTIONS:
                raise self.fail(f"function {node.id!r} needs an argument, e.g. {node.id}(x)", node)
            raise self.fail(f"unknown name {node.id!r}", node, f"valid: x, y, {', '.join(ALLOWED_CONSTANTS)}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.visit(node.operand)
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            if isinstance(operand, float):
                return sign * operand
            return (lambda x, y, m: -operand(x, y, m)) if sign < 0 else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        return self.fail_node(node)

    def fail_node(self, node: ast.AST) -> Any:
        what = {ast.Attribute: "attribute access", ast.Subscript: "a subscript", ast.Lambda: "a lambda",
                ast.ListComp: "a comprehension", ast.GeneratorExp: "a comprehension", ast.SetComp: "a comprehension",
                ast.DictComp: "a comprehension", ast.Compare: "a comparison", ast.BoolOp: "'and'/'or'",
                ast.IfExp: "'if'", ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict", ast.Set: "a set",
                ast.JoinedStr: "a string", ast.Starred: "'*' unpacking"}.get(type(node))
        if isinstance(node, ast.BinOp):  # point at the operator itself, between the operands
            between = ast.Constant(value=None, col_offset=node.left.end_col_offset or 0)
            gap = self.text.encode("utf-8")[between.col_offset:node.right.col_offset].decode("utf-8", "ignore")
            between.col_offset += len(gap) - len(gap.lstrip(" ()"))
            raise self.fail(f"operator {gap.strip(' ()')!r} is not allowed", between, "use + - * / **")
        if isinstance(node, ast.UnaryOp):
            raise self.fail("only unary - and + are allowed", node)
        if isinstance(node, ast.NamedExpr):
            what = "an assignment"
        raise self.fail(f"{what or type(node).__name__ + ' syntax'} is not allowed", node)

    def binary(self, node: ast.BinOp) -> float | Evaluator:
        left, right = self.visit(node.left), self.visit(node.right)
        op = type(node.op)
        if op is ast.Pow and isinstance(right, float) and abs(right) > MAX_EXPONENT:
            raise self.fail(f"exponent {right:g} is too large (|exponent| <= {MAX_EXPONENT:g})", node.right)
        if isinstance(left, float) and isinstance(right, float):
            with np.errstate(all="ignore"):
                a, b = np.float64(left), np.float64(right)
                value = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                         ast.Div: lambda: a / b if b != 0 else np.float64("inf"), ast.Pow: lambda: a**b}[op]()
            return self.constant(float(value), node)
        lf = left if callable(left) else (lambda x, y, m, c=left: c)
        rf = right if callable(right) else (lambda x, y, m, c=right: c)
        if op is ast.Add:
            return lambda x, y, m: lf(x, y, m) + rf(x, y, m)
        if op is ast.Sub:
            return lambda x, y, m: lf(x, y, m) - rf(x, y, m)
        if op is ast.Mult:
            return lambda x, y, m: lf(x, y, m) * rf(x, y, m)
        if op is ast.Div:
            return lambda x, y, m: lf(x, y, m) / rf(x, y, m)
        if isinstance(left, float):  # c ** f(x, y): a tensor exponent needs a tensor base in torch
            return lambda x, y, m: (x * 0 + left) ** rf(x, y, m)
        return lambda x, y, m: lf(x, y, m) ** rf(x, y, m)

    def call(self, node: ast.Call) -> float | Evaluator:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise self.fail("attribute access is not allowed", node.func)
            raise self.fail("only calls of named functions are allowed", node)
        name = node.func.id
        if name not in ALLOWED_FUNCTIONS:
            raise self.fail(f"unknown function {name!r}", node, f"valid: {', '.join(ALLOWED_FUNCTIONS)}")
        if node.keywords:
            raise self.fail(f"{name}() takes no keyword arguments", node)
        if len(node.args) != 1:
            raise self.fail(f"{name}() takes exactly one argument, got {len(node.args)}", node)
        argument = self.visit(node.args[0])
        function = ALLOWED_FUNCTIONS[name]
        if isinstance(argument, float):
            with np.errstate(all="ignore"):
                return self.constant(float(function(np, np.float64(argument))), node)
        return lambda x, y, m: function(m, argument(x, y, m))


def _compile(text: str) -> Evaluator:
    if not isinstance(text, str):
        raise InvalidArgument(f"invalid expression {text!r}: give a string such as 'x**2 + y**2'")
    if len(text) > MAX_LENGTH:
        raise InvalidArgument(f"invalid expression: {len(text)} characters, more than the limit of {MAX_LENGTH}")
    if not text.strip():
        raise InvalidArgument("invalid expression '': empty")
    if "\n" in text or "\r" in text or "\x00" in text:
        raise InvalidArgument(f"invalid expression {text!r}: one line only")
    if "#" in text:  # Python would drop the rest as a comment: what is drawn would not be what was typed
        raise InvalidArgument(f"invalid expression {text!r}: '#' at column {text.index('#')} (a comment is not part "
                              "of a formula; drop it)")
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" and the like: the error says it once
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        stripped = text.strip()
        if stripped[-1] in "+-*/(,":  # Python points at column 0 when the text just stops
            raise InvalidArgument(f"invalid expression {text!r}: it ends with {stripped[-1]!r} at column "
                                  f"{len(text.rstrip()) - 1}: something is missing after it") from None
        column = max(0, (error.offset or 1) - 1) + (len(text) - len(text.lstrip()))
        raise InvalidArgument(f"invalid expression {text!r}: {error.msg} at column {column}") from None
    except (RecursionError, MemoryError, ValueError):
        raise InvalidArgument(f"invalid expression {text!r}: too deeply nested or malformed") from None
    compiler = _Compiler(text.strip())
    try:
        body = compiler.visit(tree.body)
    except RecursionError:
        raise InvalidArgument(f"invalid expression {text!r}: too deeply nested") from None
    if isinstance(body, float):
        constant = body
        return lambda x, y, m: x * 0 + constant
    return body


def _numpy_safe(evaluate: Evaluator) -> Evaluator:
    def expr(x: Any, y: Any, m: Any) -> Any:
        if m is np:
            with np.errstate(all="ignore"):
                return evaluate(x, y, m)
        return evaluate(x, y, m)

    return expr


def default_start(domain: Domain) -> tuple[float, float]:
    """The documented default start: a fifth of the way in from the window's top-left corner."""
    (x0, x1), (y0, y1) = domain
    return (x0 + 0.2 * (x1 - x0), y1 - 0.2 * (y1 - y0))


def _check_pair(name: str, value: Any) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"invalid {name} {value!r} (expected X,Y)") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise InvalidArgument(f"invalid {name} {value!r}: coordinates must be finite")
    return a, b


def expression(text: str, *, domain: Domain | None = None, minimum: Sequence[float] | None = None,
               start: Sequence[float] | None = None, name: str | None = None) -> ExpressionFunction:
    """A TestFunction f(x, y) from text such as 'x**2 + 10*sin(y)' (see the module docstring for what is
    allowed). domain: the plot window (default DEFAULT_DOMAIN); minimum: (x, y) of the known minimum, which
    is then marked and gives f* = f(minimum); start: the default start (default: `default_start(domain)`)."""
    from gradviz.lecture.functions import parse_domain

    evaluate = _numpy_safe(_compile(text))
    if isinstance(domain, str):
        domain = parse_domain(domain)
    window = domain if domain is not None else DEFAULT_DOMAIN
    minima, f_min = (), None
    if minimum is not None:
        point = _check_pair("minimum", minimum)
        value = float(evaluate(np.float64(point[0]), np.float64(point[1]), np))
        if not math.isfinite(value):
            raise InvalidArgument(f"invalid minimum {point}: f is not finite there")
        minima, f_min = (point,), value
    first = _check_pair("start", start) if start is not None else default_start(window)
    text = " ".join(text.split())
    _check_drawable(text, evaluate, window, minima)
    return ExpressionFunction(name=name or f"f = {text}", expr=evaluate, domain=window, minima=minima, f_min=f_min,
                              start=first, formula=text, source=text)


def _check_drawable(text: str, evaluate: Evaluator, window: Domain, minima: Sequence[tuple[float, float]]) -> None:
    """InvalidArgument where f cannot be drawn over its window (nowhere finite, or too large for contour
    levels), or where a given minimum is plainly not one (f is lower elsewhere in the window)."""
    (x0, x1), (y0, y1) = window
    xs, ys = np.meshgrid(np.linspace(x0, x1, 101), np.linspace(y0, y1, 101))
    z = np.broadcast_to(np.asarray(evaluate(xs, ys, np), dtype=float), xs.shape)
    finite = z[np.isfinite(z)]
    where = f"on the window [{x0:g},{x1:g}]x[{y0:g},{y1:g}]"
    if not finite.size:
        raise InvalidArgument(f"f = {text} is not finite anywhere {where}: nothing to draw")
    largest = float(np.abs(finite).max())
    if largest > MAX_DRAWABLE:
        raise InvalidArgument(f"f = {text} reaches {largest:.3g} {where}: too large to draw as contours "
                              f"(|f| <= {MAX_DRAWABLE:g}); choose a smaller --domain or rescale f")
    # a minimum typed to a few digits is a little off: it is refused only when f is lower somewhere in the
    # window by more than 1% of f's spread over it
    spread = float(np.percentile(finite, 99) - finite.min())
    for point in minima:
        value = float(evaluate(np.float64(point[0]), np.float64(point[1]), np))
        lowest = int(np.nanargmin(np.where(np.isfinite(z), z, np.inf)))
        if z.flat[lowest] < value - 0.01 * spread:
            at = (float(xs.flat[lowest]), float(ys.flat[lowest]))
            raise InvalidArgument(f"invalid minimum ({point[0]:g}, {point[1]:g}) for f = {text}: f there is "
                                  f"{value:.4g}, but f({at[0]:.3g}, {at[1]:.3g}) = {float(z.flat[lowest]):.4g} "
                                  "is lower; give the point where f is least, or leave --minimum out")


def fit_window(function: TestFunction, domain: Domain | None) -> TestFunction:
    """An expression's function with its window (and its default start) moved to `domain`; others as is."""
    if domain is None or not isinstance(function, ExpressionFunction) or function.domain == domain:
        return function
    moved_start = function.start == default_start(function.domain)
    return replace(function, domain=tuple(map(tuple, domain)),
                   start=default_start(domain) if moved_start else function.start)


def _looks_like_a_name(text: str) -> bool:
    """A word or words meant as a test function's name: no operators and no x, y or function of an
    expression among them ('six hump camel', 'rosenbrok'; not 'x y' or 'x if y else 1')."""
    words = text.replace("-", " ").replace("_", " ").split()
    return (bool(words) and all(c.isalnum() or c in "-_ " for c in text.strip())
            and not any(w in VARIABLES or w in ALLOWED_FUNCTIONS or w in ALLOWED_CONSTANTS for w in words))


def function_from_text(text: str) -> TestFunction:
    """A registry name ('rosenbrock', any case) or else an expression. A word that is neither gets the
    registry's 'did you mean' message; other text gets the expression's message with its column."""
    from gradviz.lecture.functions import FUNCTIONS
    from gradviz.registry import normalize_name, unknown_name_message

    if normalize_name(text) in FUNCTIONS:
        return FUNCTIONS[normalize_name(text)]
    if isinstance(text, str) and len(text) > MAX_LENGTH:
        raise InvalidArgument(f"invalid function {text[:40]!r}...: {len(text)} characters, more than the "
                              f"{MAX_LENGTH} an expression may have")
    try:
        return expression(text)
    except InvalidArgument:
        if _looks_like_a_name(text):
            raise InvalidArgument(unknown_name_message("function", text, FUNCTIONS.keys())
                                  + " or an expression in x and y such as 'x**2 + 10*sin(y)'") from None
        raise

def get_function(function: str | TestFunction | Callable[[Any], Any]) -> TestFunction:
    """A registry name, an expression in x and y ('x**2 + 10*sin(y)', see gradviz.expression), a
    TestFunction, or any torch callable on (..., 2) tensors -> TestFunction."""
    if isinstance(function, TestFunction):
        return function
    if isinstance(function, str):
        return function_from_text(function)
    if callable(function):
        name = getattr(function, "__name__", None)
        if not isinstance(name, str) or not name.isidentifier():  # a lambda, a partial: no name to show
            name = ANONYMOUS
        return TestFunction(name=name, expr=None, domain=None, call=function)
    raise InvalidArgument(f"invalid function {function!r}: give a name, a TestFunction or a callable")

