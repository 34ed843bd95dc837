"""Loss landscapes of small nets: directions in parameter space and the loss evaluated on a grid over them.

A landscape is L(theta + a d1 + b d2) on a grid of (a, b), where theta is the model's weights and d1, d2
are directions shaped like its parameters: random ones with filter normalization (Li et al. 2018, so
that the picture does not depend on the scale ReLU nets are free to choose), the PCA plane of one or
several training runs (Li et al. 2018, section 7), or the line between two weight vectors (Goodfellow
et al. 2015). The value is the mean training loss that `train` minimises (or the accuracy), in eval mode
without gradients.

Directions live here; evaluating the model at the grid's points (strategies, data streaming) is
gradviz.analysis.evaluation, spreading a grid over processes and keeping it on disk is gradviz.analysis.gridrun, and
a user's model, data and checkpoints are loaded by gradviz.analysis.loading.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from gradviz.analysis.choices import METRICS, NORMS, PLANES
from gradviz.i18n import _
from gradviz.analysis.evaluation import Evaluator, check_device
from gradviz.analysis.gridrun import join_process_group, run_grid
from gradviz.analysis.losses import LossRule
from gradviz.analysis.sources import DataSource, as_source
from gradviz.records import PathProjection, Surface, TrainingRun
from gradviz.limits import check_count
from gradviz.registry import InvalidArgument, check_seed

__all__ = ["random_directions", "pca_directions", "line_between", "hessian_plane", "direction_length", "landscape",
           "evaluate", "Plane",
           "NORMS", "METRICS", "PLANES", "PLANE_BUILDERS", "project"]


# -- directions ------------------------------------------------------------------------------------------

def _slices(tensor: torch.Tensor, norm: str) -> torch.Tensor:
    """View as (slices, rest): one row per output unit / filter ('filter'), one row in all ('layer')."""
    return tensor.reshape(tensor.shape[0], -1) if norm == "filter" else tensor.reshape(1, -1)


def _normalize(direction: torch.Tensor, weight: torch.Tensor, norm: str, against: torch.Tensor | None) -> torch.Tensor:
    if norm == "none":
        return direction
    d, w = _slices(direction, norm), _slices(weight, norm)
    if against is not None:  # orthogonal to the first direction slice by slice, so the norms stay exact
        a = _slices(against, norm)
        d = d - (d * a).sum(1, keepdim=True) / (a * a).sum(1, keepdim=True).clamp_min(1e-30) * a
    d = d * (w.norm(dim=1, keepdim=True) / (d.norm(dim=1, keepdim=True) + 1e-10))
    return d.reshape(direction.shape)


def random_directions(model: nn.Module, *, norm: str = "filter", ignore_1d: bool = True, orthogonal: bool = False,
                      seed: int = 0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Two random directions, each a list of tensors shaped like `model.parameters()`.

    Each entry is drawn from N(0, 1) (a generator seeded with `seed`, on the CPU, so every device gets the
    same draw) and then normalized against the weights:
    'filter' (Li et al. 2018): for every slice i along dim 0 (a Linear layer's row, a conv layer's output
    channel) d[i] <- d[i] * ||theta[i]|| / (||d[i]|| + 1e-10); 'layer': d <- d * ||theta|| / ||d||;
    'none': left as drawn. ignore_1d zeroes 1-D tensors (biases, norm-layer weights), as the paper's
    figures do; otherwise a 1-D tensor is normalized as a whole (its norm made the weights' norm).
    orthogonal makes d2 orthogonal to d1 slice by slice before its normalization (whole vectors for 'none').
    """
    NORMS.lookup(norm)
    norm = _norm_name(norm)
    generator = torch.Generator().manual_seed(check_seed(seed))
    params = [p.detach() for p in model.parameters()]
    first: list[torch.Tensor] = []
    second: list[torch.Tensor] = []
    for out, against in ((first, None), (second, first)):
        for index, weight in enumerate(params):
            raw = torch.randn(weight.shape, generator=generator, dtype=torch.float64)
            if ignore_1d and weight.dim() <= 1:
                out.append(torch.zeros_like(weight))
                continue
            other = against[index].to(torch.float64) if (orthogonal and against is not None) else None
            slice_norm = "layer" if (norm == "filter" and weight.dim() <= 1) else norm
            if slice_norm == "filter" or slice_norm == "layer":
                d = _normalize(raw, weight.to(torch.float64).cpu(), slice_norm,
                               None if other is None else other.cpu())
            else:
                d = raw
            out.append(d.to(weight.dtype).to(weight.device))
    if orthogonal and norm == "none":
        flat1 = torch.cat([d.reshape(-1) for d in first]).double()
        flat2 = torch.cat([d.reshape(-1) for d in second]).double()
        flat2 = flat2 - flat2 @ flat1 / (flat1 @ flat1).clamp_min(1e-30) * flat1
        second = _unflatten(flat2, params)
    return first, second


