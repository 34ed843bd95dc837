"""What record_gradients costs per training step, against no recording and against the common approach.

Three steps, each SGD on cross-entropy with random labels:
  mlp10    10 Linear layers of width 64 (sigmoid), batch 128 of N(0, I) inputs: about a hundred tiny
           kernels, whose cost is their dispatch (the teaching nets of `gradviz gradflow`);
  mlp512   6 Linear layers of width 512 (ReLU), batch 256: a step with real arithmetic;
  cnn      a small CNN (2 x [Conv2d 3x3, BatchNorm2d, ReLU, MaxPool2d], Linear) on 32 x 32 RGB images,
           batch 64: real arithmetic, and 4-D backward signals.
Loops of the same steps, each on its own copy of the model:
  plain      zero_grad / forward / cross-entropy / backward / step;
  gradviz    the same inside `with gradviz.record_gradients(model, optimizer)` (weight-gradient, signal and
             parameter norms per layer, total norm, update ratio, NaN/inf, dead units; one host transfer a step);
  every=10   the same with record_gradients(..., every=10): steps 0, 10, 20, ... recorded (mlp10 only);
  updates=False  the full record without the update ratio: no copy of the weights before the step and no
             subtraction after it (mlp512 and cnn, where those passes over the weights are the cost);
  per-item   what common tools do: after backward, for every parameter p.grad.norm().item() and p.norm().item()
             (a host sync per call), and no backward signal at all (mlp10 only).
The loops take turns in short blocks of --steps steps, --repeat blocks each, so that a shared machine's
drift hits them alike; each block is compared with the plain block next to it. Prints the median time per
step and the median of the per-block ratios to plain (with their middle half).
--breakdown adds three loops (any model) that say what the recorder's parts cost: the recorder with its
backward-signal hooks switched off, with its optimizer-step hooks (parameter norms, update ratio) off, and
with its dead-unit counting off.

    python benchmarks/gradflow.py [--model mlp10,mlp512,cnn] [--steps N] [--repeat 40] [--threads 1]
                                  [--device cpu|cuda] [--breakdown]
"""

from __future__ import annotations

import argparse
import statistics
import time
import types
from typing import Any, Callable

import torch
from torch import nn

from gradviz.analysis.gradients import GradientRecorder
from gradviz.lecture.deepnets import deep_mlp, random_data

DEVICE = torch.device("cpu")


def small_cnn() -> nn.Module:
    """The benchmark's CNN for 32 x 32 RGB images (CIFAR-sized)."""
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 8 * 8, 10))


MODELS = {  # name: (description, default steps a block)
    "mlp10": ("10 x Linear(64) sigmoid, batch 128", 50),
    "mlp512": ("6 x Linear(512) ReLU, batch 256", 5),
    "cnn": ("CNN 2 x (Conv 3x3 32/64, BN, ReLU, pool) + Linear on 32x32x3, batch 64", 3),
}
MODEL = "mlp10"


