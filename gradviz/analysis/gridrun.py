"""A grid of weight vectors evaluated to the end: split across processes, kept on disk, resumed after a stop.

Big surfaces take hours (the reference code quotes about an hour on 4 GPUs for a 51 x 51 ResNet-56 surface on
CIFAR-10), so `run_grid` adds to an Evaluator the two things such runs need, on existing engines only:

- Processes and machines: under `torchrun` (RANK, WORLD_SIZE and the rendezvous in the environment) it joins
  torch.distributed's default process group, initializing it (gloo on CPU, nccl on CUDA) if nobody has.
  The points are independent, so rank r takes points r, r + N, r + 2N, ... (a static split, no scheduler),
  and an all_gather returns the whole grid to every rank.
- A cache file (`cache=PATH`): finished points are written after every chunk (a temporary file renamed over
  the old one, so a kill leaves either the old or the new file, never half of one). Started again with the same
  arguments, the run evaluates only what is missing. The file records what it was made for (model,
  weights, directions, grid, data, loss); a cache made for anything else is refused in one line, and so is
  a damaged one (with the advice to delete it). Under torchrun each rank keeps its own file, PATH with
  '.rank-R-of-N' before the suffix; every file holds finished points by their index in the whole grid, and
  a run reads all of them (PATH and every PATH.rank-*-of-*), so any number of ranks resumes the work of
  any other number. Interrupted (Ctrl-C), a cached run raises GridInterrupted, a KeyboardInterrupt whose
  `kept` says how many points the cache holds.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from gradviz.analysis.evaluation import Evaluator
from gradviz.registry import InvalidArgument

__all__ = ["join_process_group", "run_grid", "GridCache", "GridInterrupted", "fingerprint"]

CACHE_VERSION = 2  # 2: points by grid index in every rank's file, no process split in the key


class GridInterrupted(KeyboardInterrupt):
    """Ctrl-C during a cached grid: `kept` says what the cache holds, for the one line that reports the stop."""

    def __init__(self, kept: str) -> None:
        super().__init__(kept)
        self.kept = kept


def join_process_group(device: torch.device, distributed: bool | None = None) -> tuple[int, int, torch.device]:
    """(rank, world size, device of this rank). distributed=None joins a process group when torchrun (or
    anything that sets RANK and WORLD_SIZE) launched this process, or when one is already initialized;
    False never does. Under several processes a plain 'cuda' becomes this rank's cuda:LOCAL_RANK."""
    if distributed is False:
        return 0, 1, device
    import torch.distributed as dist

    if not dist.is_available():
        if distributed:
            raise InvalidArgument("distributed=True, but this torch build has no torch.distributed")
        return 0, 1, device
    if not dist.is_initialized():
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1 or "RANK" not in os.environ:
            if distributed:
                raise InvalidArgument("distributed=True, but no process group is initialized and this process was "
                                      "not launched by torchrun (RANK and WORLD_SIZE are not set)")
            return 0, 1, device
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        # A group left open at interpreter exit can abort in gloo's teardown ("terminate called without an
        # active exception"): the group gradviz opened, gradviz closes, after every rank has arrived.
        atexit.register(_leave_process_group)
    elif device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return dist.get_rank(), dist.get_world_size(), device


def _leave_process_group() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def _gather(local: np.ndarray, indices: np.ndarray, total: int, device: torch.device) -> np.ndarray:
    """Every rank's (indices, values) -> the whole (total,) vector, on every rank."""
    import torch.distributed as dist

    world = dist.get_world_size()
    width = -(-total // world)
    on = device if dist.get_backend() == "nccl" else torch.device("cpu")
    mine = torch.full((width,), float("nan"), dtype=torch.float64, device=on)
    mine[:len(local)] = torch.as_tensor(local, dtype=torch.float64, device=on)
    pieces = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(pieces, mine)
    out = np.full(total, np.nan)
    for rank, piece in enumerate(pieces):
        share = np.arange(rank, total, world)
        out[share] = piece[:len(share)].cpu().numpy()
    return out


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, torch.Tensor):
            h.update(part.detach().to("cpu", torch.float64).contiguous().numpy().tobytes())
        elif isinstance(part, np.ndarray):
            h.update(np.ascontiguousarray(part, dtype=np.float64).tobytes())
        else:
            h.update(str(part).encode())
    return h.hexdigest()[:16]


def fingerprint(evaluator: Evaluator, origin: torch.Tensor, basis: torch.Tensor, coefficients: torch.Tensor,
                rank: int, world: int) -> dict[str, str]:
    """What a cache was made for, one digest per thing it must match."""
    model = evaluator.model
    buffers = [b for _, b in sorted(model.named_buffers(), key=lambda item: item[0]) if b.is_floating_point()]
    return {
        "model": _digest(type(model).__qualname__, evaluator.names, evaluator.shapes),
        "weights": _digest(origin, *buffers),
        "directions": _digest(basis),
        "grid or span": _digest(coefficients),
        "data": evaluator.source.fingerprint(),
        "loss or metric": _digest(evaluator.rule.key),
    }


def _rank_path(path: Path, rank: int, world: int) -> Path:
    if world == 1:
        return path
    return path.with_name(f"{path.stem}.rank-{rank}-of-{world}{path.suffix}")


