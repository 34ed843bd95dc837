"""Drawing the lecture's figures from the records of gradviz/lecture/topics.py (matplotlib only, no torch).

Each `draw_*` function takes one record and returns a matplotlib Figure sized for a slide: a title, labelled
axes, a legend, and every piece of text inside the figure (constrained layout). Animated figures reuse the
trajectory renderer (`batch-size`) or extend it with arrows for the velocity (`momentum`).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import numpy as np
from matplotlib.figure import Figure

from gradviz.i18n import N_, _
from gradviz.render.layout import RoundedConstrainedLayout
from gradviz.render.theme import THEMES, Theme, optimizer_colour, trail_colours
from gradviz.render.trajectories import TrajectoryRenderer

__all__ = [
    "draw_losses", "draw_activations", "draw_vanishing_bound", "draw_learning_rates", "draw_adam_bias",
    "draw_regularization", "draw_universal_approximation", "draw_adaptive", "MomentumRenderer", "new_figure", "rgb_of",
    "arrows_inside",
]

# the names the records of gradviz/lecture/topics.py give their curves, translated where they are drawn
CURVE_NAMES = (N_("hinge"), N_("logistic / ln 2"), N_("squared"), N_("exponential"), N_("sigmoid"),
               N_("leaky ReLU (a=0.01)"), N_("too small"), N_("right"), N_("oscillating"), N_("diverging"))

COLORS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")  # Okabe-Ito


def _theme(theme: str | Theme) -> Theme:
    return theme if isinstance(theme, Theme) else THEMES.lookup(theme)


def _font(size: tuple[int, int], dpi: float, font_scale: float = 1.0) -> float:
    """Points for body text: the same share of the image at any size and dpi (10 pt at 960x540 / 100 dpi)."""
    from gradviz.render.theme import FONT_SCALE

    return max(6.0, 10.0 * min(size[0] / 960, size[1] / 540) * 100 / dpi * font_scale * FONT_SCALE.get())


@contextmanager
def _style(theme: Theme, font: float) -> Iterator[None]:
    import matplotlib

    colours = [theme.foreground if c == "#000000" and theme.name == "dark" else c for c in COLORS]
    with matplotlib.rc_context({
        "font.size": font, "axes.titlesize": font * 1.15, "axes.labelsize": font, "legend.fontsize": font * 0.85,
        "xtick.labelsize": font * 0.85, "ytick.labelsize": font * 0.85, "figure.titlesize": font * 1.3,
        "text.color": theme.foreground, "axes.labelcolor": theme.foreground, "axes.edgecolor": theme.grid,
        "xtick.color": theme.foreground, "ytick.color": theme.foreground, "axes.facecolor": theme.background,
        "figure.facecolor": theme.background, "savefig.facecolor": theme.background, "grid.color": theme.grid,
        "legend.facecolor": theme.background, "legend.edgecolor": theme.grid, "legend.labelcolor": theme.foreground,
        "axes.grid": True, "grid.alpha": 0.6, "lines.linewidth": 2.0 * font / 10,
        "axes.prop_cycle": matplotlib.cycler(color=colours), "mathtext.fontset": "dejavusans",
    }):
        yield


def new_figure(size: tuple[int, int] = (960, 540), dpi: float = 100, theme: str | Theme = "light",
               font_scale: float = 1.0) -> tuple[Figure, float, Theme]:
    """An Agg figure of `size` pixels with constrained layout (which keeps all text inside it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    theme = _theme(theme)
    fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi, layout=RoundedConstrainedLayout(),
                 facecolor=theme.background)
    FigureCanvasAgg(fig)
    return fig, _font(size, dpi, font_scale), theme


def rgb_of(fig: Figure) -> np.ndarray:
    """The figure drawn, as an (H, W, 3) uint8 array."""
    from gradviz.render.frames import rgb_copy

    fig.canvas.draw()
    return rgb_copy(np.asarray(fig.canvas.buffer_rgba()))


def _figure(size: tuple[int, int], dpi: float, theme: str | Theme, font_scale: float):  # type: ignore[no-untyped-def]
    fig, font, th = new_figure(size, dpi, theme, font_scale)
    return fig, font, th, _style(th, font)


