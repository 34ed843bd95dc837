"""The models researchers train today, through the one data-and-loss layer: a Hugging Face BERT classifier on
dict batches with padding masks, a GPT-2 language model with labels = input_ids, a two-input model, a
(logits, aux) model with its own loss, soft labels; the Hessian of GPT-2 with torch's default attention; and the
first batch's checks, one line each.

Every surface is compared with a loop written here, which calls the model as its user would
(`model(**batch).loss`), one grid point at a time on a copy of the model, and weights batch means by rows.
Configs are tiny and built in code: nothing is downloaded."""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from gradviz.analysis.landscape import evaluate, landscape, random_directions
from gradviz.registry import InvalidArgument

from reference import loop_surface

transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()


def make_bert(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    config = transformers.BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=16, num_labels=3,
                                     initializer_range=0.3)  # weights large enough to tell inputs apart
    return transformers.BertForSequenceClassification(config)


def make_gpt2(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    config = transformers.GPT2Config(vocab_size=40, n_positions=16, n_embd=16, n_layer=1, n_head=2,
                                     bos_token_id=0, eos_token_id=0, initializer_range=0.1)
    return transformers.GPT2LMHeadModel(config)


def padded_batches(sizes, *, length=8, labels="class", seed=1):
    """Dict batches as a tokenizer and a collator give them: ids padded with 0 after each sequence's own
    length, an attention mask of 1s then 0s, and labels (classes, or the ids themselves for a language model)."""
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for n in sizes:
        ids = torch.randint(1, 40, (n, length), generator=generator)
        lengths = torch.randint(3, length + 1, (n,), generator=generator)
        mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
        ids = ids * mask
        batch = {"input_ids": ids, "attention_mask": mask}
        batch["labels"] = torch.randint(0, 3, (n,), generator=generator) if labels == "class" else \
            ids.masked_fill(mask == 0, -100)
        batches.append(batch)
    return batches


def test_bert_on_padded_dict_batches_is_its_own_loss_over_the_plane():
    model = make_bert()
    batches = padded_batches([6, 6, 4])  # a DataLoader's batches: the last one shorter
    d1, d2 = random_directions(model, seed=2)
    surface = landscape(model, batches, directions=(d1, d2), grid=3, span=0.5)
    expected = loop_surface(model, batches, d1, d2, surface.x, surface.y, lambda net, batch: net(**batch).loss)
    np.testing.assert_allclose(surface.z, expected, rtol=1e-5)
    # at the model's own weights (one point each): the mask reaches the model, attending the padding gives
    # another loss; (dict, labels) batches and (input_ids, labels) pairs go through cross-entropy on .logits
    own = torch.cat([p.detach().reshape(-1) for p in model.parameters()])[None].numpy()
    assert evaluate(model, batches, own)[0] == pytest.approx(surface.z[1, 1], rel=1e-6)
    unmasked = [{k: v for k, v in batch.items() if k != "attention_mask"} for batch in batches]
    attended = evaluate(model, unmasked, own)[0]
    assert abs(attended - surface.z[1, 1]) > 1e-4
    split = [({k: v for k, v in batch.items() if k != "labels"}, batch["labels"]) for batch in batches]
    assert evaluate(model, split, own)[0] == pytest.approx(surface.z[1, 1], rel=1e-6)
    ids_only = [(batch["input_ids"], batch["labels"]) for batch in batches]
    assert evaluate(model, ids_only, own)[0] == pytest.approx(attended, rel=1e-6)


def test_gpt2_language_model_with_labels_equal_to_its_inputs():
    model = make_gpt2()
    batches = padded_batches([4, 3], labels="lm")
    d1, d2 = random_directions(model, seed=4)
    surface = landscape(model, batches, directions=(d1, d2), grid=3, span=0.3)
    expected = loop_surface(model, batches, d1, d2, surface.x, surface.y, lambda net, batch: net(**batch).loss)
    np.testing.assert_allclose(surface.z, expected, rtol=1e-5)
    # weighted by labelled tokens instead of sequences, as count= says
    tokens = landscape(model, batches, directions=(d1, d2), grid=3, span=0.3,
                       count=lambda batch: int((batch["labels"][:, 1:] != -100).sum()))
    weights = [int((b["labels"][:, 1:] != -100).sum()) for b in batches]
    net = copy.deepcopy(model).eval()
    with torch.no_grad():
        centre = sum(float(net(**b).loss) * w for b, w in zip(batches, weights)) / sum(weights)
    assert tokens.z[1, 1] == pytest.approx(centre, rel=1e-5)


def lanczos_top(matvec, size, steps=40, seed=0):
    """Top eigenvalue by plain Lanczos with full reorthogonalization."""
    generator = torch.Generator().manual_seed(seed)
    q = torch.randn(size, generator=generator, dtype=torch.float64)
    basis, alphas, betas = [q / q.norm()], [], []
    for j in range(steps):
        w = matvec(basis[j])
        alphas.append(float(w @ basis[j]))
        Q = torch.stack(basis)
        w = w - Q.T @ (Q @ w)
        w = w - Q.T @ (Q @ w)
        beta = float(w.norm())
        if j == steps - 1:
            break
        betas.append(beta)
        basis.append(w / beta)
    T = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
    return float(np.linalg.eigvalsh(T)[-1])


def test_hessian_of_gpt2_with_the_default_attention_equals_lanczos_on_products_written_here():
    import gradviz

    model = make_gpt2().double()
    assert model.config._attn_implementation == "sdpa"  # torch's fused attention, whose backward has no derivative
    batch = padded_batches([4], labels="lm")[0]
    spectrum = gradviz.hessian(model, [batch], top=1, max_steps=12, seed=0)
    params = [p for p in model.parameters()]
    names = [n for n, _ in model.named_parameters()]

    def hvp(v):
        pieces = torch.split(v, [p.numel() for p in params])
        vectors = {n: piece.reshape(p.shape) for n, p, piece in zip(names, params, pieces)}

        def loss(weights):
            return torch.func.functional_call(model, weights, (), batch).loss

        primals = {n: p.detach() for n, p in zip(names, params)}
        with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
            _, out = torch.func.jvp(torch.func.grad(loss), (primals,), (vectors,))
        return torch.cat([out[n].reshape(-1) for n in names])

    model.eval()
    expected = lanczos_top(hvp, sum(p.numel() for p in params), steps=12, seed=0)  # the same start as seed=0's
    assert spectrum.products == 12
    assert spectrum.eigenvalues[0] == pytest.approx(expected, rel=1e-7)
    assert spectrum.residuals[0] < 0.05 * spectrum.eigenvalues[0]  # and near the top eigenvalue (10.74 at 19 steps)


def test_the_kept_gradient_graph_of_gpt2_runs_under_the_math_attention_and_equals_rebuilt_products():
    from gradviz.analysis.curvature import HessianOperator

    model = make_gpt2().double()
    batch = padded_batches([4], labels="lm")[0]  # a dict of tensors in memory: the graph is kept
    kept, rebuilt = HessianOperator(model, batch), HessianOperator(model, batch, keep_graph=False)
    assert kept.keep_graph and not rebuilt.keep_graph
    w = kept.weights()
    V = torch.randn(w.numel(), 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expected = torch.stack([rebuilt.hvp(w, v) for v in V.T], 1).numpy()
    np.testing.assert_allclose(kept.hvp(w, V[:, 0]).numpy(), expected[:, 0], rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(kept.hvp(w, V).numpy(), expected, rtol=1e-7, atol=1e-10)  # batched products


def test_samples_n_on_dict_batches_with_the_models_own_loss():
    model = make_bert()
    batches = padded_batches([6, 6, 4])  # a list of dict batches: read twice, the chosen rows taken
    surface = landscape(model, batches, grid=3, span=0.5, samples=8, seed=3)
    assert (surface.samples, surface.total_samples) == (8, 16)
    rows = {k: torch.cat([b[k] for b in batches]) for k in batches[0]}
    chosen = torch.randperm(16, generator=torch.Generator().manual_seed(3))[:8].sort().values
    net = copy.deepcopy(model).eval()
    with torch.no_grad():  # .loss has no per-sample form: batches of ceil(8 / 16) = 1 row, the error of their means
        each = np.array([float(net(**{k: v[i:i + 1] for k, v in rows.items()}).loss) for i in chosen.tolist()])
    assert surface.z[1, 1] == pytest.approx(each.mean(), rel=1e-5)
    assert surface.error[1, 1] == pytest.approx(each.std(ddof=1) / np.sqrt(8), rel=1e-4)


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.image = nn.Linear(6, 8)
        self.meta = nn.Linear(2, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, image: torch.Tensor, meta: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.image(image) + self.meta(meta)))


class WithAux(nn.Module):
    """Returns (logits, aux), as models with an auxiliary head or a regularizer do."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Linear(5, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.tanh(self.body(x))
        return self.head(h), h.square().mean(1)


@pytest.fixture(scope="module")
def tabular():
    generator = torch.Generator().manual_seed(3)
    return (torch.randn(40, 6, generator=generator), torch.randn(40, 2, generator=generator),
            torch.randint(0, 3, (40,), generator=generator))


def test_a_two_input_model_on_x1_x2_y_batches(tabular):
    model = TwoInputs()
    d1, d2 = random_directions(model, seed=1)
    surface = landscape(model, tabular, directions=(d1, d2), grid=3, span=0.5, batch_size=16)  # 16, 16, 8
    batches = [tuple(t[i:i + 16] for t in tabular) for i in range(0, 40, 16)]
    expected = loop_surface(model, batches, d1, d2, surface.x, surface.y,
                            lambda net, b: nn.functional.cross_entropy(net(b[0], b[1]), b[2]))
    np.testing.assert_allclose(surface.z, expected, rtol=1e-5)


def test_a_logits_aux_model_by_default_and_with_its_own_loss(tabular):
    model = WithAux()
    x, _, y = tabular
    x = x[:, :5]
    d1, d2 = random_directions(model, seed=1)

    def compute_loss(net, batch):
        logits, aux = net(batch[0])
        return nn.functional.cross_entropy(logits, batch[1]) + 0.5 * aux.mean()

    own = landscape(model, (x, y), directions=(d1, d2), grid=3, span=0.5, compute_loss=compute_loss)
    np.testing.assert_allclose(own.z, loop_surface(model, [(x, y)], d1, d2, own.x, own.y, compute_loss), rtol=1e-5)
    default = landscape(model, (x, y), directions=(d1, d2), grid=3, span=0.5)  # the logits, the first element
    expected = loop_surface(model, [(x, y)], d1, d2, own.x, own.y,
                            lambda net, b: nn.functional.cross_entropy(net(b[0])[0], b[1]))
    np.testing.assert_allclose(default.z, expected, rtol=1e-5)
    assert np.all(own.z > default.z)  # the aux term is positive everywhere
    from gradviz.analysis.gradients import gradflow_model

    log = gradflow_model(WithAux(), (x, y), compute_loss=compute_loss, steps=3, lr=0.1)
    assert len(log.losses) == 3 and np.isfinite(log.losses).all()


def test_one_hot_and_soft_labels_go_to_cross_entropy(tabular):
    model = TwoInputs().head
    x = tabular[0][:, :8] if tabular[0].shape[1] >= 8 else torch.cat([tabular[0], tabular[1]], 1)
    y = tabular[2]
    hard = landscape(model, (x, y), grid=3, span=0.5)
    one_hot = landscape(model, (x, nn.functional.one_hot(y, 3).float()), grid=3, span=0.5)
    np.testing.assert_allclose(one_hot.z, hard.z, rtol=1e-6)
    soft = torch.full((len(y), 3), 0.1).scatter_(1, y[:, None], 0.8)
    smoothed = landscape(model, (x, soft), grid=3, span=0.5)
    expected = nn.functional.cross_entropy(model(x), soft).detach()
    assert smoothed.z[1, 1] == pytest.approx(float(expected), rel=1e-6)


def test_a_list_of_two_batches_is_two_batches(tabular):
    model = TwoInputs().head
    x = torch.cat([tabular[0], tabular[1]], 1)
    y = tabular[2]
    two = [(x[:25], y[:25]), (x[25:], y[25:])]
    whole = landscape(model, (x, y), grid=3, span=0.5)
    np.testing.assert_allclose(landscape(model, two, grid=3, span=0.5).z, whole.z, rtol=1e-6)


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))


X8 = torch.randn(12, 8, generator=torch.Generator().manual_seed(0))
Y3 = torch.arange(12) % 3


def nan_weights():
    model = mlp()
    with torch.no_grad():
        model[2].weight[0, 0] = float("nan")
    return model


@pytest.mark.parametrize("model, data, options, message", [
    (mlp, (X8, Y3 + 1), {}, r"batch 0: labels run from 1 to 3 but the model has 3 outputs \(classes 0 to 2\)"),
    (mlp, (X8, Y3 - 1), {}, r"batch 0: labels run from -1 to 1"),
    (mlp, (X8, Y3), {"loss_fn": lambda out, y: nn.functional.cross_entropy(out, y, reduction="sum")},
     r"batch 0 is .*given twice: it sums over the samples; return their mean"),
    (mlp, (X8, Y3), {"loss_fn": nn.CrossEntropyLoss(reduction="sum")}, r"reduction='sum'"),
    (lambda: nn.Linear(8, 1), (X8, Y3 * 2.0 - 2), {}, r"batch 0: binary cross-entropy targets must lie in \[0, 1\]"),
    (lambda: nn.Linear(8, 1), (X8, Y3 % 2), {"loss_fn": "cross-entropy"}, r"batch 0: loss 'cross-entropy' on a model "
                                                                          r"with 1 output is 0 everywhere"),
    (mlp, (X8.masked_fill(X8 > 1.5, float("nan")), Y3), {}, r"batch 0 of the data: input x of shape \(12, 8\) has \d+ NaN"),
    (nan_weights, (X8, Y3), {}, r"the model's weight '2.weight' has 1 NaN"),
    (mlp, (X8.long(), Y3), {}, r"batch 0: model\(x\) raised RuntimeError.*the inputs are int64 .* x.float\(\)"),
    (mlp, (X8.reshape(12, 2, 2, 2), Y3), {}, r"batch 0: .*inputs have shape \(12, 2, 2, 2\) .* add nn.Flatten\(\)"),
    (mlp, (X8, Y3, torch.arange(12)), {}, r"batch 0: model\(x1, x2\) raised TypeError.*compute_loss"),
    (mlp, {"x": X8}, {}, r"batch 0: model\(\*\*batch\) with keys x raised TypeError"),
    (mlp, (X8, torch.rand(12) * 2), {}, r"batch 0: fractional targets"),
    (mlp, (X8, torch.rand(12, 3)), {}, r"batch 0: float targets shaped like the logits .* \(each row must sum to 1\)"),
])
def test_the_first_batch_is_checked_before_the_grid(model, data, options, message):
    with pytest.raises(InvalidArgument, match=message) as caught:
        landscape(model(), data, grid=3, **options)
    assert "\n" not in str(caught.value)


def test_a_dict_batch_without_labels_or_loss_and_both_hooks_at_once_are_refused(tabular):
    model = make_bert()
    batch = {k: v for k, v in padded_batches([4])[0].items() if k != "labels"}
    with pytest.raises(InvalidArgument, match="batch 0 has no targets and the model returned a "
                                              "SequenceClassifierOutput with no .loss"):
        landscape(model, [batch], grid=3)
    with pytest.raises(InvalidArgument, match="not both"):
        landscape(model, [batch], grid=3, loss_fn="mse", compute_loss=lambda m, b: m(**b).logits.sum())


def test_gradflow_model_and_hessian_read_the_same_checks():
    import gradviz
    from gradviz.analysis.gradients import gradflow_model

    for run in (lambda data: gradflow_model(mlp(), data, steps=1), lambda data: gradviz.hessian(mlp(), data)):
        with pytest.raises(InvalidArgument, match="batch 0: labels run from 1 to 3"):
            run((X8, Y3 + 1))
    log = gradflow_model(make_bert(), padded_batches([4, 4]), steps=2, lr=0.05)
    assert math.isfinite(float(log.losses[-1]))


USER_FILES = {
    "mynets.py": '''
import torch
import transformers


def make_bert():
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=16, num_labels=3)
    return transformers.BertForSequenceClassification(config)
''',
    "mydata.py": '''
import torch


def hf_loader(labels_from=0):
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 40, (12, 8), generator=generator)
    mask = torch.ones(12, 8, dtype=torch.long)
    mask[::2, 5:] = 0
    rows = [{"input_ids": i, "attention_mask": m, "labels": torch.tensor(labels_from + k % 3)}
            for k, (i, m) in enumerate(zip(ids * mask, mask))]
    return torch.utils.data.DataLoader(rows, batch_size=4)


def bad_labels():
    return hf_loader(labels_from=2)


def logits_loss(model, batch):
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    return torch.nn.functional.cross_entropy(model(**inputs).logits, batch["labels"])
''',
}


def test_cli_landscape_and_gradflow_of_a_hugging_face_model(tmp_path):
    from clirunner import run_cli

    for name, text in USER_FILES.items():
        (tmp_path / name).write_text(text)
    user = ["--model", f"{tmp_path}/mynets.py:make_bert"]
    cases = [["landscape", *user, "--data", f"{tmp_path}/mydata.py:hf_loader", "--grid", "3", "-o", "bert.png", "-q"],
             ["gradflow", *user, "--data", f"{tmp_path}/mydata.py:hf_loader", "--steps", "3", "-o", "flow.png", "-q"],
             ["landscape", *user, "--data", f"{tmp_path}/mydata.py:hf_loader", "--grid", "3", "--compute-loss",
              f"{tmp_path}/mydata.py:logits_loss", "-o", "hook.png", "-q"],
             ["landscape", *user, "--data", f"{tmp_path}/mydata.py:bad_labels", "--grid", "3", "-o", "bad.png"]]
    drawn, flow, hook, bad = run_cli(cases, tmp_path)
    for result, name in ((drawn, "bert.png"), (flow, "flow.png"), (hook, "hook.png")):
        assert result["code"] in (None, 0), result["stderr"][-2000:]
        assert result["files"] == [name]
    assert bad["code"] == 2 and bad["files"] == []
    message = bad["stderr"].strip()
    assert "\n" not in message and "Traceback" not in message
    assert "batch 0: labels run from 2 to 4 but the model has 3 outputs" in message


# -- pictures of deep networks -------------------------------------------------------------------------------

def sixty_layers() -> nn.Module:
    """12 named blocks of 5 layers (Linear, LayerNorm, Linear, LayerNorm, Linear): 60 named layers, as a
    ResNet-18's convolutions and norms are."""
    from collections import OrderedDict

    torch.manual_seed(0)
    blocks: OrderedDict[str, nn.Module] = OrderedDict()
    for b in range(12):
        blocks[f"block{b}"] = nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8), nn.Linear(8, 8), nn.LayerNorm(8),
                                            nn.Linear(8, 8))
    return nn.Sequential(blocks)


