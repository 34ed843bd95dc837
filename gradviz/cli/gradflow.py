"""`gradviz gradflow`: vanishing and exploding gradients, layer by layer (gradviz.pipelines.gradflow)."""

from __future__ import annotations

from pathlib import Path

import click

from gradviz.render.choices import PANELS
from gradviz.lecture.data import DATASETS
from gradviz.lecture.grids import parse_lrs
from gradviz.registry import InvalidArgument
from gradviz.cli.options import (
    CONTEXT, loss_options, NameType, OptimizerType, ParsedType, WordListType, alias, given, output_options, positive,
    progress_reporter,
)

__all__ = ["gradflow"]




@click.command(context_settings=CONTEXT, short_help="Show vanishing and exploding gradients, layer by layer.")
@alias("--activations", "--activation", "activations")  # the names before issue 20 (plural, and a panel --view)
@alias("--inits", "--init", "inits")
@alias("--view", "--panel", "panel")
@click.option("--depth", type=positive(int, limit="depth"), default=10, show_default=True,
              help="Linear layers in the MLP.")
@click.option("--width", type=positive(int, limit="width"), default=64, show_default=True,
              help="Units per hidden layer.")
@click.option("--activation", "activations", type=WordListType("gradviz.lecture.choices.ACTIVATIONS", "sigmoid,relu"),
              default="sigmoid,relu", show_default=True,
              help="Activations, one panel each (see `gradviz list activations`).")
@click.option("--init", "inits", type=WordListType("gradviz.lecture.choices.INITS", "default,he"), default="default,he",
              show_default=True, help="Initialization per activation, or one for all (see `gradviz list inits`).")
@click.option("--std", type=positive(float), default=None,
              help="Weight std for --init normal; k of N(0, k^2/n) for scaled (the other inits take none).")
@click.option("-O", "--optimizer", "optimizers", type=OptimizerType(), multiple=True,
              help="Optimizer as NAME[:KEY=VALUE,...], e.g. adam:lr=0.01 (see `gradviz list optimizers`), with "
                   "an optional lr schedule after '@': sgd@cosine (see `gradviz list schedulers`); one per run; "
                   "an lr given here wins over --lr [default: -O sgd].")
@click.option("--lr", type=ParsedType(parse_lrs, "LR"), default="0.1", show_default=True,
              help="Learning rate (one: the panels differ by activation).")
@click.option("--steps", type=positive(int, limit="train-steps"), default=100, show_default=True,
              help="Training steps.")
@click.option("--step", type=int, default=None,
              help="Draw step K in a .png instead of the initialization (step 0, where the theory holds).")
@click.option("--batch-size", type=positive(int, limit="batch-size"), default=128, show_default=True,
              help="Batch size.")
@click.option("--clip", type=positive(float), default=None, help="Clip the total gradient norm to this value.")
@click.option("--data", default="random", show_default=True, metavar="random|DATASET|MODULE:FUNCTION",
              help="'random' (N(0, I) inputs, random labels), a data set of `gradviz list datasets`, or with "
                   "--model your own: FUNCTION() returns tensors ((x, y), (x1, ..., y), a dict) or a DataLoader, dict "
                   "batches of a transformers model included.")
@click.option("--model", "model_spec", default=None, metavar="MODULE:FACTORY",
              help="Your own model instead of the deep MLPs: FACTORY() returns an nn.Module; needs --data "
                   "MODULE:FUNCTION.")
@loss_options
@click.option("--panel", type=NameType(PANELS), default="summary", show_default=True,
              help="What a .png shows (a .gif always animates the profiles).")
@output_options("gradflow.gif", "Output file: .gif, .mp4 or .png.", fps=10, seed_help="Seed for weights and data.",
                quiet_help="No progress bar, no diagnosis printed.")
