"""A model's loss at many weight vectors: the engine under `landscape`, `evaluate` and the path projections.

The value at a weight vector w is the mean of the metric over every sample of the data, with the model in eval
mode (BatchNorm's running statistics, dropout off) and without gradients. Three strategies compute it, chosen
per model because none is fastest for all:

- 'mlp': an nn.Sequential of Linear layers and elementwise activations (what gradviz.mlp builds). A chunk
  of grid points is a few batched matrix products per layer; on a plane the first layer's output is linear
  in the coefficients, so it is computed once per batch of data (see _plane_forward).
- 'vmap': torch.func.functional_call under torch.vmap over a chunk of weight vectors: for other small
  dense models, whose per-point cost is mostly Python overhead.
- 'points': one point at a time over a whole batch, functional_call with that point's weights: the loop
  the field's reference code runs. Convolutions and recurrent or attention layers are compute-bound, and
  vmap turns a convolution into a grouped one that is slower on a CPU than the loop (measured 1.6-2.2x for
  a small CNN), so such models take this path.

Data are streamed: for each chunk of points, one pass over the batches of a DataSource, accumulating batch
means weighted by batch sizes. Memory holds one batch and one chunk. The model is never written to:
weights go in through functional_call, and the train/eval flag of every submodule is restored on exit.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from gradviz.analysis.sources import Batch, DataSource, LossRule, as_source
from gradviz.registry import InvalidArgument, check_positive, unknown_name_message

__all__ = ["Evaluator", "FlatModel", "STRATEGIES", "preserved", "choose_strategy", "check_device"]

STRATEGIES = ("auto", "mlp", "vmap", "points")
MEMORY_BUDGET = 256 * 2**20  # bytes of activations per chunk by default (vmap; MLP path on CUDA)
CPU_CHUNK = 128  # grid points per batched pass on a CPU
CPU_ACTIVATIONS = 4 * 2**20  # bytes of one layer's activations per chunk, MLP path on a CPU
POINTS_CHUNK = 32  # grid points per pass over the data on the point-by-point path
ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.ELU, nn.Identity, nn.Dropout)
# Layers whose cost is arithmetic, not overhead, or that vmap batches badly: the point-by-point path.
COMPUTE_BOUND = (nn.modules.conv._ConvNd, nn.modules.batchnorm._BatchNorm, nn.RNNBase, nn.MultiheadAttention,
                 nn.TransformerEncoderLayer, nn.TransformerDecoderLayer, nn.Transformer, nn.GroupNorm,
                 nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd, nn.Embedding)


class preserved:
    """`with preserved(model):` the model in eval mode inside, every submodule's own train/eval flag after."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.flags: list[tuple[nn.Module, bool]] = []

    def __enter__(self) -> nn.Module:
        self.flags = [(m, m.training) for m in self.model.modules()]
        self.model.eval()
        return self.model

    def __exit__(self, *exc: Any) -> None:
        for module, flag in self.flags:
            module.training = flag


def _mlp_layers(model: nn.Module, sizes: Sequence[int], has_buffers: bool) -> list[Any] | None:
    """The model as [Linear index or activation module, ...] if it is an nn.Sequential of Linear layers with
    biases and elementwise activations (gradviz.mlp's shape), else None."""
    if not isinstance(model, nn.Sequential) or has_buffers:
        return None
    layers: list[Any] = []
    linear = 0
    for module in model:
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
    return layers if linear and 2 * linear == len(sizes) else None


def choose_strategy(model: nn.Module, strategy: str = "auto") -> str:
    """'mlp' for gradviz.mlp's shape, 'points' for compute-bound layers (convolutions, norms, recurrent,
    attention, embeddings), 'vmap' for the rest; or the strategy asked for, if the model allows it."""
    if strategy not in STRATEGIES:
        raise InvalidArgument(unknown_name_message("strategy", strategy, STRATEGIES))
    sizes = [p.numel() for p in model.parameters()]
    mlp = _mlp_layers(model, sizes, any(True for _ in model.buffers())) is not None
    if strategy == "mlp" and not mlp:
        raise InvalidArgument("strategy 'mlp' needs an nn.Sequential of Linear layers (with biases) and "
                              "elementwise activations; use 'vmap' or 'points' for this model")
    if strategy != "auto":
        return strategy
    if mlp:
        return "mlp"
    if any(isinstance(m, COMPUTE_BOUND) for m in model.modules()):
        return "points"
    return "vmap"


