"""Every input gets an answer (issue 20): one line, exit 2, no file, before torch where no torch is needed.

The cases run in two processes (tests/clirunner.py), each calling `gradviz.cli.main` once per case in a
folder of its own: the first never imports torch (and checks that it did not), the second holds the cases
whose answer needs torch (a class that cannot step a point).
"""

import pytest

from clirunner import run_cli

def run_cases(cases, tmp_path):
    """[(args, shown)] -> list of problems: not exit 2, not one line, `shown` missing, a file left."""
    problems, torch_seen = [], []
    for (args, shown), result in zip(cases, run_cli([args for args, _ in cases], tmp_path)):
        code, stderr, files = result["code"], result["stderr"], result["entries"]
        lines = stderr.strip().splitlines()
        if code != 2 or len(lines) != 1 or shown not in lines[0] or "Traceback" in stderr or files:
            problems.append((args, code, stderr, files))
        torch_seen.append(result["torch"])
    return problems, torch_seen


# (args, what the one line must say): answered before torch is imported
WITHOUT_TORCH = [
    # scheduler values: each checked by the form torch's scheduler takes
    (["trajectories", "-O", "adam@cosine:T_max=abc"], "invalid T_max for cosine: 'abc' (expected a whole number >= 1)"),
    (["trajectories", "-O", "adam@step:gamma=abc"], "invalid gamma for step: 'abc' (expected a finite number > 0)"),
    (["trajectories", "-O", "adam@step:step_size=0"], "invalid step_size for step: '0'"),
    (["trajectories", "-O", "adam@cosine:T_max=-5"], "invalid T_max for cosine: '-5'"),
    (["trajectories", "-O", "adam@cyclic:mode=exp"], "expected one of triangular, triangular2, exp_range"),
    (["trajectories", "-O", "adam@onecycle:anneal_strategy=cosine"], "expected one of cos, linear"),
    (["trajectories", "-O", "adam@onecycle:three_phase=maybe"], "invalid three_phase for onecycle: 'maybe'"),
    (["trajectories", "-O", "adam@multistep:milestones=5/x"], "expected whole numbers >= 1 written a/b/c"),
    (["trajectories", "-O", "adam@cosine:T_max=5,T_max=6"], "T_max is given twice"),
    # optimizer settings, from the registry's signature table
    (["trajectories", "-O", "adam:lr=abc"], "invalid learning rate for adam: 'abc'"),
    (["trajectories", "-O", "adam:lr=-1"], "invalid learning rate for adam: -1"),
    (["trajectories", "-O", "adam:betas=0.9"], "invalid betas for adam: '0.9' (expected two numbers"),
    (["trajectories", "-O", "adam:amsgrad=maybe"], "invalid amsgrad for adam: 'maybe'"),
    (["trajectories", "-O", "adam:weight_decay=abc"], "invalid weight_decay for adam: 'abc'"),
    (["trajectories", "-O", "momentum:momentun=0.9"], "'momentun' for momentum; did you mean 'momentum'"),
    (["trajectories", "-O", "lbfgs:max_eval=abc"], "invalid max_eval for lbfgs: 'abc' (expected a whole number"),
    (["trajectories", "-O", "adam:lr=0.1,lr=0.2"], "lr is given twice in 'adam:lr=0.1,lr=0.2'"),
    (["boundary", "-O", "adam:lr=abc"], "invalid learning rate for adam: 'abc'"),
    (["trajectories", "-O", "pytorch_optimizer.Lookahead:k=5,base=(adam:lr=0.01"], "unbalanced parentheses"),
    (["trajectories", "-O", "pytorch_optimizer.Lookahead:base=(adamm)"], "'adamm'; did you mean 'adam'"),
    # the commands that train nets take the same schedules, checked the same way
    (["boundary", "-O", "adam@cosine:T_max=abc"], "invalid T_max for cosine: 'abc' (expected a whole number >= 1)"),
    (["gradflow", "-O", "sgd@step:step_size=0"], "invalid step_size for step: '0'"),
    (["landscape", "-O", "adam@cosin", "-o", "x.gif"], "unknown scheduler 'cosin'; did you mean 'cosine'"),
    (["landscape", "-O", "adam@cosine", "--lr", "1e-3,1e-2", "-O", "sgd@", "-o", "x.gif"], "nothing after '@'"),
    (["trajectories", "-O", "nelder-mead@cosine"], "nelder-mead is a direct method and has no learning rate"),
    # expressions
    (["trajectories", "-f", "exp(exp(exp(x)))"], "too large to draw as contours (|f| <= 1e+150)"),
    (["trajectories", "-f", "x/0"], "f = x/0 is not finite anywhere on the window"),
    (["trajectories", "-f", "x y"], "invalid expression 'x y': invalid syntax at column 2"),
    (["trajectories", "-f", "x if y else 1"], "'if' is not allowed at column 0"),
    (["trajectories", "-f", "x**2 +"], "it ends with '+' at column 5"),
    (["trajectories", "-f", "x" * 5000], "5000 characters, more than the 500"),
    (["trajectories", "-f", "x**2 + y**2", "--minimum", "1,1"], "invalid minimum (1, 1) for f = x**2 + y**2"),
    # output paths, before any work
    (["trajectories", "-o", "/proc/x.gif"], "output folder '/proc' is not writable"),
    (["trajectories", "-o", ""], "output file name is empty"),
    (["trajectories", "-o", "x.mp4", "--fps", "0.001"], "invalid fps 0.001: a frame lasts at most 655.35 s"),
    # upper bounds, each with its reason
    (["trajectories", "--steps", "100000000"], "invalid steps: 100000000 (at most 100,000: a traced step"),
    (["trajectories", "--budget", "evaluations:100000000"], "(at most 100,000: an evaluation takes"),
    (["trajectories", "--frames", "100000"], "invalid frames: 100000 (at most 3,000"),
    (["trajectories", "--seeds", "1000", "--gradient-noise", "1"], "invalid seeds: 1000 (at most 100"),
    (["trajectories", "--size", "100000x100"], "invalid size: 100000x100 (at most 7,680"),
    (["trajectories", "--dpi", "5"], "invalid dpi: 5 (from 10 to 160"),
    (["trajectories", "--dpi", "100000"], "invalid dpi: 100000 (from 10 to 160"),
    (["gradflow", "--depth", "100000"], "invalid depth: 100000 (at most 2,000"),
    (["gradflow", "--depth", "1000", "--width", "4000"], "1000 x 4000^2 = 16,000,000,000 (at most 50,000,000"),
    (["boundary", "--n", "10000000"], "invalid n: 10000000 (at most 100,000"),
    (["boundary", "--hidden", "100000"], "invalid hidden layer size: 100000 (at most 4,096"),
    (["landscape", "--steps", "1000000", "-o", "x.gif"], "invalid steps: 1000000 (at most 20,000"),
    (["basins", "--resolution", "100000", "-o", "x.png"], "invalid resolution: 100000 (at most 1,000"),
    (["sweep", "--steps", "1000000", "-o", "x.png"], "invalid steps: 1000000 (at most 100,000"),
    # silently accepted before
    (["trajectories", "--lr", "1e-3,1e-3"], "learning rate 0.001 is given twice in '1e-3,1e-3'"),
    (["boundary", "--batch-size", "1000"], "invalid batch-size: 1000 (more than the 300 points"),
    (["boundary", "--classes", "3", "--dataset", "moons"], "dataset 'moons' has 2 classes, not 3"),
    (["boundary", "--classes", "30", "--dataset", "spirals"], "invalid classes: 30 (2 to 8"),
    (["boundary", "--weights", "nope.pt"], "weights file 'nope.pt' does not exist"),
    (["gradflow", "-O", "sgd", "-O", "adam"], "gradflow trains one optimizer, got 2: -O sgd -O adam"),
    (["gradflow", "--panel", "grid", "-o", "x.gif"], "--panel grid chooses what a .png shows"),
    (["gradflow", "--view", "grid", "-o", "x.gif"], "--panel grid chooses what a .png shows"),
    (["gradflow", "--lr", "1e-3,1e-2"], "gradflow trains at one rate"),
    (["landscape", "--frames", "1000", "-o", "x.gif"], "300 steps are recorded 101 times (every 3), so at most 101"),
    # messages that said the wrong thing
    (["trajectories", "--starts", "random:-5"], "a number of random starts must be whole numbers >= 1"),
    (["gradflow", "--step", "50"], "--step 50 draws one step as a still picture: give -o NAME.png"),
    (["gradflow", "--step", "500", "-o", "x.png"], "invalid --step 500: --steps 100 gives steps 0 to 99"),
    (["gradflow", "--activations", "relu", "--activation", "relu"], "--activations is the old name of --activation"),
]


