"""The README's Python blocks run as written, each in a fresh namespace, in a folder of their own."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_a_readme_python_block_runs_as_written(index, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    try:
        exec(compile(BLOCKS[index], f"README.md python block {index + 1}", "exec"), {"__name__": "__readme__"})
    finally:
        plt.close("all")
    written = sorted(p.name for p in tmp_path.iterdir())
    for name in re.findall(r'"([\w-]+\.(?:gif|png|mp4))"', BLOCKS[index]):
        assert name in written, (name, written)  # every file the block names is written
