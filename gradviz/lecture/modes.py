"""The numbers behind two seminar figures about autograd itself, measured on real torch modules.

`train_eval_modes`: what model.train(), model.eval(), torch.no_grad() and requires_grad_(False) each switch,
read from a small net with Dropout and BatchNorm: whether dropout changes the output between two identical
calls, whether BatchNorm normalizes with the batch's statistics and updates its running mean, whether the
output has a grad_fn (a graph was built), how many parameters keep requires_grad=True, and which weights
get a .grad from backward. The lecture says eval() sets requires_grad=False; the measurement says it does
not (eval() switches layer behaviour, no_grad() switches graph building, requires_grad_(False) freezes).

`gradient_accumulation`: the seminar's own example (preds = zeros(5), labels = ones(5), MAE loss, backward
called five times: preds.grad goes -0.2, -0.4, ..., -1.0) beside zero_grad() between calls (-0.2 each
time), and accumulation used on purpose: four micro-batches of a logistic regression, each loss divided by
four, add up to the full batch's gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gradviz.i18n import N_

__all__ = ["MODES", "CHECKS", "ModeTable", "train_eval_modes", "Accumulation", "gradient_accumulation"]

# the columns: how the forward pass is run
MODES = ("model.train()", "model.eval()", "train() + no_grad()", "eval() + no_grad()", "fc1.requires_grad_(False)")
# the rows: what is measured
CHECKS = (N_("Dropout zeroes units"), N_("BatchNorm uses the batch's statistics"), N_("a graph is built (grad_fn)"),
          N_("parameters with requires_grad=True"), N_("fc1.weight.grad after backward()"))


@dataclass(frozen=True, eq=False)
class ModeTable:
    """values[i][j]: what CHECKS[i] measured under MODES[j] (True/False, or a count 'k/n' as a string);
    spread[j]: the largest |difference| between two calls on the same input (dropout's effect);
    running_shift[j]: how far BatchNorm's running_mean moved in one call; parameters: how many tensors."""

    modes: tuple[str, ...]
    checks: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    spread: np.ndarray
    running_shift: np.ndarray
    parameters: int
    dropout: float


def _net(seed: int, dropout: float) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(),
                               torch.nn.Dropout(dropout), torch.nn.Linear(16, 1))


def _measure(net: torch.nn.Sequential, x: torch.Tensor, mode: str) -> dict[str, Any]:
    net.train(mode not in ("model.eval()", "eval() + no_grad()"))
    if mode == "fc1.requires_grad_(False)":
        net[0].requires_grad_(False)
    grad_off = "no_grad" in mode
    before = net[1].running_mean.clone()
    with torch.no_grad() if grad_off else torch.enable_grad():
        torch.manual_seed(1)
        first = net(x)
        second = net(x)
    shift = float((net[1].running_mean - before).abs().max())
    graph = first.grad_fn is not None
    if graph:
        first.mean().backward()
    fc1 = "None (no graph)" if not graph else ("set" if net[0].weight.grad is not None else "None")
    trainable = sum(p.requires_grad for p in net.parameters())
    return {"spread": float((first - second).detach().abs().max()), "shift": shift, "graph": graph,
            "trainable": trainable, "fc1": fc1}


def train_eval_modes(*, seed: int = 0, dropout: float = 0.5, n: int = 64) -> ModeTable:
    """Measure each of MODES on a fresh copy of one 2-16-1 net (Linear, BatchNorm1d, ReLU, Dropout(p),
    Linear) with the same weights, on n random points."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=generator)
    state = _net(seed, dropout).state_dict()
    rows: list[dict[str, Any]] = []
    for mode in MODES:
        net = _net(seed, dropout)
        net.load_state_dict(state)
        rows.append(_measure(net, x, mode))
    total = len(list(_net(seed, dropout).parameters()))
    values = (
        tuple(r["spread"] > 0 for r in rows),
        tuple(r["shift"] > 0 for r in rows),
        tuple(r["graph"] for r in rows),
        tuple(f"{r['trainable']}/{total}" for r in rows),
        tuple(r["fc1"] for r in rows),
    )
    return ModeTable(MODES, CHECKS, values, np.array([r["spread"] for r in rows]),
                     np.array([r["shift"] for r in rows]), total, dropout)


@dataclass(frozen=True, eq=False)
class Accumulation:
    """The seminar's preds.grad after each backward call, accumulated and with zero_grad() between calls
    (calls, elements); a logistic regression's gradient from the full batch, from micro-batches with each
    loss divided by their number, and from micro-batches without that division (parameters,)."""

    accumulated: np.ndarray
    zeroed: np.ndarray
    full: np.ndarray
    micro: np.ndarray
    micro_unscaled: np.ndarray
    batches: int
    n: int
    names: tuple[str, ...]


def _seminar_grads(calls: int, zero: bool) -> np.ndarray:
    preds = torch.zeros(5, requires_grad=True)  # the seminar's tensors, as they are there
    labels = torch.ones(5, requires_grad=True)
    loss = torch.mean(torch.abs(labels - preds))
    out = []
    for _ in range(calls):
        loss.backward(retain_graph=True)
        out.append(preds.grad.detach().clone().numpy())
        if zero:
            preds.grad.zero_()
    return np.array(out, dtype=float)


def gradient_accumulation(*, calls: int = 5, n: int = 64, batches: int = 4, seed: int = 0) -> Accumulation:
    """The seminar's five backward calls, and `batches` micro-batches of a 2-input logistic regression
    (n points) accumulated into one gradient."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).to(torch.float64)
    torch.manual_seed(seed)
    model = torch.nn.Linear(2, 1).double()
    criterion = torch.nn.BCEWithLogitsLoss()

    def gradient(scale: float, parts: int) -> np.ndarray:
        model.zero_grad()
        for xb, yb in zip(X.chunk(parts), y.chunk(parts)):
            (criterion(model(xb).flatten(), yb) * scale).backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()]).numpy().copy()

    full = gradient(1.0, 1)
    return Accumulation(_seminar_grads(calls, False), _seminar_grads(calls, True), full,
                        gradient(1.0 / batches, batches), gradient(1.0, batches), batches, n,
                        (N_("weight w₁"), N_("weight w₂"), N_("bias b")))
