"""Drawing the empirical-risk and data-augmentation figures from gradviz/lecture/risk.py and
gradviz/lecture/augmentation.py (matplotlib only, no torch): the loss averaged over a sample against the
likelihood of that sample, the empirical risk closing in on the true risk as the sample grows, and a few
points with their rotated copies against held-out loss over seeds. Every string goes through `_()`.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from gradviz.i18n import _
from gradviz.render.figure import COLORS, _figure, _finish
from gradviz.render.theme import Theme

__all__ = ["draw_empirical_risk", "draw_augmentation"]


def _gaussian_panel(ax: Any, record: Any, font: float) -> None:
    best = record.thetas[np.argmin(record.mse)]
    ax.plot(record.thetas, record.mse, color=COLORS[0], label=_("MSE (torch)"))
    twin = ax.twinx()
    twin.plot(record.thetas, record.gaussian_nll, color=COLORS[1], ls="--", label=_("−log-likelihood / n"))
    twin.grid(False)
    ax.axvline(best, color=COLORS[6], lw=1, ls=":")
    ax.annotate(_("same argmin θ = {t:.2f}").format(t=best), (best, record.mse.min() + 0.62 * np.ptp(record.mse)),
                ha="center", fontsize=font * 0.9,
                bbox=dict(boxstyle="round", fc=ax.get_facecolor(), ec="none", alpha=0.9))
    ax.set_xlabel(_("slope θ"))
    ax.set_ylabel(_("MSE"), color=COLORS[0])
    twin.set_ylabel(_("Gaussian −log-likelihood / n"), color=COLORS[1])
    twin.tick_params(labelsize=font * 0.85)
    ax.set_title(_("y = θx + noise N(0, σ²)"))
    lines = ax.get_lines()[:1] + twin.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="upper center")


def _bernoulli_panel(ax: Any, record: Any, font: float) -> None:
    best = record.weights[np.argmin(record.bce)]
    ax.plot(record.weights, record.bce, color=COLORS[0], lw=5, alpha=0.45, label=_("cross-entropy (torch)"))
    ax.plot(record.weights, record.bernoulli_nll, color=COLORS[1], ls="--", label=_("−log-likelihood / n"))
    ax.axvline(best, color=COLORS[6], lw=1, ls=":")
    ax.annotate(_("argmin w = {w:.2f}").format(w=best), (best, record.bce.min() + 0.5 * np.ptp(record.bce)),
                ha="center", fontsize=font * 0.9,
                bbox=dict(boxstyle="round", fc=ax.get_facecolor(), ec="none", alpha=0.9))
    ax.set_xlabel(_("weight w"))
    ax.set_ylabel(_("mean loss"))
    ax.set_title(_("P(y=1|x) = σ(wx): the same curve"))
    ax.legend(loc="upper center")


def _convergence_panel(ax: Any, record: Any, font: float) -> None:
    sizes = record.sizes
    for row in record.risks:
        ax.plot(sizes, row, color=COLORS[0], lw=0.8, alpha=0.35)
    ax.fill_between(sizes, record.true_risk - 2 * record.spread, record.true_risk + 2 * record.spread,
                    color=COLORS[2], alpha=0.2, label=_("R ± 2·R·√(2/n)"))
    ax.axhline(record.true_risk, color=COLORS[1], lw=2, label=_("true risk R(θ) = {r:g}").format(r=record.true_risk))
    ax.plot([], [], color=COLORS[0], lw=0.8, label=_("empirical risk, {k} seeds").format(k=record.seeds))
    ax.set_xscale("log")
    ax.set_ylim(0, record.true_risk * 3)
    ax.set_xlabel(_("sample size n"))
    ax.set_ylabel(_("MSE at θ = {t:g}").format(t=record.theta_fixed))
    ax.set_title(_("empirical → true risk as n grows"))
    ax.legend(loc="upper right")


def draw_empirical_risk(record: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                        theme: str | Theme = "light", font_scale: float = 1.0) -> Figure:
    """Left: MSE and the Gaussian mean negative log-likelihood over the slope (one argmin); middle: BCE
    and the Bernoulli one (one curve); right: the empirical risk of a fixed slope against n over seeds."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    with style:
        left, middle, right = fig.subplots(1, 3)
        _gaussian_panel(left, record, font)
        _bernoulli_panel(middle, record, font)
        _convergence_panel(right, record, font)
        fig.supxlabel(textwrap.fill(_("n = {n} points, θ* = {t:g}, σ = {s:g}, w* = {w:g}; right: x ~ N(0, 1), "
                        "seeds 0–{last}").format(n=record.n, t=record.theta_true, s=record.sigma, w=record.w_true,
                                                   last=record.seeds - 1), 140), fontsize=font * 0.85)
        return _finish(fig, _("Empirical risk minimization = maximum likelihood (MSE ↔ Gaussian, "
                              "cross-entropy ↔ Bernoulli); it estimates the true risk"))