def make(seed: int = 0) -> tuple[nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    if MODEL == "mlp10":
        model = deep_mlp(10, 64, out_features=10, activation="sigmoid", seed=seed)
        x, y = random_data(128, 64, 10, seed=seed)
    elif MODEL == "mlp512":
        model = deep_mlp(6, 512, out_features=10, activation="relu", init="he", seed=seed)
        x, y = random_data(256, 512, 10, seed=seed)
    else:
        model = small_cnn()
        g = torch.Generator().manual_seed(seed)
        x, y = torch.randn(64, 3, 32, 32, generator=g), torch.randint(0, 10, (64,), generator=g)
    model = model.to(DEVICE)
    return model, torch.optim.SGD(model.parameters(), lr=0.01), x.to(DEVICE), y.to(DEVICE)


def sync() -> None:
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()


Loop = tuple[Callable[[], None], Callable[[], Any]]  # one step; what to do at the end


def plain() -> Loop:
    model, optimizer, x, y = make()
    return (lambda: step(model, optimizer, x, y)), (lambda: None)


def recorded(every: int = 1, updates: bool = True, **replace: Callable[..., Any]) -> Loop:
    """The recorder on its own model for the whole run; `replace` swaps some of its hooks (--breakdown)."""
    model, optimizer, x, y = make()
    recorder = GradientRecorder(model, optimizer, every=every, updates=updates)
    for name, method in replace.items():
        setattr(recorder, name, types.MethodType(method, recorder))
    recorder.__enter__()

    def finish() -> Any:
        recorder.close()
        return recorder.result()  # every step's numbers reach the host

    return (lambda: step(model, optimizer, x, y)), finish


def per_item() -> Loop:
    model, optimizer, x, y = make()
    history: dict[str, list[tuple[float, float]]] = {}

    def one() -> None:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        for name, p in model.named_parameters():
            history.setdefault(name, []).append((p.grad.norm().item(), p.norm().item()))
        optimizer.step()

    return one, (lambda: history)


def _no_signal(self: GradientRecorder, index: int) -> Callable[..., None]:
    def hook(module: nn.Module, inputs: object, output: object) -> None:
        if index == 0 and isinstance(output, torch.Tensor) and output.grad_fn is not None:
            # one pre-hook a pass, only so that the recorder still learns when the backward pass ends
            output.grad_fn.register_prehook(lambda grads: self._on_gradient(grads[0]))

    return hook


def _no_before(self: GradientRecorder, *args: object) -> None:
    return None


def _no_after(self: GradientRecorder, *args: object) -> None:
    if self._active:
        self._finish_step([])  # the step's gradient and signal norms, without parameter norms or updates
    self._advance()


def _no_dead(self: GradientRecorder, index: int) -> Callable[..., None]:
    return lambda *args: None


def run(name: str, args: argparse.Namespace) -> None:
    global MODEL
    MODEL = name
    description, default_steps = MODELS[name]
    steps = args.steps or default_steps
    loops: dict[str, Loop] = {"plain": plain(), "gradviz": recorded()}
    if name == "mlp10":
        loops["gradviz every=10"] = recorded(every=10)
        loops["per-item"] = per_item()
    else:
        loops["gradviz updates=False"] = recorded(updates=False)
    if args.breakdown:
        loops["gradviz, no signal hooks"] = recorded(_forward_hook=_no_signal)
        loops["gradviz, no step hooks"] = recorded(_before_step=_no_before, _after_step=_no_after)
        loops["gradviz, no dead units"] = recorded(_dead_hook=_no_dead)
    for one, _ in loops.values():  # warm-up: first-optimizer start-up, allocator, CUDA kernels
        for _ in range(max(10, steps)):
            one()
    times: dict[str, list[float]] = {loop: [] for loop in loops}
    for _ in range(args.repeat):
        for loop, (one, _) in loops.items():
            sync()
            start = time.perf_counter()
            for _ in range(steps):
                one()
            sync()
            times[loop].append((time.perf_counter() - start) / steps)
    for _, finish in loops.values():
        finish()
    where = torch.cuda.get_device_name(DEVICE) if DEVICE.type == "cuda" else f"{torch.get_num_threads()} thread(s)"
    print(f"{name}: {description}, SGD, {args.repeat} blocks of {steps} steps, torch {torch.__version__}, "
          f"{DEVICE.type}: {where}")
    for loop, values in times.items():
        ratios = [value / base for value, base in zip(values, times["plain"])]  # each against its own block
        quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        print(f"  {loop:26s} {statistics.median(values) * 1e3:8.3f} ms/step   {statistics.median(ratios):5.3f}x plain "
              f"(middle half of blocks: {quartiles[0]:.3f} to {quartiles[2]:.3f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp10,mlp512,cnn",
                        help="comma-separated steps to time (default mlp10,mlp512,cnn)")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps a block (default: 50 for mlp10, 5 for mlp512, 3 for cnn)")
    parser.add_argument("--repeat", type=int, default=40, help="blocks a loop (default 40)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: on a shared 2-core machine, the steadiest ratio)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the recorder without its signal hooks, its step hooks or its dead-unit counts")
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")
    names = [n.strip() for n in args.model.split(",") if n.strip()]
    for n in names:
        if n not in MODELS:
            parser.error(f"unknown --model {n!r} (valid: {', '.join(MODELS)})")
    torch.set_num_threads(args.threads)
    for n in names:
        run(n, args)


if __name__ == "__main__":
    main()
