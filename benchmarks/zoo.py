"""The real networks the landscape and curvature benchmarks run on, written out in plain torch (no torchvision,
no transformers): the digits CNN (float32 and float64), a CIFAR-style ResNet-18 (11.2 M parameters, BatchNorm
with running statistics), a small ViT (patch convolution + two pre-norm encoder layers), a small BERT-like
encoder on token ids, and an LSTM classifier. Each comes with seeded data of its own shape and is put in eval
mode after a few training-mode passes, so BatchNorm's running statistics are not the initial 0 and 1.

    from zoo import CASES, build
    model, X, y = build("resnet18", samples=64)
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, inp: int, out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inp, out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out)
        self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.shortcut = nn.Sequential()
        if stride != 1 or inp != out:
            self.shortcut = nn.Sequential(nn.Conv2d(inp, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


class ResNet18(nn.Module):
    """He et al. 2016's ResNet-18 in its CIFAR form (3x3 stem, no max-pool), as kuangliu/pytorch-cifar writes it."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, inp = [], 64
        for out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [BasicBlock(inp, out, stride), BasicBlock(out, out, 1)]
            inp = out
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.layers(torch.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(h, 1), 1))


class ViT(nn.Module):
    def __init__(self, size: int = 32, patch: int = 4, dim: int = 128, depth: int = 2, classes: int = 10) -> None:
        super().__init__()
        self.patches = nn.Conv2d(3, dim, patch, patch)
        self.position = nn.Parameter(torch.randn(1, (size // patch) ** 2, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, 4, 2 * dim, dropout=0.1, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patches(x).flatten(2).transpose(1, 2) + self.position
        return self.head(self.norm(self.encoder(tokens)).mean(1))


class Bert(nn.Module):
    def __init__(self, vocab: int = 2000, length: int = 64, dim: int = 128, depth: int = 2, classes: int = 2) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.position = nn.Parameter(torch.randn(1, length, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, 4, 4 * dim, dropout=0.1, batch_first=True, activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.head = nn.Linear(dim, classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.tokens(ids) + self.position)[:, 0])


class LSTMClassifier(nn.Module):
    def __init__(self, vocab: int = 2000, dim: int = 64, hidden: int = 128, classes: int = 2) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.tokens(ids))
        return self.head(out[:, -1])


def digits_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


# name -> (what it is, model factory, inputs factory (n, generator), classes)
CASES = {
    "digits-cnn": ("digits CNN (5k parameters), 1 x 8 x 8 images", digits_cnn,
                   lambda n, g: torch.randn(n, 1, 8, 8, generator=g), 10),
    "digits-cnn-f64": ("digits CNN in float64", lambda: digits_cnn().double(),
                       lambda n, g: torch.randn(n, 1, 8, 8, generator=g, dtype=torch.float64), 10),
    "resnet18": ("ResNet-18, CIFAR form (11.2 M parameters), 3 x 32 x 32 images", ResNet18,
                 lambda n, g: torch.randn(n, 3, 32, 32, generator=g), 10),
    "vit": ("ViT, 4x4 patches, 2 pre-norm layers of width 128 (0.3 M parameters), 3 x 32 x 32 images", ViT,
            lambda n, g: torch.randn(n, 3, 32, 32, generator=g), 10),
    "bert": ("BERT-like encoder, 2 layers of width 128 (0.66 M parameters), 64 token ids", Bert,
             lambda n, g: torch.randint(0, 2000, (n, 64), generator=g), 2),
    "lstm": ("LSTM classifier, embedding 64, hidden 128 (0.23 M parameters), 64 token ids", LSTMClassifier,
             lambda n, g: torch.randint(0, 2000, (n, 64), generator=g), 2),
}


def build(name: str, samples: int, seed: int = 0) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """The model (eval mode, BatchNorm statistics from three training-mode passes) and (X, y) of `samples`."""
    _, factory, inputs, classes = CASES[name]
    torch.manual_seed(seed)
    model = factory()
    generator = torch.Generator().manual_seed(seed)
    X = inputs(samples, generator)
    y = torch.randint(0, classes, (samples,), generator=generator)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(X[:32])
    return model.eval(), X, y


def trained(name: str, samples: int, steps: int = 100, seed: int = 0, size: int | None = None
            ) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """The model trained `steps` full-batch Adam steps (lr 1e-2) on labels a teacher of the same kind gives
    (the argmax of a differently seeded copy), so that its Hessian has a trained net's outlying eigenvalues:
    the case deflation helps and a random net does not show. size crops images to size x size."""
    model, X, _ = build(name, samples, seed)
    if size is not None:
        X = X[..., :size, :size].contiguous()
    teacher, _, _ = build(name, 8, seed + 1)
    with torch.no_grad():
        y = teacher(X).argmax(1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval(), X, y
