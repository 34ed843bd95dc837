"""The choice lists of the any-model analysis, readable without importing torch: planes, direction norms,
metrics, named losses and precisions.

Each is a Registry of small entries that say what the choice needs, so the library's checks, the CLI's
option types, `--help` and error messages all read one list. The maths behind each entry lives in torch
code beside it (a plane's builder and default window in gradviz.analysis.landscape, a loss's function in
gradviz.analysis.losses); a test keeps those tables and these registries equal.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradviz.registry import Choice, InvalidArgument, registry_of

__all__ = ["PlaneChoice", "PrecisionChoice", "PLANES", "NORMS", "METRICS", "LOSSES", "PRECISIONS",
           "check_precision_name"]


@dataclass(frozen=True)
class PlaneChoice(Choice):
    """A plane (or line) through the weights: whether it needs training runs (snapshots) to be built, the
    loss (curvature), and whether it is a line (one axis: a 1-D curve, drawn as a .png)."""

    needs_runs: bool = False
    needs_loss: bool = False
    line: bool = False


PLANES = registry_of(
    "plane",
    PlaneChoice("random", "two random directions, normalized against the weights (--norm; Li et al. 2018)"),
    PlaneChoice("pca", "the PCA plane of training runs' snapshots, centred on the model (Li et al. 2018, sec. 7)",
                needs_runs=True),
    PlaneChoice("line", "the line from a run's initial weights (alpha 0) to the model (alpha 1): a 1-D curve "
                        "(Goodfellow et al. 2015)", needs_runs=True, line=True),
    PlaneChoice("hessian", "the loss Hessian's top two eigenvectors, unit length (the curvature along axis k is "
                           "eigenvalue k)", needs_loss=True),
)

NORMS = registry_of(
    "norm",
    Choice("filter", "each output unit's (filter's) slice scaled to the weights' slice norm (Li et al.)"),
    Choice("layer", "each tensor scaled to the weights' tensor norm"),
    Choice("none", "raw N(0, 1) directions: the picture depends on the weights' scale"),
)

METRICS = registry_of(
    "metric",
    Choice("loss", "mean training loss, as train minimises it"),
    Choice("accuracy", "share of training points classified correctly"),
)

LOSSES = registry_of(
    "loss",
    Choice("default", "the model's own .loss for dict batches (transformers); else BCE-with-logits for one output, "
                      "cross-entropy for several (as train)"),
    Choice("cross-entropy", "F.cross_entropy on (n, classes) logits: class indices or probabilities (soft labels)"),
    Choice("bce", "binary cross-entropy with logits on one output"),
    Choice("mse", "mean squared error (regression)"),
    Choice("l1", "mean absolute error (regression)"),
)


@dataclass(frozen=True)
class PrecisionChoice(Choice):
    """The arithmetic of an own-model landscape: cuda_only where it needs a CUDA device (and a float32 model)."""

    cuda_only: bool = False


PRECISIONS = registry_of(
    "precision",
    PrecisionChoice("float32", "the model's own dtype, as it is (float64 models stay float64)"),
    PrecisionChoice("tf32", "CUDA: matmuls and convolutions on TensorFloat-32 tensor cores (float32 model)",
                    cuda_only=True),
    PrecisionChoice("bf16", "CUDA: autocast to bfloat16, losses in float32 (float32 model)", cuda_only=True),
)


def check_precision_name(precision: str, device: str) -> str:
    """The precision's name, refused (one line, before torch) where it needs CUDA and `device` is not CUDA."""
    name = PRECISIONS.lookup(precision).name
    if PRECISIONS[name].cuda_only and not str(device).startswith("cuda"):
        raise InvalidArgument(f"precision {name!r} needs a CUDA device (here: {device}): drop it, or add "
                              "device 'cuda'")
    return name
