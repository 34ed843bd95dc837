"""The user's files named on the command line, checked before torch is imported: weights and checkpoint
files (present, files, not folders), a checkpoints glob (at least two files) and a cache path (a writable
folder, not a folder itself). Reading them (torch.load, np.load) is gradviz.analysis.loading's and
gradviz.analysis.gridrun's; here only what can be told from the file system, so that a typo answers at
once instead of after the slow imports.
"""

from __future__ import annotations

import glob as globbing
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from gradviz.registry import InvalidArgument

__all__ = ["check_weights_file", "expand_checkpoints", "check_cache_path"]


def check_weights_file(path: Any, what: str = "weights") -> Path:
    """A state_dict file that exists and is a file -> its Path; else InvalidArgument saying which it is not."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if text is None:
        raise InvalidArgument(f"invalid {what}: {path!r} (a state_dict file's path)")
    if not text.strip():
        raise InvalidArgument(f"{what} file name is empty (give the path of a file written by "
                              "torch.save(model.state_dict(), PATH))")
    where = Path(os.path.expanduser(text))
    if where.is_dir():
        raise InvalidArgument(f"{what} {text!r} is a folder, not a state_dict file (for a training run's files "
                              "give --checkpoints 'FOLDER/*.pt')")
    if not where.is_file():
        raise InvalidArgument(f"{what} file {text!r} does not exist")
    return where


def _natural(path: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def expand_checkpoints(pattern: str) -> list[str]:
    """A glob ('ckpt/epoch-*.pt') -> its files sorted by name, numbers as numbers (epoch-9 before epoch-10);
    InvalidArgument when it matches fewer than two files (a plane or a path needs at least two)."""
    if not str(pattern).strip():
        raise InvalidArgument("checkpoints glob is empty (give one such as 'ckpt/epoch-*.pt', quoted)")
    files = sorted((p for p in globbing.glob(os.path.expanduser(str(pattern))) if os.path.isfile(p)), key=_natural)
    if len(files) < 2:
        found = f": only {files[0]!r}" if files else ""
        raise InvalidArgument(f"checkpoints {str(pattern)!r} match {len(files)} file(s){found}; a path and a PCA "
                              "plane need at least 2 (quote the glob so the shell does not expand it)")
    return files


def check_cache_path(path: Any) -> Path:
    """A cache file's path whose folder exists and can really be written (a file is created there and removed:
    os.access says yes to root on a read-only mount) and that is not a folder -> the Path."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if text is None or not text.strip():
        raise InvalidArgument(f"invalid cache: {path!r} (a file's path, such as grid.npz)")
    where = Path(os.path.expanduser(text))
    if where.is_dir():
        raise InvalidArgument(f"cache {text!r} is a folder: give a file's path in it, such as {text.rstrip('/')}/grid.npz")
    folder = where.parent
    if not folder.is_dir():
        raise InvalidArgument(f"cache {text!r}: folder {str(folder)!r} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".gradviz-probe-"):
            pass
    except OSError as error:
        raise InvalidArgument(f"cache {text!r}: folder {str(folder)!r} is not writable ({error.strerror}); give a "
                              "cache path in a folder of your own") from None
    if where.exists() and not os.access(where, os.R_OK):
        raise InvalidArgument(f"cache {text!r} cannot be read (permission denied)")
    return where
