"""Loss landscapes of small nets: directions in parameter space and the loss evaluated on a grid over them.

A landscape is L(theta + a d1 + b d2) on a grid of (a, b), where theta is the model's weights and d1, d2
are directions shaped like its parameters: random ones with filter normalization (Li et al. 2018, so
that the picture does not depend on the scale ReLU nets are free to choose), the PCA plane of one or
several training runs (Li et al. 2018, section 7), or the line between two weight vectors (Goodfellow
et al. 2015). The value is the mean training loss that `train` minimises (or the accuracy), in eval mode
without gradients.

The reference implementations loop over grid points in Python: copy the weights in, run the data set,
repeat. For a lecture-sized net that loop is almost all overhead, so here a chunk of grid points is one
batched forward pass: the chunk's weight vectors are built as one (G, P) matrix and fed to
torch.func.functional_call under torch.vmap, which turns every nn.Linear into a batched matrix product.
Any nn.Module that `train` accepts works; `chunk` bounds the memory. An nn.Sequential MLP (gradviz.mlp)
takes a hand-written path instead: on a plane its first layer's output is linear in (a, b), so it is
computed once per landscape and combined per chunk, and each later layer is one batched matrix product
(see _Evaluator._plane_forward).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from gradviz.nets.training import _as_data, loss_function
from gradviz.records import PathProjection, Surface, TrainingRun
from gradviz.registry import InvalidArgument, Registry, check_positive, unknown_name_message

__all__ = ["random_directions", "pca_directions", "line_between", "landscape", "evaluate", "Plane", "NORMS",
           "METRICS", "check_device", "project"]

NORMS: Registry = Registry("norm")
NORMS.register("filter", "each output unit's (filter's) slice scaled to the weights' slice norm (Li et al.)")
NORMS.register("layer", "each tensor scaled to the weights' tensor norm")
NORMS.register("none", "raw N(0, 1) directions: the picture depends on the weights' scale")

METRICS: Registry = Registry("metric")
METRICS.register("loss", "mean training loss, as train minimises it")
METRICS.register("accuracy", "share of training points classified correctly")

PLANES = ("random", "pca", "line")
MEMORY_BUDGET = 256 * 2**20  # bytes of activations per chunk by default
CPU_CHUNK = 128  # grid points per batched pass on a CPU (see _Evaluator)
CPU_ACTIVATIONS = 2 * 2**20  # bytes of one layer's activations per chunk, MLP path on a CPU (see _Evaluator)
ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.ELU, nn.Identity, nn.Dropout)


def check_device(device: Any) -> torch.device:
    """'cpu', 'cuda' or 'cuda:N' -> torch.device; InvalidArgument where it does not exist here."""
    text = str(device)
    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError):
        raise InvalidArgument(f"invalid device {text!r} (valid: cpu, cuda, cuda:N)") from None
    if dev.type not in ("cpu", "cuda"):
        raise InvalidArgument(f"invalid device {text!r} (valid: cpu, cuda, cuda:N)")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InvalidArgument(f"device {text!r} asked for, but CUDA is not available on this machine")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InvalidArgument(f"device {text!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return dev


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
    generator = torch.Generator().manual_seed(int(seed))
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
    return torch.cat([t.detach().reshape(-1).to("cpu", dtype) for t in tensors])


def _vector(x: Any) -> torch.Tensor:
    """A flat float64 CPU copy of a tensor, an array or a list of numbers."""
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64).reshape(-1).clone()
    return torch.from_numpy(np.array(x, dtype=np.float64)).reshape(-1)


@dataclass(frozen=True, eq=False)
class Plane:
    """A plane (or a line) in parameter space: origin + a d1 + b d2, all flat float64 CPU tensors.

    explained: the PCA plane's explained-variance ratios (None for other planes). labels: axis labels.
    kind: 'pca', 'random', 'line' or 'given'. projections: PathProjections of the runs it was built from
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


def _run_snapshots(runs: Any) -> tuple[list[np.ndarray], list[str], list[np.ndarray]]:
    items = [runs] if isinstance(runs, (TrainingRun, np.ndarray)) else list(runs)
    if not items:
        raise InvalidArgument("no training runs given for the PCA plane")
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
            labels.append(f"run {index}")
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