def test_bad_inputs_are_answered_in_one_line_before_torch(tmp_path):
    problems, torch_seen = run_cases(WITHOUT_TORCH, tmp_path)
    assert not problems, problems
    assert not any(torch_seen), [args for (args, _), seen in zip(WITHOUT_TORCH, torch_seen) if seen][:1]


# answers that need the class itself: torch is imported, but the run stops at its first step, in one line
WITH_TORCH = [
    (["trajectories", "-O", "torch.optim.SparseAdam"], "SparseAdam cannot step a (2,) point: it needs sparse"),
    (["trajectories", "-O", "pytorch_optimizer.Muon"], "Muon cannot step a (2,) point: it needs 2-D"),
    (["trajectories", "-O", "pytorch_optimizer.AdamMini"], "AdamMini takes a model"),
    (["trajectories", "-O", "pytorch_optimizer.DistributedMuon"], "initialized torch.distributed process group"),
    (["trajectories", "-O", "pytorch_optimizer.Lookahead"], "lookahead wraps another optimizer: give it as base="),
    (["trajectories", "-f", "log(x)", "--start=-1,1"], "is not finite at start (-1.0, 1.0)"),
    (["trajectories", "-O", "torch.optim.Adamm"], "did you mean 'Adam'"),  # a class name needs its module
]


