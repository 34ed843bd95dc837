"""Curvature of a model's loss: Hessian-vector products, top eigenvalues, trace, spectral density, sharpness.

The Hessian is never formed. A Hessian-vector product is one more backward pass through the gradient
(Pearlmutter 1994): Hv = grad <grad L(w), v>, taken with autograd at a flat weight vector w that goes into
the model through torch.func.functional_call, so the model itself is never written to. Over a data set the
Hessian of the mean loss is the sample-weighted mean of the batches' Hessians, so Hv is accumulated batch
by batch from the same DataSource the landscapes read (tensors of any shape or a DataLoader), in eval mode.

- Top eigenvalues: Lanczos with full reorthogonalization from a seeded random start, run until the top-k
  Ritz pairs' residuals ||Hv - lambda v|| = beta_m |s_m| fall below `tol` times |lambda| (Cohen et al. measure
  sharpness with Lanczos; PyHessian uses power iteration with deflation, which needs more products).
- Trace: Hutch++ (Meyer et al. 2021): the Lanczos basis's part exactly, Hutchinson's estimator on the rest
  (the mean of u^T H u over Rademacher vectors projected off that basis), until its standard error is small.
- Density: stochastic Lanczos quadrature (Ghorbani et al. 2019; as PyHessian): the Ritz values of m Lanczos
  steps from random vectors, weighted by their eigenvectors' squared first components, smoothed by a Gaussian.
- Sharpness during training: `sharpness_run` takes full-batch gradient-descent steps and measures the top
  eigenvalue every k steps: the edge of stability (Cohen et al. 2021), where it rises to 2 / lr and hovers.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from gradviz.analysis.evaluation import FlatModel, preserved
from gradviz.analysis.losses import LossRule
from gradviz.analysis.sources import Batch, DataSource, as_source
from gradviz.records import HessianSpectrum, SharpnessRun
from gradviz.registry import InvalidArgument, check_positive, check_seed

KEEP_GRAPH_BATCHES = 4  # batches of in-memory tensors whose gradient graph is kept across products
# With trace=True the Lanczos basis that deflates the trace has at least as many vectors as the least number
# of Hutchinson samples (Hutch++'s even split of products between the sketch and the samples). Stopping at
# the top eigenvalue alone (4-5 steps on the trained digits CNN) left large eigenvalues in the remainder:
# its samples were heavy-tailed, an RMS error of 4.5% over 10 seeds while the stated standard error said
# 1-3%; 10 vectors: 1.2% RMS, stated 1.0%, for 5 more products.
TRACE_SAMPLES_LEAST = 10

__all__ = ["hessian", "HessianOperator", "lanczos", "hutchpp_trace", "sharpness_run", "edge_of_stability", "EOS_LRS"]


class HessianOperator(FlatModel):
    """The loss of `model` on `data` as a function of flat weights: value, gradient and Hessian-vector
    products, each one pass over the data (eval mode, the model untouched). Vectors are flat, in
    `parameters()` order, on `device` in the model's dtype."""

    def __init__(self, model: nn.Module, data: Any, *, loss_fn: Any = None, compute_loss: Any = None,
                 device: Any = "cpu", batch_size: int | None = None, count: Any = None,
                 keep_graph: bool | None = None) -> None:
        from gradviz.analysis.evaluation import check_device

        super().__init__(model, device if isinstance(device, torch.device) else check_device(device),
                         "it has no Hessian")
        self.rule = LossRule.build(loss_fn, "loss", compute_loss)
        self.source: DataSource = as_source(data, batch_size=batch_size, count=count)
        self.products = 0
        # Data in memory (tensors in any batch form: (x, y), (x1, ..., y), a dict, (dict, y)), in at most
        # KEEP_GRAPH_BATCHES batches: the mean gradient's graph (create_graph) is built once per weight vector
        # and every product is one backward pass through it, as PyHessian does; rebuilt per product it cost
        # 1.7x. Its memory is every batch's activations at once, so a DataLoader or more batches rebuild it
        # per product (keep_graph=False always does).
        in_memory = self.source.whole is not None
        within = in_memory and -(-self.source.rows // self.source.batch_size) <= KEEP_GRAPH_BATCHES
        self.keep_graph = within if keep_graph is None else bool(keep_graph) and in_memory
        if self.keep_graph and batch_size is None and self.source.batch_size < self.source.rows:
            # the kept graph holds every batch's activations anyway: one batch of all rows has larger, faster
            # products for the same memory (the MLP's product on 2000 points: 1.2x faster than 2 x 1000)
            self.source = as_source(data, batch_size=self.source.rows, count=count)
        self.rule.check(model, self.source, device=self.device, dtype=self.dtype)  # on the batches it will read
        self._kept: tuple[torch.Tensor, int, torch.Tensor, torch.Tensor, float] | None = None

    def weights(self) -> torch.Tensor:
        """The model's own weights as one flat vector on the device."""
        return torch.cat([p.detach().reshape(-1) for p in self.model.parameters()]).to(self.device, self.dtype)

    def _mean(self, w: torch.Tensor, per_batch: Callable[[torch.Tensor, Batch], Any]) -> Any:
        total, count = None, 0
        with preserved(self.model):
            for batch in self.source.batches(self.device, self.dtype):
                part = per_batch(w, batch)
                total = part * batch.n if total is None else total + part * batch.n
                count += batch.n
        return total / count

    def loss(self, w: torch.Tensor) -> float:
        kept = self._kept
        if kept is not None and kept[0] is w and kept[1] == w._version:
            return kept[4]  # the kept graph's forward pass computed it already
        with torch.no_grad():
            return float(self._mean(w, self.value_at))

    def loss_and_gradient(self, w: torch.Tensor) -> tuple[float, torch.Tensor]:
        """The mean loss at w and its gradient, from one pass over the data."""
        def both(w: torch.Tensor, batch: Batch) -> torch.Tensor:
            w = w.detach().requires_grad_(True)
            loss = self.value_at(w, batch)
            return torch.cat([loss.detach().reshape(1), torch.autograd.grad(loss, w)[0]])

        mean = self._mean(w, both)
        return float(mean[0]), mean[1:]

    def hvp(self, w: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """H(w) v: the Hessian of the mean loss at w times v. v may also be (P, s): s products at once,
        one batched backward pass (torch.autograd.grad's is_grads_batched, vmap over the backward) on a kept
        graph, columns one by one otherwise.

        Under torch's math attention kernel, the kept graph's forward included: the fused scaled-dot-product
        kernels (flash, memory-efficient, the CPU's flash) have no derivative of their backward, which a
        Hessian-vector product takes, so a transformer's attention (nn.MultiheadAttention, transformers'
        'sdpa') runs as plain matrix products here: the same values, in every model, the model untouched."""
        with sdpa_kernel(SDPBackend.MATH):
            if v.dim() == 2:
                if self.keep_graph:
                    leaf, g = self._graph(w)
                    self.products += v.shape[1]
                    try:
                        return torch.autograd.grad(g, leaf, grad_outputs=v.T.contiguous(), retain_graph=True,
                                                   is_grads_batched=True)[0].T
                    except RuntimeError:  # an operation vmap cannot batch: one product at a time
                        self.products -= v.shape[1]
                return torch.stack([self.hvp(w, column) for column in v.T], 1)
            self.products += 1
            if self.keep_graph:
                leaf, g = self._graph(w)
                return torch.autograd.grad(g, leaf, grad_outputs=v, retain_graph=True)[0]

            def product(w: torch.Tensor, batch: Batch) -> torch.Tensor:
                w = w.detach().requires_grad_(True)
                g = torch.autograd.grad(self.value_at(w, batch), w, create_graph=True)[0]
                return torch.autograd.grad(g @ v, w)[0]

            return self._mean(w, product)

    def _graph(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(leaf, gradient of the mean loss with its graph) at w over the in-memory batches, built once per
        weight vector."""
        kept = self._kept
        if kept is None or kept[0] is not w or kept[1] != w._version:
            self._kept = None  # the old graph goes before the new one is built
            with preserved(self.model):
                leaf = w.detach().requires_grad_(True)
                total, count = None, 0
                for batch in self.source.batches(self.device, self.dtype):
                    part = self.value_at(leaf, batch) * batch.n
                    total = part if total is None else total + part
                    count += batch.n
                mean = total / count
                g = torch.autograd.grad(mean, leaf, create_graph=True)[0]
            self._kept = kept = (w, w._version, leaf, g, float(mean.detach()))
        return kept[2], kept[3]

    def release(self) -> None:
        """Drop the kept gradient graph (its activations)."""
        self._kept = None


def lanczos(matvec: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor, *, steps: int, top: int = 0,
            tol: float = 0.0, least: int = 0) -> tuple[np.ndarray, torch.Tensor, np.ndarray, np.ndarray]:
    """Lanczos with full reorthogonalization from `start`: -> (Ritz values ascending, Ritz vectors (P, m) as
    columns, residual norms beta_m |s_m|, first components of the tridiagonal's eigenvectors).

    Stops after `steps` steps, when the Krylov space is exhausted, or, with top > 0, once the `top` largest
    Ritz pairs have residuals below tol * |value| and at least `least` steps are done."""
    q = start / start.norm()
    # the basis as rows of one buffer that doubles when full: each step reads it in place (a stack of the
    # vectors per step copied the whole basis every step: 3.4 of 25 CPU s on ResNet-18)
    capacity = min(steps, len(start))
    buffer = torch.empty((min(capacity, 16), len(start)), dtype=q.dtype, device=q.device)
    buffer[0] = q
    size = 1
    alphas: list[float] = []
    betas: list[float] = []
    for j in range(steps):
        w = matvec(buffer[j]).clone()  # its own storage, worked on in place: a fresh tensor per operation
        # cost a page-faulting allocation each (40 of 270 CPU s were the system's on ResNet-18)
        alpha = float(w @ buffer[j])
        alphas.append(alpha)
        # the three-term recurrence first, then full reorthogonalization against the whole basis, a second
        # time only where the first removed most of what was left (Daniel-Gragg-Kaufman-Stewart): "twice is
        # enough" kept, at one pass over the basis in most steps instead of two
        w.sub_(buffer[j], alpha=alpha)
        if j:
            w.sub_(buffer[j - 1], alpha=betas[-1])
        Q = buffer[:size]
        beta = float(w.norm())
        for _ in range(2):
            before = beta
            w.addmv_(Q.T, Q @ w, alpha=-1)
            beta = float(w.norm())
            if beta > 0.7071 * before:
                break
        if not (math.isfinite(alpha) and math.isfinite(beta)):  # a NaN or inf in the product reaches both
            raise InvalidArgument("the Hessian-vector product is not finite: the loss or its gradient is NaN or inf "
                                  "at these weights (check the weights, the inputs and the loss for NaN)")
        T = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        values, vectors = np.linalg.eigh(T)
        residuals = np.abs(beta * vectors[-1])
        scale = max(abs(values[0]), abs(values[-1]), 1e-30)
        exhausted = beta <= 1e-10 * scale or size == len(start)
        if top and len(alphas) >= max(top, least):
            done = all(residuals[-i] <= tol * max(abs(values[-i]), 1e-12 * scale) for i in range(1, top + 1))
            if done:
                break
        if exhausted or j == steps - 1:
            break
        betas.append(beta)
        if size == buffer.shape[0]:
            grown = torch.empty((min(2 * size, capacity), len(start)), dtype=q.dtype, device=q.device)
            grown[:size] = buffer
            buffer = grown
        torch.div(w, beta, out=buffer[size])
        size += 1
    Q = buffer[:len(alphas)]
    ritz = Q.T @ torch.as_tensor(vectors, dtype=Q.dtype, device=Q.device)
    return values, ritz, residuals, vectors[0]


def _rademacher(n: int, generator: torch.Generator, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    # drawn in the float dtype: the same stream as int64 draws, 4x faster on ResNet-18's 11 M entries
    return torch.randint(0, 2, (n,), generator=generator, dtype=dtype).mul_(2).sub_(1).to(device)


def _signed(v: torch.Tensor) -> torch.Tensor:
    """An eigenvector's sign chosen so that its largest-magnitude entry is positive: the same run, the same sign."""
    return v if float(v[int(v.abs().argmax())]) >= 0 else -v


def hessian(
    model: nn.Module,
    data: Any,
    *,
    loss_fn: Any = None,
    compute_loss: Any = None,
    count: Any = None,
    top: int = 1,
    tol: float = 1e-4,
    max_steps: int = 100,
    trace: bool = False,
    trace_samples: int = 100,
    trace_tol: float = 0.05,
    density: bool = False,
    density_steps: int = 90,
    density_runs: int = 1,
    weights: Any = None,
    device: str = "cpu",
    batch_size: int | None = None,
    seed: int = 0,
) -> HessianSpectrum:
    """The top-`top` eigenvalues and eigenvectors of the Hessian of `model`'s mean loss on `data`, and on request
    its trace and eigenvalue density -> HessianSpectrum. Hessian-vector products only: the P x P matrix is never
    formed.

    data: tensors, a DataLoader or a re-iterable of batches in any form `landscape` takes ((x, y), (x1, ..., y),
    dict batches of a transformers model, (dict, y)); loss_fn: a callable (outputs, targets) -> mean loss or a
    name (default: the model's own .loss for dict batches, else BCE / cross-entropy, as `train`); compute_loss:
    (model, batch) -> mean loss for anything else; count: batch -> its number of samples (see
    gradviz.analysis.sources and gradviz.analysis.losses). Any attention works: the products run under torch's
    math attention kernel.
    The model is evaluated in eval mode and left untouched; the arithmetic is in the model's dtype (float64
    for a float64 model). weights: a flat vector to measure at instead of the model's own.
    Eigenvalues: Lanczos until each of the top pairs has ||Hv - lambda v|| <= tol |lambda| (at most max_steps
    products). trace: Hutch++ (Meyer, Musco, Musco, Woodruff 2021) on the Lanczos basis already computed:
    tr(H) = tr(Q^T H Q) + E[u^T H u] with u = (I - Q Q^T) v for Rademacher v, where Q^T H Q is Lanczos's
    tridiagonal matrix (its trace, the sum of the Ritz values, is free), so the large eigenvalues, which make
    plain Hutchinson's variance, are taken out exactly (with trace, Lanczos runs at least 10 steps); samples
    are drawn until the standard error is at most trace_tol |trace| (default 5%; at least 10, at most
    trace_samples products). density: stochastic Lanczos
    quadrature with density_steps steps from each of density_runs random vectors. Deterministic by `seed`.
    On data in memory (at most 4 batches, any batch form) the gradient's graph is built once per weight vector
    and every product is one backward through it.
    """
    top = check_positive("top", top, integer=True)
    max_steps = check_positive("max_steps", max_steps, integer=True)
    check_positive("tol", tol)
    operator = HessianOperator(model, data, loss_fn=loss_fn, compute_loss=compute_loss, device=device,
                               batch_size=batch_size, count=count)
    P = operator.n_params
    if top > P:
        raise InvalidArgument(f"invalid top: {top} (the model has {P} parameters)")
    w = operator.weights() if weights is None else torch.as_tensor(
        np.asarray(weights, dtype=np.float64)).reshape(-1).to(operator.device, operator.dtype)
    if w.numel() != P:
        raise InvalidArgument(f"weights have {w.numel()} entries, the model {P} parameters")
    if not bool(torch.isfinite(w).all()):
        bad = next((name for name, p in model.named_parameters() if not bool(torch.isfinite(p).all())), "the weights")
        raise InvalidArgument(f"the model's weights are not finite ({bad} holds NaN or inf): the Hessian there is "
                              "undefined; load finite weights")
    generator = torch.Generator().manual_seed(check_seed(seed))
    start = torch.randn(P, generator=generator, dtype=torch.float64).to(operator.device, operator.dtype)
    values, vectors, residuals, _ = lanczos(lambda v: operator.hvp(w, v), start, steps=min(max(max_steps, top), P),
                                            top=top, tol=tol, least=TRACE_SAMPLES_LEAST if trace else 0)
    order = np.argsort(values)[::-1][:top]
    eigenvectors = torch.stack([_signed(vectors[:, i] / vectors[:, i].norm()) for i in order])
    spectrum: dict[str, Any] = {}
    if trace:
        trace_samples = check_positive("trace_samples", trace_samples, integer=True)
        check_positive("trace_tol", trace_tol)
        estimate = hutchpp_trace(lambda u: operator.hvp(w, u), vectors, float(values.sum()), generator=generator,
                                 samples=trace_samples, tol=trace_tol)
        spectrum.update(trace=estimate[0], trace_error=estimate[1], trace_samples=estimate[2])
    if density:
        nodes, weights_ = [], []
        for _ in range(check_positive("density_runs", density_runs, integer=True)):
            v = _rademacher(P, generator, operator.dtype, operator.device)
            ritz, _, _, first = lanczos(lambda u: operator.hvp(w, u), v,
                                        steps=min(check_positive("density_steps", density_steps, integer=True), P))
            nodes.append(ritz)
            weights_.append(first ** 2)
        grid, smooth = _smoothed_density(np.concatenate(nodes), np.concatenate(weights_) / len(nodes))
        spectrum.update(density_grid=grid, density=smooth)
    return HessianSpectrum(eigenvalues=values[order], eigenvectors=eigenvectors.detach().to("cpu", torch.float64).numpy(),
                           residuals=residuals[order], products=operator.products, loss=operator.loss(w), **spectrum)


def hutchpp_trace(matvec: Callable[[torch.Tensor], torch.Tensor], basis: torch.Tensor, known: float, *,
                  generator: torch.Generator, samples: int = 100, tol: float = 0.05, least: int = TRACE_SAMPLES_LEAST,
                  block: int = 1) -> tuple[float, float, int]:
    """The trace of a symmetric operator given an orthonormal basis Q (P, m) whose part tr(Q^T H Q) = `known`
    is already computed: known + the mean of u^T H u over u = (I - Q Q^T) v, v Rademacher (Hutch++'s deflated
    Hutchinson; unbiased, since tr(H) = tr(P H P) + tr((I-P) H (I-P)) for the projector P = Q Q^T).
    Draws `block` vectors at a time until the standard error of the mean is at most tol |trace| (at least
    `least` samples, at most `samples`). -> (trace, standard error, samples drawn)."""
    P = basis.shape[0]
    values: list[float] = []
    while len(values) < samples:
        count = min(block, samples - len(values))
        if count == 1:
            u = _rademacher(P, generator, basis.dtype, basis.device)
            u.addmv_(basis, basis.T @ u, alpha=-1)  # in place (see lanczos)
            values.append(float(u @ matvec(u)))
        else:
            V = torch.stack([_rademacher(P, generator, basis.dtype, basis.device) for _ in range(count)], 1)
            U = V - basis @ (basis.T @ V)
            values.extend((U * matvec(U)).sum(0).tolist())
        if len(values) >= max(least, 2):
            error = float(np.std(values, ddof=1) / math.sqrt(len(values)))
            if error <= tol * abs(known + float(np.mean(values))):
                break
    error = float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("inf")
    return known + float(np.mean(values)), error, len(values)


def _smoothed_density(nodes: np.ndarray, weights: np.ndarray, points: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Ritz values and weights -> a Gaussian-smoothed density on a grid (sigma^2 = 1e-5 of the range squared,
    at least a little above zero), normalized to integrate to 1."""
    lo, hi = float(nodes.min()), float(nodes.max())
    span = max(hi - lo, 1e-8 * max(abs(lo), abs(hi), 1.0))
    sigma = math.sqrt(1e-5) * span
    pad = 0.01 * span + 5 * sigma
    grid = np.linspace(lo - pad, hi + pad, points)
    kernel = np.exp(-((grid[:, None] - nodes[None, :]) ** 2) / (2 * sigma ** 2)) / (sigma * math.sqrt(2 * math.pi))
    density = kernel @ weights
    density /= np.trapezoid(density, grid) if hasattr(np, "trapezoid") else np.trapz(density, grid)
    return grid, density


def sharpness_run(
    model: nn.Module,
    data: Any,
    *,
    lr: float,
    steps: int,
    every: int = 10,
    loss_fn: Any = None,
    lanczos_steps: int = 20,
    label: str | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> SharpnessRun:
    """Full-batch gradient descent on `model` (trained in place) with the sharpness, the top eigenvalue of the
    training loss's Hessian, measured every `every` steps by `lanczos_steps` steps of Lanczos (as Cohen et al.
    2021). The gradient is that of the mean loss over all of `data`, accumulated batch by batch; the step is
    w <- w - lr g, in eval mode (dropout off, BatchNorm on its running statistics). The loss is recorded at
    every step, before the update, and after the last."""
    lr = check_positive("lr", lr)
    steps = check_positive("steps", steps, integer=True)
    every = check_positive("every", every, integer=True)
    operator = HessianOperator(model, data, loss_fn=loss_fn, device=device)
    generator = torch.Generator().manual_seed(int(seed))
    w = operator.weights()
    losses, sharp_steps, sharp = [], [], []
    for step in range(steps + 1):
        if step % every == 0 or step == steps:
            start = torch.randn(w.numel(), generator=generator, dtype=torch.float64).to(w.device, w.dtype)
            values, _, _, _ = lanczos(lambda v: operator.hvp(w, v), start, steps=min(lanczos_steps, w.numel()))
            sharp_steps.append(step)
            sharp.append(float(values[-1]))
        if step == steps:
            losses.append(operator.loss(w))
            break
        loss, grad = operator.loss_and_gradient(w)  # the loss before the step, from the gradient's pass
        losses.append(loss)
        if not math.isfinite(losses[-1]):
            break
        w = w - lr * grad
        if progress is not None:
            progress(step + 1, steps)
    with torch.no_grad():
        for p, piece in zip(model.parameters(), torch.split(w, operator.sizes)):
            p.copy_(piece.reshape(p.shape))
    return SharpnessRun(steps=np.arange(len(losses)), loss=np.array(losses), sharpness_steps=np.array(sharp_steps),
                        sharpness=np.array(sharp), lr=float(lr), label=label if label is not None else f"lr {lr:g}")


EOS_LRS = (0.1, 0.2, 0.4)


def edge_of_stability(*, lrs: tuple[float, ...] = EOS_LRS, steps: int = 2400, every: int = 20, seed: int = 0,
                      progress: Callable[[int, int], None] | None = None) -> list[SharpnessRun]:
    """The runs of `gradviz figure edge-of-stability`: full-batch GD on one small net at several step sizes.

    MLP 2-64-64-2 (tanh) on 200 spirals points, mean squared error on one-hot labels (Cohen et al. see the
    effect most clearly with MSE), the same initial weights for every lr. Measured on this setting: at lr 0.1
    the sharpness climbs from 6.5 to 2/lr = 20 in about 1,400 steps (progressive sharpening), at 0.2 to 10 in
    about 500, and at 0.4 it starts above 2/lr = 5 and is pushed down to it; each then hovers near its 2/lr
    while the loss keeps falling, not monotonically."""
    from gradviz.lecture.data import make_dataset

    X, y = make_dataset("spirals", n=200, seed=seed)
    targets = nn.functional.one_hot(y, int(y.max()) + 1).to(torch.float32)
    runs = []
    for index, lr in enumerate(lrs):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
        run = sharpness_run(model, (X, targets), lr=lr, steps=steps, every=every, loss_fn="mse", seed=seed)
        runs.append(SharpnessRun(run.steps, run.loss, run.sharpness_steps, run.sharpness, run.lr,
                                 label=f"lr = {lr:g}  (2/lr = {2 / lr:g})",
                                 meta={"model": "MLP 2-64-64-2, tanh", "data": "200 spirals points",
                                       "loss": "MSE on one-hot labels", "every": every, "lanczos": 20}))
        if progress is not None:
            progress(index + 1, len(lrs))
    return runs
