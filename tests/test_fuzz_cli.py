"""Random command lines, valid and broken, built from the registries and the option grammars (issue 20).

Every one must end in exit 0 with its file written, or exit 2 with one line on stderr and no file: never
a traceback, never another exit code. The commands are drawn from a seeded generator, kept cheap (a few
steps, small nets, small pictures) so that the whole run is a few seconds of work in one process.
"""

import os
import random

from clirunner import refused_in_one_line, run_cli
from gradviz.lecture.functions import FUNCTIONS
from gradviz.lecture.choices import ACTIVATIONS
from gradviz.lecture.data import DATASETS
from gradviz.lecture.optim import OPTIMIZERS
from gradviz.lecture.schedules import SCHEDULERS, _ARGUMENTS

SEED, COUNT = 20, 70

GARBAGE = ["abc", "-1", "0", "nan", "inf", "1e400", "", "1,2", "x", "9" * 12, "0.5/0.5/0.5", "true", "(", "@", ":"]
EXPRESSIONS = ["x**2 + y**2", "sin(x) + cos(y)", "(x-1)**2 + 5*(y+0.5)**2", "abs(x) + abs(y)"]
BAD_EXPRESSIONS = ["x**", "foo(x)", "x y", "exp(exp(exp(x)))", "1/0 + x", "x if y else 1"]
FORM_VALUES = {"count": ["3", "1"], "counts": ["2/4", "3"], "positive": ["0.5", "2"], "nonnegative": ["0", "1e-4"],
               "fraction": ["0.5", "1"], "unit": ["0", "0.9"], "open-unit": ["0.3"], "bool": ["true", "false"]}


class Draw:
    """Choices for one command: a valid command (half of them) never breaks a value; a broken one breaks
    each option with probability 0.3, so one or two options are wrong at a time."""

    def __init__(self, rng):
        self.rng, self.broken = rng, rng.random() < 0.5

    def pick(self, valid, broken=()):
        if self.broken and broken and self.rng.random() < 0.3:
            return self.rng.choice(list(broken))
        return self.rng.choice(list(valid))

    def maybe(self, p):
        return self.rng.random() < p

    def count(self, valid):
        return self.pick(valid, ["0", "-2", "1.5", "abc", "100000000"])


def _optimizer(draw, schedules, names):
    name = draw.pick(names, ["adamm", "torch.optim.Nope", "nosuch.Module"])
    spec = OPTIMIZERS.get(name)
    settings = []
    if spec is not None and spec.defaults and draw.maybe(0.5):
        key = draw.pick(list(spec.defaults))
        value = str(spec.defaults[key]).replace(", ", "/").replace("(", "").replace(")", "")
        settings.append(f"{key}={draw.pick([value], GARBAGE)}")
    if draw.broken and draw.maybe(0.1):
        settings.append(f"{draw.pick(['lr', 'momentun', 'betas'])}={draw.pick(GARBAGE)}")
    text = name + (":" + ",".join(settings) if settings else "")
    if schedules and spec is not None and spec.uses_gradient and draw.maybe(0.3):
        scheduler = draw.pick(list(SCHEDULERS), ["cosin"])
        text += "@" + scheduler
        forms = _ARGUMENTS[SCHEDULERS[scheduler].target.rpartition(".")[2]] if scheduler in SCHEDULERS else {}
        if forms and draw.maybe(0.6):
            key = draw.pick(list(forms))
            form = forms[key]
            text += f":{key}={draw.pick(list(form) if isinstance(form, tuple) else FORM_VALUES[form], GARBAGE)}"
    return text


GRADIENT_METHODS = [name for name, spec in OPTIMIZERS.items() if spec.uses_gradient]


