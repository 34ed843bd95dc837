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
                    "analysis/choices.py", "analysis/files.py", "render/choices.py", "lecture/grids.py",
                    "lecture/budget.py", "lecture/free_lunch.py", "i18n.py"):
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


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph():
    """gradviz module -> the gradviz modules it imports anywhere (function-level imports included); `from
    gradviz.a import b` counts as importing gradviz.a.b where b is a module."""
    modules = {_module_name(p): p for p in MODULES}

    def resolve(name):
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if top(alias.name) == "gradviz")
            elif isinstance(node, ast.ImportFrom) and node.module and top(node.module) == "gradviz":
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {resolve(t) for t in targets} - {name, ""}
    return graph


def cycles_of(graph):
    """Every strongly connected set of more than one module (Tarjan's algorithm, iteratively)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root), on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child), on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    found.append(sorted(members))
    return found


def test_no_import_cycle_between_gradviz_modules():
    assert cycles_of(import_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles_of({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    graph = import_graph()
    assert "gradviz.lecture.functions" in graph["gradviz.lecture.expressions"]  # function-level imports seen
    assert "gradviz.analysis.curvature" in graph["gradviz.analysis.landscape"]


def test_no_module_over_700_lines_and_no_function_over_100():
    long_files = {p.relative_to(PACKAGE).as_posix(): n for p in MODULES
                  if (n := len(p.read_text().splitlines())) > 700}
    assert not long_files, f"modules over 700 lines (usually two concerns): {long_files}"
    long_functions = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 100:
                long_functions.append(f"{path.relative_to(PACKAGE).as_posix()}:{node.lineno} {node.name} "
                                      f"({node.end_lineno - node.lineno + 1} lines)")
    assert not long_functions, long_functions
