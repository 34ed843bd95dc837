"""The README and docs/ as a user reads them: every Python block runs as written (each in a fresh namespace,
in a folder of its own), the README stays a front page, every relative link leads to a file (and heading), and
the CLI reference names every option of every command."""

import ast
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, ROOT / "CONTRIBUTING.md", *DOCS]
FRONT_PAGE_LIMIT = 25_000  # characters: a front page, not a manual (issue 28)

# A block that needs a long run is skipped by default when its first line is this comment; none does now.
SLOW_MARK = "# slow-block"

# Pages written on other branches that the README already links to; once they land, their links are checked
# like any other (the test skips a link to one of these only while the file is absent).
WRITTEN_ELSEWHERE = {"docs/lecture.md", "docs/errors-and-limits.md"}


def python_blocks(page):
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


def imported_modules(block):
    """The top-level modules a block imports."""
    names = set()
    for node in ast.walk(ast.parse(block)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return sorted(names)


BLOCKS = [(page, index, block) for page in [README, *DOCS] for index, block in enumerate(python_blocks(page))]


def test_the_readme_has_python_blocks():
    assert len(python_blocks(README)) >= 2


def test_the_readme_is_a_front_page():
    size = len(README.read_text(encoding="utf-8"))
    assert size <= FRONT_PAGE_LIMIT, f"README.md is {size:,} characters; move detail into docs/"


def test_the_readme_starts_with_the_two_commands():
    text = README.read_text(encoding="utf-8")
    first = text.index("```bash\n")
    block = text[first:text.index("```", first + 3)]
    assert "pip install -e . && gradviz trajectories" in block
    assert 'pip install -e ".[test]" && pytest' in block
    assert "torch==2.13.0" in text[:first]  # the CPU-torch note comes before them
    assert "pip install -e \".[test]\" && pytest" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("page, index, block", BLOCKS,
                         ids=[f"{page.relative_to(ROOT)}-{index + 1}" for page, index, _ in BLOCKS])
def test_a_python_block_runs_as_written(page, index, block, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    if block.startswith(SLOW_MARK):
        pytest.skip(f"{page.name} python block {index + 1} is marked {SLOW_MARK}")
    missing = [name for name in imported_modules(block) if importlib.util.find_spec(name) is None]
    if missing:  # an optional package (transformers, ...) that this environment does not have
        pytest.skip(f"{page.name} python block {index + 1} needs {', '.join(missing)}, not installed")
    monkeypatch.chdir(tmp_path)
    try:
        exec(compile(block, f"{page.relative_to(ROOT)} python block {index + 1}", "exec"), {"__name__": "__readme__"})
    finally:
        plt.close("all")
    written = sorted(p.name for p in tmp_path.iterdir())
    for name in re.findall(r'"([\w-]+\.(?:gif|png|mp4))"', block):
        assert name in written, (name, written)  # every file the block names is written


def relative_links(page):
    """(target, line) for every Markdown link and image of `page` that is not a web address."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)  # not inside code blocks
    for match in re.finditer(r"!?\[[^\]]*\]\(([^)\s]+)\)", text):
        target = match.group(1)
        if not re.match(r"[a-z]+:", target):
            yield target, text.count("\n", 0, match.start()) + 1


def anchors(page):
    """The anchors GitHub gives the headings of `page`: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.*)$", text, re.M)}


LINKS = [(page, target, line) for page in PAGES if page.exists() for target, line in relative_links(page)]


def test_the_pages_have_links():
    assert len(LINKS) > 20


@pytest.mark.parametrize("page, target, line", LINKS,
                         ids=[f"{page.relative_to(ROOT)}:{line}:{target}" for page, target, line in LINKS])
def test_a_relative_link_points_to_a_file(page, target, line):
    file, _, anchor = target.partition("#")
    path = (page.parent / file).resolve() if file else page
    relative = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    if not path.exists() and relative in WRITTEN_ELSEWHERE:
        pytest.skip(f"{relative} is written on another branch")
    assert path.exists(), f"{page.relative_to(ROOT)} line {line}: {target} does not exist"
    if anchor and path.suffix == ".md":
        assert anchor in anchors(path), f"{page.relative_to(ROOT)} line {line}: no heading #{anchor} in {relative}"


def test_the_cli_reference_names_every_command_and_option():
    import click

    from gradviz.cli import cli

    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = []
    for name, command in cli.commands.items():
        section = re.search(rf"^### gradviz {name}\n(.*?)(?=^### |\Z)", reference, re.S | re.M)
        if section is None:
            missing.append(f"gradviz {name}")
            continue
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden and param.name != "help":
                missing += [f"gradviz {name} {opt}" for opt in param.opts + param.secondary_opts
                            if f"`{opt}`" not in section.group(1)]
                registry = getattr(param.type, "registry", None)
                row = re.search(rf"^\| `{re.escape(param.opts[0])}`.*$", section.group(1), re.M)
                if registry is not None and row and "One of: " in row.group(0):  # a list of choices kept true
                    listed = re.findall(r"`([^`]+)`", row.group(0).split("One of: ")[1])
                    if listed != list(registry):
                        missing.append(f"gradviz {name} {param.opts[0]}'s choices {list(registry)} (lists {listed})")
    assert not missing, "docs/cli.md does not describe: " + ", ".join(missing)
