"""Records: the frozen numpy dataclasses that cross from tracing to rendering.

Nothing here holds a tensor or a figure. Tracing builds these from tensors (`.detach().cpu().numpy()`
at the boundary) and rendering only reads them, so a record can be saved, loaded and drawn without torch.
Arrays are made read-only when a record is built, so "frozen" holds for their contents too.
"""

from __future__ import annotations

import warnings

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from gradviz.i18n import _

__all__ = ["Trajectory", "finite_prefix", "Surface", "PathProjection", "format_hyperparams", "legend_hyperparams",
           "Swarm", "BasinMap", "TuningTable", "HessianSpectrum", "SharpnessRun"]


def _frozen(array: Any, dtype: Any = float) -> np.ndarray:
    """A read-only array of `dtype`: `array` itself where it is frozen already (see _is_frozen), else a
    frozen copy. Records built from views of one frozen array (a batch's rows) so share it uncopied."""
    if type(array) is np.ndarray and array.dtype == dtype and _is_frozen(array):
        return array
    out = np.array(array, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


def _is_frozen(array: np.ndarray) -> bool:
    """Read-only all the way down: the array and every numpy array it views, the last one owning its memory
    (a view of a writable array, or of memory numpy does not own, could still change under a record)."""
    while not array.flags.writeable:
        base = array.base
        if base is None:
            return True
        if type(base) is not np.ndarray:
            return False
        array = base
    return False


def _freeze(*arrays: np.ndarray) -> None:
    """Make freshly built arrays read-only in place, with every numpy array they view, so that records
    adopt them and views of them uncopied (the caller gives up writing to them)."""
    for array in arrays:
        while isinstance(array, np.ndarray):
            array.setflags(write=False)
            array = array.base


# What a gradient method's record holds for the points a direct method evaluated: nothing (read-only, shared).
_NO_POINTS, _NO_VALUES, _NO_STEPS = _frozen(np.zeros((0, 2))), _frozen(np.zeros(0)), _frozen(np.zeros(0), np.int64)

# Greek letters as the lecture writes them, to keep legend lines short.
SYMBOLS = {"momentum": "\u03bc", "betas": "\u03b2", "alpha": "\u03b1", "rho": "\u03c1", "weight_decay": "wd"}
# Settings that change how torch computes, not what: never worth a legend's space.
_ENGINE = ("foreach", "capturable", "differentiable", "fused")


def legend_hyperparams(optimizer: str, hyperparams: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a legend shows, so that two curves differ in their labels where their settings do.

    lr and the lecture's symbols (momentum, betas, alpha, rho, weight_decay) always; every other setting
    unless it is the registry entry's own one at its registry value (lbfgs's max_iter=1) or one that
    tracing chose from the plot window (a direct method's step). Reads the registry's plain data only.
    """
    from gradviz.lecture.optim import OPTIMIZERS  # the registry imports no torch until an optimizer is built

    spec = OPTIMIZERS.get(optimizer)
    own = dict(spec.defaults) if spec is not None else {}
    window = set(spec.window_defaults) if spec is not None else set()
    return {key: value for key, value in hyperparams.items()
            if key == "lr" or key in SYMBOLS
            or not (key in _ENGINE or key in window or (key in own and own[key] == value))}


def format_hyperparams(hyperparams: Mapping[str, Any], *, keys: tuple[str, ...] | None = None,
                       symbols: bool = False) -> str:
    """'lr=0.05, momentum=0.9' (or 'lr=0.05, \u03bc=0.9' with symbols): the short form used in legends.

    With symbols a switch reads as its name when on ('amsgrad') and name=false when off.
    """
    parts = []
    for key, value in hyperparams.items():
        if keys is not None and key not in keys:
            continue
        name = SYMBOLS.get(key, key) if symbols else key
        if symbols and isinstance(value, bool):
            parts.append(name if value else f"{name}=false")
            continue
        if isinstance(value, float):
            text = f"{value:g}"
        elif isinstance(value, (tuple, list)):
            text = "/".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
        else:
            text = str(value)
        parts.append(f"{name}={text}")
    return ", ".join(parts)


def finite_prefix(points: Any, losses: Any) -> np.ndarray:
    """(N,) how many leading rows of each start of a batch are finite, its loss and both coordinates:
    points (n, N, 2), losses (n, N). Row k of start i is kept by its record iff k < finite_prefix[i]."""
    points = np.ascontiguousarray(points, dtype=float)
    finite = np.isfinite(np.asarray(losses, dtype=float))
    # a complex view reads (x, y) as one number, finite iff both are: one pass, where isfinite(points)
    # .all(axis=-1) reduced over an axis of length 2 and took ten times as long
    finite &= np.isfinite(points.view(np.complex128)[..., 0])
    full = finite.all(axis=1)  # rows where every start is finite (usually all of them): a fast reduction
    if full.all():
        return np.full(finite.shape[1], len(finite), dtype=np.int64)
    first = int(np.argmin(full))
    rest = finite[first:]
    return first + np.where(rest.all(axis=0), len(rest), np.argmin(rest, axis=0))


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One optimizer's path over a 2-D function.

    points: (n, 2) positions, points[0] is the start and points[k] the position after k steps.
    losses: (n,) f at each point. grad_norms: (n,) |grad f| at each point (NaN where not evaluated).
    lrs: (n - 1,) learning rate used by step k + 1 (NaN for a class that chooses its own, lr=None).
    diverged_at: the first step whose loss or point was not finite (the record keeps only the finite
    prefix, so n - 1 == diverged_at - 1 steps), else None.
    evaluations: (n,) cumulative evaluations of f spent when points[k] and its loss were known: one
    evaluation of f (with its gradient, if taken) counts one, a closure call that computes counts one
    (LBFGS's line search included), so plain gradient descent has evaluations[k] == k + 1 (default).
    evaluations_requested: the evaluation budget the run had, if it had one.
    Direct (gradient-free) methods also keep every point they evaluated, in order: evaluated (E, 2),
    evaluated_losses (E,), evaluated_at (E,) (the index k of the point whose step evaluated it, 0 for the
    start), and their per-point geometry: arrays whose first axis has length n, row k the state after step
    k (simplex (n, 3, 2); stencil (n, 4, 2) and step (n,); population (n, lambda, 2), mean (n, 2),
    covariance (n, 2, 2) of sigma^2 C; proposal (n, 2), temperature (n,), sigma (n,)).
    schedule: the lr scheduler that set lrs ('cosine:T_max=200'), if any.
    """

    points: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    lrs: np.ndarray
    optimizer: str
    hyperparams: Mapping[str, Any] = field(default_factory=dict)
    function: str = ""
    diverged_at: int | None = None
    steps_requested: int | None = None
    schedule: str | None = None
    evaluations: np.ndarray | None = None
    evaluations_requested: int | None = None
    evaluated: np.ndarray = field(default_factory=lambda: _NO_POINTS)
    evaluated_losses: np.ndarray = field(default_factory=lambda: _NO_VALUES)
    evaluated_at: np.ndarray = field(default_factory=lambda: _NO_STEPS)
    geometry: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        points = _frozen(self.points)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) < 1:
            raise ValueError(f"points must have shape (n, 2) with n >= 1, got {points.shape}")
        object.__setattr__(self, "points", points)
        for name, length in (("losses", len(points)), ("grad_norms", len(points)), ("lrs", len(points) - 1)):
            array = _frozen(getattr(self, name))
            if array.shape != (length,):
                raise ValueError(f"{name} must have shape ({length},), got {array.shape}")
            object.__setattr__(self, name, array)
        object.__setattr__(self, "hyperparams", dict(self.hyperparams))
        counts = np.arange(1, len(points) + 1) if self.evaluations is None else self.evaluations
        counts = _frozen(counts, dtype=np.int64)
        if counts.shape != (len(points),) or (np.diff(counts) < 0).any():
            raise ValueError(f"evaluations must be ({len(points)},) and never decrease, got {counts}")
        object.__setattr__(self, "evaluations", counts)
        evaluated = _frozen(self.evaluated).reshape(-1, 2)
        evaluated_losses, evaluated_at = _frozen(self.evaluated_losses), _frozen(self.evaluated_at, dtype=np.int64)
        if evaluated_losses.shape != (len(evaluated),) or evaluated_at.shape != (len(evaluated),):
            raise ValueError("evaluated, evaluated_losses and evaluated_at need one entry per evaluation")
        for name, value in (("evaluated", evaluated), ("evaluated_losses", evaluated_losses),
                            ("evaluated_at", evaluated_at)):
            object.__setattr__(self, name, value)
        geometry = {key: _frozen(value) for key, value in self.geometry.items()}
        for key, value in geometry.items():
            if value.ndim < 1 or len(value) != len(points):
                raise ValueError(f"geometry[{key!r}] needs one row per point ({len(points)}), got {value.shape}")
        object.__setattr__(self, "geometry", geometry)

    @classmethod
    def batch(cls, points: Any, losses: Any, grad_norms: Any, lrs: Any, ends: Any, *, optimizer: str,
              hyperparams: Mapping[str, Any], function: str = "", evaluations: Any = None,
              steps_requested: int | None = None, evaluations_requested: int | None = None,
              schedule: str | None = None) -> list[Trajectory]:
        """One record per start of a batch traced together: record i is rows 0..ends[i] of column i.

        points (n, N, 2), losses and grad_norms (n, N); lrs (n - 1,) and evaluations (n,) (default 1..n) are
        shared by every start; ends (N,) is the row of each start's last point, and a record that ends
        before row n - 1 diverged at ends[i] + 1. The arrays are checked and frozen once for the batch (not
        copied where they are frozen already) and each record's arrays are views of them, so N records cost
        N small objects rather than N rounds of copies and checks.
        """
        points = _frozen(points)
        if points.ndim != 3 or points.shape[2] != 2 or len(points) < 1:
            raise ValueError(f"points must have shape (n, N, 2) with n >= 1, got {points.shape}")
        n, count = points.shape[:2]
        losses, grad_norms, lrs = _frozen(losses), _frozen(grad_norms), _frozen(lrs)
        for name, array, shape in (("losses", losses, (n, count)), ("grad_norms", grad_norms, (n, count)),
                                   ("lrs", lrs, (n - 1,))):
            if array.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
        counts = _frozen(np.arange(1, n + 1) if evaluations is None else evaluations, dtype=np.int64)
        if counts.shape != (n,) or (np.diff(counts) < 0).any():
            raise ValueError(f"evaluations must be ({n},) and never decrease, got {counts}")
        ends = np.asarray(ends)
        if ends.shape != (count,) or not np.issubdtype(ends.dtype, np.integer) or (ends < 0).any() \
                or (ends >= n).any():
            raise ValueError(f"ends must be ({count},) whole numbers in [0, {n}), got {ends}")
        shared = {"optimizer": optimizer, "function": function, "steps_requested": steps_requested,
                  "schedule": schedule, "evaluations_requested": evaluations_requested,
                  "evaluated": _NO_POINTS, "evaluated_losses": _NO_VALUES, "evaluated_at": _NO_STEPS}
        hyperparams = dict(hyperparams)
        records = []
        # iterating over the start axis makes each start's column a view in C; a start that ran to the end
        # (the usual case) keeps it and the shared lrs and evaluations whole, with no slicing at all
        columns = zip(points.transpose(1, 0, 2), losses.T, grad_norms.T, ends.tolist())
        for column_points, column_losses, column_norms, end in columns:
            record = object.__new__(cls)  # __post_init__'s checks and copies were done above, once for all
            if end == n - 1:
                record.__dict__.update(shared, points=column_points, losses=column_losses, grad_norms=column_norms,
                                       lrs=lrs, evaluations=counts, hyperparams=dict(hyperparams),
                                       diverged_at=None, geometry={})
            else:
                stop = end + 1
                record.__dict__.update(shared, points=column_points[:stop], losses=column_losses[:stop],
                                       grad_norms=column_norms[:stop], lrs=lrs[:end], evaluations=counts[:stop],
                                       hyperparams=dict(hyperparams), diverged_at=stop, geometry={})
            records.append(record)
        return records

    @property
    def evaluations_spent(self) -> int:
        """Evaluations of f the recorded path cost (evaluations[-1])."""
        return int(self.evaluations[-1])

    @property
    def steps(self) -> int:
        """Number of steps actually taken (len(points) - 1)."""
        return len(self.points) - 1

    @property
    def label(self) -> str:
        """'adam (lr=0.05)', the legend text, with a divergence note when it left."""
        text = self.optimizer
        params = format_hyperparams(legend_hyperparams(self.optimizer, self.hyperparams), symbols=True)
        if params:
            text += f" ({params})"
        if self.schedule:
            text += f" @{self.schedule}"
        if self.diverged_at is not None:
            text += f" diverged at step {self.diverged_at}"
        return text


@dataclass(frozen=True, eq=False)
class Surface:
    """A function sampled on a grid: z[i, j] = f(x[j], y[i]).

    log_scale asks the renderer for logarithmic colours of z - floor; minima are points to mark.
    A loss landscape also names its axes (xlabel, ylabel, zlabel: 'PC1 (87.1%)', 'mean training loss')
    and keeps the PCA plane's explained-variance ratios; a 1-D curve (an interpolation) has y of length 1.
    A landscape on a random subset of the data (samples=N) keeps each point's standard error of that mean in
    `error` (z's shape), with `samples` of `total_samples` samples used.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    name: str = ""
    log_scale: bool = False
    floor: float | None = None
    minima: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    xlabel: str = "x"
    ylabel: str = "y"
    zlabel: str = ""
    explained: np.ndarray | None = None
    error: np.ndarray | None = None
    samples: int | None = None
    total_samples: int | None = None

    def __post_init__(self) -> None:
        x, y, z = _frozen(self.x), _frozen(self.y), _frozen(self.z)
        if x.ndim != 1 or y.ndim != 1 or z.shape != (len(y), len(x)):
            raise ValueError(f"z must have shape (len(y), len(x)) = ({len(y)}, {len(x)}), got {z.shape}")
        minima = _frozen(self.minima).reshape(-1, 2)
        for name, value in (("x", x), ("y", y), ("z", z), ("minima", minima)):
            object.__setattr__(self, name, value)
        if self.explained is not None:
            object.__setattr__(self, "explained", _frozen(self.explained))
        if self.error is not None:
            error = _frozen(self.error)
            if error.shape != z.shape:
                raise ValueError(f"error must have z's shape {z.shape}, got {error.shape}")
            object.__setattr__(self, "error", error)

    @property
    def is_curve(self) -> bool:
        """True for a 1-D curve: z has one row, sampled along x."""
        return len(self.y) == 1

    @property
    def extent(self) -> tuple[float, float, float, float]:
        return float(self.x[0]), float(self.x[-1]), float(self.y[0]), float(self.y[-1])


@dataclass(frozen=True, eq=False)
class PathProjection:
    """A training run's parameter snapshots projected onto a landscape's plane.

    steps: (n,) the recorded steps. coords: (n, 2) plane coordinates (a, b) of each snapshot, in the units
    of the surface's x and y. off_plane: (n,) Euclidean distance of each snapshot from the plane, in
    parameter space. loss: (n,) the metric of the snapshot's own weights. surface_loss: (n,) the metric at
    the projected point origin + a d1 + b d2, i.e. what the surface shows under the path; loss -
    surface_loss is the part of the story the plane cannot show.
    """

    steps: np.ndarray
    coords: np.ndarray
    off_plane: np.ndarray
    loss: np.ndarray
    surface_loss: np.ndarray
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", _frozen(self.steps, dtype=np.int64))
        coords = _frozen(self.coords).reshape(-1, 2)
        object.__setattr__(self, "coords", coords)
        for name in ("off_plane", "loss", "surface_loss"):
            array = _frozen(getattr(self, name))
            if array.shape != (len(coords),):
                raise ValueError(f"{name} must have shape ({len(coords)},), got {array.shape}")
            object.__setattr__(self, name, array)
        if self.steps.shape != (len(coords),):
            raise ValueError(f"steps must have shape ({len(coords)},), got {self.steps.shape}")


@dataclass(frozen=True, eq=False)
class TrainingRun:
    """A small net's training, as numpy.

    loss, accuracy: (steps + 1,) on the training batch at each step, in training mode (index 0 is before
    the first update; the last is evaluated after it). val_loss, val_accuracy: at `record_steps`, in eval
    mode (NaN without validation data). train_eval_loss, train_eval_accuracy: at `record_steps`, on the whole
    training set in eval mode (dropout off): what `loss` would be without dropout's noise and, with
    mini-batches, on every point (NaN where not recorded). snapshots: (len(record_steps), n_params) flattened parameters,
    in the order of `param_names`. probabilities: (len(record_steps), gy, gx, classes) class probabilities
    on the grid `grid_x` x `grid_y`, in eval mode. X, y: the training data, for drawing.
    lrs: (steps taken,) the learning rate each step used (NaN for a class that chooses its own).
    schedule: the lr scheduler that set lrs ('cosine', 'warmup:total_iters=20+cosine'), if any.
    """

    loss: np.ndarray
    accuracy: np.ndarray
    record_steps: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    snapshots: np.ndarray
    param_names: tuple[str, ...]
    param_shapes: tuple[tuple[int, ...], ...]
    probabilities: np.ndarray
    grid_x: np.ndarray
    grid_y: np.ndarray
    X: np.ndarray
    y: np.ndarray
    optimizer: str
    hyperparams: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    diverged_at: int | None = None
    gradients: Any = None
    lrs: np.ndarray = field(default_factory=lambda: _NO_VALUES)
    schedule: str | None = None
    train_eval_loss: np.ndarray | None = None
    train_eval_accuracy: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("train_eval_loss", "train_eval_accuracy"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.full(len(self.record_steps), np.nan))
        for name in ("loss", "accuracy", "val_loss", "val_accuracy", "snapshots", "probabilities", "grid_x",
                     "grid_y", "X", "lrs", "train_eval_loss", "train_eval_accuracy"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "record_steps", _frozen(self.record_steps, dtype=np.int64))
        object.__setattr__(self, "y", _frozen(self.y, dtype=np.int64))
        object.__setattr__(self, "hyperparams", dict(self.hyperparams))
        if any(len(getattr(self, name)) != len(self.record_steps)
               for name in ("snapshots", "probabilities", "train_eval_loss", "train_eval_accuracy")):
            raise ValueError("snapshots, probabilities and the eval-mode training curves need one entry per "
                             "recorded step")

    @property
    def steps(self) -> int:
        return len(self.loss) - 1

    @property
    def classes(self) -> int:
        return int(self.probabilities.shape[-1])


@dataclass(frozen=True, eq=False)
class GradientLog:
    """Per-layer gradient statistics over training steps, in depth order (the order of the forward pass).

    steps: the training steps held, one per column (record_gradients(every=k): 0, k, 2k, ...).

    For each layer name (a leaf module with parameters), arrays over steps:
    grad_norms: ||dL/dW|| as the optimizer saw it (NaN where the layer had no gradient: frozen or
    unused; `weight_norms` is its old, deprecated name); signal_norms: ||dL/dz||, the backward signal reaching the layer's output; param_norms: ||W||;
    update_ratios: ||W_after - W_before|| / ||W_before|| per optimizer step (NaN without an optimizer, or
        recorded with updates=False);
    has_gradient: whether the layer had one; nonfinite: NaN/inf entries in its gradients.
    total_norm: the global gradient norm before clipping; total_norm_clipped: what the optimizer saw.
    dead_fraction: for each ReLU-family module, the share of units that output <= 0 for the whole batch.
    """

    names: tuple[str, ...]
    steps: np.ndarray
    grad_norms: Mapping[str, np.ndarray]
    signal_norms: Mapping[str, np.ndarray]
    param_norms: Mapping[str, np.ndarray]
    update_ratios: Mapping[str, np.ndarray]
    has_gradient: Mapping[str, np.ndarray]
    nonfinite: Mapping[str, np.ndarray]
    total_norm: np.ndarray
    total_norm_clipped: np.ndarray
    dead_fraction: Mapping[str, np.ndarray] = field(default_factory=dict)
    losses: np.ndarray | None = None
    label: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.steps)
        object.__setattr__(self, "steps", _frozen(self.steps, dtype=np.int64))
        for name in ("grad_norms", "signal_norms", "param_norms", "update_ratios", "has_gradient", "nonfinite",
                     "dead_fraction"):
            dtype = bool if name == "has_gradient" else (np.int64 if name == "nonfinite" else float)
            arrays = {key: _frozen(value, dtype=dtype) for key, value in getattr(self, name).items()}
            for key, value in arrays.items():
                if value.shape != (n,):
                    raise ValueError(f"{name}[{key!r}] must have shape ({n},), got {value.shape}")
            object.__setattr__(self, name, arrays)
        object.__setattr__(self, "total_norm", _frozen(self.total_norm))
        object.__setattr__(self, "total_norm_clipped", _frozen(self.total_norm_clipped))
        losses = np.full(n, np.nan) if self.losses is None else self.losses
        object.__setattr__(self, "losses", _frozen(losses))
        object.__setattr__(self, "meta", dict(self.meta))

    @property
    def weight_norms(self) -> Mapping[str, np.ndarray]:
        """Deprecated name of `grad_norms` (it held ||dL/dW||, not ||W||, which is `param_norms`)."""
        warnings.warn("GradientLog.weight_norms is deprecated: it is grad_norms (||dL/dW||); ||W|| is "
                      "param_norms", DeprecationWarning, stacklevel=2)
        return self.grad_norms

    def matrix(self, quantity: str = "signal") -> np.ndarray:
        """(layers, steps) array of 'signal', 'grad' (||dL/dW||; 'weight' is its old name), 'param' (||W||)
        or 'update' values in depth order."""
        source = {"signal": self.signal_norms, "grad": self.grad_norms, "weight": self.grad_norms,
                  "param": self.param_norms, "update": self.update_ratios}[quantity]
        return np.stack([source[name] for name in self.names]) if self.names else np.zeros((0, len(self.steps)))


@dataclass(frozen=True, eq=False)
class Swarm:
    """Many starts of one optimizer traced together as one batch (see gradviz.lecture.compare.trace_swarm).

    points: (n, N, 2) position of every start after k steps (NaN from where a start diverged on);
    losses: (n, N) f there; ends: (N,) index of each start's last finite point; diverged: (N,) bool.
    lrs: (n - 1,) the learning rate of each step (shared by all starts).
    """

    points: np.ndarray
    losses: np.ndarray
    ends: np.ndarray
    diverged: np.ndarray
    lrs: np.ndarray
    optimizer: str
    hyperparams: Mapping[str, Any] = field(default_factory=dict)
    function: str = ""
    label: str = ""
    schedule: str | None = None

    def __post_init__(self) -> None:
        points = _frozen(self.points)
        if points.ndim != 3 or points.shape[2] != 2:
            raise ValueError(f"points must have shape (n, N, 2), got {points.shape}")
        object.__setattr__(self, "points", points)
        n, count = points.shape[:2]
        for name, shape, dtype in (("losses", (n, count), float), ("ends", (count,), np.int64),
                                   ("diverged", (count,), bool), ("lrs", (n - 1,), float)):
            array = _frozen(getattr(self, name), dtype=dtype)
            if array.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
            object.__setattr__(self, name, array)
        object.__setattr__(self, "hyperparams", dict(self.hyperparams))

    def __len__(self) -> int:
        return self.points.shape[1]

    @property
    def steps(self) -> int:
        return self.points.shape[0] - 1

    @property
    def finals(self) -> np.ndarray:
        """(N, 2) each start's last finite position."""
        return self.points[self.ends, np.arange(len(self))]

    def trajectory(self, index: int) -> Trajectory:
        """Start `index` as a Trajectory (its finite prefix, as trace would record it)."""
        end = int(self.ends[index]) + 1
        return Trajectory(points=self.points[:end, index], losses=self.losses[:end, index],
                          grad_norms=np.full(end, np.nan), lrs=self.lrs[: end - 1], optimizer=self.optimizer,
                          hyperparams=self.hyperparams, function=self.function,
                          diverged_at=end if self.diverged[index] else None, steps_requested=self.steps,
                          schedule=self.schedule)


@dataclass(frozen=True, eq=False)
class BasinMap:
    """Where each start of a fine grid ends: labels[i, j] is the index into `minima` of the minimum that
    the start (x[j], y[i]) ended within `tol` of, -1 if none (or it diverged: see diverged); steps[i, j]
    the first step from which f - f* stayed <= f_tol (-1 where labels is -1)."""

    x: np.ndarray
    y: np.ndarray
    labels: np.ndarray
    steps: np.ndarray
    diverged: np.ndarray
    minima: np.ndarray
    optimizer: str
    hyperparams: Mapping[str, Any] = field(default_factory=dict)
    function: str = ""
    tol: float = 1e-2
    steps_requested: int = 0
    label: str = ""
    f_tol: float = 0.0

    def __post_init__(self) -> None:
        x, y = _frozen(self.x), _frozen(self.y)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        for name, dtype in (("labels", np.int64), ("steps", np.int64), ("diverged", bool)):
            array = _frozen(getattr(self, name), dtype=dtype)
            if array.shape != (len(y), len(x)):
                raise ValueError(f"{name} must have shape ({len(y)}, {len(x)}), got {array.shape}")
            object.__setattr__(self, name, array)
        object.__setattr__(self, "minima", _frozen(self.minima).reshape(-1, 2))
        object.__setattr__(self, "hyperparams", dict(self.hyperparams))

    def shares(self) -> np.ndarray:
        """(len(minima) + 1,) share of starts that reached each minimum, then the share that reached none
        without diverging; with the diverged share (`diverged.mean()`) they add up to 1."""
        labels = np.where(self.diverged, -2, self.labels).ravel()  # a diverged start counts once, as diverged
        counts = np.bincount(labels[labels >= -1] + 1, minlength=len(self.minima) + 1)
        return np.roll(counts, -1) / self.labels.size


@dataclass(frozen=True, eq=False)
class TuningTable:
    """Each optimizer's runs over a learning-rate grid, scored by a declared objective (lower is better).

    lrs, scores, finals, diverged: (optimizers, candidates). scores: the objective of each run (+inf where
    it diverged); finals: f - f* (or f where f* is unknown) after the last step. `best` picks the lowest
    score per optimizer (-1 if every candidate diverged or never reached the goal).
    """

    optimizers: tuple[str, ...]
    lrs: np.ndarray
    scores: np.ndarray
    finals: np.ndarray
    diverged: np.ndarray
    objective: str
    objective_summary: str = ""
    function: str = ""
    steps: int = 0
    labels: tuple[str, ...] = ()
    objective_short: str = ""
    grid_note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "optimizers", tuple(self.optimizers))
        object.__setattr__(self, "labels", tuple(self.labels) or self.optimizers)
        shape = (len(self.optimizers), np.shape(self.lrs)[-1] if np.ndim(self.lrs) else 0)
        for name, dtype in (("lrs", float), ("scores", float), ("finals", float), ("diverged", bool)):
            array = _frozen(getattr(self, name), dtype=dtype)
            if array.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
            object.__setattr__(self, name, array)

    @property
    def best(self) -> np.ndarray:
        """(optimizers,) index of the best candidate per optimizer, -1 where none scored finitely."""
        scores = np.where(np.isfinite(self.scores), self.scores, np.inf)
        index = np.argmin(scores, axis=1)
        return np.where(np.isfinite(scores[np.arange(len(scores)), index]), index, -1)

    @property
    def best_lrs(self) -> np.ndarray:
        best = self.best
        return np.where(best >= 0, self.lrs[np.arange(len(best)), np.maximum(best, 0)], np.nan)

    def grid_text(self) -> str:
        """'lr in 1e-04..0.1, 7 values' for a shared grid, else grid_note or per optimizer ranges."""
        rows = {tuple(row) for row in self.lrs}
        if len(rows) > 1 and self.grid_note:
            return _(self.grid_note)
        if len(rows) == 1:
            row = self.lrs[0]
            return _("{n} rates from {lo:.3g} to {hi:.3g}").format(n=len(row), lo=row[0], hi=row[-1])
        return _("lr grids ") + "; ".join(f"{name} {r[0]:.3g}..{r[-1]:.3g}" for name, r in zip(self.labels, self.lrs))

    def format(self) -> str:
        """The table as text: one row per optimizer, the score at each candidate, the winner starred."""
        lines = [f"objective: {self.objective} ({self.objective_summary}); {self.grid_text()}; "
                 f"{self.function}, {self.steps} steps"]
        width = max(len(label) for label in self.labels) if self.labels else 8
        for label, lrs, scores, diverged, best in zip(self.labels, self.lrs, self.scores, self.diverged, self.best):
            cells = []
            for k, (lr, score, gone) in enumerate(zip(lrs, scores, diverged)):
                value = "diverged" if gone else f"{score:.3g}"
                cells.append(f"{lr:.3g}:{value}" + ("*" if k == best else ""))
            lines.append(f"{label:<{width}}  " + "  ".join(cells))
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class HessianSpectrum:
    """What gradviz.hessian measured of the loss's Hessian at one weight vector.

    eigenvalues: the top-k eigenvalues, largest first (algebraic: a large negative one is not 'top');
    eigenvectors: (k, P) unit vectors in `parameters()` order; residuals: ||H v - lambda v|| of each pair.
    trace, trace_error: Hutchinson's estimate and its standard error (NaN when not asked for), from
    trace_samples Rademacher vectors. density_grid, density: the eigenvalue density by stochastic Lanczos
    quadrature (empty when not asked for), integrating to 1. products: Hessian-vector products spent.
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    residuals: np.ndarray
    trace: float = float("nan")
    trace_error: float = float("nan")
    trace_samples: int = 0
    density_grid: np.ndarray = field(default_factory=lambda: np.zeros(0))
    density: np.ndarray = field(default_factory=lambda: np.zeros(0))
    products: int = 0
    loss: float = float("nan")

    def __post_init__(self) -> None:
        for name in ("eigenvalues", "eigenvectors", "residuals", "density_grid", "density"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @property
    def top(self) -> float:
        """The largest eigenvalue: the sharpness."""
        return float(self.eigenvalues[0])


@dataclass(frozen=True, eq=False)
class SharpnessRun:
    """Full-batch gradient descent with the sharpness measured along the way (Cohen et al. 2021).

    steps, loss: the training loss before each step (and after the last); sharpness_steps, sharpness: the
    top Hessian eigenvalue at those steps. lr: the step size, so 2 / lr is the stability threshold. label:
    for a legend. meta: the settings (model, data, loss) for the figure's caption.
    """

    steps: np.ndarray
    loss: np.ndarray
    sharpness_steps: np.ndarray
    sharpness: np.ndarray
    lr: float
    label: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("steps", "loss", "sharpness_steps", "sharpness"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @property
    def threshold(self) -> float:
        """2 / lr: where GD on a quadratic of that curvature stops converging."""
        return 2.0 / self.lr
