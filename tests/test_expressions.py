"""Functions typed as expressions: their values and gradients, the allow-list, errors with columns, and a
fuzz test in which every input either gives a usable TestFunction or a one-line error, and nothing runs."""

from __future__ import annotations

import builtins
import math
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

import gradviz
from gradviz.lecture.expressions import (ALLOWED_FUNCTIONS, DEFAULT_DOMAIN, MAX_LENGTH, ExpressionFunction, default_start,
                                 expression, fit_window)
from gradviz.lecture.functions import FUNCTIONS
from gradviz.lecture.expressions import get_function
from gradviz.registry import InvalidArgument

GRID = np.stack(np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1.5, 2.5, 4)), axis=-1)


def test_values_match_numpy_and_torch_autograd_gives_the_gradient():
    f = gradviz.expression("x**2 + 10*sin(y)")
    assert isinstance(f, ExpressionFunction) and f.formula == "x**2 + 10*sin(y)"
    x, y = GRID[..., 0], GRID[..., 1]
    assert np.allclose(f(GRID), x**2 + 10 * np.sin(y))
    point = torch.tensor([[0.7, -1.2]], dtype=torch.float64, requires_grad=True)
    f(point).sum().backward()
    assert torch.allclose(point.grad, torch.tensor([[1.4, 10 * math.cos(-1.2)]], dtype=torch.float64))


@pytest.mark.parametrize("text, expected", [
    ("-x**2", lambda x, y: -(x**2)),
    ("2**-1 * x", lambda x, y: 0.5 * x),
    ("x - y - 1", lambda x, y: x - y - 1),
    ("x / (1 + y**2)", lambda x, y: x / (1 + y**2)),
    ("pi * e + x", lambda x, y: math.pi * math.e + x),
    ("sigmoid(x) * tanh(y)", lambda x, y: 1 / (1 + np.exp(-x)) * np.tanh(y)),
    ("3", lambda x, y: 3 + 0 * x),
    ("(" * 150 + "x" + ")" * 150, lambda x, y: x),
    ("2**x", lambda x, y: 2.0**x),
    ("  sqrt(abs(x*y)) + atan(x) + cosh(y)/sinh(2) ", lambda x, y: np.sqrt(np.abs(x * y)) + np.arctan(x)
     + np.cosh(y) / np.sinh(2)),
])
def test_precedence_constants_and_functions_in_numpy_and_torch(text, expected):
    f = expression(text)
    x, y = GRID[..., 0], GRID[..., 1]
    assert np.allclose(f(GRID), expected(x, y))
    assert np.allclose(f(torch.tensor(GRID)).numpy(), expected(x, y))


@pytest.mark.parametrize("name", sorted(ALLOWED_FUNCTIONS))
def test_every_allowed_function_agrees_between_numpy_and_torch(name):
    f = expression(f"{name}(0.3*x + 0.2*y + 1.5)")
    assert np.allclose(f(GRID), f(torch.tensor(GRID)).numpy(), equal_nan=True)


@pytest.mark.parametrize("text, shown", [
    ("x**2 + foo(y)", "unknown function 'foo' at column 7; valid: sin"),
    ("x**2 + z", "unknown name 'z' at column 7"),
    ("x.__class__", "attribute access is not allowed at column 0"),
    ("().__class__", "at column 0"),
    ("__import__('os')", "unknown function '__import__' at column 0"),
    ("[x for x in y]", "a comprehension is not allowed at column 0"),
    ("lambda: 0", "a lambda is not allowed"),
    ("'x'", "str literal"),
    ("9**9**9", "exponent 3.8742e+08 is too large"),
    ("x**101", "exponent 101 is too large"),
    ("exp(1000) + x", "'exp(1000)' is not a finite number"),
    ("1e999 * x", "is not a finite number"),
    ("x // y", "operator '//' is not allowed at column 2"),
    ("x +* y", "invalid syntax at column 3"),
    ("sin(x, y)", "takes exactly one argument"),
    ("sin", "needs an argument"),
    ("x[0]", "a subscript is not allowed"),
    ("x < y", "a comparison"),
    ("1j * x", "complex literal"),
    ("x if y else 0", "'if' is not allowed"),
    ("", "empty"),
    ("x +\ny", "one line"),
    ("x" + "+x" * 300, f"more than the limit of {MAX_LENGTH}"),
    ("sin(x)(y)", "only calls of named functions"),
])
def test_bad_expressions_are_one_line_errors_with_the_place(text, shown):
    with pytest.raises(InvalidArgument) as error:
        expression(text)
    message = str(error.value)
    assert shown in message and "\n" not in message


