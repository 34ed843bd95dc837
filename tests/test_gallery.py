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