def test_classes_that_cannot_step_a_point_say_what_they_need(tmp_path):
    pytest.importorskip("pytorch_optimizer")
    problems, _ = run_cases(WITH_TORCH, tmp_path)
    assert not problems, problems


def test_boundary_weights_that_cannot_be_loaded_are_one_line_and_good_ones_fine_tune(tmp_path):
    """`boundary --weights`: a file that is no state_dict, or one of another net, is answered in one line
    (exit 2, no file); the right one trains frozen beside unfrozen."""
    import torch

    from gradviz.lecture import mlp

    (tmp_path / "notes.txt").write_text("not weights")
    torch.save(mlp(2, [8], 1).state_dict(), tmp_path / "small.pt")
    torch.save(mlp(2, [8, 8], 1, seed=3).state_dict(), tmp_path / "fits.pt")
    common = ["boundary", "--steps", "3", "--n", "40", "--size", "320x180", "--weights"]
    cases = [([*common, "../notes.txt"], "weights file '../notes.txt' is not a torch state_dict file"),
             ([*common, "../small.pt"], "weights '../small.pt' does not fit the model: missing fc2.weight")]
    problems, _ = run_cases(cases + [([*common, "../fits.pt", "--hidden", "8,8", "--freeze", "none", "--freeze",
                                       "fc1,fc2", "-q"], "")], tmp_path)
    assert problems[:-1] == [] and len(problems) == 1  # the last case is the good one: it wrote its file
    _, code, stderr, files = problems[0]
    assert code in (0, None) and stderr == "" and files == ["boundary.gif"], problems


