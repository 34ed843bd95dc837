"""What record_gradients costs per training step, against no recording and against the common approach.

Model: 10 Linear layers of width 64 (sigmoid), batch 128 of N(0, I) inputs with random labels, SGD.
Three loops of the same steps, each on its own copy of the model:
  plain      zero_grad / forward / cross-entropy / backward / step;
  gradviz    the same inside `with gradviz.record_gradients(model, optimizer)` (weight-gradient, signal and
             parameter norms per layer, total norm, update ratio, NaN/inf, dead units; one host transfer a step);
  per-item   what common tools do: after backward, for every parameter p.grad.norm().item() and p.norm().item()
             (a host sync per call), and no backward signal at all.
The loops take turns in short blocks of --steps steps, --repeat blocks each, so that a shared machine's
drift hits them alike; each block is compared with the plain block next to it. Prints the median time per
step and the median of the per-block ratios to plain (with their middle half).
--breakdown adds two loops that say what the recorder's parts cost: the recorder with its backward-signal
hooks switched off, and with its optimizer-step hooks (parameter norms, update ratio) switched off.

    python benchmarks/gradflow.py [--steps 50] [--repeat 40] [--threads 1] [--device cpu|cuda] [--breakdown]
"""

from __future__ import annotations

import argparse
import statistics
import time
import types
from typing import Any, Callable

import torch
from torch import nn

from gradviz.gradients import GradientRecorder, deep_mlp, random_data

DEVICE = torch.device("cpu")


def make(seed: int = 0) -> tuple[nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor]:
    model = deep_mlp(10, 64, out_features=10, activation="sigmoid", seed=seed).to(DEVICE)
    x, y = random_data(128, 64, 10, seed=seed)
    return model, torch.optim.SGD(model.parameters(), lr=0.1), x.to(DEVICE), y.to(DEVICE)


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


def recorded(**replace: Callable[..., Any]) -> Loop:
    """The recorder on its own model for the whole run; `replace` swaps some of its hooks (--breakdown)."""
    model, optimizer, x, y = make()
    recorder = GradientRecorder(model, optimizer)
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


def _no_step(self: GradientRecorder, *args: object) -> None:
    if args and args[0] is self.optimizer and self._last is not None and not self._copied:
        self._finish_step([])  # the step's gradient and signal norms, without parameter norms or updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="steps a block (default 50)")
    parser.add_argument("--repeat", type=int, default=40, help="blocks a loop (default 40)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: on a shared 2-core machine, the steadiest ratio)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the recorder without its signal hooks and without its step hooks")
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")
    torch.set_num_threads(args.threads)
    loops: dict[str, Loop] = {"plain": plain(), "gradviz": recorded(), "per-item": per_item()}
    if args.breakdown:
        loops["gradviz, no signal hooks"] = recorded(_forward_hook=_no_signal)
        loops["gradviz, no step hooks"] = recorded(_before_step=_no_step, _after_step=_no_step)
    for one, _ in loops.values():  # warm-up: first-optimizer start-up, allocator, CUDA kernels
        for _ in range(10):
            one()
    times: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.repeat):
        for name, (one, _) in loops.items():
            sync()
            start = time.perf_counter()
            for _ in range(args.steps):
                one()
            sync()
            times[name].append((time.perf_counter() - start) / args.steps)
    for _, finish in loops.values():
        finish()
    for name, values in times.items():
        ratios = [value / base for value, base in zip(values, times["plain"])]  # each against its own block
        quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        print(f"{name:24s} {statistics.median(values) * 1e3:7.3f} ms/step   {statistics.median(ratios):5.2f}x plain "
              f"(middle half of blocks: {quartiles[0]:.2f} to {quartiles[2]:.2f})")
    where = torch.cuda.get_device_name(DEVICE) if DEVICE.type == "cuda" else f"{torch.get_num_threads()} thread(s)"
    print(f"(10 x Linear(64), batch 128, SGD, {args.repeat} blocks of {args.steps} steps, torch {torch.__version__}, "
          f"{DEVICE.type}: {where})")


if __name__ == "__main__":
    main()
