"""Independent references the tests compare gradviz against, written plainly and shared by the test files."""

from __future__ import annotations

import copy

import numpy as np
import torch


def rows_of(batch) -> int:
    """The samples in a batch: its last element's length, or its input_ids' for a dict batch."""
    return len(batch["input_ids"]) if isinstance(batch, dict) else len(batch[-1])


def loop_surface(model, batches, d1, d2, a, b, loss_of) -> np.ndarray:
    """The point-by-point loop: each grid point's weights (w + a d1 + b d2) copied into a copy of the model in
    eval mode, and loss_of(net, batch) averaged over the batches weighted by their rows. -> z[len(b), len(a)]."""
    net = copy.deepcopy(model).eval()
    base = [p.detach().clone() for p in net.parameters()]
    z = np.zeros((len(b), len(a)))
    with torch.no_grad():
        for i, bj in enumerate(b):
            for j, ai in enumerate(a):
                for p, w, u, v in zip(net.parameters(), base, d1, d2):
                    p.copy_(w + ai * u + bj * v)
                total = rows = 0
                for batch in batches:
                    total += float(loss_of(net, batch)) * rows_of(batch)
                    rows += rows_of(batch)
                z[i, j] = total / rows
    return z