@pytest.mark.parametrize("text, torch_name, arguments", [
    ("onecycle:anneal_strategy=linear", "OneCycleLR", dict(max_lr=1e-3, total_steps=30, anneal_strategy="linear")),
    ("cyclic:mode=triangular2", "CyclicLR", dict(base_lr=1e-4, max_lr=1e-3, step_size_up=3, mode="triangular2",
                                                 cycle_momentum=False)),
    ("cyclic:mode=exp_range,gamma=0.9", "CyclicLR", dict(base_lr=1e-4, max_lr=1e-3, step_size_up=3,
                                                         mode="exp_range", gamma=0.9, cycle_momentum=False)),
    ("onecycle:three_phase=true,cycle_momentum=false", "OneCycleLR",
     dict(max_lr=1e-3, total_steps=30, three_phase=True, cycle_momentum=False)),
    ("multistep:milestones=4", "MultiStepLR", dict(milestones=[4], gamma=0.1)),
])
def test_string_bool_and_list_scheduler_arguments_reach_torch(text, torch_name, arguments):
    import numpy as np
    import torch

    from gradviz.lecture.tracing import trace

    path = trace("rosenbrock", "momentum", steps=30, lr=1e-3, schedule=text)
    x = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=1e-3, momentum=0.9)
    scheduler = getattr(torch.optim.lr_scheduler, torch_name)(optimizer, **arguments)
    rates = []
    for _ in range(30):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(path.lrs, rates, rtol=1e-12)


def test_the_signature_table_is_the_classes_own():
    # the table lets the CLI check settings before torch; it must say what the classes say
    from gradviz.lecture.optim import OPTIMIZERS, _init_parameters
    from gradviz.lecture.optim.signatures import SIGNATURES, static_parameters

    assert set(SIGNATURES) == {spec.target for spec in OPTIMIZERS.values()}
    for target in SIGNATURES:
        static = static_parameters(target)
        assert static is not None, target
        cls = next(spec.cls for spec in OPTIMIZERS.values() if spec.target == target)
        live = {n: p for n, p in _init_parameters(cls).items() if n not in ("self", "params")}
        assert list(live) == [n for n in static if n not in ("self", "params")], target
        for name, parameter in live.items():
            table = static[name]
            assert (table.default, table.kind == table.KEYWORD_ONLY) == (
                parameter.default, parameter.kind == parameter.KEYWORD_ONLY), (target, name)
            assert (table.annotation is int) == (parameter.annotation in (int, "int")), (target, name)


def test_the_dpi_bound_is_what_the_renderer_grows_text_by():
    from gradviz.cli.options import DPI_RANGE
    from gradviz.lecture.data import MAX_CLASSES
    from gradviz.render.boundary import CLASS_COLOURS
    from gradviz.render.frames import MAX_TEXT_GROWTH

    assert DPI_RANGE[1] == 100 * MAX_TEXT_GROWTH
    assert MAX_CLASSES == len(CLASS_COLOURS)


def test_an_interrupted_gallery_says_what_it_wrote(monkeypatch, capsys, tmp_path):
    import gradviz.gallery as gallery
    from gradviz.cli import main

    def two_then_interrupt(folder, **options):
        for name in ("a.gif", "b.png"):
            (folder / name).write_bytes(b"x")
            yield folder / name
        raise KeyboardInterrupt

    monkeypatch.setattr(gallery, "build_gallery", two_then_interrupt)
    with pytest.raises(SystemExit) as stop:
        main(["gallery", str(tmp_path), "-q"])
    assert stop.value.code == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"gradviz: interrupted; 2 gallery files written to {tmp_path} (a.gif, b.png), the rest not"]


def test_a_schedule_on_a_method_without_a_learning_rate_is_refused():
    # found by the fuzz test: a direct method under '@' reached torch's scheduler and died on a KeyError
    from gradviz.registry import InvalidArgument
    from gradviz.lecture.tracing import trace

    with pytest.raises(InvalidArgument, match="NelderMead has no learning rate to schedule"):
        trace("rosenbrock", "nelder-mead", steps=3, schedule="cosine")


