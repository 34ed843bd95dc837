import math

import numpy as np
import pytest
import torch

from gradviz.lecture.functions import FUNCTIONS, TestFunction, domain_around, parse_domain
from gradviz.lecture.expressions import get_function
from gradviz.registry import InvalidArgument

NAMES = list(FUNCTIONS)


@pytest.mark.parametrize("name", NAMES)
def test_every_function_states_its_minima_inside_its_window_and_a_formula(name):
    fn = FUNCTIONS[name]
    (x0, x1), (y0, y1) = fn.domain
    assert x0 < x1 and y0 < y1 and fn.formula
    assert fn.f_min is None or math.isfinite(fn.f_min)
    assert bool(fn.minima) == (fn.f_min is not None), "a known minimum value comes with where it is"
    for x, y in fn.minima:
        assert x0 <= x <= x1 and y0 <= y <= y1, (name, (x, y), fn.domain)


@pytest.mark.parametrize("name", NAMES)
def test_value_at_every_minimiser_is_f_min(name):
    fn = FUNCTIONS[name]
    for point in fn.minima:
        value = fn(torch.tensor(point, dtype=torch.float64)).item()
        assert value == pytest.approx(fn.f_min, abs=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_vanishes_at_every_minimiser(name):
    fn = FUNCTIONS[name]
    for point in fn.minima:
        x = torch.tensor(point, dtype=torch.float64, requires_grad=True)
        fn(x).backward()
        assert torch.linalg.vector_norm(x.grad).item() < 1e-5, (name, point, x.grad)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_are_finite_over_the_domain(name):
    fn = FUNCTIONS[name]
    (x0, x1), (y0, y1) = fn.domain
    xs, ys = np.linspace(x0, x1, 41), np.linspace(y0, y1, 41)  # 41 points: the centre (often 0, 0) included
    grid = torch.tensor(np.stack(np.meshgrid(xs, ys), -1), dtype=torch.float64, requires_grad=True)
    fn(grid).sum().backward()
    assert torch.isfinite(grid.grad).all()


def test_ackley_gradient_at_origin_is_zero_not_nan():
    x = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    FUNCTIONS["ackley"](x).backward()
    assert torch.equal(x.grad, torch.zeros(2, dtype=torch.float64))
    x32 = torch.zeros(2, dtype=torch.float32, requires_grad=True)
    FUNCTIONS["ackley"](x32).backward()
    assert torch.isfinite(x32.grad).all()


@pytest.mark.parametrize("name", NAMES)
def test_numpy_and_torch_agree_and_shapes_broadcast(name):
    fn = FUNCTIONS[name]
    points = np.random.default_rng(0).uniform(-2, 2, size=(3, 5, 2))
    from_numpy = fn(points)
    from_torch = fn(torch.tensor(points)).numpy()
    assert from_numpy.shape == (3, 5) and from_torch.shape == (3, 5)
    np.testing.assert_allclose(from_numpy, from_torch, rtol=1e-12, atol=1e-12)


def test_known_values_off_the_minimum():
    assert FUNCTIONS["rosenbrock"](np.array([0.0, 0.0])) == 1.0
    assert FUNCTIONS["himmelblau"](np.array([-0.27084459, -0.92303856])) == pytest.approx(181.616522, abs=1e-5)
    assert FUNCTIONS["saddle"](np.array([1.0, 2.0])) == -3.0
    assert FUNCTIONS["monkey-saddle"](np.array([1.0, 1.0])) == -2.0
    assert FUNCTIONS["goldstein-price"](np.array([0.0, 0.0])) == 600.0


def test_saddles_have_no_minima():
    for name in ("saddle", "monkey-saddle"):
        assert FUNCTIONS[name].minima == () and FUNCTIONS[name].f_min is None


def test_every_default_start_lies_in_the_window():
    for fn in FUNCTIONS.values():
        (x0, x1), (y0, y1) = fn.domain
        assert x0 <= fn.start[0] <= x1 and y0 <= fn.start[1] <= y1, fn.name


def test_lookup_is_forgiving_and_suggests():
    assert get_function("Six_Hump_Camel") is FUNCTIONS["six-hump-camel"]
    with pytest.raises(InvalidArgument, match="did you mean 'rosenbrock'"):
        get_function("rosenbrok")


def test_custom_callable_is_wrapped():
    fn = get_function(lambda p: (p**2).sum(-1))
    assert isinstance(fn, TestFunction) and fn.domain is None
    np.testing.assert_allclose(fn(np.array([[1.0, 2.0]])), [5.0])
    surface = fn.surface(((-1, 1), (-1, 1)), resolution=11)
    assert surface.z.shape == (11, 11) and surface.z[5, 5] == 0.0


def test_surface_grid_orientation():
    surface = FUNCTIONS["saddle"].surface(resolution=5)
    # z[i, j] = f(x[j], y[i])
    assert surface.z[0, 2] == pytest.approx(0.0**2 - (-2.0) ** 2)
    assert surface.z[2, 0] == pytest.approx((-2.0) ** 2)


def test_parse_domain():
    assert parse_domain("-2:2,-1:3") == ((-2.0, 2.0), (-1.0, 3.0))
    for bad in ("1:0,0:1", "0:1", "a:b,0:1", "0:1,0:nan"):
        with pytest.raises(InvalidArgument, match="domain"):
            parse_domain(bad)


def test_domain_around_ignores_non_finite_points():
    (x0, x1), (y0, y1) = domain_around([np.array([[0.0, 0.0], [1.0, 2.0], [math.nan, 5.0]])])
    assert x0 < 0 < 1 < x1 and y0 < 0 < 2 < y1 and y1 < 5