def test_names_and_expressions_share_get_function():
    assert get_function("Rosenbrock") is FUNCTIONS["rosenbrock"]
    assert isinstance(get_function("x*y"), ExpressionFunction)
    with pytest.raises(InvalidArgument, match="did you mean 'rosenbrock'.*or an expression in x and y"):
        get_function("rosenbrok")
    with pytest.raises(InvalidArgument, match="unknown function 'foo' at column 0"):
        get_function("foo(x)")


def test_window_minimum_and_default_start():
    f = expression("(x-1)**2 + 5*(y+0.5)**2")
    assert f.domain == DEFAULT_DOMAIN and f.start == pytest.approx((-1.8, 1.8)) and f.minima == ()
    assert f.f_min is None
    s = f.surface(resolution=20)
    assert s.floor is None and not s.log_scale and len(s.minima) == 0  # the loss panel shows f
    g = expression("(x-1)**2 + 5*(y+0.5)**2", domain=((-2, 4), (-1, 1)), minimum=(1, -0.5))
    assert g.minima == ((1.0, -0.5),) and g.f_min == 0.0 and g.start == default_start(((-2, 4), (-1, 1)))
    (x0, x1), (y0, y1) = g.domain
    assert x0 < g.start[0] < x1 and y0 < g.start[1] < y1
    moved = fit_window(f, ((10.0, 20.0), (0.0, 5.0)))
    assert moved.domain == ((10.0, 20.0), (0.0, 5.0)) and moved.start == pytest.approx((12.0, 4.0))
    assert fit_window(FUNCTIONS["beale"], ((0, 1), (0, 1))) is FUNCTIONS["beale"]
    with pytest.raises(InvalidArgument, match="minimum"):
        expression("log(x)", minimum=(-1, 0))
    with pytest.raises(InvalidArgument, match="domain"):
        expression("x", domain="1:0,0:1")