def test_a_sweep_warns_when_the_best_rate_is_on_the_grids_edge(tmp_path):
    from gradviz.pipelines.sweep import DEFAULT_LRS, sweep

    lines = []
    sweep("rosenbrock", ["adam"], tmp_path / "edge.png", lrs="1e-4,1e-3,1e-2", steps=20, report=lines.append)
    assert lines[-1] == ("warning: adam's best rate 0.01 is the grid's largest: the best may lie above it; "
                         "widen --lr"), lines
    lines.clear()
    # the default grid holds Adam's best rate on the default run inside it (1, with 3.16 and 10 above)
    sweep("rosenbrock", ["adam"], tmp_path / "inside.png", lrs=DEFAULT_LRS, steps=200, report=lines.append)
    assert not any(line.startswith("warning") for line in lines), lines
    assert "1:0.0479*" in lines[0]


def test_a_wrapper_in_its_documented_form_draws(tmp_path, capsys):
    pytest.importorskip("pytorch_optimizer")
    from gradviz.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["trajectories", "-O", "pytorch_optimizer.Lookahead:k=5,base=(adam:lr=0.01,betas=0.9/0.99)",
              "--steps", "6", "--size", "320x180", "-q", "-o", str(tmp_path / "lookahead.png")])
    assert stop.value.code == 0, capsys.readouterr().err
    assert (tmp_path / "lookahead.png").stat().st_size > 0


def test_an_mp4_without_the_video_extra_is_refused_before_work(tmp_path, monkeypatch):
    import importlib.util

    from gradviz.output import check_output_path
    from gradviz.registry import InvalidArgument

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "imageio_ffmpeg" else real(name, *a))
    with pytest.raises(InvalidArgument, match=r'pip install -e "\.\[video\]" in a checkout'):
        check_output_path(tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


def test_the_cli_speaks_one_language():
    from click.testing import CliRunner

    from gradviz.cli import cli
    from gradviz.cli.listing import LISTS

    runner = CliRunner()
    summaries = runner.invoke(cli, ["--help"], terminal_width=80).output.partition("Commands:")[2].strip()
    for line in summaries.splitlines():  # whole sentences, not cut with '...'
        assert line.rstrip().endswith(".") and "..." not in line, line
    index = runner.invoke(cli, ["list"]).output.splitlines()
    assert index[0] == "gradviz list WHAT, for WHAT one of:" and [line.split()[0] for line in index[1:]] == list(LISTS)
    options = {}
    for command in cli.commands.values():
        for param in command.params:
            if isinstance(param, __import__("click").Option) and not param.hidden:
                for name in param.opts:
                    options.setdefault(name, set()).add(param.type.__class__.__name__ + ":" + str(param.name))
                if "--view" in param.opts:
                    from gradviz.render.choices import VIEWS

                    assert param.type.registry is VIEWS and list(VIEWS) == ["2d", "3d"], command.name
    # --noise is the data's jitter, --view is 2d/3d: one meaning each; the gradient noise has its own name
    assert options["--noise"] == {"FloatParamType:noise"} and "--gradient-noise" in options
    assert all(name.endswith(":view") for name in options["--view"]) and "--panel" in options
    assert "--activations" not in options and "--inits" not in options  # hidden old names only
    for command, option, metavar in [("trajectories", "--budget", "evaluations:N|steps:N"),
                                     ("boundary", "--freeze", "LAYER,..."), ("gradflow", "--data", "random|DATASET"),
                                     ("landscape", "--device", "cpu|cuda|cuda:N"), ("landscape", "--lr", "LR|LIST")]:
        text = runner.invoke(cli, [command, "--help"], terminal_width=120).output
        assert f"{option} {metavar}" in text, (command, option)