def pca_directions(runs: Any, *, origin: Any = None) -> Plane:
    """The PCA plane of one TrainingRun's snapshots, or a shared plane for several runs from the same
    initial weights (Li et al. 2018, section 7).

    Rows theta_e - origin of every snapshot of every run (not mean-centred, so the origin sits exactly at
    (0, 0)); their top two right singular vectors are the unit directions, and s_k^2 / sum(s^2) their
    explained-variance ratios. origin: the final weights of the first run by default, or a flat vector /
    list of tensors (a model's `parameters()`). runs may also be (n, n_params) arrays of snapshots.
    """
    snapshots, labels, steps = _run_snapshots(runs)
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
    _, s, vh = torch.linalg.svd(delta, full_matrices=False)
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
    plane_labels = (f"PC1 ({100 * explained[0]:.1f}% of variance)", f"PC2 ({100 * explained[1]:.1f}%)")
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
    return Plane(a, b - a, None, "line", ("alpha (0: start, 1: end)", ""))


def _given_plane(model: nn.Module, directions: Any) -> Plane:
    try:
        d1, d2 = directions
    except (TypeError, ValueError):
        raise InvalidArgument("directions must be 'random', 'pca', 'line', a Plane or a pair (d1, d2) of "
                              "lists of tensors") from None
    params = list(model.parameters())
    for d in (d1, d2):
        if len(d) != len(params) or any(tuple(t.shape) != tuple(p.shape) for t, p in zip(d, params)):
            raise InvalidArgument("each direction must be a list of tensors shaped like model.parameters()")
    return Plane(_flat(params), _flat(d1), _flat(d2), "given", ("a (direction 1)", "b (direction 2)"))


# -- evaluation ------------------------------------------------------------------------------------------

def _values(logits: torch.Tensor, y: torch.Tensor, metric: str) -> torch.Tensor:
    """(G, N, k) logits -> (G,) mean loss per grid point (the formula of training.loss_function) or accuracy."""
    G, N, k = logits.shape
    if metric == "accuracy":
        predicted = (logits[..., 0] > 0).long() if k == 1 else logits.argmax(-1)
        return (predicted == y).to(logits.dtype).mean(1)
    if k == 1:
        return nn.functional.binary_cross_entropy_with_logits(
            logits[..., 0], y.to(logits.dtype).expand(G, N), reduction="none").mean(1)
    return nn.functional.cross_entropy(logits.reshape(G * N, k), y.repeat(G), reduction="none").reshape(G, N).mean(1)


