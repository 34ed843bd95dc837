"""Drawing the seminar's autograd figures from gradviz/lecture/modes.py and the no-free-lunch figure from
gradviz/lecture/free_lunch.py (matplotlib only, no torch): what train()/eval()/no_grad()/requires_grad_(False)
each switch, as a measured table; gradients adding up across backward() calls; every learner's error on
unseen points over all targets and over smooth ones. Every string goes through `_()` (gradviz/i18n.py).
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from gradviz.i18n import _
from gradviz.render.figure import COLORS, _figure, _finish
from gradviz.render.theme import Theme

__all__ = ["draw_modes", "draw_accumulation", "draw_no_free_lunch"]

YES, NO = "#009e73", "#999999"


def _cell_text(value: Any, check: int, record: Any, column: int) -> str:
    if isinstance(value, (bool, np.bool_)):
        word = _("yes") if value else _("no")
        if check == 0 and value:
            return word + "\n" + _("two calls differ\nby {d:.3g}").format(d=record.spread[column])
        if check == 1 and value:
            return word + "\n" + _("running_mean\nmoves {d:.3g}").format(d=record.running_shift[column])
        return word
    return {"set": _("computed"), "None": _("None (frozen)"), "None (no graph)": _("None (no graph)")}.get(
        value, value)


def _is_on(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and "/" in value:
        done, total = value.split("/")
        return done == total
    return value == "set"


def draw_modes(record: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100, theme: str | Theme = "light",
               font_scale: float = 1.0) -> Figure:
    """A table: one column per way of running the net (MODES), one row per measured switch (CHECKS); a
    cell is green where the switch is on."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    rows, columns = len(record.checks), len(record.modes)
    with style:
        ax = fig.subplots()
        ax.set_xlim(-1.5, columns)
        ax.set_ylim(rows + 0.75, -0.75)
        ax.axis("off")
        for j, mode in enumerate(record.modes):
            ax.text(j + 0.5, -0.4, mode.replace(" + ", "\n+ ").replace(".requires", "\n.requires"),
                    ha="center", va="center", fontsize=font * 0.85, family="monospace", fontweight="bold")
        for i, check in enumerate(record.checks):
            ax.text(-0.05, i + 0.5, textwrap.fill(_(check), 22), ha="right", va="center", fontsize=font * 0.9)
            for j, value in enumerate(record.values[i]):
                on = _is_on(value)
                ax.add_patch(_box(j, i, YES if on else NO, 0.3 if on else 0.12))
                ax.text(j + 0.5, i + 0.5, _cell_text(value, i, record, j), ha="center", va="center",
                        fontsize=font * 0.85, color=th.foreground)
        note = _("model.eval() leaves requires_grad=True on all {n} parameter tensors: it switches Dropout "
                 "(p = {p:g}) and BatchNorm to inference; torch.no_grad() stops building the graph; "
                 "freezing is requires_grad_(False)").format(n=record.parameters, p=record.dropout)
        ax.text((columns - 1.5) / 2, rows + 0.4, textwrap.fill(note, 120), ha="center", va="center",
                fontsize=font * 0.85)
        return _finish(fig, _("eval() and no_grad() switch different things: eval() does not set "
                              "requires_grad=False"))


def _box(x: float, y: float, colour: str, alpha: float) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x + 0.03, y + 0.05), 0.94, 0.9, color=colour, alpha=alpha, lw=0)


def draw_accumulation(record: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                      theme: str | Theme = "light", font_scale: float = 1.0) -> Figure:
    """Left: the seminar's preds.grad after each backward() call, without and with zero_grad() between;
    right: a logistic regression's gradient from the full batch and from accumulated micro-batches."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    with style:
        left, right = fig.subplots(1, 2)
        calls = np.arange(1, len(record.accumulated) + 1)
        left.plot(calls, record.accumulated[:, 0], "o-", color=COLORS[1], ms=font * 0.7,
                  label=_("backward() again: grads add up"))
        left.plot(calls, record.zeroed[:, 0], "s--", color=COLORS[0], ms=font * 0.6,
                  label=_("preds.grad.zero_() between calls"))
        for c, g in zip(calls, record.accumulated[:, 0]):
            left.annotate(f"{g:.1f}", (c, g), xytext=(8, -14), textcoords="offset points", fontsize=font * 0.85)
        left.set_xticks(calls)
        left.set_xlabel(_("call of loss.backward(retain_graph=True)"))
        left.set_ylabel(_("preds.grad (each of the 5 elements)"))
        left.set_ylim(min(record.accumulated[:, 0]) * 1.15, 0.1)
        left.set_title(_("the seminar: preds = zeros(5), labels = ones(5), MAE"))
        left.legend(loc="lower left")
        width = 0.27
        index = np.arange(len(record.names))
        bars = ((record.full, _("full batch ({n} points)").format(n=record.n), COLORS[0]),
                (record.micro, _("{k} micro-batches, loss / {k}").format(k=record.batches), COLORS[2]),
                (record.micro_unscaled, _("{k} micro-batches, no / {k}").format(k=record.batches), COLORS[1]))
        for k, (values, label, colour) in enumerate(bars):
            right.bar(index + (k - 1) * width, values, width, color=colour, label=label)
        right.axhline(0, color=th.foreground, lw=0.8)
        right.set_xticks(index, [_(name) for name in record.names])
        right.set_ylabel(_("gradient of the BCE loss"))
        right.set_title(_("accumulation on purpose: logistic regression"))
        right.legend(loc="lower right")
        return _finish(fig, _("Gradients accumulate at every backward() call until zero_grad(): "
                              "{k} micro-batches with loss / {k} give the full batch's gradient").format(
                                  k=record.batches))


def draw_no_free_lunch(record: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                       theme: str | Theme = "light", font_scale: float = 1.0) -> Figure:
    """Each learner's mean off-training-set error over every target labeling (left: all exactly 1/2) and
    over the linearly separable ones (right)."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    targets, smooth, splits, seen = record.counts
    names = [_(name) for name in record.learners]
    colours = [COLORS[i % len(COLORS)] for i in range(len(names))]
    with style:
        panels = fig.subplots(1, 2, sharey=True)
        titles = (_("all {t} labelings of the cube's 8 corners").format(t=targets),
                  _("the {s} a linear threshold can draw").format(s=smooth))
        for ax, means, title in zip(panels, (record.mean_all, record.mean_smooth), titles):
            y = np.arange(len(names))[::-1]
            ax.barh(y, means, color=colours, height=0.6)
            for yy, m in zip(y, means):
                ax.text(m + 0.01, yy, f"{m:.3f}", va="center", fontsize=font * 0.9)
            ax.axvline(0.5, color=th.foreground, lw=1, ls="--")
            ax.set_xlim(0, 0.8)
            ax.set_yticks(y, names)
            ax.set_title(title)
            ax.set_xlabel(_("mean error on the {u} unseen corners").format(u=8 - seen))
        fig.supxlabel(_("{seen} corners seen, averaged over all {splits} training sets; exact enumeration, "
                        "no sampling").format(seen=seen, splits=splits), fontsize=font * 0.85)
        return _finish(fig, _("No free lunch: averaged over all tasks every learner errs on half the unseen "
                              "points; only assumptions about the task make one better"))
