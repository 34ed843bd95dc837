"""Every input gets an answer, round two (issue 32): your own model, data and loss; the library's bounds; caches.

Library calls raise gradviz's own error types (InvalidArgument, UserCodeError, GridInterrupted), never an
IndexError, RuntimeError, AttributeError or MemoryError from inside. The command-line cases run in a few
processes (tests/clirunner.py), one folder each: one line on stderr, exit 2, no file, and for the user's
files (weights, checkpoints) no torch imported on the way to the answer.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

from clirunner import run_cli
from gradviz.registry import InvalidArgument, UserCodeError

MYNETS = '''
import torch
from torch import nn


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))


def raises():
    raise RuntimeError("boom in factory")


def takes_width(width):
    return nn.Linear(2, width)


class Boom(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 3)

    def forward(self, x):
        raise ValueError("forward exploded")


def boom():
    return Boom()
'''

MYDATA = '''
import torch


def data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(64, 2, generator=g), torch.randint(0, 3, (64,), generator=g)


def raises():
    raise KeyError("no such split")


def loader():
    X, y = data()
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16)
'''

MYLOSSES = '''
import torch


def three(outputs, targets, weights):
    return outputs.sum()


def raises(outputs, targets):
    raise ZeroDivisionError("loss broke")


def ce(outputs, targets):
    return torch.nn.functional.cross_entropy(outputs, targets)
'''


@pytest.fixture
def user_modules(tmp_path, monkeypatch):
    for name, text in (("mynets", MYNETS), ("mydata", MYDATA), ("mylosses", MYLOSSES)):
        (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _small():
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))
    g = torch.Generator().manual_seed(0)
    return model, (torch.randn(64, 2, generator=g), torch.randint(0, 3, (64,), generator=g))


# --- tracebacks and the library's bounds: gradviz's error, the value named, before any allocation ---------

def test_the_librarys_bounds_and_seeds_answer_with_gradviz_errors():
    import torch

    from gradviz.analysis.curvature import hessian
    from gradviz.analysis.gradients import gradflow_model
    from gradviz.lecture.deepnets import deep_mlp
    from gradviz.analysis.landscape import landscape
    from gradviz.lecture import mlp
    from gradviz.lecture.data import make_dataset
    from gradviz.lecture.deepnets import deep_mlp
    from gradviz.lecture.tracing import trace
    from gradviz.lecture.training import train

    model, data = _small()
    nan_model, _ = _small()
    with torch.no_grad():
        nan_model[0].weight[0, 0] = float("nan")
    X, y = make_dataset("moons", n=40)
    cases = [
        (lambda: trace("rosenbrock", "adam", steps=3, seed="a"), "invalid seed: 'a' (must be a whole number from 0"),
        (lambda: trace("rosenbrock", "adam", steps=3, seed=-1), "invalid seed: -1"),
        (lambda: trace("rosenbrock", "adam", steps=3, seed=10**23), "invalid seed: 1000000000"),
        (lambda: trace("rosenbrock", "adam", steps=10**9), "invalid steps: 1000000000 (at most 100,000"),
        (lambda: trace("rosenbrock", "adam", steps=100_000, start=np.zeros((10_000, 2))), "74.5 GiB at once"),
        (lambda: make_dataset("moons", seed="a"), "invalid seed: 'a'"),
        (lambda: make_dataset("moons", n=10**9), "invalid n: 1000000000 (at most 100,000"),
        (lambda: landscape(model, data, grid=100_000), "invalid grid: 100000 (at most 401"),
        (lambda: landscape(model, data, grid=3000), "invalid grid: 3000 (at most 401"),
        (lambda: landscape(model, data, grid=5, directions="hessian", span=0), "invalid span: 0"),
        (lambda: train("notamodel", (X, y), "adam", steps=3), "invalid model: 'notamodel' is a str"),
        (lambda: train(mlp(3, [4], 1), (X, y), "adam", steps=3), "the model takes 3 input features, the data have 2"),
        (lambda: train(mlp(2, [4], 1), (X, y), "adam", steps=3, validation=2.0), "invalid validation: 2.0"),
        (lambda: train(mlp(2, [4], 1), (X[:0], y[:0]), "adam", steps=3), "data has no points"),
        (lambda: train(mlp(2, [4], 1), (X, y), "adam", steps=10**6), "invalid steps: 1000000 (at most 20,000"),
        (lambda: gradflow_model(model, data, batch_size=0, steps=2), "invalid batch_size: 0"),
        (lambda: hessian(nan_model, data), "the model's weight '0.weight' has 1 NaN or infinite value(s)"),
        (lambda: mlp(2, [100_000, 100_000], 1), "invalid parameters: 10,000,500,001 (2 x 100000 x 100000 x 1)"),
        (lambda: deep_mlp(100_000, 8), "invalid depth: 100000 (at most 2,000"),
    ]
    wrong = []
    for call, message in cases:
        try:
            call()
            wrong.append((message, "no error"))
        except InvalidArgument as error:
            if message not in str(error) or "\n" in str(error):
                wrong.append((message, str(error)))
        except Exception as error:  # noqa: BLE001 - exactly what the test refuses
            wrong.append((message, f"{type(error).__name__}: {error}"))
    assert not wrong, wrong


def test_the_cli_and_the_library_share_one_limit():
    from gradviz.limits import LIMITS, check_count, check_product

    assert LIMITS["grid"].most == 401
    with pytest.raises(InvalidArgument, match="at most 401: a 401 x 401 surface"):
        check_count("grid", 402, "grid", least=3)
    with pytest.raises(InvalidArgument, match=r"a x b = 10 x 20,000 = 200,000 \(at most 100,000"):
        check_product("steps in all", {"a": 10, "b": 20_000}, "traced-steps")


# --- the user's own code: one line naming which of theirs raised what ------------------------------------

def test_errors_in_your_own_code_name_it_in_one_line(user_modules, monkeypatch):
    from gradviz.analysis.loading import load_data, load_loss, load_model
    from gradviz.pipelines.landscape import model_landscape

    with pytest.raises(UserCodeError) as raised:
        load_model("mynets:raises")
    message = str(raised.value)
    assert message.startswith("your model factory 'mynets:raises' raised RuntimeError: boom in factory at "
                              "mynets.py:"), message
    assert "GRADVIZ_TRACEBACK=1" in message and isinstance(raised.value.__cause__, RuntimeError)
    with pytest.raises(UserCodeError, match="your data function 'mydata:raises' raised KeyError: 'no such split'"):
        load_data("mydata:raises")
    with pytest.raises(InvalidArgument, match=r"'mynets:takes_width' takes \(width\): gradviz calls it with no"):
        load_model("mynets:takes_width")
    with pytest.raises(InvalidArgument, match="loss 'builtins:print' is Python's built-in print, not a loss"):
        load_loss("builtins:print")
    with pytest.raises(InvalidArgument, match=r"loss 'mylosses:three' takes \(outputs, targets, weights\): a loss is"):
        load_loss("mylosses:three")
    common = dict(data="mydata:data", grid=3, path=user_modules / "x.png")
    with pytest.raises(UserCodeError, match="your loss 'mylosses:raises' raised ZeroDivisionError: loss broke at "
                                            "mylosses.py:"):
        model_landscape(model="mynets:mlp", loss="mylosses:raises", **common)
    with pytest.raises(InvalidArgument, match="raised ValueError: forward exploded"):  # the first batch's check
        model_landscape(model="mynets:boom", **common)
    assert not (user_modules / "x.png").exists()
    # a loss loaded by name keeps the fingerprint of the function itself (a cache made without the wrapper fits)
    from gradviz.analysis.losses import LossRule

    import mylosses
    assert LossRule.build(load_loss("mylosses:ce")).key == LossRule.build(mylosses.ce).key


class Payload:
    """Pickled, it calls os.system on load: what weights_only refuses and gradviz must say so plainly."""

    def __reduce__(self):
        return (os.system, ("true",))


def test_a_pickle_with_objects_is_refused_for_safety_in_one_line(tmp_path):
    import torch

    from gradviz.analysis.loading import read_state_dict

    torch.save({"weight": Payload()}, tmp_path / "evil.pt")
    (tmp_path / "cut.pt").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    model = torch.nn.Linear(2, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(InvalidArgument) as raised:
            read_state_dict(tmp_path / "evil.pt", model)
    message = str(raised.value)
    assert "holds Python objects other than tensors (posix.system) and is refused for safety" in message, message
    assert "weights_only" not in message and len(message) < 300 and not caught, (message, caught)
    with pytest.raises(InvalidArgument, match="is not a torch state_dict file: damaged or cut short"):
        read_state_dict(tmp_path / "cut.pt", model)
    with pytest.raises(InvalidArgument, match="is a folder, not a state_dict file"):
        read_state_dict(tmp_path, model)


# --- caches: damaged ones in one line, Ctrl-C says what was kept, any number of ranks resumes any other ----

def test_damaged_caches_are_one_line_with_advice(tmp_path):
    from gradviz.analysis.landscape import landscape

    model, data = _small()
    landscape(model, data, grid=3, cache=tmp_path / "good.npz")
    (tmp_path / "cut.npz").write_bytes((tmp_path / "good.npz").read_bytes()[:200])
    (tmp_path / "empty.npz").write_bytes(b"")
    np.savez(tmp_path / "list.npz", key=json.dumps([1, 2]), values=np.zeros(9), done=np.zeros(9, bool))
    for name, reason in (("cut.npz", "File is not a zip file"), ("empty.npz", "the file is empty"),
                         ("list.npz", "its key is a JSON list")):
        with pytest.raises(InvalidArgument) as raised:
            landscape(model, data, grid=3, cache=tmp_path / name)
        assert reason in str(raised.value) and "delete it to start over" in str(raised.value), str(raised.value)
    with pytest.raises(InvalidArgument, match="made for another grid or span: keep it for that run"):
        landscape(model, data, grid=3, span=0.3, cache=tmp_path / "good.npz")
    with pytest.raises(InvalidArgument, match="is a folder"):
        landscape(model, data, grid=3, cache=tmp_path)


def test_an_interrupted_cached_grid_says_what_it_kept_and_any_rank_count_resumes(tmp_path, monkeypatch):
    import torch

    import gradviz.analysis.gridrun as gridrun
    import gradviz.analysis.landscape as module
    from gradviz.analysis.gridrun import GridInterrupted

    model, data = _small()
    calls = []

    def counted(outputs, targets):
        calls.append(1)
        return torch.nn.functional.cross_entropy(outputs, targets)

    whole = module.landscape(model, data, grid=5, loss_fn=counted, chunk=4)

    def stop(done, total):
        if done >= 8:
            raise KeyboardInterrupt

    with pytest.raises(GridInterrupted) as raised:
        module.landscape(model, data, grid=5, loss_fn=counted, chunk=4, cache=tmp_path / "g.npz", progress=stop)
    assert raised.value.kept.startswith("8 of 25 grid points kept in "), raised.value.kept
    # two ranks, each evaluating its share into its own file (the gather left out: one process plays both)
    monkeypatch.setattr(gridrun, "_gather", lambda local, share, total, device: np.full(total, np.nan))
    for rank in (0, 1):
        monkeypatch.setattr(module, "join_process_group", lambda device, distributed, r=rank: (r, 2, device))
        module.landscape(model, data, grid=5, loss_fn=counted, chunk=4, cache=tmp_path / "r.npz")
    assert sorted(p.name for p in tmp_path.glob("r*.npz")) == ["r.rank-0-of-2.npz", "r.rank-1-of-2.npz"]
    # ... resumed by one process: nothing recomputed; and by three: nothing either
    monkeypatch.setattr(module, "join_process_group", lambda device, distributed: (0, 1, device))
    # the loss's calls that are no grid point: the first-batch check's, before any grid (issue 29)
    from gradviz.analysis.losses import LossRule
    from gradviz.analysis.sources import as_source

    calls.clear()
    LossRule.build(counted).check(model, as_source(data))
    checks = len(calls)
    calls.clear()
    one = module.landscape(model, data, grid=5, loss_fn=counted, chunk=4, cache=tmp_path / "r.npz")
    assert len(calls) == checks and np.allclose(one.z, whole.z)
    monkeypatch.setattr(module, "join_process_group", lambda device, distributed: (2, 3, device))
    calls.clear()
    module.landscape(model, data, grid=5, loss_fn=counted, chunk=4, cache=tmp_path / "r.npz")
    assert len(calls) == checks


# --- misleading and silent cases of the library ----------------------------------------------------------

def test_messages_say_what_is_wrong_and_silent_cases_are_refused(tmp_path):
    from gradviz.gallery import build_gallery
    from gradviz.lecture.compare import tune
    from gradviz.lecture.expressions import expression
    from gradviz.lecture.functions import parse_domain
    from gradviz.lecture.optim import get_optimizer, parse_optimizer
    from gradviz.lecture.schedules import split_schedule
    from gradviz.output import check_output_path

    cases = [
        (lambda: check_output_path(tmp_path / ".gif"), "is only an extension: give a name before it"),
        (lambda: check_output_path(tmp_path), "is a folder: give a file name in it"),
        (lambda: check_output_path(tmp_path / "x.jpg"), "has extension '.jpg': it must end in one of"),
        (lambda: tune("rosenbrock", ["nelder-mead"], steps=3), "nelder-mead is a direct (gradient-free) method"),
        (lambda: parse_optimizer(split_schedule("pytorch_optimizer.Lookahead:base=(adam@cosine)")[0]),
         "a schedule goes after the whole optimizer"),
        (lambda: parse_domain("-1e308:1e308,-1:1"), "every bound within +-1e+06"),
        (lambda: expression("x**2 # hi"), "'#' at column 5"),
        (lambda: parse_optimizer("adam:"), "nothing after ':' in 'adam:'"),
        (lambda: next(build_gallery("")), "gallery folder name is empty"),
    ]
    wrong = []
    for call, message in cases:
        try:
            call()
            wrong.append((message, "no error"))
        except InvalidArgument as error:
            if message not in str(error):
                wrong.append((message, str(error)))
    assert not wrong, wrong
    assert split_schedule("adam:lr=0.1@cosine") == ("adam:lr=0.1", "cosine")
    assert list(tmp_path.iterdir()) == []
    pytest.importorskip("pytorch_optimizer")
    import torch

    sam = get_optimizer("pytorch_optimizer.SAM")
    point = torch.zeros(2, requires_grad=True)
    assert isinstance(sam.build([point], base_optimizer="adam").base_optimizer, torch.optim.Adam)


def test_batch_size_with_a_dataloader_is_refused_not_ignored(user_modules):
    from gradviz.pipelines.landscape import model_landscape

    with pytest.raises(InvalidArgument, match="--batch-size 4 splits .* is a DataLoader, which keeps its own"):
        model_landscape(user_modules / "x.png", model="mynets:mlp", data="mydata:loader", batch_size=4, grid=3)


# --- the command line: one line, exit 2, no file; the user's files before torch -------------------------

def _write_modules(folder):
    for name, text in (("mynets", MYNETS), ("mydata", MYDATA), ("mylosses", MYLOSSES)):
        (folder / f"{name}.py").write_text(text)


OWN = ["landscape", "--model", "../mynets.py:mlp", "--data", "../mydata.py:data", "--grid", "3", "-q", "-o", "o.png"]

# (args, what the one line says, answered before torch)
CLI_CASES = [
    (OWN + ["--weights", "missing.pt"], "weights file 'missing.pt' does not exist", True),
    (OWN + ["--weights", ""], "weights file name is empty", True),
    (OWN + ["--weights", ".."], "weights '..' is a folder, not a state_dict file", True),
    (OWN + ["--checkpoints", "none-*.pt"], "checkpoints 'none-*.pt' match 0 file(s)", True),
    (OWN + ["--checkpoints", "../mynets.py"], "match 1 file(s): only '../mynets.py'", True),
    (OWN + ["--cache", "/proc/c.npz"], "folder '/proc' is not writable", True),
    (OWN + ["--weights", "../evil.pt"], "is refused for safety", False),
    (OWN + ["--cache", "../cut.npz"], "cache '../cut.npz' is damaged or not a gradviz grid cache", False),
    (OWN + ["--cache", "../empty.npz"], "(the file is empty): delete it to start over", False),
    (OWN + ["--cache", "../list.npz"], "its key is a JSON list", False),
    (["landscape", "--model", "../mynets.py:raises", *OWN[3:]], "your model factory '../mynets.py:raises' raised "
                                                                "RuntimeError: boom in factory at mynets.py:", False),
    (OWN[:3] + ["--data", "../mydata.py:raises", *OWN[5:]], "your data function '../mydata.py:raises' raised KeyError",
     False),
    (OWN + ["--loss", "builtins:print"], "loss 'builtins:print' is Python's built-in print", False),
    (OWN + ["--loss", "../mylosses.py:three"], "a loss is called as loss(outputs, targets)", False),
    (OWN + ["--loss", "../mylosses.py:raises"], "raised ZeroDivisionError: loss broke at mylosses.py:", False),
    (["landscape", "--model", "../mynets.py:boom", *OWN[3:]], "raised ValueError: forward exploded", False),
    (OWN[:3] + ["--data", "../mydata.py:loader", *OWN[5:], "--batch-size", "4"], "which keeps its own batches", False),
    (["trajectories", "-q", "-o", ".gif"], "output file name '.gif' is only an extension", True),
    (["trajectories", "-f", "x**2 # hi", "-q", "-o", "x.png"], "'#' at column 5", True),
    (["trajectories", "-O", "adam:", "-q", "-o", "x.png"], "nothing after ':' in 'adam:'", True),
    (["trajectories", "-O", "pytorch_optimizer.Lookahead:base=(adam@cosine)", "-o", "x.png"],
     "a schedule goes after the whole optimizer", True),
    (["trajectories", "-f", "x**2 + y**2", "--domain=-1e308:1e308,-1:1", "-o", "x.png"], "every bound within", True),
    (["trajectories", "--steps", "100000", "-o", "x.png"], "paths x steps = 6 x 100,000 = 600,000", True),
    (["trajectories", "--spin", "nan", "-o", "x.png"], "invalid spin: nan", True),
    (["basins", "--resolution", "1000", "--steps", "100000", "-o", "x.png"], "= 300,000,000,000 (at most", True),
    (["sweep", "-O", "nelder-mead", "-o", "x.png"], "nelder-mead is a direct (gradient-free) method", True),
    (["trajectories", "--seed", "99999999999999999999999", "-o", "x.png"], "invalid seed: 99999999999999999999999",
     True),
    (["figure", "edge-of-stability", "--seed", "-1", "-o", "x.png"], "invalid seed: -1", True),
    (["trajectories", "-f", "x**2", "-f", "y**2", "-o", "x.png"], "--function is given 2 times (-f 'x**2' -f 'y**2')",
     True),
    (["trajectories", "--steps", "5", "--steps=6", "-o", "x.png"], "--steps is given 2 times", True),
    (["boundary", "--hidden", "", "-o", "x.png"], "invalid hidden: '' (no hidden layers", True),
    (["gallery", "", "-q"], "gallery folder name is empty", False),
    (["gradflow", "--model", "../mynets.py:mlp", "--data", "../mydata.py:loader", "--batch-size", "4", "-q", "-o",
      "g.png"], "which keeps its own batches", False),
]


def test_the_command_line_answers_own_model_inputs_in_one_line(tmp_path):
    import torch

    _write_modules(tmp_path)
    torch.save({"weight": Payload()}, tmp_path / "evil.pt")
    (tmp_path / "cut.npz").write_bytes(b"PK\x03\x04" + b"\0" * 60)
    (tmp_path / "empty.npz").write_bytes(b"")
    np.savez(tmp_path / "list.npz", key=json.dumps([1, 2]), values=np.zeros(9), done=np.zeros(9, bool))
    # torch stays imported once a case imports it: the cases answered before torch run in a process of their own
    first = [case for case in CLI_CASES if case[2]]
    then = [case for case in CLI_CASES if not case[2]]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        for name in ("mynets.py", "mydata.py", "mylosses.py", "evil.pt", "cut.npz", "empty.npz", "list.npz"):
            os.link(tmp_path / name, tmp_path / folder / name)
    results = run_cli([args for args, _, _ in first], tmp_path / "a") + run_cli([args for args, _, _ in then],
                                                                                tmp_path / "b")
    wrong = []
    for (args, shown, before_torch), result in zip(first + then, results):
        lines = result["stderr"].strip().splitlines()
        if (result["code"] != 2 or len(lines) != 1 or shown not in lines[0] or result["files"]
                or (before_torch and result["torch"])):
            wrong.append((args, result["code"], result["stderr"][-500:], result["files"], result["torch"]))
    assert not wrong, wrong


def test_traceback_shows_your_codes_traceback_and_ctrl_c_says_what_the_cache_kept(tmp_path, monkeypatch, capsys):
    import gradviz.pipelines.landscape as pipeline
    from gradviz.analysis.gridrun import GridInterrupted
    from gradviz.cli import main

    _write_modules(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRADVIZ_TRACEBACK", raising=False)
    for argv in (["--traceback", *OWN[:1], "--model", "mynets.py:raises", *OWN[3:]],
                 [*OWN[:1], "--model", "mynets.py:raises", *OWN[3:], "--traceback"]):
        argv = [a.replace("../", "") for a in argv]
        with pytest.raises(SystemExit) as stop:
            main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert stop.value.code == 2 and err[0] == "Traceback (most recent call last):", err
        assert 'raise RuntimeError("boom in factory")' in "\n".join(err), err
        assert err[-1].startswith("gradviz: error: your model factory 'mynets.py:raises' raised RuntimeError"), err
        monkeypatch.delenv("GRADVIZ_TRACEBACK", raising=False)

    def interrupted(*args, **kwargs):
        raise GridInterrupted("8 of 25 grid points kept in 'c.npz'; the same command continues from them")

    monkeypatch.setattr(pipeline, "model_landscape", interrupted)
    with pytest.raises(SystemExit) as stop:
        main([a.replace("../", "") for a in OWN] + ["--cache", "c.npz"])
    assert stop.value.code == 130
    assert capsys.readouterr().err.strip() == ("gradviz: interrupted; no picture written; 8 of 25 grid points kept in "
                                               "'c.npz'; the same command continues from them")


def test_the_first_batch_checks_read_every_label_though_the_model_runs_on_its_head():
    """The checks run the model on batch 0's first rows only (a grid point's cost saved on one-batch data), but a
    bad label anywhere in batch 0 is still named, and a model whose dim 0 is not the samples (time first) is
    checked on all of it."""
    import torch
    from torch import nn

    from gradviz.analysis.landscape import evaluate
    from gradviz.analysis.losses import HEAD_ROWS

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))
    X, y = torch.randn(64, 2), torch.randint(0, 3, (64,))
    y[HEAD_ROWS * 5] = 7
    weights = torch.cat([p.detach().reshape(-1) for p in model.parameters()])[None].numpy()
    with pytest.raises(InvalidArgument, match="labels run from 0 to 7 but the model has 3 outputs"):
        evaluate(model, (X, y), weights)

    class TimeFirst(nn.Module):  # (T, N, F) -> (N, classes): dim 0 is time
        def __init__(self):
            super().__init__()
            self.rnn, self.out = nn.RNN(2, 8), nn.Linear(8, 3)

        def forward(self, x):
            return self.out(self.rnn(x)[0][-1])

    sequences, labels = torch.randn(40, 40, 2), torch.randint(0, 3, (40,))  # T == N: dim 0 looks like samples
    net = TimeFirst()
    with torch.no_grad():
        expected = float(nn.functional.cross_entropy(net(sequences), labels))
    weights = torch.cat([p.detach().reshape(-1) for p in net.parameters()])[None].numpy()
    assert float(evaluate(net, (sequences, labels), weights)[0]) == pytest.approx(expected, rel=1e-6)
