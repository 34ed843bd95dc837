"""The lecture's deep-MLP experiment on vanishing and exploding gradients: deep_mlp (depth Linear layers
with one activation and init), random_data, the theory's per-layer factor, and gradflow_experiment, which
trains one such net with a registry optimizer and records its gradient flow (gradviz.analysis.gradients).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gradviz.analysis.gradients import record_gradients
from gradviz.lecture.compare import optimizer_run
from gradviz.lecture.schedules import build_scheduler
from gradviz.i18n import _
from gradviz.records import GradientLog
from gradviz.limits import check_count
from gradviz.registry import InvalidArgument, check_positive

__all__ = ["deep_mlp", "random_data", "theoretical_factor", "gradflow_experiment"]



def theoretical_factor(activation: str, init: str, *, std: float | None = None, width: int = 64) -> float:
    """Expected ratio of backward-signal norms between consecutive square layers, ||gz_l|| / ||gz_l+1||.

    k = weight std * sqrt(fan_in) of the init; the factor is k * sqrt(E[f'(z)^2]): k / sqrt 2 for ReLU,
    k / 4 for sigmoid and k for tanh near the origin (Glorot & Bengio 2010; He et al. 2015).
    """
    from gradviz.lecture.models import ACTIVATIONS, INITS

    act, spec = ACTIVATIONS.lookup(activation), INITS.lookup(init)
    k = {"default": 1 / math.sqrt(3), "xavier": 1.0, "he": math.sqrt(2),
         "normal": (std if std is not None else 0.01) * math.sqrt(width),
         "scaled": std if std is not None else 1.0}[spec.name]
    return k * act.slope_rms


def deep_mlp(depth: int, width: int, *, in_features: int | None = None, out_features: int = 10,
             activation: str = "sigmoid", init: str = "default", std: float | None = None, seed: int = 0,
             inplace: bool = False) -> nn.Sequential:
    """depth Linear layers: depth - 1 blocks of Linear(width, width) + activation, then Linear(width, out).

    The same seed draws the same standard-normal numbers for every normal init, so sigmoid against ReLU
    or default against He compares nets that differ only in what is being compared.
    """
    from gradviz.lecture.models import mlp

    depth = check_count("depth", depth, "depth")
    width = check_count("width", width, "width")
    model = mlp(in_features or width, [width] * (depth - 1), out_features, activation=activation, init=init,
                std=std, seed=seed)
    if inplace:
        for module in model.modules():
            if isinstance(module, nn.ReLU):
                module.inplace = True
    return model


def random_data(n: int, features: int, classes: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """x ~ N(0, I), labels uniform over `classes`: the reference setting for gradient magnitudes."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, features, generator=generator), torch.randint(0, classes, (n,), generator=generator)


def gradflow_experiment(
    *,
    depth: int = 10,
    width: int = 64,
    activation: str = "sigmoid",
    init: str = "default",
    std: float | None = None,
    optimizer: str = "sgd",
    lr: float = 0.1,
    steps: int = 100,
    batch_size: int = 128,
    clip: float | None = None,
    data: str = "random",
    classes: int = 10,
    seed: int = 0,
    label: str | None = None,
) -> GradientLog:
    """Train deep_mlp(...) with the registry's `optimizer` and return its GradientLog.

    optimizer: a registry name, or 'NAME:KEY=VALUE,...' like the CLI's -O ('adam:lr=0.01'); an lr given
    there wins over `lr`. An lr schedule goes after '@' ('sgd@cosine', 'adam:lr=0.01@warmup+cosine', see
    gradviz.lecture.schedules), stepped once after every optimizer step; meta['schedule'] names it.

    data: "random" (N(0, I) inputs of size `width`, random labels over `classes`, a fresh batch each step)
    or a dataset name of gradviz.lecture (2-D points, their own classes).

    std: the weight scale of init normal or scaled (see gradviz.lecture.choices); refused for the other inits,
    which have their own scale.
    """
    from gradviz.lecture.choices import INITS
    from gradviz.lecture.data import DATASETS, make_dataset

    if std is not None and not INITS.lookup(init).needs_std:  # it would change nothing but the label
        takers = " and ".join(spec.name for spec in INITS.values() if spec.needs_std)
        raise InvalidArgument(f"std {std:g} applies only to the inits {takers}, not to init {init!r}")
    steps = check_positive("steps", steps, integer=True)
    batch_size = check_positive("batch_size", batch_size, integer=True)
    if clip is not None:
        check_positive("clip", clip)
    spec, hyperparams, schedule = optimizer_run(optimizer, lr)
    lr = hyperparams["lr"]
    if data == "random":
        features = width
        X, y = random_data(batch_size * steps, features, classes, seed=seed + 1)
    else:
        DATASETS.lookup(data)
        X, y = make_dataset(data, n=max(batch_size, 256), seed=seed)
        features, classes = 2, int(y.max()) + 1
    model = deep_mlp(depth, width, in_features=features, out_features=classes, activation=activation, init=init,
                     std=std, seed=seed)
    opt = spec.build(model.parameters(), **hyperparams)
    scheduler = build_scheduler(opt, schedule, steps=steps) if schedule is not None else None
    generator = torch.Generator().manual_seed(seed + 2)
    meta = dict(depth=depth, width=width, activation=activation, init=init, std=std, optimizer=spec.name, lr=lr,
                steps=steps,
                hyperparams={k: v for k, v in hyperparams.items() if k != "lr"},
                clip=clip, batch_size=batch_size, data=data, classes=classes,
                factor=theoretical_factor(activation, init, std=std, width=width),
                schedule=schedule.describe() if schedule is not None else None)
    with record_gradients(model, opt) as log:
        for step in range(steps):
            if data == "random":
                xb, yb = X[step * batch_size:(step + 1) * batch_size], y[step * batch_size:(step + 1) * batch_size]
            else:
                index = torch.randperm(len(X), generator=generator)[:batch_size]
                xb, yb = X[index], y[index]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            log.record_loss(loss)
            opt.step()
            if scheduler is not None:
                scheduler.step()  # after the optimizer's step, as a plain torch loop steps it
    name = label or f"{_(activation)} / {_(init)}" + (f" (std {std:g})" if std is not None else "")
    return log.result(label=name, meta=meta)