def _norm_name(norm: str) -> str:
    from gradviz.registry import normalize_name

    return normalize_name(norm)


def _unflatten(flat: torch.Tensor, like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    out, start = [], 0
    for p in like:
        out.append(flat[start:start + p.numel()].reshape(p.shape).to(p.dtype).to(p.device))
        start += p.numel()
    return out


def _flat(tensors: Sequence[torch.Tensor], dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The tensors as one flat CPU vector of `dtype`, each converted as it is copied into place (one pass: a
    cat of converted copies wrote every value twice, 0.08 against 0.04 CPU s for ResNet-18's 11 M)."""
    out = torch.empty(sum(t.numel() for t in tensors), dtype=dtype)
    start = 0
    for t in tensors:
        out[start:start + t.numel()].copy_(t.detach().reshape(-1))
        start += t.numel()
    return out


def _basis(plane: Plane, dtype: torch.dtype) -> torch.Tensor:
    """The plane's directions as a (P, k) basis: the transpose of a (k, P) stack, so each direction stays one
    contiguous run (the point path's product reads it as (k, P)), written straight in the model's dtype (a
    float64 stack cast afterwards cost 0.15 CPU s on ResNet-18, this 0.05)."""
    basis = torch.empty(len(plane.directions), plane.origin.numel(), dtype=dtype)
    for row, direction in zip(basis, plane.directions):
        row.copy_(direction)
    return basis.T


def _vector(x: Any) -> torch.Tensor:
    """A flat float64 CPU copy of a tensor, an array or a list of numbers."""
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64).reshape(-1).clone()
    return torch.from_numpy(np.array(x, dtype=np.float64)).reshape(-1)


@dataclass(frozen=True, eq=False)
class Plane:
    """A plane (or a line) in parameter space: origin + a d1 + b d2, all flat float64 CPU tensors.

    explained: the PCA plane's explained-variance ratios (None for other planes). labels: axis labels.
    kind: 'pca', 'random', 'line', 'hessian' or 'given'. eigenvalues, loss: a Hessian plane's two eigenvalues
    and the loss at its origin. projections: PathProjections of the runs it was built from
    (coords and off_plane filled, losses NaN until `landscape` evaluates them).
    """

    origin: torch.Tensor
    d1: torch.Tensor
    d2: torch.Tensor | None
    kind: str
    labels: tuple[str, str]
    explained: np.ndarray | None = None
    snapshots: tuple[np.ndarray, ...] = ()
    run_labels: tuple[str, ...] = ()
    run_steps: tuple[np.ndarray, ...] = ()
    eigenvalues: np.ndarray | None = None
    loss: float | None = None
    length: float | None = None  # a Hessian plane's eigenvectors scaled to this length (None: unit length)

    @property
    def directions(self) -> tuple[torch.Tensor, ...]:
        return (self.d1,) if self.d2 is None else (self.d1, self.d2)

    def paths(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each run the plane was built from: ((n, 2) coordinates, (n,) distance off the plane)."""
        return [self.coordinates(snapshots) for snapshots in self.snapshots]

    def coordinates(self, snapshots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, P) flat weights -> ((n, 2) least-squares plane coordinates, (n,) distance off the plane)."""
        delta = torch.from_numpy(np.array(snapshots, dtype=np.float64)) - self.origin
        basis = torch.stack(self.directions, 1)  # (P, k)
        coef = torch.linalg.lstsq(basis, delta.T).solution.T  # (n, k): d1, d2 need not be orthonormal
        residual = delta - coef @ basis.T
        coords = coef.numpy()
        if coords.shape[1] == 1:
            coords = np.column_stack([coords[:, 0], np.zeros(len(coords))])
        return coords, residual.norm(dim=1).numpy()


def _is_checkpoint(item: Any) -> bool:
    return isinstance(item, (str, os.PathLike, dict))


def _run_snapshots(runs: Any, model: nn.Module | None = None) -> tuple[list[np.ndarray], list[str], list[np.ndarray]]:
    if _is_checkpoint(runs):
        runs = [runs]
    items = [runs] if isinstance(runs, (TrainingRun, np.ndarray)) else list(runs)
    if not items:
        raise InvalidArgument("no training runs given for the PCA plane")
    if all(_is_checkpoint(item) for item in items):  # one run's checkpoints, in training order
        if model is None:
            raise InvalidArgument("checkpoints need the model they belong to (model=): a state_dict holds buffers "
                                  "too, and only the model says which entries are parameters, in which order")
        from gradviz.analysis.loading import checkpoint_pattern, checkpoint_vectors

        files = [item for item in items if not isinstance(item, dict)]
        label = f"{checkpoint_pattern(files)} ({len(items)} checkpoints)" if files else f"{len(items)} checkpoints"
        items = [checkpoint_vectors(items, model)]
        labels_given = [label or "checkpoints"]
    else:
        labels_given = []
    snapshots, labels, steps = [], [], []
    for index, item in enumerate(items):
        if isinstance(item, TrainingRun):
            snapshots.append(np.asarray(item.snapshots, dtype=np.float64))
            labels.append(item.label or item.optimizer)
            steps.append(np.asarray(item.record_steps))
        else:
            array = np.asarray(item, dtype=np.float64)
            if array.ndim != 2:
                raise InvalidArgument(f"run {index}: snapshots must be (n, n_params), got shape {array.shape}")
            snapshots.append(array)
            labels.append(labels_given[index] if index < len(labels_given) else f"run {index}")
            steps.append(np.arange(len(array)))
    width = snapshots[0].shape[1]
    for index, array in enumerate(snapshots):
        if array.shape[1] != width:
            raise InvalidArgument(f"run {index} has {array.shape[1]} parameters, run 0 has {width}: "
                                  "a shared plane needs the same model")
        if len(array) < 2:
            raise InvalidArgument(f"run {index} has {len(array)} snapshot(s): a PCA plane needs at least 2")
        if not np.array_equal(array[0], snapshots[0][0]):
            gap = float(np.abs(array[0] - snapshots[0][0]).max())
            raise InvalidArgument(f"run {index} ({labels[index]}) did not start from the same weights as run 0 "
                                  f"(largest difference {gap:.3g}): a shared PCA plane needs one initial model")
    return snapshots, labels, steps


def pca_directions(runs: Any, *, origin: Any = None, model: nn.Module | None = None) -> Plane:
    """The PCA plane of one TrainingRun's snapshots, or a shared plane for several runs from the same
    initial weights (Li et al. 2018, section 7), as the reference code computes it.

    Rows theta_e - origin of every snapshot of every run, as scikit-learn's PCA sees them: mean-centred
    before the SVD, so the unit directions are the top two right singular vectors of the centred matrix and
    the explained-variance ratios its s_k^2 / sum(s^2). The coordinates of a snapshot are its uncentred
    projections <theta_e - origin, pc_k>, so the origin sits exactly at (0, 0). origin: the final weights of
    the first run by default, or a model, or a flat vector / list of tensors (a model's `parameters()`).
    runs may also be (n, n_params) arrays of snapshots, or one run's checkpoints: state_dict files (or dicts)
    in training order, read into `model`'s parameter order (model= is then required).
    """
    if model is None and isinstance(origin, nn.Module):
        model = origin
    snapshots, labels, steps = _run_snapshots(runs, model)
    if origin is None:
        centre = torch.from_numpy(snapshots[0][-1].copy())
    elif isinstance(origin, nn.Module):
        centre = _flat(list(origin.parameters()))
    elif isinstance(origin, (list, tuple)):
        centre = _flat(origin)
    else:
        centre = _vector(origin)
    if centre.numel() != snapshots[0].shape[1]:
        raise InvalidArgument(f"origin has {centre.numel()} parameters, the runs have {snapshots[0].shape[1]}")
    delta = torch.as_tensor(np.concatenate(snapshots)) - centre
    _u, s, vh = torch.linalg.svd(delta - delta.mean(0), full_matrices=False)
    if len(s) < 2 or float(s[0]) == 0.0:
        raise InvalidArgument("the runs do not move: no plane to draw")
    d1, d2 = vh[0].clone(), vh[1].clone()
    # a sign convention, so that the same runs always give the same picture: the first run starts at a <= 0, b <= 0
    start = torch.as_tensor(snapshots[0][0].copy()) - centre
    if float(start @ d1) > 0:
        d1 = -d1
    if float(start @ d2) > 0:
        d2 = -d2
    energy = s.double() ** 2
    explained = (energy[:2] / energy.sum()).numpy()
    plane_labels = (_("PC1 ({share:.1f}% of variance)").format(share=100 * explained[0]),
                    f"PC2 ({100 * explained[1]:.1f}%)")
    return Plane(centre, d1, d2, "pca", plane_labels, explained, tuple(snapshots), tuple(labels), tuple(steps))


def line_between(start: Any, end: Any) -> Plane:
    """The line start + alpha (end - start): alpha = 0 is `start`, alpha = 1 is `end` (flat vectors, lists
    of tensors or models). For the 1-D interpolation of Goodfellow et al. 2015 (init -> final, or two
    solutions); `landscape(..., directions="line")` centres it on the model, i.e. at alpha = 1."""
    a, b = (_flat(list(x.parameters())) if isinstance(x, nn.Module) else
            _flat(x) if isinstance(x, (list, tuple)) else _vector(x)
            for x in (start, end))
    if a.numel() != b.numel():
        raise InvalidArgument(f"the two ends have {a.numel()} and {b.numel()} parameters")
    return Plane(a, b - a, None, "line", (_("alpha (0: start, 1: end)"), ""))


def _given_plane(model: nn.Module, directions: Any, centre: torch.Tensor | None = None) -> Plane:
    try:
        d1, d2 = directions
    except (TypeError, ValueError):
        raise InvalidArgument("directions must be 'random', 'pca', 'line', a Plane or a pair (d1, d2) of "
                              "lists of tensors") from None
    params = list(model.parameters())
    for d in (d1, d2):
        if len(d) != len(params) or any(tuple(t.shape) != tuple(p.shape) for t, p in zip(d, params)):
            raise InvalidArgument("each direction must be a list of tensors shaped like model.parameters()")
    return Plane(_flat(params) if centre is None else centre, _flat(d1), _flat(d2), "given",
                 (_("a (direction 1)"), _("b (direction 2)")))


# -- evaluation ------------------------------------------------------------------------------------------

def _check_width(model: nn.Module, source: DataSource) -> None:
    """A toy MLP's first layer against 2-D tensor data: the one mismatch worth naming before any work."""
    if source.tensors is None or source.tensors[0].dim() != 2:
        return
    leaves = [m for m in model.modules() if not list(m.children())]
    first = next((m for m in leaves if any(True for _ in m.parameters(recurse=False))), None)
    if isinstance(first, nn.Linear) and first.in_features != source.tensors[0].shape[1]:
        raise InvalidArgument(f"the data has {source.tensors[0].shape[1]} features but the model's first layer "
                              f"takes {first.in_features}")


def _evaluator(model: nn.Module, data: Any, *, device: Any, metric: Any, loss_fn: Any, chunk: int | None,
               strategy: str = "auto", batch_size: int | None = None, compute_loss: Any = None,
               count: Any = None, samples: int | None = None, seed: int = 0, precision: str = "float32",
               channels_last: bool = False, first_layer: bool | None = None, compile: bool = False) -> Evaluator:
    rule = LossRule.build(loss_fn, metric, compute_loss)
    source = as_source(data, batch_size=batch_size, count=count)
    _check_width(model, source)
    dev = device if isinstance(device, torch.device) else check_device(device)
    if samples is not None:
        samples = check_count("samples", samples, least=2)  # two at least: the standard error needs them
    evaluator = Evaluator(model, source, dev, rule, chunk, strategy, errors=samples is not None,
                          precision=precision, channels_last=channels_last, first_layer=first_layer, compile=compile)
    if samples is not None:
        evaluator.on_subset(samples, seed=seed, batch_size=batch_size)
    return evaluator


def evaluate(model: nn.Module, data: Any, weights: Any, *, device: str = "cpu", metric: Any = "loss",
             loss_fn: Any = None, compute_loss: Any = None, count: Any = None, chunk: int | None = None,
             strategy: str = "auto") -> np.ndarray:
    """The metric at each of the (M, n_params) flat weight vectors `weights` (in parameters() order): the mean
    over every sample of `data` (tensors of any shape, a DataLoader or a re-iterable of batches), eval mode,
    the model itself untouched. loss_fn / compute_loss / count / metric as in `landscape`."""
    evaluator = _evaluator(model, data, device=device, metric=metric, loss_fn=loss_fn, chunk=chunk, strategy=strategy,
                           compute_loss=compute_loss, count=count)
    return evaluator.at(np.array(weights, dtype=np.float64).reshape(-1, evaluator.n_params))


def project(plane: Plane, snapshots: np.ndarray, evaluator_args: Any, *, label: str = "",
            steps: np.ndarray | None = None, device: str = "cpu", metric: Any = "loss", loss_fn: Any = None,
            chunk: int | None = None) -> PathProjection:
    """Project one run's (n, P) snapshots onto `plane` and evaluate the metric of each snapshot and of its
    projection: the gap between the two is what the plane does not show. evaluator_args: (model, data) or an
    Evaluator."""
    coords, off = plane.coordinates(snapshots)
    if isinstance(evaluator_args, Evaluator):
        evaluator = evaluator_args
    else:
        model, data = evaluator_args
        evaluator = _evaluator(model, data, device=device, metric=metric, loss_fn=loss_fn, chunk=chunk)
    own = evaluator.at(np.array(snapshots, dtype=np.float64))
    basis = _basis(plane, evaluator.dtype)
    k = basis.shape[1]
    on_plane = evaluator.plane(plane.origin, basis, torch.as_tensor(coords[:, :k]))
    return PathProjection(steps if steps is not None else np.arange(len(coords)), coords, off, own, on_plane, label)


def _check_span(span: Any) -> float | list[float] | None:
    """None, s (a finite number > 0) or [a0, a1, b0, b1] (finite, each range increasing), else InvalidArgument."""
    if span is None:
        return None
    if isinstance(span, (int, float)) and not isinstance(span, bool):
        s = float(span)
        if not (math.isfinite(s) and s > 0):
            raise InvalidArgument(f"invalid span: {span!r} (must be a finite number > 0)")
        return s
    try:
        (x0, x1), (y0, y1) = span
        values = [float(v) for v in (x0, x1, y0, y1)]
    except (TypeError, ValueError):
        raise InvalidArgument(f"invalid span: {span!r} (a number > 0 or ((a0, a1), (b0, b1)))") from None
    if not all(math.isfinite(v) for v in values) or not (values[1] > values[0] and values[3] > values[2]):
        raise InvalidArgument(f"invalid span: {span!r} (finite, each range increasing)")
    return values


def _span_window(plane: Plane, span: Any, coords: list[np.ndarray]) -> tuple[tuple[float, float], tuple[float, float]]:
    checked = _check_span(span)
    if isinstance(checked, float):
        if plane.kind == "line":
            return (-checked, 1.0 + checked), (0.0, 0.0)
        return (-checked, checked), (-checked, checked)
    if checked is not None:
        return (checked[0], checked[1]), (checked[2], checked[3])
    builder = PLANE_BUILDERS.get(plane.kind)
    return builder.window(plane, coords) if builder is not None else _UNIT_WINDOW


Window = tuple[tuple[float, float], tuple[float, float]]
_UNIT_WINDOW: Window = ((-1.0, 1.0), (-1.0, 1.0))




def direction_length(model: nn.Module, norm: str = "filter") -> float | None:
    """The length of a `norm`-normalized random direction of random_directions (1-D tensors ignored): the
    norm of the model's weights of 2 or more dimensions for 'filter' and 'layer' (each slice or tensor is
    scaled to the weights'), None for 'none' (a raw draw has no fixed length)."""
    norm = _norm_name(NORMS.lookup(norm).name)
    if norm == "none":
        return None
    return float(math.sqrt(sum(float(p.detach().double().pow(2).sum()) for p in model.parameters() if p.dim() > 1)))


def hessian_plane(model: nn.Module, data: Any, *, loss_fn: Any = None, compute_loss: Any = None, seed: int = 0,
                  device: Any = "cpu", batch_size: int | None = None, length: float | None = None) -> Plane:
    """The plane of the loss Hessian's top two eigenvectors at the model's weights (unit vectors, so the axes
    are distances in parameter space and the surface's second derivative along axis k is eigenvalue k).

    length: both eigenvectors scaled to this length instead, such as direction_length(model), the length of a
    filter-normalized random direction: then a window of [-1, 1] spans the distance a random plane's does
    (the second derivative along axis k is eigenvalue k times length squared)."""
    from gradviz.analysis.curvature import hessian

    if length is not None and not (math.isfinite(length) and length > 0):
        raise InvalidArgument(f"invalid length: {length!r} (must be a finite number > 0)")
    spectrum = hessian(model, data, loss_fn=loss_fn, compute_loss=compute_loss, top=2, seed=seed, device=device,
                       batch_size=batch_size)
    (l1, l2), (v1, v2) = spectrum.eigenvalues, spectrum.eigenvectors
    centre = _flat(list(model.parameters()))
    scale = 1.0 if length is None else float(length)
    times = "" if length is None else f" \u00d7 {scale:.3g}"  # the axis unit: the scaled eigenvector
    labels = (_("eigenvector 1{times} (\u03bb\u2081 = {value:.3g})").format(times=times, value=l1),
              _("eigenvector 2{times} (\u03bb\u2082 = {value:.3g})").format(times=times, value=l2))
    return Plane(centre, torch.as_tensor(v1.copy()) * scale, torch.as_tensor(v2.copy()) * scale, "hessian", labels,
                 eigenvalues=spectrum.eigenvalues.copy(), loss=spectrum.loss, length=length)


class PlaneBuilder:
    """How one entry of gradviz.analysis.choices.PLANES is built through a model's weights (`build`) and which
    window of the plane is drawn when the caller gives no span (`window`). One subclass per plane."""

    def build(self, model: nn.Module, runs: Any, *, norm: str, seed: int, centre: torch.Tensor,
              evaluator: Evaluator | None) -> Plane:
        raise NotImplementedError

    def window(self, plane: Plane, coords: list[np.ndarray]) -> Window:
        return _UNIT_WINDOW


class RandomPlane(PlaneBuilder):
    def build(self, model: nn.Module, runs: Any, *, norm: str, seed: int, centre: torch.Tensor,
              evaluator: Evaluator | None) -> Plane:
        d1, d2 = random_directions(model, norm=norm, seed=seed)
        return Plane(centre, _flat(d1), _flat(d2), "random", (_("direction 1 ({norm} norm)").format(norm=_(norm)),
                                                                   _("direction 2 ({norm} norm)").format(norm=_(norm))))


class PCAPlane(PlaneBuilder):
    def build(self, model: nn.Module, runs: Any, *, norm: str, seed: int, centre: torch.Tensor,
              evaluator: Evaluator | None) -> Plane:
        return pca_directions(runs, origin=centre, model=model)

    def window(self, plane: Plane, coords: list[np.ndarray]) -> Window:
        """The runs' extent plus a fifth of it on every side."""
        if not coords:
            return _UNIT_WINDOW
        points = np.concatenate(coords)
        lo, hi = points.min(0), points.max(0)
        pad = 0.2 * max(float((hi - lo).max()), 1e-6)
        centre, half = (lo + hi) / 2, (hi - lo) / 2 + pad
        return ((centre[0] - half[0], centre[0] + half[0]), (centre[1] - half[1], centre[1] + half[1]))


class LinePlane(PlaneBuilder):
    def build(self, model: nn.Module, runs: Any, *, norm: str, seed: int, centre: torch.Tensor,
              evaluator: Evaluator | None) -> Plane:
        snapshots, _labels, _steps = _run_snapshots(runs, model)
        line = line_between(snapshots[0][0], centre)
        return Plane(line.origin, line.d1, None, "line", (_("alpha (0: initial weights, 1: trained)"), ""))

    def window(self, plane: Plane, coords: list[np.ndarray]) -> Window:
        return (-0.5, 1.5), (0.0, 0.0)


class HessianPlane(PlaneBuilder):
    def build(self, model: nn.Module, runs: Any, *, norm: str, seed: int, centre: torch.Tensor,
              evaluator: Evaluator | None) -> Plane:
        if evaluator is None or evaluator.rule.metric not in METRICS:
            raise InvalidArgument("directions='hessian' needs the loss the landscape is drawn from")
        rule = evaluator.rule
        return hessian_plane(model, evaluator.source, loss_fn=None if rule.default else rule.loss,
                             compute_loss=rule.compute_loss, seed=seed, device=evaluator.device)

    def window(self, plane: Plane, coords: list[np.ndarray]) -> Window:
        """Where the quadratic model along the top eigenvector has risen by 4x the loss at the centre; for
        eigenvectors scaled to a random direction's length, [-1, 1] as a random plane's."""
        if plane.length is not None or plane.eigenvalues is None or not plane.eigenvalues[0] > 0:
            return _UNIT_WINDOW
        s = 2.0 * math.sqrt(2.0 * max(float(plane.loss or 0.0), 1e-3) / float(plane.eigenvalues[0]))
        return (-s, s), (-s, s)


# One builder per entry of PLANES (a test keeps the two equal): a new plane is a registry entry and a class.
PLANE_BUILDERS: dict[str, PlaneBuilder] = {"random": RandomPlane(), "pca": PCAPlane(), "line": LinePlane(),
                                           "hessian": HessianPlane()}


def _plane_for(model: nn.Module, directions: Any, runs: Any, *, norm: str, seed: int, centre: torch.Tensor,
               evaluator: Evaluator | None = None) -> Plane:
    if isinstance(directions, str):
        choice = PLANES.lookup(directions)
        if choice.needs_runs and runs is None:
            raise InvalidArgument(f"directions={choice.name!r} needs runs= (TrainingRuns from the same initial "
                                  "weights, or checkpoint files / state_dicts of one run)")
        plane = PLANE_BUILDERS[choice.name].build(model, runs, norm=norm, seed=seed, centre=centre,
                                                  evaluator=evaluator)
    elif isinstance(directions, Plane):
        plane = directions
    else:
        plane = _given_plane(model, directions, centre)
    if runs is not None and not plane.snapshots:
        snapshots, labels, steps = _run_snapshots(runs, model)
        plane = replace(plane, snapshots=tuple(snapshots), run_labels=tuple(labels), run_steps=tuple(steps))
    return plane


def landscape(
    model: nn.Module,
    data: Any,
    *,
    directions: Any = "random",
    runs: Any = None,
    grid: int = 51,
    span: Any = None,
    norm: str = "filter",
    seed: int = 0,
    device: str = "cpu",
    chunk: int | None = None,
    metric: Any = "loss",
    loss_fn: Any = None,
    compute_loss: Any = None,
    count: Any = None,
    paths: bool = False,
    cache: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    strategy: str = "auto",
    batch_size: int | None = None,
    distributed: bool | None = None,
    samples: int | None = None,
    precision: str = "float32",
    channels_last: bool = False,
    first_layer: bool | None = None,
    compile: bool = False,
) -> Surface | tuple[Surface, list[PathProjection]]:
    """The loss (or another metric) of `model` on `data` over a plane or line through its weights -> Surface.

    model: any nn.Module (a transformers model too). data: tensors of any shape (points, images N x C x H x W,
    sequences) as (x, y), (x1, ..., xk, y), a dict of tensors or (dict, y); a torch DataLoader or any
    re-iterable of batches in those forms (dict batches call model(**batch), as Hugging Face's do); or a toy
    data set's name (see gradviz.analysis.sources, gradviz.analysis.losses and docs/own-models.md). The value
    at a point is the mean over every sample (batch means weighted by their sample counts; count: batch -> its
    count, default the targets' length), streamed one batch at a time (tensors in batches of `batch_size`, default 1024).
    loss_fn: any callable (outputs, targets) -> mean loss on the model's logits (nn.MSELoss(), F.cross_entropy,
    your own) or a name ('mse', 'cross-entropy', ...); default: the model's own `.loss` for a batch without
    targets (a dict with 'labels'), else BCE for one output and cross-entropy for several (class indices or
    probabilities), as `train`. compute_loss: (model, batch) -> mean loss, the one hook for everything else
    (several outputs, an auxiliary loss, a batch laid out otherwise). metric: 'loss', 'accuracy' or a
    callable (logits, targets) -> the batch's mean. Batch 0 is checked before the grid (labels out of range,
    a summed loss, NaN in the inputs or the weights, inputs the model cannot take): one line names the problem.

    The model is evaluated in eval mode (BatchNorm's running statistics, dropout off) and left exactly as it
    was found: its weights and buffers (running statistics included) are never written, and every
    submodule's train/eval mode is restored.

    directions: 'random' (random_directions with `norm` and `seed`), 'pca' (the PCA plane of `runs`, centred
    on the model), 'hessian' (the loss Hessian's top two eigenvectors, unit length, see hessian_plane; default
    span: where the quadratic model along the top one has risen by 4x the centre's loss), 'line' (from the first run's initial weights, alpha = 0, to the model, alpha = 1; or a
    Plane from line_between), a Plane, or a pair (d1, d2) of lists of tensors. runs: TrainingRuns, (n, P)
    snapshot arrays, or one run's checkpoints (state_dict files or dicts, in training order).
    grid: points per axis (>= 3). span: a number s for [-s, s] on both axes (a line: alpha in [-s, 1 + s],
    default 0.5), ((a0, a1), (b0, b1)), or None: the paths' extent plus a margin for PCA, [-1, 1] otherwise.
    The centre of a plane's grid (odd `grid`, symmetric span) is the model itself.

    strategy: 'auto' picks per model (see gradviz.analysis.evaluation): batched grid points for MLPs and small
    dense models, one point at a time for convolutional, recurrent and attention models; or 'mlp', 'vmap',
    'points'. chunk: grid points per pass over the data. device: 'cpu', 'cuda', 'cuda:N'.
    cache: a file that keeps finished points; the same call after an interruption continues where it
    stopped, and a cache made for another model, weights, directions, grid, span or data is refused.
    distributed: None joins torch.distributed when launched by torchrun (the grid split across ranks, the
    whole Surface returned on every rank); False never. progress(done, total): after each chunk.
    paths=True also returns a PathProjection per run (coords, off-plane distance, own and surface loss).

    samples=N: every grid point on the same N samples (rows, any batch form) drawn without replacement (seeded
    by `seed`), each point's standard error of that mean in Surface.error: the per-sample values' standard
    deviation over sqrt(N) (default and named losses, accuracy), else (a callable loss, a compute_loss, a
    model's own .loss) that of the means of batches of ceil(N / 16). N >= the data's size: all of it.
    precision: 'float32' (the model's dtype), or on CUDA 'tf32' / 'bf16' for a float32 model (faster, less
    exact: measure the difference on your surface, as benchmarks/landscape.py --precision does).
    channels_last: convolution inputs and kernels in channels-last order on the point-by-point path (faster
    for some CNNs; see docs/performance.md). first_layer: on the point-by-point path, a first convolution or
    Linear layer on the one input tensor of (x, y) batches computed once per batch for the plane (it is
    linear in the coefficients; several inputs, dict batches and compute_loss run every layer per point):
    None where that measured faster (a fan-in of 32 or more), True wherever it applies, False never.
    compile=True: the point-by-point path's forward through torch.compile; its compile time (tens of
    seconds on a CPU) is recovered only on large grids (docs/performance.md says where).
    """
    grid = check_count("grid", grid, "grid", least=3)
    _check_span(span)  # before the work: a Hessian plane costs minutes before its span would be read
    seed = check_seed(seed)
    if not isinstance(model, nn.Module):
        raise InvalidArgument(f"model must be a torch nn.Module, not {type(model).__name__}")
    evaluator = _evaluator(model, data, device=device, metric=metric, loss_fn=loss_fn, chunk=chunk,
                           strategy=strategy, batch_size=batch_size, compute_loss=compute_loss, count=count,
                           samples=samples, seed=seed, precision=precision, channels_last=channels_last,
                           first_layer=first_layer, compile=compile)
    evaluator, rank, world = _on_ranks(evaluator, distributed)
    centre = _flat(list(model.parameters()))
    plane = _plane_for(model, directions, runs, norm=norm, seed=seed, centre=centre, evaluator=evaluator)
    if plane.origin.numel() != centre.numel():
        raise InvalidArgument(f"the plane has {plane.origin.numel()} parameters, the model {centre.numel()}")
    surface = _surface(evaluator, plane, grid, span, cache=cache, rank=rank, world=world, progress=progress)
    if not paths:
        return surface
    projections = [project(plane, s, evaluator, label=label, steps=st)
                   for s, label, st in zip(plane.snapshots, plane.run_labels, plane.run_steps)]
    return surface, projections


def _on_ranks(evaluator: Evaluator, distributed: bool | None) -> tuple[Evaluator, int, int]:
    """(this process's evaluator, its rank, the world size): under torchrun the grid is split across ranks,
    and a plain 'cuda' becomes this rank's device, where the evaluator is rebuilt with the same settings."""
    rank, world, dev = join_process_group(evaluator.device, distributed)
    if dev != evaluator.device:
        evaluator = Evaluator(evaluator.model, evaluator.source, dev, evaluator.rule, evaluator.chunk_asked,
                              evaluator.strategy, errors=evaluator.want_errors, precision=evaluator.precision,
                              channels_last=evaluator.channels_last, first_layer=evaluator.first_layer,
                              compile=evaluator.compile)
    return evaluator, rank, world


def _surface(evaluator: Evaluator, plane: Plane, grid: int, span: Any, *, cache: Any, rank: int, world: int,
             progress: Callable[[int, int], None] | None) -> Surface:
    """The grid over the plane's window, evaluated (this rank's share, cached) -> the whole Surface."""
    coords = [plane.coordinates(s)[0] for s in plane.snapshots] if plane.kind != "line" else []
    (a0, a1), (b0, b1) = _span_window(plane, span, coords)
    a = np.linspace(a0, a1, grid)
    basis = _basis(plane, evaluator.dtype)
    if plane.d2 is None:
        b = np.zeros(1)
        coefficients = torch.as_tensor(a)[:, None]
    else:
        b = np.linspace(b0, b1, grid)
        A, B = np.meshgrid(a, b)
        coefficients = torch.as_tensor(np.column_stack([A.ravel(), B.ravel()]))
    z = run_grid(evaluator, plane.origin, basis, coefficients, cache=cache, rank=rank, world=world,
                 progress=progress).reshape(len(b), len(a))
    name = (_("interpolation") if plane.d2 is None else _("PCA plane") if plane.kind == "pca"
            else _("{kind} plane").format(kind=_(plane.kind)))
    error, used, total = None, None, None
    if evaluator.want_errors:  # samples=N: the subset's size, what it was drawn from, each point's error
        used, total = evaluator.source.rows, evaluator.source.drawn_from
        error = evaluator.errors if evaluator.errors is not None else np.full(len(coefficients), np.nan)
        if world > 1:
            error = _gather_errors(error, rank, world, evaluator.device)
        error = error.reshape(len(b), len(a))
    return Surface(a, b, z, name=name, xlabel=plane.labels[0], ylabel=plane.labels[1], zlabel=evaluator.rule.label,
                   explained=plane.explained, error=error, samples=used, total_samples=total)


def _gather_errors(error: np.ndarray, rank: int, world: int, device: torch.device) -> np.ndarray:
    """Each rank's standard errors (its share r::world) -> the whole vector on every rank."""
    from gradviz.analysis.gridrun import _gather

    share = np.arange(rank, len(error), world)
    return _gather(error[share], share, len(error), device)