def _cache_files(path: Path) -> list[Path]:
    """PATH and every PATH.rank-R-of-N beside it that exists: the files one grid's points may lie in."""
    pattern = re.compile(re.escape(path.stem) + r"\.rank-\d+-of-\d+" + re.escape(path.suffix) + "$")
    ranks = sorted(p for p in path.parent.iterdir() if pattern.match(p.name)) if path.parent.is_dir() else []
    return ([path] if path.is_file() else []) + ranks


DAMAGED = (OSError, ValueError, KeyError, EOFError, TypeError, AttributeError, zipfile.BadZipFile)


class GridCache:
    """The finished points of one grid on disk: values and a done mask by grid index, with the fingerprint
    they belong to. Reads every rank's file of the grid (see _cache_files); writes its own (`path`)."""

    def __init__(self, path: str | os.PathLike[str], key: dict[str, str], total: int, *,
                 read_from: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path)
        self.key = key
        self.values = np.full(total, np.nan)
        self.done = np.zeros(total, dtype=bool)
        from gradviz.analysis.files import check_cache_path

        check_cache_path(self.path)
        for file in _cache_files(Path(read_from) if read_from is not None else self.path):
            values, done = self._load(file, total)
            fresh = done & ~self.done
            self.values[fresh], self.done[fresh] = values[fresh], True

    def _load(self, file: Path, total: int) -> tuple[np.ndarray, np.ndarray]:
        name = str(file)
        try:
            with np.load(file, allow_pickle=False) as stored:
                key = json.loads(str(stored["key"]))
                values, done = np.asarray(stored["values"], dtype=np.float64), np.asarray(stored["done"], dtype=bool)
            if not isinstance(key, dict):
                raise ValueError(f"its key is a JSON {type(key).__name__}, not an object")
            version = key.get("version")
        except DAMAGED as error:
            reason = " ".join(str(error).split())[:100] or type(error).__name__
            if file.exists() and file.stat().st_size == 0:
                reason = "the file is empty"
            raise InvalidArgument(f"cache {name!r} is damaged or not a gradviz grid cache ({reason}): delete it to "
                                  "start over, or give another cache path") from None
        if version != CACHE_VERSION:
            raise InvalidArgument(f"cache {name!r} was written by another gradviz version (cache format {version}, "
                                  f"this one reads {CACHE_VERSION}): delete it to start over")
        differ = [part for part, digest in self.key.items() if key.get(part) != digest]
        if differ or values.shape != (total,) or done.shape != (total,):
            raise InvalidArgument(f"cache {name!r} was made for another {' and '.join(differ or ['grid'])}: keep it "
                                  "for that run and give this one another cache path, or delete it")
        return values, done

    def save(self, indices: np.ndarray, values: np.ndarray) -> None:
        self.values[indices] = values
        self.done[indices] = True
        temporary = self.path.with_name(self.path.name + ".partial")
        try:
            with open(temporary, "wb") as handle:
                np.savez(handle, key=json.dumps({**self.key, "version": CACHE_VERSION}), values=self.values,
                         done=self.done)
            os.replace(temporary, self.path)
        except OSError as error:
            raise InvalidArgument(f"cache {str(self.path)!r} cannot be written ({error.strerror}): "
                                  f"{int(self.done.sum())} points were computed and not kept; give a cache path "
                                  "in a folder of your own") from None

    def kept(self) -> str:
        return (f"{int(self.done.sum()):,} of {len(self.done):,} grid points kept in {str(self.path)!r}; the same "
                "command continues from them")


def run_grid(evaluator: Evaluator, origin: torch.Tensor, basis: torch.Tensor, coefficients: torch.Tensor, *,
             cache: str | os.PathLike[str] | None = None, rank: int = 0, world: int = 1,
             progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Values at origin + coefficients @ basis.T for every row, this rank's share evaluated here (rank r of
    `world` takes rows r::world), finished rows read from and written to `cache`, the whole vector returned
    on every rank. progress(done, total) after each chunk, counting this rank's share."""
    total = len(coefficients)
    share = np.arange(rank, total, world)
    store = None
    if cache is not None:
        key = fingerprint(evaluator, origin, basis, torch.as_tensor(coefficients), rank, world)
        store = GridCache(_rank_path(Path(cache), rank, world), key, total, read_from=cache)
    todo = share if store is None else share[~store.done[share]]
    finished = [len(share) - len(todo)]
    if progress is not None:
        progress(finished[0], len(share))

    def on_chunk(indices: np.ndarray, values: np.ndarray) -> None:
        if store is not None:
            store.save(indices, values)
        finished[0] += len(indices)
        if progress is not None:
            progress(finished[0], len(share))

    local = np.full(total, np.nan)
    if store is not None:
        local[store.done] = store.values[store.done]
    if len(todo):
        try:
            local[todo] = evaluator.plane(origin, basis, coefficients, on_chunk=on_chunk, indices=todo)
        except KeyboardInterrupt:
            if store is None:
                raise
            raise GridInterrupted(store.kept()) from None
    if world == 1:
        return local
    return _gather(local[share], share, total, evaluator.device)