def _samples_panel(ax: Any, record: Any, font: float) -> None:
    from matplotlib.patches import Circle

    colours = np.where(record.augmented_labels > 0, COLORS[1], COLORS[0])
    ax.scatter(record.augmented[:, 0], record.augmented[:, 1], s=font * 1.2, c=colours, alpha=0.35, lw=0,
               label=_("{k} rotated copies each").format(k=record.copies))
    colours = np.where(record.labels > 0, COLORS[1], COLORS[0])
    ax.scatter(record.points[:, 0], record.points[:, 1], s=font * 6, c=colours, edgecolors="black", lw=1,
               label=_("{n} original points").format(n=record.n))
    ax.add_patch(Circle((0, 0), record.radius, fill=False, ls="--", lw=1.2, color=COLORS[6]))
    ax.set_xlim(-2.9, 2.9)
    ax.set_ylim(-2.9, 2.9)
    ax.set_aspect("equal")
    ax.set_title(_("class: inside the circle"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=1)


def _loss_panel(ax: Any, record: Any, font: float) -> None:
    runs = ((record.plain_test, _("without augmentation"), COLORS[0]),
            (record.augmented_test, _("with rotated copies"), COLORS[2]))
    for losses, label, colour in runs:
        ax.fill_between(record.steps, losses.min(0), losses.max(0), color=colour, alpha=0.2)
        ax.plot(record.steps, losses.mean(0), color=colour,
                label=_("{what}: {m:.2f} ({lo:.2f}–{hi:.2f})").format(what=label, m=losses[:, -1].mean(),
                                                                      lo=losses[:, -1].min(), hi=losses[:, -1].max()))
    ax.plot(record.steps, record.plain_train.mean(0), color=COLORS[0], ls=":", label=_("training loss, without"))
    ax.set_ylim(0, max(1.0, float(np.percentile(record.plain_test, 95))))
    ax.set_xlabel(_("Adam step (full batch)"))
    ax.set_ylabel(_("held-out BCE, {t} points").format(t=record.test))
    ax.set_title(_("held-out loss: mean and range over {k} seeds").format(k=record.seeds))
    ax.legend(loc="upper right", title=_("at the end: mean (min–max)"), title_fontsize=font * 0.85)


def draw_augmentation(record: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                      theme: str | Theme = "light", font_scale: float = 1.0) -> Figure:
    """Left: seed 0's training points with their rotated copies; right: held-out loss during training,
    with and without the copies, mean and range over the seeds."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    with style:
        left, right = fig.subplots(1, 2, width_ratios=(1, 1.5))
        _samples_panel(left, record, font)
        _loss_panel(right, record, font)
        fig.supxlabel(textwrap.fill(_("MLP 2-{h}-{h}-1 (ReLU), Adam lr {lr:g}, the same initial weights and points; lower "
                        "held-out loss with augmentation on {w} of {k} seeds ({first}–{last})").format(
                            h=record.hidden, lr=record.lr, w=record.wins, k=record.seeds, first=record.seed,
                            last=record.seed + record.seeds - 1), 140), fontsize=font * 0.85)
        return _finish(fig, _("Data augmentation: label-preserving transforms (here rotations) turn {n} points "
                              "into {m}, and the net generalizes").format(n=record.n,
                                                                          m=record.n * (record.copies + 1)))
