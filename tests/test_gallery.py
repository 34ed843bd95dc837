"""The gallery's reproducibility settings (building the whole gallery is too slow for the suite)."""

from importlib import metadata

import torch

from gradviz.gallery import _reproducible_torch, write_versions


def test_versions_file_is_a_constraints_file_of_what_drew_the_gallery(tmp_path):
    path = write_versions(tmp_path)
    pins = dict(line.split("==") for line in path.read_text().splitlines() if not line.startswith("#"))
    for name in ("torch", "numpy", "matplotlib", "pillow", "contourpy"):
        assert pins[name] == metadata.version(name)
    assert "torch CPU kernels: " in path.read_text()


def test_gallery_traces_on_one_thread_and_restores_the_count():
    before = torch.get_num_threads()
    with _reproducible_torch():
        assert torch.get_num_threads() == 1  # reductions split over threads round differently
    assert torch.get_num_threads() == before


def test_the_committed_gallery_is_what_users_get_and_small():
    """Every GIF at the default 960x540 (what `gradviz` writes without options), every file under 1 MB,
    the folder under 25 MB, and every lecture figure and the seminar in it."""
    from pathlib import Path

    from PIL import Image

    from gradviz.lecture.figures import FIGURES
    from gradviz.gallery import GALLERY_SIZE, SEMINAR

    folder = Path(__file__).resolve().parent.parent / "gallery"
    files = sorted(f for f in folder.rglob("*") if f.is_file())
    assert GALLERY_SIZE == (960, 540)
    assert sum(f.stat().st_size for f in files) < 25e6
    for file in files:
        assert file.stat().st_size < 1e6, file.name
        if file.suffix == ".gif":
            with Image.open(file) as image:
                assert image.size == GALLERY_SIZE, file.name
    names = {f.relative_to(folder).as_posix() for f in files}
    assert {f"figure-{name}{spec.suffix}" for name, spec in FIGURES.items()} <= names
    assert {f"ru/figure-{name}{spec.suffix}" for name, spec in FIGURES.items()} <= names  # the lecture's language
    assert {f"{stem}.gif" for stem, _, _ in SEMINAR} | {"gradflow-exploding.png"} <= names


def test_gradviz_gallery_reproduces_a_sample_byte_for_byte(tmp_path):
    """A rebuild of a sample of files (a static figure, one with torch runs in it, one in Russian, and
    figure-adaptive, whose three-panel constrained layout came out of kiwisolver with last-bit differences
    that moved 8 antialiased pixels between builds) on one thread gives the committed bytes: the gallery is
    what the code builds."""
    from pathlib import Path

    from gradviz.gallery import build_gallery

    folder = Path(__file__).resolve().parent.parent / "gallery"
    sample = ["figure-losses.png", "figure-adaptive.png", "figure-gradient-accumulation.png",
              "ru/figure-no-free-lunch.png"]  # in the gallery's order
    written = list(build_gallery(tmp_path, only=sample))
    assert [p.relative_to(tmp_path).as_posix() for p in written[:-1]] == sample
    for name in sample:
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name


def test_only_names_a_pattern_that_matches_nothing(tmp_path):
    import pytest

    from gradviz.gallery import build_gallery
    from gradviz.registry import InvalidArgument

    with pytest.raises(InvalidArgument, match=r"no gallery file matches 'figure-nope\*'.*figure-losses.png"):
        list(build_gallery(tmp_path, only=["figure-nope*"]))
    assert not list(tmp_path.iterdir())
