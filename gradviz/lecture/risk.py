"""Empirical risk and maximum likelihood, computed: the numbers behind the `empirical-risk` figure.

The lecture: minimizing the empirical risk is minimizing the loss averaged over the data we have,
L(f) = (1/n) sum_i loss(f(x_i), y_i); the method of maximum likelihood chooses the parameters under which
the sample is most probable. Two facts tie them together, and one says why the empirical risk is worth
minimizing at all:

- Gaussian noise: y = theta* x + eps, eps ~ N(0, sigma^2). The mean negative log-likelihood per point is
  MSE / (2 sigma^2) + log(2 pi sigma^2) / 2: torch's MSE loss, scaled and shifted, with the same argmin.
- Bernoulli labels: P(y = 1 | x) = sigmoid(w x). The mean negative log-likelihood per point is exactly
  torch's binary cross-entropy: the same curve.
- The empirical risk of a fixed theta on n fresh points converges to the true (expected) risk
  R(theta) = (theta - theta*)^2 + sigma^2 (x ~ N(0, 1)); its spread over samples shrinks as
  s^2 sqrt(2 / n), s^2 = R(theta), since each squared residual is s^2 times a chi-square with 1 dof.

The losses come from torch.nn.functional; the likelihoods are written out in numpy, independently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["RiskRecord", "empirical_risk"]


@dataclass(frozen=True, eq=False)
class RiskRecord:
    """thetas: the grid of the regression slope; mse, gaussian_nll: torch's MSE and the Gaussian mean
    negative log-likelihood on the sample over that grid. weights: the logistic weight grid; bce,
    bernoulli_nll: torch's BCE and the Bernoulli mean negative log-likelihood. sizes: n; risks: (seeds,
    sizes) the empirical risk of `theta_fixed` on the first n points of each seed's sample; true_risk: R at
    theta_fixed. Settings: theta_true, sigma, n (points in the likelihood panels), w_true, seeds."""

    thetas: np.ndarray
    mse: np.ndarray
    gaussian_nll: np.ndarray
    weights: np.ndarray
    bce: np.ndarray
    bernoulli_nll: np.ndarray
    sizes: np.ndarray
    risks: np.ndarray
    true_risk: float
    theta_true: float
    theta_fixed: float
    sigma: float
    n: int
    w_true: float
    seeds: int

    @property
    def spread(self) -> np.ndarray:
        """The predicted standard deviation of the empirical risk over samples of each size."""
        return self.true_risk * np.sqrt(2.0 / self.sizes)


def _regression_curves(x: np.ndarray, y: np.ndarray, thetas: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    mse = np.array([float(F.mse_loss(t * xt, yt)) for t in thetas])
    residual = y[None, :] - thetas[:, None] * x[None, :]
    density = np.exp(-residual**2 / (2 * sigma**2)) / math.sqrt(2 * math.pi * sigma**2)
    return mse, -np.log(density).mean(1)


def _logistic_curves(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    bce = np.array([float(F.binary_cross_entropy_with_logits(w * xt, yt)) for w in weights])
    p = 1.0 / (1.0 + np.exp(-weights[:, None] * x[None, :]))
    likelihood = np.where(y[None, :] == 1, p, 1 - p)  # the probability of each observed label
    return bce, -np.log(likelihood).mean(1)


def empirical_risk(*, seed: int = 0, n: int = 30, theta_true: float = 2.0, sigma: float = 1.0,
                   w_true: float = 1.5, theta_fixed: float = 1.0, seeds: int = 20,
                   sizes: tuple[int, ...] = (2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)) -> RiskRecord:
    """The likelihood panels on one sample of n points (seed `seed`), and the empirical risk of
    theta_fixed on samples of each size for `seeds` seeds (seed, seed + 1, ...)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    y = theta_true * x + sigma * rng.standard_normal(n)
    thetas = np.linspace(theta_true - 2.0, theta_true + 2.0, 201)
    mse, gaussian = _regression_curves(x, y, thetas, sigma)
    labels = (rng.random(n) < 1.0 / (1.0 + np.exp(-w_true * x))).astype(float)
    weights = np.linspace(-1.0, 5.0, 241)
    bce, bernoulli = _logistic_curves(x, labels, weights)
    risks = np.zeros((seeds, len(sizes)))
    for s in range(seeds):
        draw = np.random.default_rng(seed + s)
        xs = draw.standard_normal(max(sizes))
        ys = theta_true * xs + sigma * draw.standard_normal(max(sizes))
        xt, yt = torch.as_tensor(xs), torch.as_tensor(ys)
        risks[s] = [float(F.mse_loss(theta_fixed * xt[:k], yt[:k])) for k in sizes]
    true = (theta_fixed - theta_true) ** 2 + sigma**2
    return RiskRecord(thetas, mse, gaussian, weights, bce, bernoulli, np.array(sizes, dtype=float), risks, true,
                      theta_true, theta_fixed, sigma, n, w_true, seeds)