def _command(rng):
    """One command line: cheap valid settings, with broken values in about half of the commands."""
    draw = Draw(rng)
    kind = draw.pick(["trajectories", "trajectories", "sweep", "basins", "boundary", "gradflow", "landscape", "list"])
    if kind == "list":
        return ["list", draw.pick(["functions", "optimizers", "schedulers", "datasets", "figures"], ["nothing"])]
    png = kind in ("sweep", "basins") or draw.maybe(0.5)
    output = draw.pick(["out.png" if png else "out.gif"], ["out.jpg", "no/such/out.png", ""])
    args = [kind, "--size", draw.pick(["320x180"], ["10x10", "320by180"]), "-q", "-o", output]
    if kind in ("trajectories", "sweep", "basins"):
        function = draw.pick(list(FUNCTIONS) + EXPRESSIONS, BAD_EXPRESSIONS)
        names = list(OPTIMIZERS)
        if kind == "basins":  # basins takes elementwise gradient methods of functions with minima
            function = draw.pick(["himmelblau", "rosenbrock", "six-hump-camel"], ["saddle", "x**2"])
            names = [n for n in GRADIENT_METHODS if OPTIMIZERS[n].elementwise]
        if kind == "sweep":
            names = [n for n in GRADIENT_METHODS if n != "lbfgs"]
        args += ["-f", function]
        for _ in range(draw.pick([1, 1, 2])):
            args += ["-O", _optimizer(draw, True, names)]
        args += ["--steps", draw.count(["3", "5", "8"])]
    if kind == "trajectories":
        if draw.maybe(0.2):
            args += ["--start", draw.pick(["0.5,0.5", "-1,1"], ["1;2", "nan,0"])]
        if draw.maybe(0.2):
            args += ["--view", draw.pick(["2d", "3d"], ["4d"])]
    if kind == "sweep":
        args += ["--lr", draw.pick(["1e-3,1e-2", "1e-4:1e-2:3"], ["0.1", "1e-3,1e-3", "abc"])]
    if kind == "basins":
        args += ["--resolution", draw.count(["6", "8"])]
    if kind in ("boundary", "landscape"):
        args += ["--dataset", draw.pick(list(DATASETS), ["moon"]), "--n", draw.count(["40", "60"]),
                 "--steps", draw.count(["3", "6"]), "--activation", draw.pick(list(ACTIVATIONS), ["sigmod"]),
                 "--hidden", draw.pick(["8", "8,8"], ["0", "x", "100000"])]
        for _ in range(draw.pick([1, 2])):
            args += ["-O", _optimizer(draw, True, GRADIENT_METHODS)]
        if draw.maybe(0.3):
            args += ["--lr", draw.pick(["0.01", "1e-3,1e-2"], ["-1", "1e-3,1e-3"])]
        if draw.maybe(0.2):
            args += ["--noise", draw.pick(["0.1"], ["-1", "abc"])]
    if kind == "landscape":
        args += ["--grid", draw.count(["5", "7"]), "--frames", draw.pick(["4"], ["1000"])]
    if kind == "boundary" and draw.maybe(0.3):
        args += ["--batch-size", draw.pick(["8"], ["1000"])]
    if kind == "gradflow":
        args += ["--depth", draw.count(["3", "4"]), "--width", draw.count(["8"]), "--steps", draw.count(["3"]),
                 "--batch-size", "16", "--activation", draw.pick(["relu", "sigmoid,relu", "tanh"], ["sigmod"]),
                 "--init", draw.pick(["he", "default", "xavier,he"], ["kaiming"])]
        if draw.maybe(0.3):
            args += ["-O", _optimizer(draw, True, GRADIENT_METHODS)]
        if png and draw.maybe(0.2):
            args += ["--panel", draw.pick(["bars", "grid", "summary"], ["nope"])]
        if png and draw.maybe(0.2):
            args += ["--step", draw.pick(["1"], ["50"])]
    return args


def commands(seed=SEED, count=COUNT):
    rng = random.Random(seed)
    return [_command(rng) for _ in range(count)]


def test_random_commands_end_in_a_file_or_one_line(tmp_path):
    cases = commands()
    wrong, outcomes = [], {"file": 0, "listed": 0, "refused": 0}
    for args, result in zip(cases, run_cli(cases, tmp_path)):
        code, stderr, stdout, files = result["code"], result["stderr"], result["stdout"], result["files"]
        if code == 0 and args[0] == "list":
            ok = bool(stdout.strip()) and not files
            outcomes["listed"] += ok
        elif code == 0:
            output = args[args.index("-o") + 1]
            ok = files == [output] and os.path.getsize(tmp_path / f"case{cases.index(args)}" / output) > 0
            outcomes["file"] += ok
        elif code == 2:
            ok = refused_in_one_line(result)
            outcomes["refused"] += ok
        else:
            ok = False
        if not ok:
            wrong.append((args, code, stderr[-600:], files))
    assert not wrong, wrong
    # both outcomes occur in numbers: a generator that only ever broke (or never broke) would test little
    assert outcomes["file"] >= 10 and outcomes["refused"] >= 20, outcomes
    print(f"\nfuzz: {len(cases)} commands: {outcomes}")


# --- your own model (issue 32): generated mynets/mydata/mylosses modules, good and bad, and bad files -------