def test_gradient_flow_of_sixty_named_layers_reads_at_960x540():
    from gradviz.analysis.gradients import gradflow_model
    from gradviz.render.frames import texts_outside
    from gradviz.render.gradflow import GradflowRenderer, layer_blocks, summary_figure
    from test_text_sizes import small_texts

    data = (torch.randn(32, 8, generator=torch.Generator().manual_seed(0)), torch.arange(32) % 8)
    log = gradflow_model(sixty_layers(), data, steps=3)
    assert len(log.names) == 60 and log.names[:2] == ("block0.0", "block0.1")
    assert layer_blocks(log.names)[:2] == [(0, "block0"), (5, "block1")]
    figures = {view: summary_figure([log], view) for view in ("summary", "heatmap")}
    figures["animation"] = GradflowRenderer([log]).figure
    for view, figure in figures.items():
        figure.canvas.draw()
        assert small_texts(figure, None) == [], view
        assert texts_outside(figure) == [], view
        for ax in figure.axes:
            for axis in (ax.xaxis, ax.yaxis):
                labels = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
                boxes = [t.get_window_extent() for t in labels]
                clashes = [(a.get_text(), b.get_text()) for i, (a, p) in enumerate(zip(labels, boxes))
                           for b, q in zip(labels[i + 1:], boxes[i + 1:]) if p.overlaps(q)]
                assert not clashes, (view, clashes)
        for legend in [ax.get_legend() for ax in figure.axes] + figure.legends:  # beside the data, not on it
            if legend is not None:
                assert not any(legend.get_window_extent().overlaps(ax.get_window_extent()) for ax in figure.axes[:1])
    profile = figures["summary"].axes[0]
    named = [t.get_text() for t in profile.get_xticklabels() if t.get_text()]
    assert 4 <= len(named) <= 12 and set(named) <= {f"block{b}" for b in range(12)}  # blocks, thinned
    ticks = set(profile.xaxis.get_minorticklocs()) | set(profile.xaxis.get_majorticklocs())
    assert ticks == set(range(1, 61))  # and a tick for every layer
    heatmap = figures["heatmap"].axes[0]
    assert 4 <= len([t for t in heatmap.get_yticklabels() if t.get_text()]) <= 12


DOC = Path(__file__).resolve().parents[1] / "docs" / "own-models.md"
DOC_BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)))
def test_the_own_models_page_runs_as_written(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(DOC_BLOCKS[index], f"docs/own-models.md python block {index + 1}", "exec"), {"__name__": "__doc__"})
