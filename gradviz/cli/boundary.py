"""`gradviz boundary`: an MLP's decision boundary as it learns (gradviz.pipelines.boundary)."""

from __future__ import annotations

from pathlib import Path

import click

from gradviz.lecture.choices import INITS
from gradviz.lecture.data import DATASETS
from gradviz.lecture.grids import OBJECTIVES, parse_lrs
from gradviz.registry import InvalidArgument, check_positive
from gradviz.cli.options import (
    CONTEXT, NameType, NumberListType, OptimizerType, ParsedType, check_hidden, output_options, positive,
    toy_net_options,
    progress_reporter, refuse_tuning_options_without_tune,
)

__all__ = ["boundary"]


@click.command(context_settings=CONTEXT, short_help="Animate an MLP's decision boundary as it learns.")
@toy_net_options(classes=True)
@click.option("--init", "init", type=NameType(INITS), default="default", show_default=True,
              help="Weight initialization (see `gradviz list inits`).")
@click.option("--dropout", type=NumberListType(float, "0,0.5"), default="0", show_default=True,
              help="Dropout after each hidden layer; several values for side-by-side panels.")
@click.option("-O", "--optimizer", "optimizers", type=OptimizerType(), multiple=True,
              help="Optimizer, repeatable for side-by-side panels: -O sgd -O momentum -O adam:lr=0.01 "
                   "-O pytorch_optimizer.Lion:lr=1e-3; an lr schedule after '@': -O sgd:lr=0.5@cosine "
                   "(see `gradviz list schedulers`). [default: -O adam]")
@click.option("--steps", type=positive(int, limit="train-steps"), default=300, show_default=True,
              help="Training steps.")
@click.option("--lr", type=ParsedType(parse_lrs, "LR|LIST|LOW:HIGH:COUNT"), default=None,
              help="Learning rate for every optimizer without its own; several (1e-3,1e-2 or 1e-4:1e-1:4) for "
                   "side-by-side panels; with --tune, the grid searched [default: each optimizer's net default].")
@click.option("--tune", is_flag=True, help="Draw each optimizer at its best rate of a log grid (--lr, or its "
                                           "default x 10^-2..10^1) for --objective on the training loss.")
@click.option("--objective", type=NameType(OBJECTIVES), default="final", show_default=True,
              help="What --tune minimises: final training loss, auc (mean log10 loss), steps-to-tol.")
@click.option("--tol", type=float, default=1e-2, show_default=True, help="Loss tolerance of steps-to-tol.")
@click.option("--batch-size", type=positive(int, limit="batch-size"), default=None,
              help="Mini-batch size; 1 is SGD [default: full batch].")
@click.option("--weight-decay", type=NumberListType(float, "0,0.1"), default="0", show_default=True,
              help="L2 weight decay; several values for side-by-side panels.")
@click.option("--freeze", type=str, multiple=True, metavar="LAYER,...",
              help="Comma-separated layers to freeze, e.g. fc1; repeat for side-by-side panels, 'none' for "
                   "nothing frozen: --freeze none --freeze fc1,fc2.")
@click.option("--weights", default=None, metavar="FILE",
              help="A state_dict file of the same MLP, --hidden and --activation as trained "
                   "(torch.save(model.state_dict(), FILE)), to start from: fine-tuning, where freezing a "
                   "trained layer is transfer learning.")
@click.option("--validation", type=float, default=None,
              help="Hold out this fraction of the points (e.g. 0.3) and plot validation loss and accuracy "
                   "beside training: what dropout and weight decay improve.")
@output_options("boundary.gif", "Output file: .gif, .mp4 or .png (last frame).", fps=15,
                seed_help="Seed for data, weights and batches.")
def boundary(dataset: str, n: int, noise: float | None, classes: int | None, hidden: tuple[int, ...],
             activation: str, init: str, dropout: tuple[float, ...], optimizers: tuple[str, ...], steps: int,
             lr: str | None, tune: bool, objective: str, tol: float, batch_size: int | None,
             weight_decay: tuple[float, ...], freeze: tuple[str, ...], weights: str | None,
             validation: float | None, fps: float,
             size: tuple[int, int], dpi: float, theme: str, seed: int, output: Path, quiet: bool) -> None:
    """Animate an MLP's decision boundary as it learns a 2-D toy data set.

    Several optimizers, weight decays or dropouts give side-by-side panels, all from the same initial
    weights on the same data: `gradviz boundary -O sgd -O momentum -O adam` or `--weight-decay 0,0.1`.

    \b
      gradviz boundary -O sgd --lr 0.01,0.1,1              one optimizer at three rates
      gradviz boundary -O sgd -O momentum -O adam --tune   each at its best rate for the final loss
      gradviz boundary --dropout 0,0.5 --noise 0.3 --validation 0.3   with the held-out curves
      gradviz boundary --weights moons.pt --freeze none --freeze fc1,fc2   fine-tune, frozen or not
    """
    from gradviz.pipelines.boundary import boundary as run_boundary

    refuse_tuning_options_without_tune(tune, objective)
    # what the library checks after importing torch, checked here first so a typo fails at once
    if n < 2:
        raise InvalidArgument(f"invalid n: {n} (need at least 2 points)")
    if noise is not None:
        check_positive("noise", noise, allow_zero=True)
    from gradviz.lecture.data import check_classes

    check_classes(DATASETS.lookup(dataset), classes)
    check_hidden(hidden)
    if batch_size is not None and batch_size > n:
        raise InvalidArgument(f"invalid batch-size: {batch_size} (more than the {n} points; leave --batch-size out "
                              "for full batches)")
    for value in dropout:
        if not 0 <= value < 1:
            raise InvalidArgument(f"invalid dropout: {value!r} (must be in [0, 1))")
    for value in weight_decay:
        check_positive("weight_decay", value, allow_zero=True)
    if tune and lr is not None:
        parse_lrs(lr, minimum=2)
    if weights is not None and not Path(weights).is_file():
        raise InvalidArgument(f"weights file {weights!r} does not exist")
    frozen = [[f.strip() for f in value.split(",") if f.strip() and f.strip() != "none"] for value in freeze]
    progress, done = progress_reporter(quiet, "rendering")
    try:
        path = run_boundary(dataset, output, n=n, noise=noise, classes=classes, hidden=hidden,
                            activation=activation, init=init, dropout=list(dropout or (0.0,)),
                            optimizers=optimizers or ("adam",), steps=steps, lr=lr, batch_size=batch_size,
                            weight_decay=list(weight_decay or (0.0,)),
                            freeze=frozen[0] if len(frozen) == 1 else frozen, weights=weights,
                            validation=validation,
                            seed=seed, fps=fps, size=size, dpi=dpi, theme=theme, progress=progress, tune=tune,
                            objective=objective, tol=tol,
                            report=None if quiet else (lambda text: click.echo(text, err=True)))
    finally:
        done()
    if not quiet:
        click.echo(f"wrote {path}", err=True)