OWN_MODULES = {
    "mynets.py": """
import torch
from torch import nn


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 3))


def raises():
    raise RuntimeError("factory broke")


def not_a_module():
    return 42


def needs_width(width):
    return nn.Linear(2, width)


class Boom(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 3)

    def forward(self, x):
        raise ValueError("forward broke")


def boom():
    return Boom()


def wrong_width():
    return nn.Sequential(nn.Linear(5, 3))
""",
    "mydata.py": """
import torch


def data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(48, 2, generator=g), torch.randint(0, 3, (48,), generator=g)


def loader():
    X, y = data()
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16)


def raises():
    raise KeyError("no such split")


def nothing():
    return None


def empty():
    return torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)
""",
    "mylosses.py": """
import torch


def ce(outputs, targets):
    return torch.nn.functional.cross_entropy(outputs, targets)


def three(outputs, targets, extra):
    return outputs.sum()


def raises(outputs, targets):
    raise ZeroDivisionError("loss broke")


def per_sample(outputs, targets):
    return torch.nn.functional.cross_entropy(outputs, targets, reduction="none")
""",
}

BAD_FILES = {"cut.npz": b"PK\x03\x04" + b"\0" * 40, "empty.npz": b"", "notes.pt": b"not weights",
             "cut.pt": b"PK\x03\x04" + b"\0" * 40}


def _own_command(rng):
    """A landscape or gradflow command on your own model: valid pieces, or one or two broken ones."""
    draw = Draw(rng)
    kind = draw.pick(["landscape", "landscape", "gradflow"])
    model = draw.pick(["mlp"], ["raises", "not_a_module", "needs_width", "boom", "wrong_width", "nope"])
    data = draw.pick(["data", "loader"], ["raises", "nothing", "empty", "nope"])
    args = [kind, "--model", f"../mynets.py:{model}", "--data", f"../mydata.py:{data}", "-q", "--size", "320x180"]
    if draw.maybe(0.5):
        args += ["--loss", draw.pick(["cross-entropy", "../mylosses.py:ce"],
                                     ["builtins:print", "../mylosses.py:three", "../mylosses.py:raises",
                                      "../mylosses.py:per_sample", "mse2", "../mylosses.py"])]
    if kind == "landscape":
        args += ["--grid", draw.pick(["3", "5"], ["2", "100000", "x"]), "-o", draw.pick(["out.png"], ["out.jpg", ".png"])]
        if draw.maybe(0.3):
            args += ["--weights", draw.pick(["../good.pt"], ["../notes.pt", "../cut.pt", "../evil.pt", "missing.pt", "",
                                                             "..", "../other.pt"])]
        if draw.maybe(0.3):
            args += ["--cache", draw.pick(["c.npz"], ["../cut.npz", "../empty.npz", "/proc/c.npz", ".."])]
        if draw.maybe(0.2):
            args += ["--checkpoints", draw.pick(["../ckpt-*.pt"], ["none-*.pt", "../good.pt"])]
        if draw.maybe(0.2):
            args += ["--batch-size", draw.pick(["16"], ["0", "-1"])]
    else:
        args += ["--steps", draw.count(["3"]), "-o", draw.pick(["out.png"], ["out.jpg"])]
    return args


def test_random_own_model_commands_end_in_a_file_or_one_line(tmp_path):
    import torch
    from torch import nn

    for name, text in OWN_MODULES.items():
        (tmp_path / name).write_text(text)
    for name, content in BAD_FILES.items():
        (tmp_path / name).write_bytes(content)
    torch.manual_seed(0)
    good = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 3))
    torch.save(good.state_dict(), tmp_path / "good.pt")
    for index in range(3):
        with torch.no_grad():
            for p in good.parameters():
                p.add_(0.1)
        torch.save(good.state_dict(), tmp_path / f"ckpt-{index}.pt")
    torch.save(nn.Linear(2, 2).state_dict(), tmp_path / "other.pt")
    torch.save({"w": _Payload()}, tmp_path / "evil.pt")
    rng = random.Random(SEED + 32)
    cases = [_own_command(rng) for _ in range(24)]
    wrong, outcomes = [], {"file": 0, "refused": 0}
    for index, (args, result) in enumerate(zip(cases, run_cli(cases, tmp_path))):
        code, stderr, files = result["code"], result["stderr"], result["files"]
        if code in (0, None):
            output = args[args.index("-o") + 1]
            ok = output in files and os.path.getsize(tmp_path / f"case{index}" / output) > 0
            outcomes["file"] += ok
        elif code == 2:
            ok = refused_in_one_line(result)
            outcomes["refused"] += ok
        else:
            ok = False
        if not ok:
            wrong.append((args, code, stderr[-600:], files))
    assert not wrong, wrong
    assert outcomes["file"] >= 4 and outcomes["refused"] >= 10, outcomes
    print(f"\nown-model fuzz: {len(cases)} commands: {outcomes}")


class _Payload:
    def __reduce__(self):
        return (os.system, ("true",))