def gradflow(depth: int, width: int, activations: tuple[str, ...], inits: tuple[str, ...], std: float | None,
             optimizers: tuple[str, ...], lr: str, steps: int, step: int | None, batch_size: int, clip: float | None,
             data: str, model_spec: str | None, loss_spec: str | None, compute_loss_spec: str | None, panel: str, fps: float, size: tuple[int, int],
             dpi: float, theme: str, seed: int, output: Path, quiet: bool) -> None:
    """Show vanishing and exploding gradients: per-layer gradient norms of deep MLPs, side by side.

    By default a 10-layer sigmoid net (PyTorch's default init) against a 10-layer ReLU net (He init), on the
    same random data: the sigmoid signal shrinks about 7x per layer, the ReLU/He one stays level. Each
    panel's diagnosis (slope per layer, first/last ratio, verdict, the theory's slope) is taken at
    initialization, before the first update, where the theory holds, and printed too; the animation
    shows how training moves the profile, and --step K draws one later step.

    \b
    Examples:
      gradviz gradflow                                          # -> gradflow.gif
      gradviz gradflow --activation relu --init scaled --std 3 -o explode.png
      gradviz gradflow --activation relu --init he -O adam:lr=0.01 --step 50 -o later.png
      gradviz gradflow --depth 20 --activation tanh,relu --init xavier,he --panel grid -o grid.png
      gradviz gradflow --model mynets:make_cnn --data mydata:loader -O adam:lr=1e-3 -o mine.png
    """
    from gradviz.limits import check_at_most
    from gradviz.pipelines.gradflow import gradflow as run_gradflow

    # before importing torch
    if model_spec is not None:
        for name, flag in (("depth", "--depth"), ("width", "--width"), ("activations", "--activation"),
                           ("inits", "--init"), ("std", "--std")):
            if given(name):
                raise InvalidArgument(f"{flag} sets up the deep MLPs, which --model replaces: drop {flag}")
        if ":" not in data:
            raise InvalidArgument(f"--model needs your own data as --data MODULE:FUNCTION, not {data!r}")
    elif ":" in data or loss_spec is not None or compute_loss_spec is not None:
        raise InvalidArgument("--data MODULE:FUNCTION and --loss belong to your own model: add --model MODULE:FACTORY")
    elif data != "random":
        DATASETS.lookup(data)
    if len(optimizers) > 1:
        raise InvalidArgument(f"gradflow trains one optimizer, got {len(optimizers)}: "
                              f"{' '.join('-O ' + o for o in optimizers)} (run it once per optimizer)")
    optimizer = optimizers[0] if optimizers else "sgd"
    rates = parse_lrs(lr)
    if len(rates) > 1:
        raise InvalidArgument(f"invalid --lr {lr}: gradflow trains at one rate (its panels differ by activation)")
    check_at_most("parameters (depth x width^2)", depth * width * width, "parameters",
                  shown=f"{depth} x {width}^2 = {depth * width * width:,}")
    still = output.suffix.lower() == ".png"
    if step is not None and not still:
        raise InvalidArgument(f"--step {step} draws one step as a still picture: give -o NAME.png (a "
                              f"{output.suffix or 'file without extension'} animates every step)")
    if step is not None and not 0 <= step < steps:
        raise InvalidArgument(f"invalid --step {step}: --steps {steps} gives steps 0 to {steps - 1}")
    if given("panel") and not still:  # the library refuses it too, under its own name (view=)
        raise InvalidArgument(f"--panel {panel} chooses what a .png shows; a {output.suffix or 'file'} always "
                              "animates the profiles: give -o NAME.png or drop --panel")
    view = panel if given("panel") else None
    progress, done = progress_reporter(quiet, "rendering")
    try:
        path = run_gradflow(output, activations=activations, inits=inits, view=view, fps=fps, size=size, dpi=dpi,
                            theme=theme, depth=depth, width=width, std=std, optimizer=optimizer, lr=rates[0],
                            steps=steps,
                            step=step,
                            batch_size=None if model_spec is not None and not given("batch_size") else batch_size,
                            clip=clip, data=data, seed=seed, progress=progress,
                            model=model_spec, loss=loss_spec, compute_loss=compute_loss_spec,
                            report=None if quiet else (lambda line: click.echo(line, err=True)))
    finally:
        done()
    if not quiet:
        click.echo(f"wrote {path}", err=True)
