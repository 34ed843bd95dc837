"""The pipeline behind `gradviz gradflow`: train deep MLPs per (activation, init) and draw their gradients.

Each configuration is the same deep MLP on the same data and seed, so the panels differ only in the
activation and initialization being contrasted (sigmoid with PyTorch's default init against ReLU with He,
by default). GIF/MP4 output animates the per-layer norms over training; PNG output draws a view.

std sets the weight scale of the inits that take one (normal: the weights' std; scaled: k in
N(0, k^2 / fan_in)). Given with several inits, it goes to those that take it, and only their labels say
"(std ...)"; given with none of them (the default default,he, say), it is refused: it would change nothing
drawn.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

from gradviz.render.options import RenderOptions, render_options, split_style
from gradviz.render.choices import PANELS
from gradviz.registry import InvalidArgument

__all__ = ["gradflow", "run_configurations"]


def _pairs(activations: Sequence[str], inits: Sequence[str]) -> list[tuple[str, str]]:
    activations, inits = list(activations), list(inits)
    if not activations or not inits:
        raise InvalidArgument("give at least one activation and one init")
    if len(inits) == 1:
        inits = inits * len(activations)
    if len(activations) == 1:
        activations = activations * len(inits)
    if len(activations) != len(inits):
        raise InvalidArgument(f"{len(activations)} activations but {len(inits)} inits: give one init, or one per "
                              "activation")
    return list(zip(activations, inits))


def _configurations(activations: Sequence[str], inits: Sequence[str],
                    std: float | None) -> list[tuple[str, str, float | None]]:
    """(activation, init, std) per panel, checked without torch: std only for the inits that use it, and
    refused when no init given uses it."""
    from gradviz.lecture.choices import ACTIVATIONS, INITS
    from gradviz.registry import check_positive

    pairs = _pairs(activations, inits)
    specs = []
    for activation, init in pairs:
        ACTIVATIONS.lookup(activation)
        specs.append(INITS.lookup(init))
    if std is None:
        return [(activation, init, None) for activation, init in pairs]
    check_positive("std", std)
    if not any(spec.needs_std for spec in specs):
        takers = " and ".join(spec.name for spec in INITS.values() if spec.needs_std)
        given = ", ".join(dict.fromkeys(spec.name for spec in specs))
        raise InvalidArgument(f"std {std:g} applies only to the inits {takers}, not to the inits given ({given})")
    return [(activation, init, std if spec.needs_std else None) for (activation, init), spec in zip(pairs, specs)]


def run_configurations(activations: Sequence[str] = ("sigmoid", "relu"), inits: Sequence[str] = ("default", "he"),
                       *, progress: Callable[[int, int], None] | None = None, **experiment: Any) -> list[Any]:
    """One GradientLog per (activation, init) pair, all checked before the first is trained.

    std goes to the inits that take one (normal, scaled) and is refused when none of them does."""
    from gradviz.registry import check_positive

    configurations = _configurations(activations, inits, experiment.pop("std", None))
    for key in ("depth", "width", "steps", "batch_size"):
        if key in experiment:
            check_positive(key, experiment[key], integer=True)
    if experiment.get("clip") is not None:
        check_positive("clip", experiment["clip"])
    # the optimizer's hyperparameter names are read off its torch class: after the torch-free checks
    from gradviz.lecture.compare import optimizer_run
    from gradviz.lecture.deepnets import gradflow_experiment

    optimizer_run(experiment.get("optimizer", "sgd"), experiment.get("lr", 0.1))
    from gradviz.pipelines.trajectories import start_stage

    start_stage(progress, "training")
    logs = []
    for index, (activation, init, std) in enumerate(configurations):
        logs.append(gradflow_experiment(activation=activation, init=init, std=std, **experiment))
        if progress is not None:
            progress(index + 1, len(configurations))
    return logs


def gradflow(path: str | os.PathLike[str] = "gradflow.gif", *, activations: Sequence[str] = ("sigmoid", "relu"),
             inits: Sequence[str] = ("default", "he"), view: str | None = None, step: int | None = None,
             model: Any = None, loss: Any = None, compute_loss: Any = None, render: RenderOptions | None = None,
             **experiment: Any) -> Path:
    """Train each configuration and write a GIF/MP4 of its gradient flow or a PNG of `view`.

    model: your own model instead of the deep MLPs, as 'MODULE:FACTORY' (or an nn.Module), trained on
    experiment['data'] ('MODULE:FUNCTION' returning (inputs, targets) tensors or a DataLoader, or those
    themselves) with `loss` (a name such as 'mse', 'MODULE:FUNCTION', or a callable; default BCE /
    cross-entropy; the model's own .loss for dict batches) or compute_loss ('MODULE:FUNCTION' or a callable
    (model, batch) -> mean loss) by gradviz.analysis.gradients.gradflow_model; activations and inits do not
    apply.

    Profiles and diagnoses are taken at initialization (step 0, before the first update), where the theory
    of a constant factor per layer holds; the animation shows the steps after it, and step=K draws a PNG
    of step K instead. report, when given, receives one line of diagnosis per configuration (the verdict
    the figure draws).
    render: a RenderOptions for the picture (size, dpi, theme, fps, frames, title, progress, report), or
    the same names as keywords; the ones this pipeline has no use for are refused.
    """
    options = render_options("gradflow", render, split_style(experiment), uses=("size", "dpi", "theme", "fps",
                             "frames", "progress", "report"), fps=10)
    size, dpi, theme, fps = options.size, options.dpi, options.theme, options.fps
    frames, progress, report = options.frames, options.progress, options.report
    from gradviz.pipelines.trajectories import check_fps, write_rendered
    from gradviz.output import check_output_path, write_image

    out = check_output_path(path)
    if model is None:
        _configurations(activations, inits, experiment.get("std"))  # before anything is imported or trained
    elif experiment.get("data") in (None, "random"):
        raise InvalidArgument("your own model needs your own data: data='MODULE:FUNCTION' (--data), returning "
                              "(inputs, targets) tensors or a DataLoader")
    check_fps(fps, out)
    steps = experiment.get("steps", 100)
    if frames is not None and isinstance(steps, int) and frames > steps:  # one frame per step at most: say so
        raise InvalidArgument(f"invalid frames {frames}: {steps} steps give at most {steps} frames")

    if view is not None:
        view = PANELS.lookup(view).name
        if out.suffix.lower() != ".png":
            kind = out.suffix or "file without extension"
            raise InvalidArgument(f"view {view!r} chooses what a .png shows; a {kind} always animates the "
                                  "profiles: write a .png or leave view out")
    view = view or "summary"
    if step is not None:
        if out.suffix.lower() != ".png":
            raise InvalidArgument(f"step {step}: a static figure of one step needs a .png output, not {out.suffix}")
        steps = experiment.get("steps", 100)
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < steps:
            raise InvalidArgument(f"invalid step {step!r} (must be an integer from 0 to steps - 1 = {steps - 1})")
    logs = (run_configurations(activations, inits, **experiment) if model is None else
            [_own_model_log(model, loss, compute_loss=compute_loss, progress=progress, **experiment)])
    from gradviz.analysis.diagnosis import RULE, diagnose
    from gradviz.render.gradflow import GradflowRenderer, summary_figure

    if report is not None:
        verdicts = [diagnose(log, step=step) for log in logs]
        for log, verdict in zip(logs, verdicts):
            report(f"{log.label}: {verdict.text}")
        if any(v.verdict in ("vanishing", "exploding", "healthy") for v in verdicts):
            report(f"({RULE})")

    if out.suffix.lower() == ".png":
        figure = summary_figure(logs, view, size=size, dpi=dpi, step=step)
        figure.canvas.draw()
        import numpy as np

        from gradviz.render.frames import rgb_copy

        return write_image(rgb_copy(np.asarray(figure.canvas.buffer_rgba())), out)
    renderer = GradflowRenderer(logs, size=size, dpi=dpi, theme=theme, frames=frames)
    return write_rendered(renderer, out, fps=fps, progress=progress)


def _own_model_log(model: Any, loss: Any, *, data: Any, compute_loss: Any = None,
                   progress: Callable[[int, int], None] | None = None, optimizer: str = "sgd", lr: float = 0.1, steps: int = 100, batch_size: int | None = None,
                   clip: float | None = None, seed: int = 0, **ignored: Any) -> Any:
    """The GradientLog of the user's own model and data, loaded by MODULE:NAME where given as text."""
    unused = [key for key, value in ignored.items() if value is not None and key not in ("depth", "width")]
    if unused:
        raise InvalidArgument(f"{', '.join(unused)} set up the deep MLPs, which your own model replaces: drop it")
    from gradviz.analysis.gradients import gradflow_model
    from gradviz.analysis.loading import load_compute_loss, load_data, load_loss, load_model, user_code_errors
    from gradviz.pipelines.trajectories import start_stage

    net = load_model(model) if isinstance(model, str) else model
    dataset = load_data(data) if isinstance(data, str) else data
    loss_fn = load_loss(loss) if (loss is None or isinstance(loss, str)) else loss
    hook = load_compute_loss(compute_loss) if isinstance(compute_loss, str) else compute_loss
    if batch_size is not None and not isinstance(dataset, (tuple, list, dict)):  # whole tensors are split
        raise InvalidArgument(f"--batch-size {batch_size} splits (inputs, targets) tensors; data {data!r} is a "
                              f"{type(dataset).__name__}, which keeps its own batches: set batch_size in it, or "
                              "drop --batch-size")
    start_stage(progress, "training")
    with user_code_errors(model=model, data=data, loss=loss, compute_loss=compute_loss):
        log = gradflow_model(net, dataset, loss_fn=loss_fn, compute_loss=hook, optimizer=optimizer, lr=lr,
                             steps=steps, batch_size=batch_size, clip=clip, seed=seed,
                             label=Path(model).name if isinstance(model, str) else None)  # mynets.py:make_bert
    if progress is not None:
        progress(1, 1)
    return log