def _wrap(text: Any, width: float, box: Any) -> bool:
    """Re-wrap a Text to fit `width` pixels and the figure's `box`; False when it fits or cannot be wrapped."""
    import textwrap

    extent = text.get_window_extent()
    content = " ".join(text.get_text().split())
    outside = extent.x0 < box.x0 or extent.x1 > box.x1
    if (extent.width <= width and not outside) or " " not in content:
        return False
    width = min(width, extent.width * 0.9)
    lines = max(2, int(np.ceil(extent.width / width)) + content.count("\n"))
    longest = max(len(word) for word in content.split())
    text.set_text("\n".join(textwrap.wrap(content, width=int(np.ceil(len(content) / lines)) + longest // 2 + 1)))
    return True


def _finish(fig: Figure, title: str) -> Figure:
    """Add the title, then make the text fit: titles wider than their axes (or the figure) are wrapped and
    legends that stick out of the figure shrink, a few rounds of constrained layout at most."""
    fig.suptitle(title, fontweight="bold")
    for _round in range(4):
        fig.canvas.draw()  # resolve the constrained layout inside the style context
        box = fig.bbox
        changed = _wrap(fig._suptitle, box.width * 0.98, box)
        for ax in fig.axes:
            changed |= _wrap(ax.title, ax.get_window_extent().width * 1.1, box)
            legend = ax.get_legend()
            if legend is not None:
                extent = legend.get_window_extent()
                if extent.x0 < box.x0 or extent.x1 > box.x1 or extent.y0 < box.y0 or extent.y1 > box.y1:
                    for text in legend.get_texts():
                        text.set_fontsize(text.get_fontsize() * 0.85)
                    changed = True
        if not changed:
            break
    return fig


# -- static figures -----------------------------------------------------------------------------------------

def draw_losses(curves: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100, theme: str | Theme = "light",
                font_scale: float = 1.0) -> Figure:
    """Losses against the margin y f(x) (left); the log loss as -log p(y|x) against p (right)."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    with style:
        left, right = fig.subplots(1, 2, width_ratios=(2, 1))
        for name, y in curves.curves.items():
            kwargs = {"drawstyle": "steps-post", "color": th.foreground} if name == "0-1" else {}
            left.plot(curves.x, y, label=_(name), **kwargs)
        left.set_ylim(-0.1, 4.0)
        left.set_xlim(curves.x[0], curves.x[-1])
        left.axvline(0, color=th.grid, lw=1, zorder=0)
        left.set_xlabel(_("margin  m = y·f(x)   (m < 0: wrong side)"))
        left.set_ylabel(_("loss"))
        left.set_title(_("upper bounds of the 0-1 loss"))
        left.legend(loc="upper right")
        right.plot(curves.extra["p"], curves.extra["nll"], color=COLORS[1], label="−log p(y | x)")
        right.set_xlim(0, 1)
        right.set_ylim(0, 5.5)
        right.set_xlabel("p(y | x) = σ(m)")
        right.set_ylabel(_("log loss"))
        right.set_title(_("log loss = negative log-likelihood"))
        right.legend(loc="upper right")
        return _finish(fig, _("Loss functions of the margin"))


def draw_activations(curves: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                     theme: str | Theme = "light", font_scale: float = 1.0) -> Figure:
    """Activations (left) and their derivatives (right), sigmoid' <= 1/4 marked, saturation shaded."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    names = [n for n in curves.curves if not n.endswith("'")]
    edge = curves.extra["saturated"]
    x = curves.x
    with style:
        left, right = fig.subplots(1, 2)
        for ax in (left, right):
            for lo, hi in ((x[0], -edge), (edge, x[-1])):
                ax.axvspan(lo, hi, color=COLORS[4], alpha=0.15, lw=0,
                           label=_("sigmoid saturated: σ' < 0.01") if lo == x[0] else None)
        for name in names:
            left.plot(x, curves.curves[name], label=_(name))
            right.plot(x, curves.curves[name + "'"], label=_(name) + "'")
        right.axhline(0.25, color=COLORS[0], ls="--", lw=1.2)
        right.plot([0], [0.25], "o", color=COLORS[0], ms=font * 0.6, label=_("max σ' = σ'(0) = 1/4"))
        left.set_ylim(-1.5, 3.0)
        right.set_ylim(-0.1, 1.5)
        for ax, what in ((left, _("activation g(x)")), (right, _("derivative g'(x)"))):
            ax.set_xlim(x[0], x[-1])
            ax.set_xlabel("x")
            ax.set_ylabel(what)
            ax.legend(loc="upper left")
        left.set_title(_("activations"))
        right.set_title(_("derivatives: σ' is noticeably > 0 only near 0"))
        return _finish(fig, _("Activations and their derivatives"))


def draw_vanishing_bound(curves: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                         theme: str | Theme = "light", font_scale: float = 1.0) -> Figure:
    """0.25^n on a log axis against n sigmoid layers, with what deep sigmoid MLPs measure at two weight
    scales: the product of their mean sigma' factors (under the bound) and their first/last gradient ratio
    (the product times the weights: above the bound when the weights are large)."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    layers = curves.extra["layers"]
    with style:
        ax = fig.subplots()
        ax.semilogy(curves.x, curves.curves["bound"], "--", color=th.foreground, lw=1.6,
                    label=_("0.25ⁿ: bound on a product of n σ' factors"))
        names = {"default": _("PyTorch default init"), "scaled 4": _("large weights, N(0, 16/fan_in)")}
        for i, key in enumerate(curves.extra["product"]):
            name = names.get(key, key)
            ax.semilogy(layers, curves.extra["product"][key], "o:", color=COLORS[i], ms=font * 0.6,
                        label=_("product of mean σ', {name}").format(name=name))
            ax.semilogy(layers, curves.extra["ratio"][key], "s-", color=COLORS[i], ms=font * 0.6,
                        label=_("gradient first/last layer, {name}").format(name=name))
        ax.set_xlabel(_("number n of sigmoid layers the gradient passes through"))
        ax.set_ylabel(_("factor (log scale)"))
        ax.set_title(_("the gradient is σ' × W per layer: only the σ' part is bounded by 1/4"))
        ax.legend(loc="lower left")
        return _finish(fig, _("Vanishing gradients: 0.25ⁿ bounds the σ' factors, not the gradient"))


def draw_learning_rates(record: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                        theme: str | Theme = "light", font_scale: float = 1.0) -> Figure:
    """Top: GD on (a/2) x^2, one panel per lr, each scaled to the points it shows. Bottom: the same on a
    2-D quadratic (every shown point inside the axes), and loss against step."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    a = record.curvature
    shown_1d, shown_2d = 7, 9
    with style:
        grid = fig.add_gridspec(2, 4, height_ratios=(1, 1.25))
        top = [fig.add_subplot(grid[0, i]) for i in range(4)]
        contour_ax = fig.add_subplot(grid[1, :2])
        loss_ax = fig.add_subplot(grid[1, 2:])
        for i, (ax, name, c) in enumerate(zip(top, record.names, record.factors)):
            path = record.paths_1d[i][:shown_1d]
            span = 1.15 * float(np.abs(path).max())
            xs = np.linspace(-span, span, 200)
            ax.plot(xs, 0.5 * a * xs**2, color=th.grid if th.name == "dark" else "#999999", lw=1.5)
            ax.plot(path, 0.5 * a * path**2, "o-", color=COLORS[i], ms=font * 0.4, lw=1.3)
            ax.set_title(_(name) + "\n" + _("lr = {c:g}/a").format(c=c), color=COLORS[i] if th.name == "light" else th.foreground)
            ax.set_xlim(-span, span)
            ax.set_ylim(-0.05 * 0.5 * a * span**2, 0.5 * a * span**2)
            ax.set_xlabel("x")
            if i == 0:
                ax.set_ylabel("f(x) = a x²/2")
        a1, a2 = record.curvatures_2d
        shown = record.paths_2d[:, :shown_2d]
        (xlo, ylo), (xhi, yhi) = shown.reshape(-1, 2).min(axis=0), shown.reshape(-1, 2).max(axis=0)
        xpad, ypad = 0.08 * (xhi - xlo), 0.08 * (yhi - ylo)
        (xlo, xhi), (ylo, yhi) = (xlo - xpad, xhi + xpad), (ylo - ypad, yhi + ypad)
        gx, gy = np.meshgrid(np.linspace(xlo, xhi, 200), np.linspace(ylo, yhi, 200))
        contour_ax.contour(gx, gy, 0.5 * (a1 * gx**2 + a2 * gy**2), levels=12, colors=th.grid, linewidths=0.8)
        for i, name in enumerate(record.names):
            path = shown[i]
            contour_ax.plot(path[:, 0], path[:, 1], "o-", color=COLORS[i], ms=font * 0.35, lw=1.3, label=_(name))
            loss_ax.semilogy(np.arange(record.losses_2d.shape[1]), record.losses_2d[i], "o-", ms=font * 0.3,
                             color=COLORS[i], label=f"{record.factors[i]:g}/a₂: {_(name)}")
        contour_ax.plot([0], [0], "*", color=th.minimum, ms=font * 1.2, mec=th.foreground)
        contour_ax.set_xlim(xlo, xhi)
        contour_ax.set_ylim(ylo, yhi)
        # room below the curves for the legend
        loss_ax.set_ylim(float(record.losses_2d.min()) / 1e3, float(record.losses_2d.max()) * 3)
        contour_ax.set_xlabel("x")
        contour_ax.set_ylabel("y")
        contour_ax.set_title(_("(a₁x² + a₂y²)/2, a₁ = {a1:g}, a₂ = {a2:g}: {k} steps").format(a1=a1, a2=a2, k=shown_2d - 1))
        loss_ax.set_xlabel(_("iteration"))
        loss_ax.set_ylabel(_("f (log scale)"))
        loss_ax.set_title(_("loss against iterations"))
        loss_ax.legend(loc="lower left", ncols=2, title="lr")
        return _finish(fig, _("Learning rate on a quadratic: converges for lr < 2/a; in 2-D, lr < 2/a_max "
                              "(the largest curvature)"))


def draw_adam_bias(record: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                   theme: str | Theme = "light", font_scale: float = 1.0) -> Figure:
    """m_t, m̂_t (left), v_t, v̂_t (middle) for a constant gradient; the step as a multiple of lr with and
    without the correction, and RMSprop's (right); t on a log axis."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    b1, b2 = record.betas
    g = record.gradient
    t = record.t
    with style:
        m_ax, v_ax, s_ax = fig.subplots(1, 3)
        m_ax.semilogx(t, record.m, color=COLORS[1], label=_("m_t (torch exp_avg)"))
        m_ax.semilogx(t, record.m_hat, "--", color=COLORS[0], label="m̂_t = m_t / (1 − β₁ᵗ)")
        m_ax.axhline(g, color=th.grid, lw=1, zorder=0)
        m_ax.set_ylim(0, 1.25 * g)
        m_ax.set_title(_("first moment, β₁ = {b1:g}").format(b1=b1))
        m_ax.set_ylabel(_("estimate of g = {g:g}").format(g=g))
        v_ax.loglog(t, record.v, color=COLORS[1], label=_("v_t (torch exp_avg_sq)"))
        v_ax.loglog(t, record.v_hat, "--", color=COLORS[0], label="v̂_t = v_t / (1 − β₂ᵗ)")
        v_ax.set_title(_("second moment, β₂ = {b2:g}").format(b2=b2))
        v_ax.set_ylabel(_("estimate of g² = {g2:g}").format(g2=g * g))
        v_ax.set_ylim(record.v.min() / 3, 3 * g * g)
        s_ax.semilogx(t, record.step_rmsprop, color=optimizer_colour("rmsprop", th), label=_("RMSprop (torch, no correction)"))
        s_ax.semilogx(t, record.step_uncorrected, ":", color=trail_colours(["adam", "adam"], th)[1], lw=2.4,
                      label=_("Adam without correction: m_t/√v_t"))
        s_ax.semilogx(t, record.step_adam, "--", color=optimizer_colour("adam", th), label=_("Adam (torch): m̂_t/√v̂_t"))
        s_ax.annotate(_("first step: {s:.3g} × lr").format(s=record.step_rmsprop[0]), (t[0], record.step_rmsprop[0]),
                      xytext=(t[0] * 3, record.step_rmsprop[0] * 0.97), va="center",
                      arrowprops=dict(arrowstyle="->", color=th.foreground, lw=1))
        s_ax.set_ylim(0, 1.2 * float(np.nanmax(record.step_rmsprop)))
        s_ax.set_title(_("the step, in units of lr"))
        s_ax.set_ylabel(_("|Δθ| / lr for a constant gradient"))
        for ax in (m_ax, v_ax, s_ax):
            ax.set_xlabel(_("step t (log scale)"))
            ax.set_xlim(1, t[-1])
        m_ax.legend(loc="lower right")
        v_ax.legend(loc="lower right")
        s_ax.legend(loc="upper right")
        return _finish(fig, _("Adam's bias correction (β₁ = {b1:g}, β₂ = {b2:g}, ε = {eps:g}): βᵗ is β to "
                              "the power t, not the t-th β (as the lecture's note has it)").format(b1=b1, b2=b2, eps=record.eps))


def draw_regularization(record: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                        theme: str | Theme = "light", font_scale: float = 1.0) -> Figure:
    """L1 diamond and L2 disc with the loss contours and constrained optima; paths under L1 and L2."""
    from matplotlib.lines import Line2D

    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    # space at the image's edges: the last panel's spine and the legends kept off the right edge
    pad = 0.8 * font / 72
    fig.get_layout_engine().set(w_pad=pad, h_pad=pad)
    A, c, t = record.A, record.center, record.radius
    with style:
        ball_ax, l1_ax, l2_ax = fig.subplots(1, 3, width_ratios=(1.15, 1, 1))
        # the grid reaches past any view the equal aspect may give the panel: contours to its edges
        gx, gy = np.meshgrid(np.linspace(-4.0, 7.0, 440), np.linspace(-4.0, 4.5, 340))
        d = np.stack([gx - c[0], gy - c[1]], axis=-1)
        loss = 0.5 * np.einsum("...i,ij,...j->...", d, A, d)
        # contours through both optima (they touch the regions there), a few inside them and a few outside,
        # and a view that holds every one of them whole: none cut off at the panel's edge
        touching = [0.5 * (w - c) @ A @ (w - c) for w in (record.l1_optimum, record.l2_optimum)]
        levels = np.sort(np.unique(np.r_[touching, np.array([0.15, 0.5]) * min(touching),
                                         1.6 * max(touching)]))
        spread = np.sqrt(2 * levels.max() * np.diag(np.linalg.inv(A)))  # the largest ellipse's half extents
        ball_ax.contour(gx, gy, loss, levels=levels, colors=th.grid if th.name == "dark" else "#888888",
                        linewidths=0.9)
        ball_ax.fill([t, 0, -t, 0], [0, t, 0, -t], color=COLORS[0], alpha=0.25, label="‖w‖₁ ≤ t")
        angle = np.linspace(0, 2 * np.pi, 200)
        ball_ax.plot(t * np.cos(angle), t * np.sin(angle), color=COLORS[1], lw=1.8, label="‖w‖₂ ≤ t")
        ball_ax.plot(*c, "*", color=th.minimum, ms=font * 1.3, mec=th.foreground, label=_("unconstrained optimum"))
        ball_ax.plot(*record.l1_optimum, "o", color=COLORS[0], ms=font * 0.8, mec=th.foreground,
                     label=_("L1 optimum (w₂ = 0)"))
        ball_ax.plot(*record.l2_optimum, "s", color=COLORS[1], ms=font * 0.7, mec=th.foreground, label=_("L2 optimum"))
        ball_ax.set_aspect("equal")
        margin = 0.12 * t
        ball_ax.set_xlim(min(-t, c[0] - spread[0]) - margin, max(t, c[0] + spread[0]) + margin)
        ball_ax.set_ylim(min(-t, c[1] - spread[1]) - margin, max(t, c[1] + spread[1]) + margin)
        ball_ax.set_xlabel("w₁")
        ball_ax.set_ylabel("w₂")
        ball_ax.set_title(_("constraint regions, loss contours"))
        for ax, path, name in ((l1_ax, record.path_l1, "L1: λ‖w‖₁"), (l2_ax, record.path_l2, "L2: (λ/2)‖w‖₂²")):
            for j in range(path.shape[1]):
                ax.semilogx(record.lambdas, path[:, j], "o-", ms=font * 0.25, color=COLORS[j], label=f"w{j + 1}")
            ax.axhline(0, color=th.foreground, lw=0.8)
            ax.set_xlabel(_("λ (log scale)"))
            ax.set_title(_("path, {name}").format(name=name))
            ax.set_xlim(record.lambdas.min(), record.lambdas.max())
        marker = dict(color=th.foreground, ls="--", lw=1)
        l1_ax.axvline(record.lambda_max, **marker)
        # named at the line's top, in the empty corner above the paths; the legend says what it means
        l1_ax.annotate(r"$\lambda_{max}$", (record.lambda_max, 0.98), xycoords=("data", "axes fraction"),
                       xytext=(-3, 0), textcoords="offset points", ha="right", va="top")
        l1_ax.set_ylabel(_("weight of logistic regression"))
        lo = min(record.path_l1.min(), record.path_l2.min()) * 1.1
        hi = max(record.path_l1.max(), record.path_l2.max()) * 1.1
        l1_ax.set_ylim(lo, hi)
        l2_ax.set_ylim(lo, hi)
        handles, labels = ball_ax.get_legend_handles_labels()
        handles.append(Line2D([], [], **marker))
        labels.append(_(r"$\lambda_{max}$: every L1 weight 0 beyond"))
        # the weights' colours join the one legend under the panels, not over the paths' curves
        weights, names = l2_ax.get_legend_handles_labels()
        fig.legend(handles + weights, labels + names, loc="outside lower center", ncols=4)
        return _finish(fig, _("L1 against L2: L1 sets weights exactly to 0 (sparsity), L2 shrinks them all"))


def draw_universal_approximation(record: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                                 theme: str | Theme = "light", font_scale: float = 1.0) -> Figure:
    """One panel per width: the first seed's one-hidden-layer net over the target, titled by its largest
    error inside [-inner, inner]; the last panel: that error (median over seeds, bars: their range) against
    parameters, one hidden layer against two, with the count of nets that did not train."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    widths = list(record.fits)
    inner = getattr(record, "inner", None)
    with style:
        grid = fig.add_gridspec(1, len(widths) + 1, width_ratios=[1] * len(widths) + [1.3])
        axes = [fig.add_subplot(grid[0, i]) for i in range(len(widths))]
        for i, (ax, width) in enumerate(zip(axes, widths)):
            if i:
                ax.sharey(axes[0])
                ax.tick_params(labelleft=False)
            if inner is not None:
                for lo, hi in ((record.x[0], -inner), (inner, record.x[-1])):
                    ax.axvspan(lo, hi, color=th.grid, alpha=0.35, lw=0)
            ax.plot(record.x, record.target, color=th.foreground, lw=1.2, ls="--", label=_("target"))
            ax.plot(record.x, record.fits[width], color=COLORS[i % len(COLORS)], label=_("net"))
            error = record.max_errors.get(width, record.errors[width])
            ax.set_title(_("width {width}\nmax |error| {error:.2g}").format(width=width, error=error))
            ax.set_xlabel("x")
            ax.set_xlim(record.x[0], record.x[-1])
            ax.set_xticks(np.linspace(record.x[0], record.x[-1], 5)[1:-1])  # no labels meeting at the seams
        axes[0].legend(loc="upper left")
        axes[0].set_ylabel("y")
        if record.max_errors:
            _error_panel(fig.add_subplot(grid[0, len(widths)]), record, widths, font)
        seeds = getattr(record, "seeds", 1)
        title = _("Universal approximation: one hidden sigmoid layer fits a continuous target ever closer as "
                  "it widens")
        if inner is not None:
            verdict = (_("two hidden layers fit better at equal parameters") if depth_wins(record) else
                       _("two hidden layers do no better at equal parameters here"))
            title += " " + _("(errors inside [−{inner:g}, {inner:g}], the ends shaded; median of {seeds} seeds); "
                             "{verdict}").format(inner=inner, seeds=seeds, verdict=verdict)
        return _finish(fig, title)


def depth_wins(record: Any) -> bool:
    """Whether most two-layer nets have a smaller error than the one-layer nets at the same parameter count
    (the one-layer errors interpolated on log-log axes; deep nets outside their range are not counted)."""
    shallow = sorted((record.params[w], record.max_errors[w]) for w in record.fits)
    p, e = np.log([s[0] for s in shallow]), np.log([s[1] for s in shallow])
    votes = [np.log(err) < np.interp(np.log(count), p, e) for count, err in record.deep.values()
             if p[0] <= np.log(count) <= p[-1]]
    return bool(votes) and sum(votes) > len(votes) / 2


def _error_panel(err_ax: Any, record: Any, widths: list[int], font: float) -> None:
    """Max |error| against parameters: one hidden layer against two, medians with their range over seeds."""
    from gradviz.render.frames import log_ticks

    spread = getattr(record, "spread", {}) or {w: (record.max_errors[w],) * 2 for w in widths}
    deep_spread = getattr(record, "deep_spread", {}) or {w: (e,) * 2 for w, (_p, e) in record.deep.items()}
    rows = [(record.params[w], record.max_errors[w], *spread[w]) for w in sorted(widths, key=record.params.get)]
    series = [(rows, "o-", COLORS[0], _("1 hidden layer"))]
    if record.deep:
        deep = [(p, e, *deep_spread[w]) for w, (p, e) in sorted(record.deep.items(), key=lambda kv: kv[1][0])]
        series.append((deep, "s--", COLORS[1], _("2 hidden layers")))
    for data, style, colour, label in series:
        p, e, lo, hi = (np.array(c, dtype=float) for c in zip(*data))
        err_ax.errorbar(p, e, yerr=[e - lo, hi - e], fmt=style, color=colour, ms=font * 0.6, capsize=3, label=label)
    err_ax.set_xscale("log")
    err_ax.set_yscale("log")
    values = [v for data, *_rest in series for row in data for v in row[1:]]
    err_ax.set_ylim(min(values) / 1.3, max(values) * 1.3)
    log_ticks(err_ax.yaxis, min(values) / 1.3, max(values) * 1.3)
    err_ax.set_xlabel(_("parameters"))
    err_ax.set_ylabel(_("max |error|"))
    err_ax.set_title(_("width against depth"))
    err_ax.legend(loc="lower left")


def draw_adaptive(record: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                  theme: str | Theme = "light", font_scale: float = 1.0) -> Figure:
    """The adaptive methods' paths on an ill-conditioned quadratic (left), the step size each coordinate
    got, |Δθᵢ| / |gᵢ| (middle: one lr for both under GD, one per coordinate under the adaptive methods),
    and the loss (right)."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    surface = record.surface
    a1, a2 = record.curvatures
    with style:
        path_ax, rate_ax, loss_ax = fig.subplots(1, 3, width_ratios=(1.3, 1, 1))
        values = np.log10(np.maximum(surface.z, 1e-3))
        path_ax.contour(surface.x, surface.y, values, levels=14, colors=th.grid if th.name == "dark" else "#999999",
                        linewidths=0.7)
        x0, x1, y0, y1 = surface.extent
        handles = []
        for name, colour in zip(record.names, trail_colours(record.names, th)):
            points, rates, losses = record.points[name], record.rates[name], record.losses[name]
            (line,) = path_ax.plot(points[:, 0], points[:, 1], "-", color=colour, lw=1.8,
                                   label=_("{name} (lr {lr:g})").format(name=name, lr=record.lrs[name]))
            handles.append(line)
            steps = np.arange(1, len(rates) + 1)
            rate_ax.semilogy(steps, rates[:, 0], "-", color=colour)
            rate_ax.semilogy(steps, rates[:, 1], ":", color=colour, lw=2.4)
            loss_ax.semilogy(np.arange(len(losses)), np.maximum(losses, 1e-16), color=colour)
        path_ax.plot(*surface.minima[0], "*", color=th.minimum, ms=font * 1.3, mec=th.foreground)
        path_ax.set_xlim(x0, x1)
        path_ax.set_ylim(y0, y1)
        path_ax.set_xlabel("x")
        path_ax.set_ylabel("y")
        path_ax.set_title(f"(x² + {a2 / a1:g}y²)/2")
        rate_ax.set_xlabel(_("step"))
        rate_ax.set_ylabel(_("the lr coordinate i gets (log)"))
        rate_ax.set_title(_("step size per coordinate"))
        from matplotlib.lines import Line2D

        rate_ax.legend(handles=[Line2D([], [], color=th.foreground, label=_("x (flat)")),
                                Line2D([], [], color=th.foreground, ls=":", lw=2.2, label=_("y (steep)"))],
                       loc="lower right")
        loss_ax.set_xlabel(_("step"))
        loss_ax.set_ylabel(_("f (log scale)"))
        loss_ax.set_title(_("loss"))
        fig.legend(handles=handles, loc="outside lower center", ncols=3)
        return _finish(fig, _("Adaptive methods: a step size per coordinate, larger where the curvature is small "
                              "(lrs hand-picked so each converges in view, not tuned: the loss ranking is no "
                              "verdict)"))


# -- animated -----------------------------------------------------------------------------------------------

def arrows_inside(heads: np.ndarray, vectors: np.ndarray, limits: tuple[float, float, float, float],
                  margin: float = 0.02) -> np.ndarray:
    """vectors shortened (direction kept) so that head + vector stays inside limits (x0, x1, y0, y1), a
    `margin` share of the span in from the edges."""
    x0, x1, y0, y1 = limits
    lo = np.array([x0 + margin * (x1 - x0), y0 + margin * (y1 - y0)])
    hi = np.array([x1 - margin * (x1 - x0), y1 - margin * (y1 - y0)])
    out = np.array(vectors, dtype=float)
    for i, (head, vector) in enumerate(zip(heads, out)):
        factor = 1.0
        for d in range(2):
            tip = head[d] + vector[d]
            if tip > hi[d] and vector[d] > 0:
                factor = min(factor, max(0.0, hi[d] - head[d]) / vector[d])
            elif tip < lo[d] and vector[d] < 0:
                factor = min(factor, max(0.0, lo[d] - head[d]) / vector[d])
        out[i] = vector * factor
    return out


class MomentumRenderer(TrajectoryRenderer):
    """The trajectory renderer with one arrow per momentum path for its momentum term mu (x_k - x_(k-1)),
    where the momentum alone would carry it (shortened where it would leave the panel), drawn with the
    moving artists of each frame. lookahead: Nesterov's look-ahead points y_k (one per point of the path
    labelled nesterov), drawn as a hollow circle: the tip of its arrow, where its gradient is taken."""

    def __init__(self, trajectories: Sequence[Any], surface: Any, *, lookahead: np.ndarray | None = None,
                 **kwargs: Any) -> None:
        self.lookahead = None if lookahead is None or not len(lookahead) else np.asarray(lookahead, float)
        super().__init__(trajectories, surface, **kwargs)
        self.mus = np.array([float(t.hyperparams.get("momentum", 0.0)) for t in self.trajectories])
        starts = np.array([t.points[0] for t in self.trajectories])
        scale = min(self.size[0] / 960, self.size[1] / 540)
        self.arrows = self.axes.quiver(starts[:, 0], starts[:, 1], np.zeros(len(starts)), np.zeros(len(starts)),
                                       color=self._colors, angles="xy", scale_units="xy", scale=1.0,
                                       width=0.005, animated=True, zorder=7)
        self.lookahead_marker = None
        if self.lookahead is not None:
            (self.lookahead_marker,) = self.axes.plot([], [], "o", mfc="none", mec=self._nesterov_colour,
                                                      mew=2.0 * scale, ms=11 * scale, animated=True, zorder=8)

    @property
    def _nesterov_colour(self) -> str:
        names = [t.optimizer for t in self.trajectories]
        return self._colors[names.index("nesterov") if "nesterov" in names else -1]

    def _layout(self, handles: list[Any], font: float) -> None:
        from matplotlib.lines import Line2D

        extra = [Line2D([], [], ls="-", marker=r"$\rightarrow$", ms=12, color=self.theme.foreground, lw=0,
                        label=_("arrow: momentum μ(xₖ − xₖ₋₁)"))]
        if self.lookahead is not None:
            extra.append(Line2D([], [], ls="", marker="o", mfc="none", ms=9, color=self._nesterov_colour,
                                label=_("look-ahead: gradient taken here")))
        super()._layout([*handles, *extra], font)

    def velocities(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(heads, velocities) at frame `index`: velocity = x_k - x_(k-1), zero at the start."""
        step = int(self.frame_steps[index])
        heads, velocity = [], []
        for t in self.trajectories:
            end = min(step, t.steps)
            heads.append(t.points[end])
            velocity.append(t.points[end] - t.points[end - 1] if end > 0 else np.zeros(2))
        return np.array(heads), np.array(velocity)

    def arrow_vectors(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(heads, arrows) as drawn at frame `index`: mu x velocity (0 without momentum), kept inside the
        panel."""
        heads, velocity = self.velocities(index)
        x0, x1 = self.axes.get_xlim()
        y0, y1 = self.axes.get_ylim()
        return heads, arrows_inside(heads, velocity * self.mus[:, None], (x0, x1, y0, y1))

    def _draw(self, index: int) -> int:
        step = super()._draw(index)
        heads, arrows = self.arrow_vectors(index)
        self.arrows.set_offsets(heads)
        self.arrows.set_UVC(arrows[:, 0], arrows[:, 1])
        self.axes.draw_artist(self.arrows)
        if self.lookahead is not None:
            ahead = self.lookahead[min(step, len(self.lookahead) - 1)]
            self.lookahead_marker.set_data([ahead[0]], [ahead[1]])
            self.axes.draw_artist(self.lookahead_marker)
        return step
