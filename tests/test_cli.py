"""The command line as a user meets it: real processes, real files, exit codes and stderr."""

import os
import subprocess
import sys

import pytest


def run(args, cwd, env_extra=None):
    env = dict(os.environ, MPLBACKEND="Agg", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "gradviz", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def test_default_command_writes_trajectories_gif(tmp_path, read_gif):
    result = run(["trajectories", "--steps", "40", "--size", "480x270"], tmp_path)
    assert result.returncode == 0, result.stderr
    frames, durations, loop, size = read_gif(tmp_path / "trajectories.gif")
    assert size == (480, 270) and loop == 0 and sum(durations) == 40 * 50 + 1000
    assert "wrote trajectories.gif" in result.stderr
    assert "rendering" not in result.stderr  # no progress bar when stderr is not a terminal


def test_options_reach_the_library(tmp_path, read_gif):
    result = run(["trajectories", "-f", "himmelblau", "-O", "adam:lr=0.05", "-O", "momentum:lr=0.001,momentum=0.8",
                  "--start", "-0.5,0.5", "--steps", "20", "--fps", "10", "--size", "320x180", "--theme", "dark",
                  "--no-loss-panel", "--seed", "1", "-o", "h.gif", "--quiet"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    _, durations, _, size = read_gif(tmp_path / "h.gif")
    assert size == (320, 180) and sum(durations) == 20 * 100 + 1000


@pytest.mark.parametrize("args, shown", [
    (["-f", "rosenbrok"], "'rosenbrok'; did you mean 'rosenbrock'"),
    (["-O", "adamm"], "'adamm'; did you mean 'adam'"),
    (["-O", "adam:lr=-1"], "-1"),
    (["-O", "adam:lr=nan"], "nan"),
    (["-O", "momentum:mom=0.9"], "'mom' for momentum"),
    (["--steps", "0"], "steps: 0"),
    (["--fps", "-5"], "fps: -5"),
    (["--start", "1;2"], "'1;2'"),
    (["--size", "960by540"], "'960by540'"),
    (["--domain", "1:0,0:1"], "'1:0,0:1'"),
    (["-o", "out.jpg"], "'.jpg'"),
    (["-o", "no/such/folder/out.gif"], "'no/such/folder'"),
    (["--theme", "blue"], "'blue'"),
    (["--fps", "0.001"], "655.35 s"),
    (["--frames", "500"], "at most 6 frames"),
    (["-O", "adam:betas=0.9,0.99"], "tuples are written with '/': betas=0.9/0.99"),
    (["-O", "torch_optimizer.Yogi"], "module 'torch_optimizer' is not installed (pip install torch-optimizer)"),
    (["-O", "torch.optim.SDG"], "did you mean 'SGD'"),
    (["-O", "torch.optim.SGD:lr=1,mom=0.9"], "'mom' for sgd"),
    (["--budget", "evaluations:0"], "'evaluations:0'"),
    (["--budget", "calls:10"], "'calls:10'"),
    (["-O", "cma-es:sigma0=0"], "sigma0: 0"),
    (["-O", "cma-es:popsize=1"], "popsize: 1"),
    (["-O", "simulated-annealing:cooling=1.5"], "cooling rate: 1.5"),
    (["-O", "nelder-mead:initial_simplex=0/0"], "initial_simplex of shape"),
])
def test_bad_input_is_one_line_exit_2_no_file(tmp_path, args, shown):
    steps = [] if "--steps" in args else ["--steps", "5"]  # an option given twice is refused, not overridden
    result = run(["trajectories", *steps, *args], tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0] and shown in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_direct_methods_by_evaluations(tmp_path, read_gif):
    result = run(["trajectories", "-O", "nelder-mead", "-O", "cma-es", "-O", "adam", "--budget", "evaluations:60",
                  "--frames", "10", "--size", "320x180", "-o", "d.gif", "-q"], tmp_path)
    assert result.returncode == 0, result.stderr
    frames, _, _, size = read_gif(tmp_path / "d.gif")
    assert size == (320, 180) and len(frames) == 10


def test_an_optimizer_class_by_dotted_path(tmp_path):
    pytest.importorskip("pytorch_optimizer")
    result = run(["trajectories", "-O", "adam", "-O", "pytorch_optimizer.Lion:lr=1e-3", "--steps", "5",
                  "--size", "320x180", "-o", "lion.png", "-q"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "lion.png").stat().st_size > 0


def test_help_and_list_do_not_import_torch(tmp_path):
    code = ("import sys; from gradviz.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    pass\n"
            "assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules, 'heavy import'\n")
    for args in (["--help"], ["trajectories", "--help"], ["list", "functions"], ["list", "optimizers"],
                 ["list", "activations"], ["list", "inits"]):
        result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, (args, result.stderr)


def test_list_prints_one_line_per_registry_entry(tmp_path):
    from gradviz.lecture.functions import FUNCTIONS
    from gradviz.lecture.optim import OPTIMIZERS

    functions = run(["list", "functions"], tmp_path).stdout.strip().splitlines()
    # one row per entry; long settings (lbfgs) continue on indented lines; then how to use classes from elsewhere
    text = run(["list", "optimizers"], tmp_path).stdout
    optimizers, _, elsewhere = text.strip().partition("\n\n")
    optimizers = [line for line in optimizers.splitlines() if line[:1].strip()]
    assert [line.split()[0] for line in functions] == list(FUNCTIONS)
    assert [line.split()[0] for line in optimizers] == list(OPTIMIZERS)
    assert "-O pytorch_optimizer.Lion:lr=1e-3" in elsewhere  # how to use classes from elsewhere
    assert "nelder-mead, pattern-search" in elsewhere and "--budget evaluations" in elsewhere
    assert "lr=0.1" in optimizers[list(OPTIMIZERS).index("adam")]


def test_help_teaches(tmp_path):
    text = run(["trajectories", "--help"], tmp_path).stdout
    for option in ("--function", "--optimizer", "--start", "--steps", "--fps", "--size", "--dpi", "--theme",
                   "--loss-panel", "--seed", "--output", "--quiet", "adam:lr=0.05", "[default: rosenbrock]"):
        assert option in text, option


def test_boundary_command_writes_side_by_side_gif(tmp_path, read_gif):
    result = run(["boundary", "-O", "sgd", "-O", "adam", "--steps", "30", "--n", "60", "--size", "480x270",
                  "--fps", "10"], tmp_path)
    assert result.returncode == 0, result.stderr
    _, durations, loop, size = read_gif(tmp_path / "boundary.gif")
    assert size == (480, 270) and loop == 0 and sum(durations) == 30 * 100 + 1000


@pytest.mark.parametrize("args, shown", [
    (["--dataset", "moon"], "'moon'; did you mean 'moons'"), (["--activation", "sigmod"], "'sigmod'"),
    (["--init", "kaiming"], "'kaiming'"), (["--n", "1"], "n: 1"), (["--noise", "-1"], "noise: -1"),
    (["--hidden", "8,0"], "size: 0"), (["--dropout", "1"], "dropout: 1.0"), (["--freeze", "fc7"], "'fc7'"),
    (["-O", "adamm"], "'adamm'"), (["--lr", "-0.1"], "-0.1"), (["--batch-size", "0"], "batch-size: 0"),
    (["-O", "torch_optimizer.Yogi"], "pip install torch-optimizer"),
])
def test_boundary_bad_input(tmp_path, args, shown):
    steps = [] if "--steps" in args else ["--steps", "3"]  # an option given twice is refused, not overridden
    result = run(["boundary", *steps, *args], tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and shown in lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []


def test_gradflow_command_prints_a_diagnosis_and_writes_a_gif(tmp_path, read_gif):
    result = run(["gradflow", "--steps", "8", "--depth", "5", "--width", "16", "--size", "480x270"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sigmoid / default: vanishing" in result.stderr and "relu / he: healthy" in result.stderr
    _, durations, loop, size = read_gif(tmp_path / "gradflow.gif")
    assert size == (480, 270) and loop == 0 and len(durations) >= 2


def test_gradflow_prints_the_numbers_its_figure_draws(tmp_path):
    import re

    import numpy as np

    from gradviz.analysis.diagnosis import depth_profile
    from gradviz.lecture.deepnets import gradflow_experiment
    from gradviz.render.gradflow import plot_depth_profile

    args = dict(activation="relu", init="scaled", std=3.0, steps=6, width=32, optimizer="adam:lr=0.01")
    result = run(["gradflow", "--activations", "relu", "--inits", "scaled", "--std", "3", "--steps", "6", "--width",
                  "32", "-O", "adam:lr=0.01", "--size", "480x270", "-o", "x.png"], tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(l for l in result.stderr.splitlines() if l.startswith("relu / scaled"))
    match = re.search(r"exploding at initialization \(step 0\): signal first/last = (\S+), ([+-]\S+) decades per "
                      r"layer \(theory ([+-]\S+)\)", line)
    assert match, line
    ratio, slope, theory = (float(g) for g in match.groups())
    flow = gradflow_experiment(**args)  # the same run in the library: what the figure draws
    assert flow.meta["optimizer"] == "adam" and flow.meta["lr"] == 0.01
    drawn = plot_depth_profile(flow).get_lines()[0].get_ydata()
    np.testing.assert_allclose(drawn, depth_profile(flow, "signal", step=0))
    assert ratio == pytest.approx(drawn[0] / drawn[-1], rel=0.06)  # printed with two digits
    fitted = -np.polyfit(np.arange(len(drawn)), np.log10(drawn), 1)[0]
    assert slope == pytest.approx(fitted, abs=0.006) and theory == pytest.approx(np.log10(3 / np.sqrt(2)), abs=0.006)
    assert abs(slope - theory) < 0.06  # at initialization the measured slope is the theory's
    assert (tmp_path / "x.png").stat().st_size > 10_000


@pytest.mark.parametrize("args, shown", [
    (["--activations", "sigmod,relu"], "'sigmod'"), (["--inits", "default,kaiming"], "'kaiming'"),
    (["--depth", "0"], "depth: 0"), (["--width", "-3"], "width: -3"), (["--std", "0", "--inits", "normal"], "std: 0"),
    (["--clip", "-1"], "clip: -1"), (["--optimizer", "adamm"], "'adamm'"), (["--data", "moon"], "'moon'"),
    (["-o", "g.txt"], "'.txt'"), (["--lr", "nan"], "nan"), (["-O", "adam:lrr=0.1"], "'lrr'"),
    (["-O", "adam:lr=-1"], "learning rate"), (["--step", "1"], "--step 1"), (["--step", "2", "-o", "g.png"], "--step 2"),
])
def test_gradflow_bad_input(tmp_path, args, shown):
    steps = [] if "--steps" in args else ["--steps", "2"]  # an option given twice is refused, not overridden
    result = run(["gradflow", *steps, *args], tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and shown in lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []


def test_gallery_into_an_impossible_folder_is_a_usage_error(tmp_path):
    (tmp_path / "file").write_text("")
    result = run(["gallery", str(tmp_path / "file" / "sub")], tmp_path)
    assert result.returncode == 2 and "cannot create gallery folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


FAST_ERRORS = [
    ["trajectories", "-f", "rosenbrok"], ["trajectories", "-O", "adamm"], ["trajectories", "--steps", "0"],
    ["trajectories", "--frames", "500"], ["trajectories", "--fps", "0.001", "--steps", "2", "-o", "slow.gif"],
    ["trajectories", "--size", "10x10"], ["trajectories", "-o", "x.jpg"], ["trajectories", "--dpi", "0"],
    ["boundary", "--activation", "sigmod"], ["boundary", "--init", "kaiming"], ["boundary", "--dataset", "moon"],
    ["boundary", "--steps", "0"], ["boundary", "--n", "1"], ["boundary", "--noise", "-1"],
    ["boundary", "--hidden", "8,0"], ["boundary", "--dropout", "1"], ["boundary", "--lr", "-1"],
    ["boundary", "--fps", "0.001"], ["gradflow", "--activations", "sigmod"], ["gradflow", "--inits", "kaiming"],
    ["gradflow", "--depth", "0"], ["gradflow", "--data", "moon"], ["gradflow", "--fps", "100"],
]


def test_errors_the_cli_can_check_without_torch_come_before_torch(tmp_path):
    # importing torch takes seconds: a typo must fail without it (what takes a user 4 s is a missing check)
    code = ("import sys; from gradviz.cli import main\n"
            "for args in " + repr(FAST_ERRORS) + ":\n"
            "    try:\n        main(args)\n    except SystemExit as e:\n        assert e.code == 2, (args, e.code)\n"
            "    assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules, args\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(FAST_ERRORS) and all("error" in line for line in lines), result.stderr
    assert list(tmp_path.iterdir()) == []


def test_help_shows_no_shell_pipe(tmp_path):
    text = run(["--help"], tmp_path).stdout
    assert "gradviz list functions" in text and "gradviz list optimizers" in text
    assert not [line for line in text.splitlines() if "gradviz " in line and " | " in line]


def test_list_optimizers_keeps_its_columns(tmp_path):
    from gradviz.lecture.optim import OPTIMIZERS

    table = run(["list", "optimizers"], tmp_path).stdout.partition("\n\n")[0]  # then how to use other classes
    rows = {line.split()[0]: line for line in table.splitlines() if line[:1].strip()}
    assert list(rows) == list(OPTIMIZERS)
    columns = {rows[name].index(spec.summary) for name, spec in OPTIMIZERS.items()}
    assert len(columns) == 1, columns  # lbfgs's long settings used to push its summary right


def test_an_interrupt_is_one_line_without_a_blank_one(monkeypatch, capsys, tmp_path):
    import gradviz.pipelines.trajectories as pipeline
    from gradviz.cli import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "trajectories", interrupted)
    with pytest.raises(SystemExit) as stop:
        main(["trajectories", "-o", str(tmp_path / "x.gif")])
    assert stop.value.code == 130
    assert capsys.readouterr().err == "gradviz: interrupted; no file written\n"
@pytest.mark.parametrize("args, shown", [
    (["trajectories", "--lr", "1e-3,,1e-2"], "'1e-3,,1e-2'"),
    (["trajectories", "--lr", "1e-4:1e-1"], "LOW:HIGH:COUNT"),
    (["trajectories", "-O", "sgd@cosin"], "'cosin'; did you mean 'cosine'? (valid: step,"),
    (["trajectories", "-O", "sgd@cosine:Tmax=5"], "'Tmax' for cosine"),
    (["trajectories", "--noise", "-0.5"], "noise: -0.5"),
    (["trajectories", "--starts", "grid:0x10"], "grid sizes must be whole numbers >= 1"),
    (["trajectories", "--tune", "--lr", "0.01"], "need at least 2"),
    (["trajectories", "--tune", "--objective", "areaa"], "'areaa'"),
    (["trajectories", "--starts", "random:9", "--tune"], "cannot combine starts and tune"),
    (["sweep", "--lr", "0.1"], "need at least 2"),
    (["basins", "-f", "saddle"], "no known minima"),
    (["basins", "-O", "lbfgs"], "does not act elementwise"),
    (["boundary", "--tune", "--lr", "0.1"], "need at least 2"),
    # options that would do nothing in this combination are refused, not ignored
    (["trajectories", "--objective", "auc"], "--objective sets what --tune minimises: add --tune"),
    (["boundary", "--tol", "0.1"], "--tol sets what --tune minimises: add --tune"),
    (["trajectories", "--tune", "--tol", "0.1"], "--tol is the tolerance of --objective steps-to-tol, not of 'final'"),
    (["trajectories", "--budget", "steps:100", "--steps", "50"], "--budget steps:100 sets how long"),
    (["trajectories", "--spin", "30"], "spin 30.0 turns the camera of the 3d view"),
    (["trajectories", "--view", "3d", "--field"], "field 'arrows' is drawn on the 2d view only"),
    (["landscape", "--spin", "30"], "spin 30.0 turns the camera of the 3d view"),
    (["landscape", "--plane", "line", "--view", "3d"], "plane 'line' draws a 1-D curve, which has no 3d view"),
    (["landscape", "--norm", "layer"], "--norm scales the directions of a random plane, not of plane 'pca'"),
    (["figure", "activations", "--fps", "10"], "figure 'activations' is a still picture: drop --fps"),
])
def test_comparison_bad_input_is_one_line_exit_2_no_file_no_torch(tmp_path, args, shown):
    code = ("import sys; from gradviz.cli import main\n"
            "try:\n    main(sys.argv[1:])\nfinally:\n    assert 'torch' not in sys.modules, 'torch imported'\n")
    output = ["-o", "out.png"] if args[0] in ("sweep", "basins", "landscape") else []
    result = subprocess.run([sys.executable, "-c", code, *args, *output], capture_output=True, text=True,
                            cwd=tmp_path, env=dict(os.environ, MPLBACKEND="Agg"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and shown in lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []


def test_sweep_basins_and_swarm_commands_write_their_files(tmp_path, read_gif):
    from PIL import Image

    result = run(["sweep", "-O", "sgd", "-O", "adam", "--lr", "1e-4,1e-2", "--steps", "10", "--size", "480x270"],
                 tmp_path)
    assert result.returncode == 0, result.stderr
    assert "objective: final" in result.stderr and "sgd" in result.stderr and "diverged" in result.stderr
    assert Image.open(tmp_path / "sweep.png").size == (480, 270)
    result = run(["basins", "-O", "adam", "--resolution", "8", "--steps", "30", "--size", "480x270", "-o", "b.png"],
                 tmp_path)
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "b.png").size == (480, 270) and "adam (lr=0.46)" in result.stderr
    result = run(["trajectories", "-f", "himmelblau", "-O", "sgd", "--starts", "grid:3x3", "--steps", "10",
                  "--frames", "4", "--size", "480x270", "-o", "s.gif"], tmp_path)
    assert result.returncode == 0, result.stderr
    frames, _, _, size = read_gif(tmp_path / "s.gif")
    assert len(frames) == 4 and size == (480, 270)


# every command that writes a picture: the arguments it needs, its pipeline (module, function), and whether it
# animates (--fps) and trains or traces (--steps)
PICTURE_COMMANDS = {
    "trajectories": ([], ("trajectories", "trajectories"), True, True),
    "boundary": ([], ("boundary", "boundary"), True, True),
    "gradflow": ([], ("gradflow", "gradflow"), True, True),
    "figure": (["activations"], ("figure", "figure"), True, False),
    "landscape": ([], ("landscape", "landscape_animation"), True, True),
    "sweep": ([], ("sweep", "sweep"), False, True),
    "basins": ([], ("basins", "basins"), False, True),
}
SHARED_OPTIONS = ["--size", "--dpi", "--preset", "--lang", "--theme", "--seed", "--output", "--quiet"]


def _bad_counts():
    cases = []
    for command, (needed, _, animates, steps) in PICTURE_COMMANDS.items():
        cases.append(([command, *needed, "--dpi", "0"], "dpi: 0"))
        cases.append(([command, *needed, "--dpi", "-1"], "dpi: -1"))
        if animates:
            cases.append(([command, *needed, "--fps", "0"], "fps: 0"))
        if steps:
            cases.append(([command, *needed, "--steps", "0"], "steps: 0"))
    return cases + [
        (["trajectories", "--frames", "0"], "frames: 0"), (["landscape", "--frames", "0"], "frames: 0"),
        (["landscape", "--grid", "2"], "grid: 2 (must be a whole number >= 3)"), (["landscape", "--grid", "0"],
                                                                                 "grid: 0"),
        (["landscape", "--n", "0"], "n: 0"), (["boundary", "--n", "0"], "n: 0"),
        (["basins", "--resolution", "0"], "resolution: 0"), (["sweep", "--steps", "1.5"], "'1.5'"),
    ]


BAD_COUNTS = _bad_counts()


def test_bad_counts_and_dpi_are_refused_while_parsing_by_every_picture_command(tmp_path):
    # one process for all (each would pay the interpreter start): exit 2, one line naming the value, before torch
    code = ("import contextlib, io, json, sys; from gradviz.cli import main\n"
            "results = []\n"
            "for args in json.loads(sys.argv[1]):\n"
            "    err, code = io.StringIO(), None\n"
            "    with contextlib.redirect_stderr(err):\n"
            "        try:\n            main(args)\n        except SystemExit as e:\n            code = e.code\n"
            "    results.append([code, err.getvalue(), 'torch' in sys.modules])\n"
            "print(json.dumps(results))\n")
    import json

    result = subprocess.run([sys.executable, "-c", code, json.dumps([args for args, _ in BAD_COUNTS])],
                            capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ, MPLBACKEND="Agg"))
    assert result.returncode == 0, result.stderr
    wrong = []
    for (args, shown), (code, stderr, torch) in zip(BAD_COUNTS, json.loads(result.stdout)):
        lines = stderr.strip().splitlines()
        if code != 2 or len(lines) != 1 or shown not in lines[0] or "Traceback" in stderr or torch:
            wrong.append((args, code, stderr, torch))
    assert not wrong, wrong
    assert list(tmp_path.iterdir()) == []


def test_picture_commands_share_the_output_options_in_one_order():
    from gradviz.cli import cli

    for command, (_, _, animates, _) in PICTURE_COMMANDS.items():
        params = cli.commands[command].params
        names = [max(param.opts, key=len) for param in params]
        shared = (["--fps"] if animates else []) + SHARED_OPTIONS
        assert names[-len(shared):] == shared, command
        assert "--fps" not in names[:-len(shared)], command
        types = {max(p.opts, key=len): type(p.type).__name__ for p in params}
        assert types["--dpi"] == "DpiType" and (not animates or types["--fps"] == "PositiveType"), command
        if "--steps" in types:
            assert types["--steps"] == "PositiveType", command


@pytest.mark.parametrize("command", PICTURE_COMMANDS)
def test_every_picture_command_passes_dpi_to_its_pipeline(monkeypatch, tmp_path, command):
    import importlib

    from gradviz.cli import main

    needed, (module, function), _, _ = PICTURE_COMMANDS[command]
    seen = {}

    def pipeline(*args, **kwargs):
        seen.update(kwargs)
        return tmp_path / "out.png"

    monkeypatch.setattr(importlib.import_module(f"gradviz.pipelines.{module}"), function, pipeline)
    with pytest.raises(SystemExit) as stop:
        main([command, *needed, "--dpi", "50", "--size", "480x270", "-q", "-o", str(tmp_path / "out.png")])
    assert stop.value.code == 0
    assert seen["dpi"] == 50 and seen["size"] == (480, 270)


@pytest.mark.parametrize("args", [
    ["boundary", "--steps", "2", "--n", "20", "--hidden", "4"],
    ["gradflow", "--steps", "2", "--depth", "3", "--width", "8"],
])
def test_dpi_scales_the_text_not_the_pixels(tmp_path, args):
    from PIL import Image

    result = run([*args, "--dpi", "50", "--size", "320x200", "-o", "small-type.png", "-q"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "small-type.png").size == (320, 200)


def _spy(monkeypatch, module, name):
    """Replace module.name (a renderer class) by a subclass that keeps the arguments it was built with."""
    built = []
    cls = getattr(module, name)

    class Spy(cls):
        def __init__(self, *args, **kwargs):
            built.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(module, name, Spy)
    return built


def test_the_commands_that_train_nets_run_schedules(tmp_path, monkeypatch, capsys, read_gif):
    # the -O grammar of trajectories, '@' included, with --lr giving each scheduled run its base rate
    import numpy as np

    import gradviz.render.boundary
    import gradviz.render.gradflow
    import gradviz.render.landscape
    from gradviz.cli import main

    monkeypatch.chdir(tmp_path)
    small = ["--size", "480x270", "-q"]
    commands = {
        "b.gif": (["boundary", "-O", "sgd@cosine", "-O", "adam@warmup:total_iters=5+cosine", "--lr", "0.5", "--n",
                   "60", "--hidden", "8", "--steps", "10"], (gradviz.render.boundary, "BoundaryRenderer", 0)),
        "g.gif": (["gradflow", "--steps", "20", "-O", "sgd@step:step_size=5,gamma=0.5", "--lr", "0.2", "--depth", "4", "--width", "8",
                   "--batch-size", "16"], (gradviz.render.gradflow, "GradflowRenderer", 0)),
        "l.gif": (["landscape", "--steps", "20", "-O", "adam@cosine", "--lr", "1e-3,1e-2", "--n", "60", "--hidden", "8", "--grid",
                   "7", "--frames", "5"], (gradviz.render.landscape, "LandscapeRenderer", 2)),
    }
    drawn = {}
    for output, (args, (module, name, position)) in commands.items():
        built = _spy(monkeypatch, module, name)
        with pytest.raises(SystemExit) as stop:
            main([*args, *small, "-o", output])
        assert stop.value.code == 0, capsys.readouterr().err
        frames, _, _, size = read_gif(tmp_path / output)
        assert size == (480, 270) and len(frames) >= 2
        drawn[output] = built[0][position]
    sgd, adam = drawn["b.gif"]
    assert [sgd.label, adam.label] == ["sgd (lr=0.5) @cosine", "adam (lr=0.5) @warmup:total_iters=5+cosine"]
    assert sgd.lrs[0] == 0.5 and sgd.lrs[-1] < 0.02 and adam.lrs[0] == pytest.approx(0.05)
    assert [log.meta["schedule"] for log in drawn["g.gif"]] == ["step:step_size=5,gamma=0.5"] * 2
    runs = drawn["l.gif"]
    assert [(run.label, run.lrs[0]) for run in runs] == [("adam (lr=0.001) @cosine", 0.001),
                                                         ("adam (lr=0.01) @cosine", 0.01)]
    assert np.all(np.diff(runs[1].lrs) <= 0) and runs[1].lrs[-1] < 1e-4