def _fused_values(logits: torch.Tensor, y: torch.Tensor, metric: str) -> torch.Tensor:
    """(G, N, k) logits -> (G,) batch means of the default loss (the formula of LossRule's default) or
    accuracy, for all G points in one call."""
    G, N, k = logits.shape
    if metric == "accuracy":
        predicted = (logits[..., 0] > 0).long() if k == 1 else logits.argmax(-1)
        return (predicted == y.long()).to(logits.dtype).mean(1)
    if k == 1:
        return nn.functional.binary_cross_entropy_with_logits(
            logits[..., 0], y.to(logits.dtype).expand(G, N), reduction="none").mean(1)
    # classes in dimension 1, as cross_entropy takes them: a free view of the feature-major plane logits
    return nn.functional.cross_entropy(logits.transpose(1, 2), y.long().expand(G, N), reduction="none").mean(1)


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


class FlatModel:
    """A model called at flat weight vectors (in `parameters()` order) through torch.func.functional_call, with
    its buffers copied to `device` once: the model itself is never written to. `what` ends the message for a
    model without parameters."""

    def __init__(self, model: nn.Module, device: torch.device, what: str) -> None:
        if not isinstance(model, nn.Module):
            raise InvalidArgument(f"model must be a torch nn.Module, not {type(model).__name__}")
        params = list(model.parameters())
        if not params:
            raise InvalidArgument(f"the model has no parameters: {what}")
        self.model, self.device = model, device
        self.names = [name for name, _ in model.named_parameters()]
        self.shapes = [tuple(p.shape) for p in params]
        self.sizes = [p.numel() for p in params]
        self.dtype = params[0].dtype
        self.buffers = {name: b.detach().to(device) for name, b in model.named_buffers()}
        self._valued: nn.Module | None = None

    @property
    def n_params(self) -> int:
        return sum(self.sizes)

    def _params(self, flat: torch.Tensor, prefix: str = "") -> dict[str, torch.Tensor]:
        pieces = torch.split(flat, self.sizes)
        return {prefix + name: piece.reshape(shape) for name, piece, shape in zip(self.names, pieces, self.shapes)}

    def _forward(self, flat: torch.Tensor, batch: Batch) -> Any:
        """The model's output on `batch` at the flat weights (called as the data layer calls it)."""
        return torch.func.functional_call(self.model, (self._params(flat), self.buffers), batch.args, batch.kwargs)

    def value_at(self, flat: torch.Tensor, batch: Batch) -> torch.Tensor:
        """The batch's mean loss (or metric) at the flat weights: `self.rule.value(model, batch)` with the
        weights put into the model for the length of that one call (a user's compute_loss sees them too)."""
        if self._valued is None:
            self._valued = _Valued(self.model)
            self._valued_buffers = {"model." + name: b for name, b in self.buffers.items()}
        return torch.func.functional_call(self._valued, (self._params(flat, "model."), self._valued_buffers),
                                          (self.rule, batch))