class _Evaluator:
    """Evaluates the model at many flat weight vectors at once: vmap over functional_call for any module;
    for an nn.Sequential MLP (what gradviz.mlp builds) the same arithmetic written as one fused baddbmm per
    layer, which saves vmap's separate bias pass (about a third of the time on a CPU)."""

    def __init__(self, model: nn.Module, X: torch.Tensor, y: torch.Tensor, device: torch.device, metric: str,
                 chunk: int | None, fast: bool = True) -> None:
        self.model, self.device, self.metric = model, device, metric
        self.X, self.y = X.to(device), y.to(device)
        self.names = [name for name, _ in model.named_parameters()]
        self.shapes = [tuple(p.shape) for p in model.parameters()]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.dtype = next(model.parameters()).dtype
        self.buffers = {name: b.to(device) for name, b in model.named_buffers()}
        chunk_given = chunk
        if chunk is None:
            # activations of every layer (a few live copies each) plus the point's weights, in float32
            widths = sum(s[0] for s in self.shapes if len(s) >= 2) or 1
            per_point = 4 * (3 * len(X) * widths + 2 * sum(self.sizes))
            # On a CPU, moderate chunks are fastest: past a few tens of MB per activation every chunk's
            # fresh allocations cost page faults (about 2x slower at 1300 points than at 128 for a 2-16-16-1
            # MLP on 500 points, and 2x faster at 128 than at 16 for 2-64-64-1 on 1000, one thread).
            cap = 4096 if device.type == "cuda" else CPU_CHUNK
            chunk = max(1, min(cap, MEMORY_BUDGET // max(1, per_point)))
        self._layers = self._mlp_layers() if fast else None
        if chunk_given is None and device.type == "cpu" and self._layers is not None:
            # The MLP path is a few matrix products per layer: fastest when one layer's (G, N, width) float32
            # activations stay near the cache, about 2 MB (measured, one thread, 2-16-16-1 on 500 points:
            # G = 64 beats 128 and 16; 2-64-64-1 on 1000: G = 8 beats 128, 32 and 2).
            widest = max(s[0] for s in self.shapes if len(s) >= 2)
            chunk = max(1, min(CPU_CHUNK, CPU_ACTIVATIONS // (4 * len(X) * widest)))
        self.chunk = check_positive("chunk", chunk, integer=True)

    def _mlp_layers(self) -> list[Any] | None:
        """The model as [Linear index or activation module, ...] if it is an nn.Sequential of Linear layers
        and elementwise activations (gradviz.mlp's shape), else None (the generic vmap path)."""
        if not isinstance(self.model, nn.Sequential) or self.buffers:
            return None
        layers: list[Any] = []
        linear = 0
        for module in self.model:
            if isinstance(module, nn.Linear):
                if module.bias is None:
                    return None
                layers.append(linear)
                linear += 1
            elif isinstance(module, ELEMENTWISE):
                if not isinstance(module, (nn.Dropout, nn.Identity)):  # dropout is the identity in eval mode
                    layers.append(module)
            else:
                return None
        return layers if linear and 2 * linear == len(self.sizes) else None

    def _mlp_forward(self, weights: torch.Tensor) -> torch.Tensor:
        """(G, P) weight vectors -> (G, N, out) logits: one baddbmm per layer (bias fused), the first layer's
        input shared by every grid point, activations in place where torch has an in-place form."""
        pieces = torch.split(weights, self.sizes, dim=1)
        G = len(weights)
        h = self.X.expand(G, *self.X.shape)
        for layer in self._layers:
            if isinstance(layer, int):
                W = pieces[2 * layer].reshape(G, *self.shapes[2 * layer])
                b = pieces[2 * layer + 1].reshape(G, 1, -1)
                h = torch.baddbmm(b, h, W.transpose(1, 2))
            else:
                h = self._activate(layer, h)
        return h

    @staticmethod
    def _activate(layer: nn.Module, h: torch.Tensor) -> torch.Tensor:
        if isinstance(layer, nn.ReLU):
            return h.relu_()
        if isinstance(layer, nn.Sigmoid):
            return h.sigmoid_()
        if isinstance(layer, nn.Tanh):
            return h.tanh_()
        return layer(h)

    def _forward(self, flat: torch.Tensor) -> torch.Tensor:
        pieces = torch.split(flat, self.sizes)
        params = {name: piece.reshape(shape) for name, piece, shape in zip(self.names, pieces, self.shapes)}
        return torch.func.functional_call(self.model, (params, self.buffers), (self.X,))

    def __call__(self, origin: torch.Tensor, basis: torch.Tensor, coefficients: torch.Tensor) -> torch.Tensor:
        """Values at origin + coefficients @ basis.T: origin (P,), basis (P, k), coefficients (M, k) -> (M,)."""
        origin = origin.to(self.device, self.dtype)
        basis = basis.to(self.device, self.dtype)
        coefficients = coefficients.to(self.device, self.dtype)
        if self._layers is not None and self._layers[0] == 0:
            return self._run(self._plane_forward(origin, basis), len(coefficients),
                             lambda start, stop: coefficients[start:stop])
        return self._run(self._batched(), len(coefficients),
                         lambda start, stop: torch.addmm(origin, coefficients[start:stop], basis.T))

    def _plane_forward(self, origin: torch.Tensor, basis: torch.Tensor) -> Any:
        """The MLP on a plane: (G, k) coefficients -> (G, N, out) logits, without building whole weight vectors.

        The first layer's input is the same for every grid point, so its output is linear in the
        coefficients: X (W + sum_j c_j D_j)^T + (b + sum_j c_j e_j) = [1, c] @ [X W^T + b; X D_j^T + e_j].
        Those k + 1 (N, width) products are computed once per landscape and each chunk's first layer is one
        (G, k + 1) @ (k + 1, N * width) matrix product. Its output carries a trailing column of ones (exactly
        1: [1, c] @ [1; 0, ...]), so the second layer's bias rides inside its matrix product as one more row
        of a (G, in + 1, out) matrix [W^T; b] (one bmm, no bias copied into the output first as baddbmm
        does); later layers are one baddbmm each. Weights are built per chunk and per layer as origin slice +
        c @ basis slice, and every layer writes into a buffer reused from chunk to chunk (fresh multi-MB
        allocations each chunk cost page faults)."""
        starts = np.concatenate([[0], np.cumsum(self.sizes)]).tolist()
        slices = [(origin[starts[i]:starts[i + 1]], basis[starts[i]:starts[i + 1]]) for i in range(len(self.sizes))]
        linears = len(self.sizes) // 2
        (w0, wd), (b0, bd) = slices[0], slices[1]
        out0, inp0 = self.shapes[0]
        k = basis.shape[1]
        n = len(self.X)
        extra = int(linears > 1)  # the column of ones, where a second layer will use it
        column = torch.ones(n, extra, dtype=self.dtype, device=self.device)
        rows = [torch.cat([torch.addmm(b0, self.X, w0.reshape(out0, inp0).T), column], 1)]
        rows += [torch.cat([torch.addmm(bd[:, j], self.X, wd[:, j].reshape(out0, inp0).T), 0 * column], 1)
                 for j in range(k)]
        first = torch.stack(rows).reshape(k + 1, -1)  # (k + 1, N * (width + extra))
        later = []
        for index in range(1, linears):
            (w, wb), (b, bb) = slices[2 * index], slices[2 * index + 1]
            out, inp = self.shapes[2 * index]
            if index == 1:  # [W^T; b], flattened, for the origin and for each direction
                centre = torch.cat([w.reshape(out, inp).T, b[None]]).reshape(-1)
                span = torch.stack([torch.cat([wb[:, j].reshape(out, inp).T, bb[None, :, j]]).reshape(-1)
                                    for j in range(k)], 1)
                later.append(((centre, span), None))
            else:
                later.append(((w, wb), (b, bb)))
        buffers: list[torch.Tensor] = []  # sized by the first chunk, the largest

        def forward(c: torch.Tensor) -> torch.Tensor:
            G = len(c)
            if not buffers:
                widths = [out0 + extra] + [self.shapes[2 * i][0] for i in range(1, linears)]
                buffers.extend(torch.empty(G, n, w, dtype=self.dtype, device=self.device) for w in widths)
            ones = torch.ones(G, 1, dtype=c.dtype, device=c.device)
            h = torch.mm(torch.cat([ones, c], 1), first, out=buffers[0][:G].view(G, -1)).view(G, n, -1)
            with_ones = bool(extra)
            for layer in self._layers[1:]:
                if isinstance(layer, int):
                    (w, wb), bias_part = later[layer - 1]
                    out = self.shapes[2 * layer][0]
                    target = buffers[layer][:G]
                    if bias_part is None:
                        h = torch.bmm(h, torch.addmm(w, c, wb.T).reshape(G, -1, out), out=target)
                    else:
                        b, bb = bias_part
                        W = torch.addmm(w, c, wb.T).reshape(G, out, -1)
                        bias = torch.addmm(b, c, bb.T).reshape(G, 1, out)
                        h = torch.baddbmm(bias, h, W.transpose(1, 2), out=target)
                    with_ones = False
                elif with_ones and not isinstance(layer, nn.ReLU):  # relu(1) = 1; others skip the ones
                    part = h[..., :-1]
                    result = self._activate(layer, part)
                    if result is not part:
                        part.copy_(result)
                else:
                    h = self._activate(layer, h)
            return h

        return forward

    def at(self, weights: torch.Tensor) -> torch.Tensor:
        """Values at each row of the (M, P) flat weight vectors."""
        weights = weights.to(self.device, self.dtype)
        return self._run(self._batched(), len(weights), lambda start, stop: weights[start:stop])

    def _batched(self) -> Any:
        return self._mlp_forward if self._layers is not None else torch.vmap(self._forward)

    def _run(self, batched: Any, total: int, make: Any) -> torch.Tensor:
        out = []
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                for start in range(0, total, self.chunk):
                    logits = batched(make(start, min(total, start + self.chunk)))
                    if logits.dim() != 3:
                        raise InvalidArgument(f"the model's output has shape {tuple(logits.shape[1:])}; "
                                              "a landscape needs (n, classes) logits")
                    out.append(_values(logits, self.y, self.metric))
        finally:
            self.model.train(was_training)
        return torch.cat(out).to("cpu", torch.float64)


def _check_width(model: nn.Module, X: torch.Tensor) -> None:
    for module in model.modules():
        if isinstance(module, nn.Linear):
            if module.in_features != X.shape[1]:
                raise InvalidArgument(f"the data has {X.shape[1]} features but the model's first layer takes "
                                      f"{module.in_features}")
            return


def evaluate(model: nn.Module, data: Any, weights: Any, *, device: str = "cpu", metric: str = "loss",
             chunk: int | None = None) -> np.ndarray:
    """The metric at each of the (M, n_params) flat weight vectors `weights` (in parameters() order)."""
    X, y = _as_data(data)
    _check_width(model, X)
    METRICS.lookup(metric)
    metric = _norm_name(metric)
    dev = check_device(device)
    evaluator = _Evaluator(model, X, y, dev, metric, chunk)
    w = torch.from_numpy(np.array(weights, dtype=np.float64)).reshape(-1, sum(evaluator.sizes))
    return evaluator.at(w).numpy()


def project(plane: Plane, snapshots: np.ndarray, evaluator_args: tuple[nn.Module, Any], *, label: str = "",
            steps: np.ndarray | None = None, device: str = "cpu", metric: str = "loss",
            chunk: int | None = None) -> PathProjection:
    """Project one run's (n, P) snapshots onto `plane` and evaluate the metric of each snapshot and of its
    projection: the gap between the two is what the plane does not show."""
    coords, off = plane.coordinates(snapshots)
    model, data = evaluator_args
    X, y = _as_data(data)
    evaluator = _Evaluator(model, X, y, check_device(device), metric, chunk)
    own = evaluator.at(torch.from_numpy(np.array(snapshots, dtype=np.float64)))
    basis = torch.stack(plane.directions, 1)
    k = basis.shape[1]
    on_plane = evaluator(plane.origin, basis, torch.as_tensor(coords[:, :k]))
    return PathProjection(steps if steps is not None else np.arange(len(coords)), coords, off, own.numpy(),
                          on_plane.numpy(), label)


def _span_window(plane: Plane, span: Any, coords: list[np.ndarray]) -> tuple[tuple[float, float], tuple[float, float]]:
    if span is not None:
        if isinstance(span, (int, float)) and not isinstance(span, bool):
            s = float(span)
            if not (math.isfinite(s) and s > 0):
                raise InvalidArgument(f"invalid span: {span!r} (must be a finite number > 0)")
            if plane.kind == "line":
                return (-s, 1.0 + s), (0.0, 0.0)
            return (-s, s), (-s, s)
        try:
            (x0, x1), (y0, y1) = span
            values = [float(v) for v in (x0, x1, y0, y1)]
        except (TypeError, ValueError):
            raise InvalidArgument(f"invalid span: {span!r} (a number > 0 or ((a0, a1), (b0, b1)))") from None
        if not all(math.isfinite(v) for v in values) or not (values[1] > values[0] and values[3] > values[2]):
            raise InvalidArgument(f"invalid span: {span!r} (finite, each range increasing)")
        return (values[0], values[1]), (values[2], values[3])
    if plane.kind == "line":
        return (-0.5, 1.5), (0.0, 0.0)
    if coords and plane.kind == "pca":
        points = np.concatenate(coords)
        lo, hi = points.min(0), points.max(0)
        extent = max(float((hi - lo).max()), 1e-6)
        pad = 0.2 * extent
        centre = (lo + hi) / 2
        half = (hi - lo) / 2 + pad
        return ((centre[0] - half[0], centre[0] + half[0]), (centre[1] - half[1], centre[1] + half[1]))
    return (-1.0, 1.0), (-1.0, 1.0)


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
    metric: str = "loss",
    paths: bool = False,
) -> Surface | tuple[Surface, list[PathProjection]]:
    """The loss (or accuracy) of `model` on `data` over a plane or line through its weights -> Surface.

    directions: 'random' (random_directions with `norm` and `seed`), 'pca' (the PCA plane of `runs`,
    centred on the model), 'line' (from the first run's initial weights, alpha = 0, to the model, alpha =
    1; or a Plane from line_between), a Plane, or a pair (d1, d2) of lists of tensors. grid: points per
    axis (>= 3). span: a number s for [-s, s] on both axes (a line: alpha in [-s, 1 + s], default 0.5),
    ((a0, a1), (b0, b1)), or None: the paths' extent plus a margin for PCA, [-1, 1] otherwise.
    The centre of a plane's grid (odd `grid`, symmetric span) is the model itself, so z there is the
    model's own loss. chunk: grid points per batched forward pass (default: on a CPU, what keeps one layer's
    activations near 2 MB for an nn.Sequential MLP and 128 otherwise; on CUDA, what fits in ~256 MB).
    paths=True also returns a PathProjection per run (coords, off-plane distance, own and surface loss).
    """
    if isinstance(grid, bool) or not isinstance(grid, int) or grid < 3:
        raise InvalidArgument(f"invalid grid: {grid!r} (must be a whole number >= 3)")
    METRICS.lookup(metric)
    metric = _norm_name(metric)
    dev = check_device(device)
    X, y = _as_data(data)
    _check_width(model, X)
    params = list(model.parameters())
    centre = _flat(params)
    if isinstance(directions, str):
        kind = _norm_name(directions)
        if kind not in PLANES:
            raise InvalidArgument(unknown_name_message("plane", directions, PLANES))
        if kind == "random":
            d1, d2 = random_directions(model, norm=norm, seed=seed)
            plane = Plane(centre, _flat(d1), _flat(d2), "random",
                          (f"direction 1 ({norm} norm)", f"direction 2 ({norm} norm)"))
            if runs is not None:
                snapshots, labels, steps = _run_snapshots(runs)
                plane = Plane(plane.origin, plane.d1, plane.d2, "random", plane.labels, None, tuple(snapshots),
                              tuple(labels), tuple(steps))
        elif kind == "pca":
            if runs is None:
                raise InvalidArgument("directions='pca' needs runs= (TrainingRuns from the same initial weights)")
            plane = pca_directions(runs, origin=centre)
        else:
            if runs is None:
                raise InvalidArgument("directions='line' needs runs= (its first snapshot is the start)")
            snapshots, labels, steps = _run_snapshots(runs)
            plane = line_between(snapshots[0][0], centre)
            plane = Plane(plane.origin, plane.d1, None, "line", ("alpha (0: initial weights, 1: trained)", ""),
                          None, tuple(snapshots), tuple(labels), tuple(steps))
    elif isinstance(directions, Plane):
        plane = directions
        if runs is not None:
            snapshots, labels, steps = _run_snapshots(runs)
            plane = Plane(plane.origin, plane.d1, plane.d2, plane.kind, plane.labels, plane.explained,
                          tuple(snapshots), tuple(labels), tuple(steps))
    else:
        plane = _given_plane(model, directions)
    if plane.origin.numel() != centre.numel():
        raise InvalidArgument(f"the plane has {plane.origin.numel()} parameters, the model {centre.numel()}")

    coords = [plane.coordinates(s)[0] for s in plane.snapshots] if plane.kind != "line" else []
    (a0, a1), (b0, b1) = _span_window(plane, span, coords)
    a = np.linspace(a0, a1, grid)
    evaluator = _Evaluator(model, X, y, dev, metric, chunk)
    basis = torch.stack(plane.directions, 1)
    if plane.d2 is None:
        b = np.zeros(1)
        z = evaluator(plane.origin, basis, torch.as_tensor(a)[:, None]).numpy()[None, :]
    else:
        b = np.linspace(b0, b1, grid)
        A, B = np.meshgrid(a, b)
        z = evaluator(plane.origin, basis, torch.as_tensor(np.column_stack([A.ravel(), B.ravel()]))).numpy()
        z = z.reshape(grid, grid)
    zlabel = "mean training loss" if metric == "loss" else "training accuracy"
    name = "interpolation" if plane.d2 is None else f"{'PCA' if plane.kind == 'pca' else plane.kind} plane"
    surface = Surface(a, b, z, name=name,
                      xlabel=plane.labels[0], ylabel=plane.labels[1], zlabel=zlabel, explained=plane.explained)
    if not paths:
        return surface
    projections = [project(plane, s, (model, (X, y)), label=label, steps=st, device=device, metric=metric,
                           chunk=chunk) for s, label, st in zip(plane.snapshots, plane.run_labels, plane.run_steps)]
    return surface, projections
