"""A model's loss at many weight vectors: the engine under `landscape`, `evaluate` and the path projections.

The value at a weight vector w is the mean of the metric over every sample of the data, with the model in eval
mode (BatchNorm's running statistics, dropout off) and without gradients. Three strategies compute it, chosen
per model because none is fastest for all:

- 'mlp': an nn.Sequential of Linear layers and elementwise activations (what gradviz.mlp builds). A chunk
  of grid points is a few batched matrix products per layer; on a plane the first layer's output is linear
  in the coefficients, so it is computed once per batch of data (see _plane_forward).
- 'vmap': torch.func.functional_call under torch.vmap over a chunk of weight vectors: for other small
  dense models, whose per-point cost is mostly Python overhead.
- 'points': one point at a time over a whole batch: the loop the field's reference code runs, at the
  forward pass's cost. Convolutions and recurrent or attention layers are compute-bound, and vmap turns a
  convolution into a grouped one that is slower on a CPU than the loop (measured 1.6-2.2x for a small CNN),
  so such models take this path. Each point's weights are written into one reusable vector (one product from
  the plane's origin and basis) that the model reads through views, so a point costs its forward pass and
  nothing that grows with the chunk; a first convolution or Linear layer on the raw inputs can be computed
  once per batch for the whole plane (first_layer). docs/performance.md has the numbers.

Every batch form of the data layer (gradviz.analysis.sources: (x, y), (x1, ..., xk, y), dict batches, (dict, y),
a user's compute_loss) takes every strategy the model allows; the shortcuts that read one input tensor, the
logits and class targets apply where batch 0 shows that form (LossRule.check's FirstBatch), and the other
batches take the general path of the same strategy:

- fused default loss or accuracy over a chunk's outputs ('mlp', 'vmap'): `FirstBatch.plain` (one positional
  tensor input, a tensor output, 1-D targets) and the default loss; else each point's `rule.of_outputs`.
- the first layer once per batch ('points', on a plane): `FirstBatch.one_input` (one positional tensor input,
  the model called by gradviz, not by a compute_loss that may call it on anything); else every layer per point.
- per-sample standard errors (errors=True): `has_per_sample(rule, first)` (the default or a named loss, or
  accuracy, on the logits and tensor targets); a callable loss, a compute_loss or the model's own `.loss`
  give batch means, and the error is that of the batch means.
- the reusable weight vector, channels_last (every 4-D floating input) and compile= (the model's call, not a
  compute_loss) apply to every form.

Data are streamed: for each chunk of points, one pass over the batches of a DataSource, accumulating batch
means weighted by their sample counts. Memory holds one batch and one chunk. The model's own tensors are never
written to: weights go in through functional_call or views put in place for one batch, and the train/eval
flag of every submodule is restored on exit.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from gradviz.analysis.choices import PRECISIONS as PRECISION_CHOICES
from gradviz.analysis.losses import LossRule, has_per_sample, per_sample_values
from gradviz.analysis.sources import Batch, DataSource, as_source, subset
from gradviz.registry import InvalidArgument, check_positive, unknown_name_message

__all__ = ["Evaluator", "FlatModel", "STRATEGIES", "PRECISIONS", "preserved", "choose_strategy", "check_device"]

PRECISIONS = tuple(PRECISION_CHOICES)  # gradviz.analysis.choices.PRECISIONS: the torch-free list

STRATEGIES = ("auto", "mlp", "vmap", "points")
MEMORY_BUDGET = 256 * 2**20  # bytes of activations per chunk by default (vmap; MLP path on CUDA)
CPU_CHUNK = 128  # grid points per batched pass on a CPU
CPU_ACTIVATIONS = 4 * 2**20  # bytes of one layer's activations per chunk, MLP path on a CPU
POINTS_CHUNK = 32  # grid points per pass over the data on the point-by-point path
# The first layer once per batch pays where each output costs more than its combination of k + 1 outputs:
# measured one thread, 0.92x for the digits CNN's 1 x 3 x 3 kernels (fan-in 9), 1.06x for a ViT's 3 x 4 x 4
# patches (fan-in 48).
FIRST_LAYER_FAN_IN = 32
SAMPLE_GROUPS = 16  # batch means a standard error is taken over where per-sample values are unknown
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


def _fused_values(logits: torch.Tensor, y: torch.Tensor, metric: str, means: bool = True) -> torch.Tensor:
    """(G, N, k) logits -> (G,) batch means of the default loss (the formula of LossRule's default) or
    accuracy, for all G points in one call; means=False: the (G, N) values of each sample."""
    G, N, k = logits.shape
    if metric == "accuracy":
        predicted = (logits[..., 0] > 0).long() if k == 1 else logits.argmax(-1)
        each = (predicted == y.long()).to(logits.dtype)
    elif k == 1:
        each = nn.functional.binary_cross_entropy_with_logits(
            logits[..., 0], y.to(logits.dtype).expand(G, N), reduction="none")
    else:
        # classes in dimension 1, as cross_entropy takes them: a free view of the feature-major plane logits
        each = nn.functional.cross_entropy(logits.transpose(1, 2), y.long().expand(G, N), reduction="none")
    return each.mean(1) if means else each


@contextlib.contextmanager
def precision_context(device: torch.device, precision: str) -> Iterator[None]:
    """Arithmetic in `precision` inside: 'float32' (the model's own dtype, as it is), 'tf32' (CUDA matmuls and
    convolutions on TensorFloat-32 tensor cores), 'bf16' (CUDA autocast to bfloat16; losses stay float32)."""
    if precision == "float32":
        yield
        return
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        if precision == "tf32":
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
            yield
        else:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn


def check_precision(precision: str, device: torch.device, dtype: torch.dtype) -> str:
    if precision not in PRECISIONS:
        raise InvalidArgument(unknown_name_message("precision", precision, PRECISIONS))
    if precision != "float32" and (device.type != "cuda" or dtype != torch.float32):
        raise InvalidArgument(f"precision {precision!r} needs a float32 model on a CUDA device (here: "
                              f"{str(dtype).replace('torch.', '')} on {device}); use precision='float32'")
    return precision


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
    """A model called at flat weight vectors (in `parameters()` order), with its buffers copied to `device`
    once: through torch.func.functional_call (`_forward`, `value_at`), or with a vector's views put in place for
    many calls (`_placed`, the point path). The model's own tensors are never written to. `what` ends the
    message for a model without parameters."""

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
        """The flat vector as the model's parameters: views, nothing copied."""
        pieces = torch.split(flat, self.sizes)
        return {prefix + name: piece.reshape(shape) for name, piece, shape in zip(self.names, pieces, self.shapes)}

    @contextlib.contextmanager
    def _placed(self, params: dict[str, torch.Tensor]) -> Iterator[None]:
        """Inside, the model holds `params` (and the buffers on the device) in place of its own; its own are
        back on exit, exceptions included. What torch.func.functional_call does around one call, held open
        for many: a point path that writes each point into the same tensors swaps them in once per batch,
        not once per point (the swap cost 0.3-0.4 ms a call, 7% of the digits CNN's 256-sample forward).
        A compute_loss called inside sees them too."""
        with torch.nn.utils.stateless._reparametrize_module(self.model, {**params, **self.buffers},
                                                            tie_weights=True):
            yield

    def _apply(self, batch: Batch) -> Any:
        """The model's output on one batch, called as the data layer calls it, with whatever parameters it
        holds: the seam the point path (and its compile=) goes through."""
        return self.model(*batch.args, **batch.kwargs)

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


def _channels_last(batch: Batch) -> Batch:
    """The batch with every 4-D floating tensor (images, in any batch form) in channels-last memory order."""
    def convert(t: Any) -> Any:
        if isinstance(t, torch.Tensor):
            return t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 and t.is_floating_point() else t
        if isinstance(t, Mapping):
            return {k: convert(v) for k, v in t.items()}
        if isinstance(t, (tuple, list)):
            return type(t)(convert(v) for v in t)
        return t

    return dataclasses.replace(batch, data=convert(batch.data), args=convert(batch.args),
                               kwargs=convert(batch.kwargs))


class Evaluator(FlatModel):
    """Evaluates `model` on `data` at many flat weight vectors (in `parameters()` order).

    device: where the model's arithmetic runs; `rule`: the loss and metric (LossRule), checked on batch 0 here,
    before any grid. chunk: grid points per pass (default: see the module's strategies). Use
    `plane(origin, basis, coefficients)` for points origin + coefficients @ basis.T, `at(weights)` for explicit
    vectors; both return float64 CPU values.
    errors=True also keeps each point's standard error of the mean over samples in `self.errors` (the
    sample standard deviation of the per-sample values over sqrt(samples); where per-sample values are unknown
    (a callable loss, a compute_loss, the model's own .loss: see `self.per_sample`), that of the batch means
    over sqrt(batches)). precision: see precision_context (CUDA only). channels_last: 4-D inputs and
    convolution kernels in channels-last memory order on the 'points' path (faster convolutions on some CPUs
    and GPUs; measure before turning it on). first_layer: on a plane, a first Linear or convolution layer
    computed once per batch (see _points; one input tensor only, see the module); None (the default) where
    each output's fan-in is at least FIRST_LAYER_FAN_IN, True wherever it applies, False never.
    compile: the 'points' path's model call through torch.compile (pays on large grids only: see
    docs/performance.md for the grid size where the compile time is recovered; a compute_loss calls the
    model uncompiled).
    """

    def __init__(self, model: nn.Module, data: Any, device: torch.device, rule: LossRule, chunk: int | None = None,
                 strategy: str = "auto", *, errors: bool = False, precision: str = "float32",
                 channels_last: bool = False, first_layer: bool | None = None, compile: bool = False) -> None:
        super().__init__(model, device, "nothing to move through")
        self.rule = rule
        self.source: DataSource = as_source(data)
        self.strategy = choose_strategy(model, strategy)
        self._layers = _mlp_layers(model, self.sizes, bool(self.buffers)) if self.strategy == "mlp" else None
        self.first = rule.check(model, self.source, device=device, dtype=self.dtype)  # before any grid
        self._fused = rule.default and rule.metric in ("loss", "accuracy") and self.first.plain
        # per-sample values where the rule knows them and the path sees the outputs (vmap of a model whose
        # output is not a tensor sees the batch's value only)
        self.per_sample = has_per_sample(rule, self.first) and (self.strategy != "vmap"
                                                                or self.first.outputs == "Tensor")
        self._planes: dict[int, Any] = {}  # plane forwards of an in-memory batch, kept between chunks
        self.want_errors = bool(errors)
        self.errors: np.ndarray | None = None
        self.precision = check_precision(precision, device, self.dtype)
        self.channels_last = bool(channels_last)
        self._point: torch.Tensor | None = None  # the one weight vector the 'points' path writes each point into
        self.first_layer = None if first_layer is None else bool(first_layer)
        # torch.compile of the model's call with the reusable vector's views in place: the same tensors at
        # every point, so it compiles once (and once more for a short last batch)
        self.compile = bool(compile)
        self._run = torch.compile(self._apply) if compile else self._apply
        self._first: tuple[Any, ...] | None = None  # (module, weight index, bias index), () when there is none
        self.chunk_asked = chunk
        self.chunk = check_positive("chunk", chunk, integer=True) if chunk is not None else self._default_chunk()

    def on_subset(self, samples: int, *, seed: int = 0, batch_size: int | None = None) -> DataSource:
        """Evaluate on the same `samples` samples of the data at every point from now on (sources.subset,
        seeded by `seed`), and keep each point's standard error. Where per-sample values are unknown the subset
        is read in batches of ceil(samples / SAMPLE_GROUPS), whose means give the error. -> the subset."""
        groups = None if self.per_sample else -(-samples // SAMPLE_GROUPS)
        self.source = subset(self.source, samples, seed=seed, batch_size=groups or batch_size)
        self.want_errors = True
        self._planes.clear()
        if self.chunk_asked is None:
            self.chunk = self._default_chunk()
        return self.source

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
        self.errors = np.full(total, np.nan) if self.want_errors else None
        with preserved(self.model), torch.no_grad(), precision_context(self.device, self.precision):
            for start in range(0, len(order), self.chunk):
                part = order[start:start + self.chunk]
                # all rows in order: a slice, a view; chosen rows: an index
                rows = rows_of(slice(start, start + len(part)) if indices is None
                               else torch.as_tensor(part, device=self.device))
                values = self._chunk(rows, origin, basis, part)
                out[start:start + len(part)] = values
                if on_chunk is not None:
                    on_chunk(part, values)
        self._point = None
        return out

    def _chunk(self, rows: torch.Tensor, origin: torch.Tensor | None, basis: torch.Tensor | None,
               part: np.ndarray | None = None) -> np.ndarray:
        """The data-set means at one chunk of points: one pass over the batches (and, with errors, each
        point's standard error into self.errors[part])."""
        first: torch.Tensor | None = None
        sums: torch.Tensor | None = None
        squares: torch.Tensor | None = None
        count = units = 0
        on_plane = origin is not None
        for index, batch in enumerate(self.source.batches(self.device, self.dtype)):
            n = batch.n
            if self.channels_last:
                batch = _channels_last(batch)
            if self.strategy == "mlp" and on_plane:
                forward = self._planes.get(index) if self.source.in_memory else None
                if forward is None:
                    forward = self._plane_forward(origin, basis, batch.x)
                    if self.source.in_memory:
                        self._planes[index] = forward
                values, second, unit = self._batch_values(forward(rows), batch)
            elif self.strategy == "points":
                values, second, unit = self._points(rows, origin, basis, batch)
            else:
                weights = torch.addmm(origin, rows, basis.T) if on_plane else rows
                if self.strategy == "mlp":
                    values, second, unit = self._batch_values(self._mlp_forward(weights, batch.x), batch)
                elif self.first.outputs == "Tensor":
                    outputs = torch.vmap(lambda w: self._forward(w, batch))(weights)
                    values, second, unit = self._batch_values(outputs, batch)
                else:  # outputs vmap cannot return (a ModelOutput), or a compute_loss: the batch's values
                    values = torch.vmap(lambda w: self.value_at(w, batch))(weights)
                    second, unit = values * values, 1
            if self.want_errors:
                squares = second.to(torch.float64) * n if squares is None else squares + second.to(torch.float64) * n
                units += unit
            if index == 0:
                first = values
            else:
                if sums is None:
                    sums = first.to(torch.float64) * count
                sums += values.to(torch.float64) * n
            count += n
        # one batch: its means as they are (the same numbers: v * n / n is exact in float64)
        means = first.to(torch.float64) if sums is None else sums / count
        if self.want_errors and part is not None:
            # var of the units (samples, or batch means) from the running moments, float64; se = sqrt(var / units)
            spread = (squares / count - means * means).clamp_min(0) * (units / max(units - 1, 1))
            self.errors[part] = (spread / units).sqrt().cpu().numpy()
        return means.cpu().numpy()

    def _points(self, rows: torch.Tensor, origin: torch.Tensor | None, basis: torch.Tensor | None,
                batch: Batch) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        """One batch at each point of the chunk, one point at a time: each plane point's weights written into
        one reusable vector (origin + c @ basis.T, one product), which the model reads through views put in place
        once per batch; never a (points x parameters) matrix, whose writing cost more than the forward passes
        for large models. Any batch form: the model is called as the data layer calls it, or the user's
        compute_loss calls it, with the point's weights in place.

        On a plane, a first layer that is a convolution or a Linear layer applied to the raw inputs is linear
        in the point's coefficients: conv(x; W0 + sum c_j D_j, b0 + sum c_j e_j) = conv(x; W0, b0) +
        sum c_j conv(x; D_j, e_j). Those k + 1 outputs are computed once per batch and each point's first
        layer is their combination (everything after it runs per point, as it must: the nonlinearity follows
        the pre-activation). Only for one positional input tensor that gradviz passes to the model itself
        (FirstBatch.one_input): with several inputs, a dict batch or a compute_loss, which input reaches the
        first layer, and how often, is not known, so every layer runs per point there.

        -> (the points' batch values, with errors the means of their squared per-sample values (or the
        squared values), and the units of the standard error in this batch: its samples, or 1)."""
        if self._point is None:
            self._point = torch.empty(self.n_params, dtype=self.dtype, device=self.device)
        x = batch.args[0] if self.first.one_input else None
        first = self._first_layer(x) if x is not None and origin is not None and self.first_layer is not False \
            else None
        if first is not None and self.first_layer is None and first[0].weight[0].numel() < FIRST_LAYER_FAN_IN:
            first = None  # its combination costs about what the layer does: measured slower (docs/performance.md)
        params = self._params(self._point)
        # channels_last: convolution kernels kept in channels-last tensors of their own, refreshed from the
        # point's weights at each point (a copy, small next to the forward pass); with the inputs in that
        # order too, oneDNN / cuDNN keep it throughout
        kernels = {name: t.contiguous(memory_format=torch.channels_last) for name, t in params.items()
                   if t.dim() == 4} if self.channels_last else {}
        hook = self.rule.compute_loss is not None
        means, seconds, unit = [], [], 1
        with self._replaced_first(first, origin, basis, x) as set_point, self._placed({**params, **kernels}):
            for c in rows:
                if origin is not None:  # origin + c @ basis.T: one (1, k) @ (k, P) product, streamed
                    torch.addmm(origin[None], c[None], basis.T, out=self._point[None])
                else:
                    self._point.copy_(c)
                set_point(c)
                for name, kernel in kernels.items():
                    kernel.copy_(params[name])
                if hook:  # the user's compute_loss calls the model, which holds the point's weights
                    value, each = self.rule.value(self.model, batch), None
                else:
                    out = self._run(batch)
                    value = self.rule.of_outputs(out, batch)
                    each = per_sample_values(self.rule, out, batch) if self.want_errors and self.per_sample else None
                means.append(value)
                if each is not None:
                    seconds.append((each * each).mean())
                    unit = len(each)
                elif self.want_errors:  # this batch's mean is one unit
                    seconds.append(value * value)
        return torch.stack(means), torch.stack(seconds) if seconds else None, unit

    def _first_layer(self, x: Any) -> tuple[nn.Module, int, int | None] | None:
        """(module, index of its weight, of its bias) when the model's first parameterised module is an
        nn.Linear or a convolution called once, on the model's input tensor itself, with parameters no other
        module shares; else None. Found once, by watching one forward pass on one sample."""
        if self._first is not None:
            return self._first or None
        self._first = ()
        if not isinstance(x, torch.Tensor):
            return None
        probe, calls = x[:1], []
        # modules without children that own parameters (a container's own parameter, like a ViT's position
        # table, is read by its forward with the point's weights anyway; only the replaced module's must not be)
        leaves = [m for m in self.model.modules()
                  if not any(True for _ in m.children()) and any(True for _ in m.parameters(recurse=False))]
        handles = [m.register_forward_pre_hook(lambda m, args: calls.append((m, bool(args) and args[0] is probe)))
                   for m in leaves]
        try:
            with torch.no_grad():
                # the model's own parameters, moved only where they are not on the device already (a flat
                # copy of them all cost 0.02 s on ResNet-18, for this one-sample pass)
                own = {name: p.detach().to(self.device, self.dtype) for name, p in self.model.named_parameters()}
                torch.func.functional_call(self.model, (own, self.buffers), (probe,))
        except Exception:  # noqa: BLE001 - any failure means: no shortcut, the plain path (which will raise it)
            return None
        finally:
            for handle in handles:
                handle.remove()
        if not calls:
            return None
        module, on_input = calls[0]
        if not on_input or sum(m is module for m, _ in calls) != 1:
            return None
        # the plain layers only: a subclass may change its weights before use (weight standardization)
        plain = (nn.Linear.forward, nn.Conv1d.forward, nn.Conv2d.forward, nn.Conv3d.forward)
        if getattr(type(module), "forward", None) not in plain or "weight" not in module._parameters:
            return None
        own = {id(p) for p in module.parameters(recurse=False)}
        if any(id(p) in own for m in self.model.modules() if m is not module for p in m.parameters(recurse=False)):
            return None  # tied weights: the other user would not see the shortcut
        ids = [id(p) for p in self.model.parameters()]
        weight = ids.index(id(module.weight))
        bias = ids.index(id(module.bias)) if module.bias is not None else None
        self._first = (module, weight, bias)
        return self._first

    @contextlib.contextmanager
    def _replaced_first(self, first: Any, origin: torch.Tensor | None, basis: torch.Tensor | None,
                        x: Any) -> Iterator[Callable[[torch.Tensor], None]]:
        """Inside, the first layer's forward returns the combination for the point set by set_point(c)."""
        if first is None:
            yield lambda c: None
            return
        module, weight, bias = first
        offsets = np.concatenate([[0], np.cumsum(self.sizes)]).tolist()

        def piece(vector: torch.Tensor, index: int | None) -> torch.Tensor | None:
            if index is None:
                return None
            return vector[offsets[index]:offsets[index + 1]].view(self.shapes[index])

        def apply(vector: torch.Tensor) -> torch.Tensor:
            W, b = piece(vector, weight), piece(vector, bias)
            if isinstance(module, nn.Linear):
                return nn.functional.linear(x, W, b)
            return module._conv_forward(x, W, b)

        centre = apply(origin).contiguous()
        # (k, outputs): each point's first layer is one (1, k) @ (k, outputs) product onto the centre, a
        # single streaming pass over the k + 1 outputs
        spans = torch.stack([apply(basis[:, j]).contiguous().reshape(-1) for j in range(basis.shape[1])])
        current = torch.empty_like(centre)
        flat_centre, flat_current = centre.reshape(1, -1), current.view(1, -1)

        def set_point(c: torch.Tensor) -> None:
            torch.addmm(flat_centre, c[None], spans, out=flat_current)

        had = module.__dict__.get("forward")
        module.forward = lambda *args, **kwargs: current
        try:
            yield set_point
        finally:
            if had is None:
                del module.forward
            else:
                module.forward = had

    def _batch_values(self, outputs: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        """(G, n, ...) outputs of G points on one batch -> (G,) batch means, and with errors the (G,) means of
        the squared per-sample values (or the squared means) and the units of the standard error in this batch
        (its samples, or 1 where the batch mean is the unit)."""
        if self._fused:
            if outputs.dim() != 3:
                raise InvalidArgument(f"the model's output has shape {tuple(outputs.shape[1:])}; the default "
                                      "loss needs (n, classes) logits: give loss_fn= for other outputs")
            if not self.want_errors:
                return _fused_values(outputs, batch.targets, self.rule.metric), None, 0
            each = _fused_values(outputs, batch.targets, self.rule.metric, means=False)
            return each.mean(1), (each * each).mean(1), each.shape[1]
        values = torch.stack([self.rule.of_outputs(out, batch) for out in outputs])
        if not self.want_errors:
            return values, None, 0
        if not self.per_sample:
            return values, values * values, 1
        each = [per_sample_values(self.rule, out, batch) for out in outputs]
        return values, torch.stack([(e * e).mean() for e in each]), len(each[0])

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