class _Valued(nn.Module):
    """A model and a LossRule as one module, so that functional_call puts a point's weights into the model for
    one `rule.value(model, batch)`, whatever the rule does with the model (the user's own compute_loss)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, rule: LossRule, batch: Batch) -> torch.Tensor:
        return rule.value(self.model, batch)


class Evaluator(FlatModel):
    """Evaluates `model` on `data` at many flat weight vectors (in `parameters()` order).

    device: where the model's arithmetic runs; `rule`: the loss and metric (LossRule). chunk: grid points per
    pass (default: see the module's strategies). Use `plane(origin, basis, coefficients)` for points
    origin + coefficients @ basis.T, `at(weights)` for explicit vectors; both return float64 CPU values.
    """

    def __init__(self, model: nn.Module, data: Any, device: torch.device, rule: LossRule, chunk: int | None = None,
                 strategy: str = "auto") -> None:
        super().__init__(model, device, "nothing to move through")
        self.rule = rule
        self.source: DataSource = as_source(data)
        self.strategy = choose_strategy(model, strategy)
        self._layers = _mlp_layers(model, self.sizes, bool(self.buffers)) if self.strategy == "mlp" else None
        self.first = rule.check(model, self.source, device=device, dtype=self.dtype)  # before any grid
        self._fused = rule.default and rule.metric in ("loss", "accuracy") and self.first.plain
        self._planes: dict[int, Any] = {}  # plane forwards of an in-memory batch, kept between chunks
        if chunk is None:
            chunk = self._default_chunk()
        self.chunk = check_positive("chunk", chunk, integer=True)

    def _default_chunk(self) -> int:
        if self.strategy == "points":
            return POINTS_CHUNK
        n = self.source.batch_size or 256
        widths = sum(s[0] for s in self.shapes if len(s) >= 2) or 1
        if self.strategy == "mlp" and self.device.type == "cpu":
            # fastest when one layer's (G, width, N) float32 activations take about 4 MB (measured, one
            # thread, 2-16-16-1 on 500 points: G = 128 beats 96, 65, 192 and 32; 2-64-64-1 on 1000: G = 16
            # beats 8, 32 and 4)
            widest = max(s[0] for s in self.shapes if len(s) >= 2)
            return max(1, min(CPU_CHUNK, CPU_ACTIVATIONS // (4 * n * widest)))
        # activations of every layer (a few live copies each) plus the point's weights, in float32
        per_point = 4 * (3 * n * widths + 2 * self.n_params)
        cap = 4096 if self.device.type == "cuda" else CPU_CHUNK
        return max(1, min(cap, MEMORY_BUDGET // max(1, per_point)))

    # -- the public entry points ---------------------------------------------------------------------------

    def plane(self, origin: torch.Tensor, basis: torch.Tensor, coefficients: torch.Tensor,
              on_chunk: Callable[[np.ndarray, np.ndarray], None] | None = None,
              indices: np.ndarray | None = None) -> np.ndarray:
        """Values at origin + coefficients[i] @ basis.T for i in `indices` (all rows by default): origin (P,),
        basis (P, k), coefficients (M, k). on_chunk(indices, values) is called as each chunk completes."""
        origin = origin.to(self.device, self.dtype)
        basis = basis.to(self.device, self.dtype)
        coefficients = torch.as_tensor(coefficients).to(self.device, self.dtype)
        self._planes.clear()  # they belong to one origin and basis
        return self._evaluate(len(coefficients), indices, on_chunk, lambda rows: coefficients[rows],
                              origin, basis)

    def at(self, weights: Any, on_chunk: Callable[[np.ndarray, np.ndarray], None] | None = None) -> np.ndarray:
        """Values at each row of the (M, P) flat weight vectors."""
        weights = torch.as_tensor(np.asarray(weights, dtype=np.float64)).reshape(-1, self.n_params)
        weights = weights.to(self.device, self.dtype)
        return self._evaluate(len(weights), None, on_chunk, lambda rows: weights[rows], None, None)

    # -- chunks, batches, points ---------------------------------------------------------------------------

    def _evaluate(self, total: int, indices: np.ndarray | None, on_chunk: Any, rows_of: Callable[[Any], torch.Tensor],
                  origin: torch.Tensor | None, basis: torch.Tensor | None) -> np.ndarray:
        order = np.arange(total) if indices is None else np.asarray(indices, dtype=np.int64)
        out = np.full(len(order), np.nan)
        with preserved(self.model), torch.no_grad():
            for start in range(0, len(order), self.chunk):
                part = order[start:start + self.chunk]
                # all rows in order: a slice, a view; chosen rows: an index
                rows = rows_of(slice(start, start + len(part)) if indices is None
                               else torch.as_tensor(part, device=self.device))
                values = self._chunk(rows, origin, basis)
                out[start:start + len(part)] = values
                if on_chunk is not None:
                    on_chunk(part, values)
        return out

    def _chunk(self, rows: torch.Tensor, origin: torch.Tensor | None, basis: torch.Tensor | None) -> np.ndarray:
        """The data-set means at one chunk of points: one pass over the batches."""
        first: torch.Tensor | None = None
        sums: torch.Tensor | None = None
        count = 0
        on_plane = origin is not None
        for index, batch in enumerate(self.source.batches(self.device, self.dtype)):
            x, n = batch.x, batch.n
            if self.strategy == "mlp" and on_plane:
                forward = self._planes.get(index) if self.source.in_memory else None
                if forward is None:
                    forward = self._plane_forward(origin, basis, x)
                    if self.source.in_memory:
                        self._planes[index] = forward
                values = self._batch_values(forward(rows), batch)
            else:
                weights = torch.addmm(origin, rows, basis.T) if on_plane else rows
                if self.strategy == "mlp":
                    values = self._batch_values(self._mlp_forward(weights, x), batch)
                elif self.strategy == "vmap" and self.first.outputs == "Tensor":
                    values = self._batch_values(torch.vmap(lambda w: self._forward(w, batch))(weights), batch)
                elif self.strategy == "vmap":
                    values = torch.vmap(lambda w: self.value_at(w, batch))(weights)
                else:
                    values = torch.stack([self.value_at(w, batch) for w in weights])
            if index == 0:
                first = values
            else:
                if sums is None:
                    sums = first.to(torch.float64) * count
                sums += values.to(torch.float64) * n
            count += n
        # one batch: its means as they are (the same numbers: v * n / n is exact in float64)
        return (first.to(torch.float64) if sums is None else sums / count).cpu().numpy()

    def _batch_values(self, outputs: torch.Tensor, batch: Batch) -> torch.Tensor:
        """(G, n, ...) outputs of G points on one batch -> (G,) batch means."""
        if self._fused:
            if outputs.dim() != 3:
                raise InvalidArgument(f"the model's output has shape {tuple(outputs.shape[1:])}; the default "
                                      "loss needs (n, classes) logits: give loss_fn= for other outputs")
            return _fused_values(outputs, batch.targets, self.rule.metric)
        return torch.stack([self.rule.of_outputs(out, batch) for out in outputs])

    def _mlp_forward(self, weights: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(G, P) weight vectors -> (G, N, out) logits: one baddbmm per layer (bias fused), the first layer's
        input shared by every grid point, activations in place where torch has an in-place form."""
        pieces = torch.split(weights, self.sizes, dim=1)
        G = len(weights)
        h = x.expand(G, *x.shape)
        for layer in self._layers:
            if isinstance(layer, int):
                W = pieces[2 * layer].reshape(G, *self.shapes[2 * layer])
                b = pieces[2 * layer + 1].reshape(G, 1, -1)
                h = torch.baddbmm(b, h, W.transpose(1, 2))
            else:
                h = _activate(layer, h)
        return h

    def _plane_forward(self, origin: torch.Tensor, basis: torch.Tensor, x: torch.Tensor) -> Any:
        """The MLP on a plane: (G, k) coefficients -> (G, N, out) logits, without building whole weight vectors.

        The first layer's input is the same for every grid point, so its output is linear in the
        coefficients: W x + b with W = W0 + sum_j c_j D_j, b = b0 + sum_j c_j e_j gives
        A0 + c @ [A_1; ...; A_k] with A0 = W0 X^T + b0 and A_j = D_j X^T + e_j. Those k + 1 (width, N)
        products are computed once per batch of data and each chunk's first layer is one addmm.

        Activations are kept feature-major, (G, width, N): each later layer is then one baddbmm of
        W(c) (out, in) @ h (in, N) per point plus the bias, which keeps the N samples in the long, contiguous
        dimension (the last layer of a binary classifier, out = 1, is 7x faster so than as (N, in) @ (in, 1)).
        The weights and biases of every later layer come from one (G, k) @ (k, P_later) product per chunk,
        read as views. Every layer writes into a buffer reused from chunk to chunk (fresh multi-MB allocations
        each chunk cost page faults). The logits come back as a transposed view, (G, N, out)."""
        starts = np.concatenate([[0], np.cumsum(self.sizes)]).tolist()
        linears = len(self.sizes) // 2
        out0, inp0 = self.shapes[0]
        k = basis.shape[1]
        n = len(x)
        xt = x.T
        w0, wd = origin[:starts[1]].reshape(out0, inp0), basis[:starts[1]]
        b0, bd = origin[starts[1]:starts[2]], basis[starts[1]:starts[2]]
        centre = torch.addmm(b0[:, None], w0, xt).reshape(-1)  # (width * N,)
        span = torch.stack([torch.addmm(bd[:, j, None], wd[:, j].reshape(out0, inp0), xt).reshape(-1)
                            for j in range(k)])  # (k, width * N)
        # later layers: their weights, for all of them at once, as origin slice + c @ basis slice
        later_origin, later_span = origin[starts[2]:], basis[starts[2]:].T.contiguous()
        views = []  # (out, in, weight offset, bias offset) within the later weights, per later Linear
        for index in range(1, linears):
            out, inp = self.shapes[2 * index]
            views.append((out, inp, starts[2 * index] - starts[2], starts[2 * index + 1] - starts[2]))
        buffers: list[torch.Tensor] = []  # sized by the first chunk, the largest
        layers = self._layers

        def forward(c: torch.Tensor) -> torch.Tensor:
            G = len(c)
            if not buffers or len(buffers[0]) < G:
                buffers.clear()
                widths = [out0] + [self.shapes[2 * i][0] for i in range(1, linears)]
                buffers.extend(torch.empty(G, w, n, dtype=self.dtype, device=self.device) for w in widths)
            h = torch.addmm(centre, c, span, out=buffers[0][:G].view(G, -1)).view(G, out0, n)
            weights = torch.addmm(later_origin, c, later_span) if linears > 1 else None
            for layer in layers[1:]:
                if isinstance(layer, int):
                    out, inp, w_at, b_at = views[layer - 1]
                    W = weights[:, w_at:w_at + out * inp].view(G, out, inp)
                    bias = weights[:, b_at:b_at + out].view(G, out, 1)
                    h = torch.baddbmm(bias, W, h, out=buffers[layer][:G])
                else:
                    h = _activate(layer, h)
            return h.transpose(1, 2)

        return forward


def _activate(layer: nn.Module, h: torch.Tensor) -> torch.Tensor:
    if isinstance(layer, nn.ReLU):
        return h.relu_()
    if isinstance(layer, nn.Sigmoid):
        return h.sigmoid_()
    if isinstance(layer, nn.Tanh):
        return h.tanh_()
    return layer(h)
