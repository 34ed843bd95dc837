"""Models nobody here designed, through the data-and-loss layer: a tiny BERT classifier on padded dict batches
and a tiny GPT-2 language model (labels = input_ids), against the loop their users write; and the pictures of
a ResNet-18-like CNN and the BERT, written for looking at.

1. loop: for each grid point copy theta + a d1 + b d2 into a copy of the model and average
   `model(**batch).loss` over the batches, weighted by rows, in eval mode without gradients (what a
   researcher writes, and what tests/test_hf_models.py checks value by value).
2. gradviz: landscape(model, batches, directions=(d1, d2), grid=...): the same surface through the layer
   (functional_call per point, the model untouched; batch 0 checked first).
3. hessian: gradviz.hessian(model, batches, top=1) with torch's default ('sdpa') attention, run under the
   math kernel: its Hessian-vector products per second and the residual it reached.

Runs are interleaved (loop, gradviz, loop, ...) and medians printed with the largest difference between the
surfaces. With --pictures DIR the gradient flow of a ResNet-18-like CNN (41 named layers: 20 convolutions,
20 BatchNorms, a Linear) and of the BERT, and the BERT's landscape, are written there as PNGs at 960x540.

    python benchmarks/own_models.py [--repeat 3] [--grid 7] [--threads T] [--pictures DIR]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import numpy as np
import torch
from torch import nn

import gradviz
from gradviz.analysis.landscape import random_directions


def bert() -> nn.Module:
    import transformers

    torch.manual_seed(0)
    return transformers.BertForSequenceClassification(transformers.BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=32, num_labels=3, initializer_range=0.3))


def gpt2() -> nn.Module:
    import transformers

    torch.manual_seed(0)
    return transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=100, n_positions=32, n_embd=32, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0))


def batches(kind: str, n: int = 64, length: int = 16, size: int = 16) -> list[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(1)
    out = []
    for start in range(0, n, size):
        ids = torch.randint(1, 100, (size, length), generator=generator)
        lengths = torch.randint(4, length + 1, (size,), generator=generator)
        mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
        ids = ids * mask
        labels = torch.randint(0, 3, (size,), generator=generator) if kind == "bert" else ids.masked_fill(mask == 0,
                                                                                                          -100)
        out.append({"input_ids": ids, "attention_mask": mask, "labels": labels})
    return out


def loop(model: nn.Module, data: list[dict], d1: list, d2: list, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    net = copy.deepcopy(model).eval()
    base = [p.detach().clone() for p in net.parameters()]
    z = np.zeros((len(b), len(a)))
    with torch.no_grad():
        for i, bj in enumerate(b):
            for j, ai in enumerate(a):
                for p, w, u, v in zip(net.parameters(), base, d1, d2):
                    p.copy_(w + ai * u + bj * v)
                rows = sum(len(batch["input_ids"]) for batch in data)
                z[i, j] = sum(float(net(**batch).loss) * len(batch["input_ids"]) for batch in data) / rows
    return z


def compare(name: str, model: nn.Module, data: list[dict], grid: int, repeat: int) -> None:
    d1, d2 = random_directions(model, seed=2)
    times: dict[str, list[float]] = {"loop": [], "gradviz": []}
    gap = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        surface = gradviz.landscape(model, data, directions=(d1, d2), grid=grid, span=0.5)
        times["gradviz"].append(time.perf_counter() - start)
        start = time.perf_counter()
        expected = loop(model, data, d1, d2, surface.x, surface.y)
        times["loop"].append(time.perf_counter() - start)
        gap = max(gap, float(np.abs(surface.z - expected).max()))
    loop_t, ours = statistics.median(times["loop"]), statistics.median(times["gradviz"])
    print(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters, {grid}x{grid} grid on "
          f"{sum(len(b['input_ids']) for b in data)} sequences in {len(data)} dict batches: loop {loop_t:.2f} s, "
          f"gradviz {ours:.2f} s ({loop_t / ours:.2f}x), largest difference {gap:.2e}")
    start = time.perf_counter()
    spectrum = gradviz.hessian(model, data, top=1, max_steps=30)
    took = time.perf_counter() - start
    print(f"{name}: hessian top eigenvalue {spectrum.eigenvalues[0]:.5g} (residual {spectrum.residuals[0]:.2g}) "
          f"from {spectrum.products} products in {took:.2f} s ({took / spectrum.products:.3f} s per product)")


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """torchvision's resnet18 layout (conv1, bn1, layer1-4 of two BasicBlocks, fc), 8 channels wide."""

    def __init__(self, width: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width)
        cin = width
        for index, w in enumerate((width, 2 * width, 4 * width, 8 * width)):
            setattr(self, f"layer{index + 1}", nn.Sequential(Block(cin, w, 1 if index == 0 else 2), Block(w, w, 1)))
            cin = w
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        for index in range(4):
            x = getattr(self, f"layer{index + 1}")(x)
        return self.fc(x.mean((2, 3)))


def pictures(folder: str) -> None:
    from pathlib import Path

    from gradviz.pipelines.gradflow import gradflow
    from gradviz.pipelines.landscape import model_landscape

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    images = (torch.randn(32, 3, 16, 16), torch.randint(0, 10, (32,)))
    gradflow(out / "resnet18-gradflow.png", model=ResNet18(), data=images, steps=5, batch_size=16)
    gradflow(out / "bert-gradflow.png", model=bert(), data=batches("bert"), steps=5, optimizer="adam", lr=1e-3)
    model_landscape(out / "bert-landscape.png", model=bert(), data=batches("bert"), grid=15)
    print(f"wrote {', '.join(sorted(p.name for p in out.glob('*.png')))} to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--grid", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--pictures", default=None, help="a folder to write the PNGs to")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import transformers

    transformers.logging.set_verbosity_error()
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, {torch.get_num_threads()} threads")
    compare("BERT classifier", bert(), batches("bert"), args.grid, args.repeat)
    compare("GPT-2 LM", gpt2(), batches("gpt2"), args.grid, args.repeat)
    if args.pictures:
        pictures(args.pictures)


if __name__ == "__main__":
    main()