def test_trace_descends_an_expression_like_a_plain_torch_loop():
    path = gradviz.trace("(x-1)**2 + 5*(y+0.5)**2", "sgd", lr=0.05, steps=30, start=(-2.0, 2.0))
    w = torch.tensor([-2.0, 2.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.05)
    for _ in range(30):
        opt.zero_grad()
        ((w[0] - 1) ** 2 + 5 * (w[1] + 0.5) ** 2).backward()
        opt.step()
    assert np.allclose(path.points[-1], w.detach().numpy())


# -- fuzz ---------------------------------------------------------------------------------------------------

TOKENS = ["x", "y", "1", "2.5", "1e3", "0", "pi", "e", "+", "-", "*", "/", "**", "(", ")", "sin", "exp", "log",
          "sqrt", "sigmoid", ",", ".", "__class__", "__import__", "'os'", "[", "]", "for", "in", "lambda", ":",
          "if", "else", "os", "system", "open", "eval", "exec", "globals", "9**9**9", "()", "{", "}", "@", "%",
          "//", "<", "==", "=", ":=", "not", "and", "\\", "#", ";", "\t", " ", "𝑥", "ｘ", "\x00", "1j", "True",
          "None", "...", "`", "$", "!", "x.real", "y.__class__.__bases__[0].__subclasses__()"]

ESCAPES = ["__import__('os').system('touch PWNED')", "().__class__.__bases__[0].__subclasses__()",
           "x.__class__", "[x for x in y]", "lambda: 0", "9**9**9", "eval('1')", "exec('import os')",
           "open('PWNED', 'w')", "globals()", "(lambda: __import__('os'))()", "x.__dict__", "sin.__globals__",
           "getattr(x, 'real')", "x if 1 else y", "{}", "''.join", "b'x'", "f'{x}'", "[*x]", "x(y)",
           "(x := 1)", "print(1)", "breakpoint()", "__builtins__", "sin(x).__class__", "10**10**10", "-(9**99)**99"]


@pytest.fixture
def nothing_runs(monkeypatch, tmp_path):
    """eval, exec and non-AST compile, os.system and subprocess fail loudly if anything calls them."""
    real_compile = builtins.compile
    # numpy imports numpy.ma on the first percentile (an import runs its module's code through exec): done
    # here, before the patches, so that only what gradviz itself calls is watched
    np.percentile(np.arange(3.0), 50)

    def forbidden(*args, **kwargs):
        raise AssertionError(f"called with {args!r}")

    def ast_only(source, filename, mode, flags=0, *args, **kwargs):
        import ast

        if not flags & ast.PyCF_ONLY_AST:
            raise AssertionError(f"compile() of {source!r}")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", ast_only)
    monkeypatch.setattr(os, "system", forbidden)
    monkeypatch.setattr(subprocess, "Popen", forbidden)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert list(tmp_path.iterdir()) == []


def _check(text):
    try:
        f = expression(text)
    except InvalidArgument as error:
        message = str(error)
        assert message and "\n" not in message and len(message) < 1200, message
        return "error"
    values = f(GRID)
    assert isinstance(values, np.ndarray) and values.shape == GRID.shape[:2] and values.dtype == float
    tensor = f(torch.tensor(GRID))
    assert isinstance(tensor, torch.Tensor) and tuple(tensor.shape) == GRID.shape[:2]
    return "function"


def test_fuzz_random_token_sequences_and_escape_attempts(nothing_runs, recwarn):
    rng = random.Random(15)
    outcomes = {"error": 0, "function": 0}
    for text in ESCAPES:
        assert _check(text) == "error", text
    for _ in range(3000):
        words = [rng.choice(TOKENS) for _ in range(rng.randint(1, 9))]
        text = rng.choice(["", " "]).join(words)
        outcomes[_check(text)] += 1
    assert outcomes["error"] > 100 and outcomes["function"] > 25  # both branches were exercised
    assert not [w for w in recwarn if issubclass(w.category, SyntaxWarning)]  # nothing extra on stderr


# -- the command line -----------------------------------------------------------------------------------------

def _cli(args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "gradviz", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def test_cli_draws_an_expression(tmp_path):
    from PIL import Image

    result = _cli(["trajectories", "-f", "x**2 - y + 10*sin(y)", "--domain=-3:3,-2:2", "--minimum", "0,-1.45",
                   "-O", "adam:lr=0.1", "--steps", "10", "--size", "480x270", "-o", "e.png"], tmp_path)
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "e.png") as image:
        assert image.size == (480, 270)


@pytest.mark.parametrize("args, shown", [
    (["-f", "x**2 + foo(y)"], "unknown function 'foo' at column 7"),
    (["-f", "x.__class__"], "attribute access"),
    (["-f", "x", "--domain", "1:2"], "invalid domain '1:2'"),
    (["-f", "x", "--minimum", "1,a"], "'1,a' is not of the form X,Y"),
    (["-f", "beale", "--minimum", "1,1"], "--minimum is for functions given as expressions"),
])
def test_cli_bad_expression_input_is_one_line_exit_2_no_file(tmp_path, args, shown):
    result = _cli(["trajectories", *args, "--steps", "5"], tmp_path)
    assert result.returncode == 2 and shown in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
