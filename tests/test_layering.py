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
    if relative in ("tracing.py", "gradients.py", "functions.py") or relative.startswith(("optim/", "nets/")):
        assert "matplotlib" not in tops, relative
    if relative in ("records.py", "registry.py", "diagnosis.py"):
        assert not tops & {"torch", "matplotlib"}, relative
    if relative != "output.py":
        assert not tops & {"imageio", "PIL", "imageio_ffmpeg"}, relative
    if relative != "__main__.py":
        assert "gradviz.cli" not in names, relative
    assert "torch" not in tops or relative not in ("records.py", "registry.py", "cli.py"), relative


def test_the_walk_sees_the_modules():
    assert {"tracing.py", "output.py", "cli.py", "render/trajectories.py"} <= {
        p.relative_to(PACKAGE).as_posix() for p in MODULES}
    assert "torch" in {top(n) for n in imports_of(PACKAGE / "tracing.py")}
    assert "imageio" in {top(n) for n in imports_of(PACKAGE / "output.py")}
