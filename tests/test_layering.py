"""The architecture as a test: tracing never imports matplotlib, render never imports torch, only output
imports imageio (and Pillow), and nothing imports the CLI."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gradviz"


def imports_of(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def top(name):
    return name.split(".")[0]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layering(path):
    relative = path.relative_to(PACKAGE).as_posix()
    names = imports_of(path)
    tops = {top(n) for n in names}
    if relative.startswith("render/"):
        assert "torch" not in tops, relative
    if relative.startswith(("lecture/", "analysis/")):
        assert "matplotlib" not in tops, relative
    if relative in ("records.py", "registry.py", "limits.py", "analysis/diagnosis.py", "lecture/figures.py",
                    "lecture/grids.py", "lecture/budget.py"):
        assert not tops & {"torch", "matplotlib"}, relative
    if relative != "output.py":
        assert not tops & {"imageio", "PIL", "imageio_ffmpeg"}, relative
    if relative != "__main__.py" and not relative.startswith("cli/"):
        assert not any(n == "gradviz.cli" or n.startswith("gradviz.cli.") for n in names), relative
    if relative.startswith("cli/") or relative in ("records.py", "registry.py"):
        assert "torch" not in tops, relative  # --help, `gradviz list` and usage errors answer without torch


def test_the_walk_sees_the_modules():
    assert {"lecture/tracing.py", "output.py", "cli/__init__.py", "cli/options.py", "render/trajectories.py", "pipelines/trajectories.py",
            "pipelines/boundary.py", "pipelines/gradflow.py"} <= {p.relative_to(PACKAGE).as_posix() for p in MODULES}
    assert "torch" in {top(n) for n in imports_of(PACKAGE / "lecture" / "tracing.py")}
    assert "imageio" in {top(n) for n in imports_of(PACKAGE / "output.py")}


def test_every_command_has_a_cli_module_a_pipeline_and_a_renderer_of_its_name():
    import gradviz.cli

    modules = {name: command.callback.__module__ for name, command in gradviz.cli.cli.commands.items()}
    assert modules["list"] == "gradviz.cli.listing" and modules["gallery"] == "gradviz.cli.gallery"
    commands = set(modules) - {"list", "gallery"}
    assert len(commands) >= 7
    for command in commands:
        assert modules[command] == f"gradviz.cli.{command}", (command, modules[command])
        assert (PACKAGE / "pipelines" / f"{command}.py").exists(), command
        assert (PACKAGE / "render" / f"{command}.py").exists(), command


def test_reexported_functions_are_not_shadowed_by_submodules():
    import importlib

    import gradviz

    for name in gradviz.__all__:
        getattr(gradviz, name)
    for path in MODULES:  # importing every submodule sets each as an attribute of its package
        parts = [part for part in path.relative_to(PACKAGE).with_suffix("").parts if part != "__init__"]
        if parts != ["__main__"]:
            importlib.import_module(".".join(["gradviz", *parts]))
    for name in ("trajectories", "animate", "boundary", "gradflow", "trace", "train", "sweep", "basins", "tune"):
        assert callable(getattr(gradviz, name)) and not isinstance(getattr(gradviz, name), type(gradviz)), name
    top_modules = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert not top_modules & set(gradviz.__all__)


def test_dir_shows_only_public_names():
    import gradviz

    assert set(dir(gradviz)) == set(gradviz.__all__)
    assert not {"Any", "annotations", "importlib"} & set(dir(gradviz))
