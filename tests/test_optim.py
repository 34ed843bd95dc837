import math

import numpy as np
import pytest
import torch

from gradviz.lecture.optim import OPTIMIZERS, get_optimizer, parse_optimizer
from gradviz.lecture.optim.adabelief import AdaBelief
from gradviz.registry import InvalidArgument


def adabelief_reference(theta, grads, *, lr, betas, eps, weight_decay=0.0, decouple=True, amsgrad=False):
    """The authors' algorithm (rectify=False) written out with numpy, one step per gradient function call."""
    beta1, beta2 = betas
    m = np.zeros_like(theta)
    s = np.zeros_like(theta)
    s_max = np.zeros_like(theta)
    for t in range(1, len(grads) + 1):
        g = grads[t - 1](theta)
        if weight_decay:
            if decouple:
                theta = theta * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * (g - m) ** 2 + eps
        second = s
        if amsgrad:
            s_max = np.maximum(s_max, s)
            second = s_max
        denom = np.sqrt(second) / math.sqrt(1 - beta2**t) + eps
        theta = theta - lr / (1 - beta1**t) * m / denom
    return theta


@pytest.mark.parametrize("settings", [
    dict(lr=0.05, betas=(0.9, 0.999), eps=1e-16),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.1, decouple=True),
    dict(lr=0.01, betas=(0.9, 0.999), eps=1e-12, weight_decay=0.05, decouple=False),
    dict(lr=0.02, betas=(0.9, 0.999), eps=1e-10, amsgrad=True),
])
def test_adabelief_matches_the_reference_algorithm(settings):
    def grad(theta):  # gradient of the Rosenbrock function
        x, y = theta
        return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])

    steps = 25
    expected = adabelief_reference(np.array([-1.5, 2.0]), [grad] * steps, **settings)
    p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    kwargs = dict(settings)
    decouple = kwargs.pop("decouple", True)
    optimizer = AdaBelief([p], weight_decouple=decouple, **kwargs)
    for _ in range(steps):
        optimizer.zero_grad()
        ((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2).backward()
        optimizer.step()
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def test_adabelief_differs_from_adam():
    results = {}
    for cls in (AdaBelief, torch.optim.Adam):
        p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
        optimizer = cls([p], lr=0.05)
        for _ in range(10):
            optimizer.zero_grad()
            ((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2).backward()
            optimizer.step()
        results[cls.__name__] = p.detach().numpy()
    assert not np.allclose(results["AdaBelief"], results["Adam"])


@pytest.mark.parametrize("bad, shown", [(dict(lr=-1.0), "-1.0"), (dict(lr=math.nan), "nan"), (dict(eps=-1.0), "-1.0"),
                                        (dict(betas=(1.0, 0.9)), "1.0"), (dict(weight_decay=-0.1), "-0.1")])
def test_adabelief_rejects_bad_settings_naming_the_value(bad, shown):
    with pytest.raises(ValueError, match=f"Invalid.*{shown}"):
        AdaBelief([torch.zeros(2, requires_grad=True)], **bad)


def test_required_optimizers_are_registered():
    assert {"sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "nadam", "radam",
            "adamax", "lbfgs", "adabelief"} <= set(OPTIMIZERS)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_entry_builds_a_torch_optimizer_with_its_default_lr(name):
    p = torch.zeros(2, requires_grad=True)
    spec = OPTIMIZERS[name]
    optimizer = spec.build([p], **({"bounds": ((-1, 1), (-1, 1))} if name == "pure-random" else {}))
    assert isinstance(optimizer, torch.optim.Optimizer)
    if spec.uses_gradient:
        assert optimizer.param_groups[0]["lr"] == spec.defaults["lr"] > 0
    else:  # direct methods have no learning rate
        assert "lr" not in optimizer.param_groups[0] and spec.family == "direct"


def test_variants_fix_their_settings():
    p = torch.zeros(2, requires_grad=True)
    group = OPTIMIZERS["nesterov"].build([p]).param_groups[0]
    assert group["nesterov"] is True and group["momentum"] == 0.9
    assert OPTIMIZERS["momentum"].build([p], momentum=0.5).param_groups[0]["momentum"] == 0.5


@pytest.mark.parametrize("lr", [0, -0.1, math.nan, math.inf, "fast", True])
def test_bad_learning_rates_are_rejected(lr):
    with pytest.raises(InvalidArgument, match="learning rate"):
        OPTIMIZERS["adam"].build([torch.zeros(2, requires_grad=True)], lr=lr)


def test_unknown_hyperparameter_suggests_the_closest():
    with pytest.raises(InvalidArgument, match="'mom' for momentum; did you mean 'momentum'"):
        OPTIMIZERS["momentum"].build([torch.zeros(2, requires_grad=True)], mom=0.9)
    with pytest.raises(InvalidArgument, match="nesterov"):  # fixed by the variant, so not a choice
        OPTIMIZERS["nesterov"].build([torch.zeros(2, requires_grad=True)], nesterov=False)


def test_torch_validation_becomes_invalid_argument():
    with pytest.raises(InvalidArgument, match="momentum.*-1"):
        OPTIMIZERS["momentum"].build([torch.zeros(2, requires_grad=True)], momentum=-1)


def test_any_optimizer_class_is_accepted():
    spec = get_optimizer(torch.optim.SGD)
    assert spec.name == "sgd" and not spec.elementwise
    assert isinstance(spec.build([torch.zeros(2, requires_grad=True)], lr=0.1), torch.optim.SGD)
    with pytest.raises(InvalidArgument, match="invalid optimizer"):
        get_optimizer(42)


def test_parse_optimizer():
    assert parse_optimizer("adam") == ("adam", {})
    assert parse_optimizer("Adam:lr=0.05,betas=0.9/0.99,amsgrad=true") == (
        "adam", {"lr": 0.05, "betas": (0.9, 0.99), "amsgrad": True})
    assert parse_optimizer("lbfgs:line_search_fn=none,history_size=5") == (
        "lbfgs", {"line_search_fn": None, "history_size": 5})
    with pytest.raises(InvalidArgument, match="did you mean 'adam'"):
        parse_optimizer("adamm:lr=1")
    with pytest.raises(InvalidArgument, match="KEY=VALUE"):
        parse_optimizer("adam:lr")


# -O NAME:KEY=VALUE values are checked against the form of the class's own default, with one-line messages.

def _resolve(text):
    name, hyperparams = parse_optimizer(text)
    return get_optimizer(name).resolve(hyperparams)


@pytest.mark.parametrize("text, shown, expected", [
    ("adam:betas=0.9/0.99/0.5", "'0.9/0.99/0.5'", "two numbers a/b in [0, 1)"),
    ("adam:betas=0.9", "'0.9'", "two numbers a/b in [0, 1)"),
    ("adam:betas=0.9/1.0", "'0.9/1.0'", "in [0, 1)"),
    ("adam:betas=0.9/abc", "'0.9/abc'", "two numbers"),
    ("momentum:momentum=abc", "'abc'", "a finite number"),
    ("adam:eps=nan", "'nan'", "a finite number"),
    ("momentum:momentum=true", "'True'", "a finite number"),
    ("adam:amsgrad=maybe", "'maybe'", "true/false"),
    ("momentum:nesterov=2", "'2'", "true/false"),
    ("lbfgs:history_size=2.5", "'2.5'", "a whole number"),
])
def test_bad_values_name_the_optimizer_key_value_and_form(text, shown, expected):
    name, key = text.split(":")[0], text.split(":")[1].split("=")[0]
    with pytest.raises(InvalidArgument) as error:
        _resolve(text)
    message = str(error.value)
    assert message.startswith(f"invalid {key} for {name}: {shown} (expected ") and expected in message
    assert "\n" not in message


def test_the_library_gets_the_same_message_as_the_command_line():
    from gradviz.lecture.tracing import trace

    with pytest.raises(InvalidArgument, match=r"invalid betas for adam: '0\.9' \(expected two numbers"):
        trace("rosenbrock", "adam", betas=(0.9,), steps=2)


@pytest.mark.parametrize("text, expected", [
    ("adam:betas=0.5/0.9", {"betas": (0.5, 0.9)}),
    ("adam:amsgrad=true", {"amsgrad": True}),
    ("adam:amsgrad=No", {"amsgrad": False}),
    ("adam:amsgrad=YES", {"amsgrad": True}),
    ("sgd:nesterov=1,momentum=0.5", {"nesterov": True, "momentum": 0.5}),
    ("lbfgs:history_size=5", {"history_size": 5}),
    ("adam:eps=1e-6,weight_decay=0", {"eps": 1e-6, "weight_decay": 0}),
])
def test_valid_values_resolve_to_the_python_types_of_the_defaults(text, expected):
    resolved = _resolve(text)
    for key, value in expected.items():
        assert resolved[key] == value and type(resolved[key]) is type(value), (key, resolved[key])
    group = get_optimizer(text.split(":")[0]).build([torch.zeros(2, requires_grad=True)], **parse_optimizer(text)[1])
    assert all(group.param_groups[0][key] == value for key, value in expected.items())


def test_values_without_a_typed_default_pass_through():
    assert _resolve("lbfgs:line_search_fn=none")["line_search_fn"] is None
    assert _resolve("pure-random:bounds=none")["bounds"] is None


@pytest.mark.parametrize("text", ["adam:lr=0.1,,eps=1", "adam:lr=0.1,", "adam:,lr=0.1"])
def test_empty_settings_are_refused(text):
    with pytest.raises(InvalidArgument, match=f"empty optimizer setting in {text!r}"):
        parse_optimizer(text)


def test_a_misspelt_module_gets_a_did_you_mean_and_no_pip_command():
    with pytest.raises(InvalidArgument) as error:
        parse_optimizer("pytorch_optimizr.Lion")
    message = str(error.value)
    assert "did you mean 'pytorch_optimizer'?" in message and "pip" not in message


def test_a_known_package_gets_its_install_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pytorch_optimizer" else real(name, *a))
    with pytest.raises(InvalidArgument, match=r"\(pip install pytorch-optimizer\)"):
        parse_optimizer("pytorch_optimizer.Lion")


def test_the_abstract_base_class_is_no_choice():
    with pytest.raises(InvalidArgument) as error:
        get_optimizer("torch.optim.Adamm")
    valid = str(error.value).split("(valid: ")[1].rstrip(")").split(", ")
    assert "Adam" in valid and "SGD" in valid and "Optimizer" not in valid
    with pytest.raises(InvalidArgument, match="abstract base class"):
        get_optimizer("torch.optim.Optimizer")
    with pytest.raises(InvalidArgument, match="invalid optimizer"):
        get_optimizer(torch.optim.Optimizer)


def test_legend_labels_show_every_setting_that_was_chosen():
    from gradviz.lecture.tracing import trace

    labels = [trace("rosenbrock", name, steps=2, **hyperparams).label for name, hyperparams in [
        ("adam", {}), ("adam", {"betas": (0.5, 0.9)}), ("adam", {"eps": 0.5}), ("momentum", {"dampening": 0.5}),
        ("adam", {"amsgrad": True}), ("lbfgs", {}), ("lbfgs", {"history_size": 5})]]
    assert labels == ["adam (lr=0.1)", "adam (lr=0.1, \u03b2=0.5/0.9)", "adam (lr=0.1, eps=0.5)",
                      "momentum (lr=0.001, \u03bc=0.9, dampening=0.5)", "adam (lr=0.1, amsgrad)",
                      "lbfgs (lr=1)", "lbfgs (lr=1, history_size=5)"]
    assert len(set(labels)) == len(labels)


def test_a_bad_tuple_on_the_command_line_is_one_line_and_exit_2(tmp_path, capsys):
    from gradviz.cli import main  # what `python -m gradviz` runs, in this process (torch is already imported)

    with pytest.raises(SystemExit) as stop:
        main(["trajectories", "-O", "adam:betas=0.9/0.99/0.5", "-o", str(tmp_path / "x.gif")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [  # checked while -O is parsed (issue 20), so click names the option
        "gradviz trajectories: error: Invalid value for '-O' / '--optimizer': invalid betas for adam: '0.9/0.99/0.5' "
        "(expected two numbers a/b in [0, 1), e.g. 0.9/0.999)"]
    assert "Traceback" not in err and not (tmp_path / "x.gif").exists()
