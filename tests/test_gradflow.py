import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

import gradviz
from gradviz.analysis.diagnosis import diagnose
from gradviz.analysis.gradients import record_gradients
from gradviz.lecture.deepnets import deep_mlp, gradflow_experiment, random_data, theoretical_factor
from gradviz.registry import InvalidArgument


def small_model(inplace=False):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(inplace=inplace), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3))


def batch(seed=0, n=16):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 5, generator=g), torch.randint(0, 3, (n,), generator=g)


@pytest.mark.parametrize("buffer", [None, 0])  # output gradients measured at the pass's end, or one by one
def test_grad_norms_equal_p_grad_and_signals_equal_autograd(buffer, monkeypatch):
    if buffer is not None:
        monkeypatch.setattr("gradviz.analysis.gradients.SIGNAL_BUFFER", buffer)
    model = small_model()
    x, y = batch()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    # the reference: outputs of every Linear, and autograd.grad of the loss with respect to them
    outputs = {}
    handles = [model[i].register_forward_hook(lambda m, inp, out, i=i: outputs.__setitem__(i, out)) for i in (0, 2, 4)]
    loss = nn.functional.cross_entropy(model(x), y)
    expected_signal = torch.autograd.grad(loss, [outputs[i] for i in (0, 2, 4)], retain_graph=True)
    for h in handles:
        h.remove()
    with record_gradients(model, optimizer) as log:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        expected_weight = [model[i].weight.grad.norm().item() for i in (0, 2, 4)]
        optimizer.step()
    flow = log.result()
    assert flow.names == ("0", "2", "4")
    for name, w, s in zip(flow.names, expected_weight, expected_signal):
        assert flow.grad_norms[name][0] == pytest.approx(w, rel=1e-5)
        assert flow.signal_norms[name][0] == pytest.approx(s.norm().item(), rel=1e-5)
    total = torch.sqrt(sum(p.grad.norm() ** 2 for p in model.parameters())).item()
    assert flow.total_norm[0] == pytest.approx(total, rel=1e-5) == flow.total_norm_clipped[0]


def test_param_norms_and_update_ratio():
    model = small_model()
    before = model[0].weight.detach().clone(), model[0].bias.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    x, y = batch()
    with record_gradients(model, optimizer) as log:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    flow = log.result()
    assert flow.param_norms["0"][0] == pytest.approx(before[0].norm().item(), rel=1e-5)
    change = (model[0].weight - before[0]).norm()  # of the weight, as the log documents
    assert flow.update_ratios["0"][0] == pytest.approx((change / before[0].norm()).item(), rel=1e-4)


class Scale(nn.Module):
    """A layer with a parameter that is not called `weight`."""

    def __init__(self, n):
        super().__init__()
        self.gain = nn.Parameter(torch.linspace(0.5, 1.5, n))

    def forward(self, x):
        return x * self.gain


def test_param_norms_and_update_ratios_of_every_layer_over_several_steps():
    torch.manual_seed(1)  # weights of three sizes, a gain without `weight`, biases left out of the ratio
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), Scale(8), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    tracked = {"0": model[0].weight, "2": model[2].gain, "3": model[3].weight, "5": model[5].weight}
    expected_param, expected_ratio = {name: [] for name in tracked}, {name: [] for name in tracked}
    with record_gradients(model, optimizer) as log:
        for seed in range(4):
            x, y = batch(seed)
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            before = {name: w.detach().clone() for name, w in tracked.items()}
            optimizer.step()
            for name, w in tracked.items():
                expected_param[name].append(before[name].norm().item())
                expected_ratio[name].append(((w.detach() - before[name]).norm() / before[name].norm()).item())
    flow = log.result()
    assert flow.names == ("0", "2", "3", "5")
    for name in tracked:
        np.testing.assert_allclose(flow.param_norms[name], expected_param[name], rtol=1e-5)
        np.testing.assert_allclose(flow.update_ratios[name], expected_ratio[name], rtol=1e-4)
    assert np.all(flow.update_ratios["0"] > 1e-3)  # Adam with lr 0.05 moves every layer


def test_half_precision_norms_do_not_overflow():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 2)).half()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    x = torch.randn(8, 64, dtype=torch.float16)
    with record_gradients(model, optimizer) as log:
        optimizer.zero_grad()
        (model(x).float().sum() * 5000).backward()  # every entry fits float16, the norms do not
        grads = [p.grad.float() for p in model.parameters()]
        optimizer.step()
    flow = log.result()
    assert all(torch.isfinite(g).all() for g in grads) and grads[0].norm() > 65504
    assert flow.grad_norms["0"][0] == pytest.approx(grads[0].norm().item(), rel=1e-3)
    assert flow.grad_norms["1"][0] == pytest.approx(grads[2].norm().item(), rel=1e-3)
    assert flow.total_norm[0] == pytest.approx(torch.sqrt(sum(g.norm() ** 2 for g in grads)).item(), rel=1e-3)


def test_gradient_accumulation_records_what_the_optimizer_sees():
    model = small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with record_gradients(model, optimizer) as log:
        optimizer.zero_grad()
        for seed in (1, 2, 3):  # three micro-batches, one step
            x, y = batch(seed)
            nn.functional.cross_entropy(model(x), y).backward()
        accumulated = model[2].weight.grad.norm().item()
        optimizer.step()
    flow = log.result()
    assert len(flow.steps) == 1
    assert flow.grad_norms["2"][0] == pytest.approx(accumulated, rel=1e-5)


def test_without_optimizer_a_step_is_a_backward_pass():
    model = small_model()
    with record_gradients(model) as log:
        for seed in (1, 2):
            model.zero_grad()
            x, y = batch(seed)
            nn.functional.cross_entropy(model(x), y).backward()
    flow = log.result()
    assert len(flow.steps) == 2 and np.isnan(flow.update_ratios["0"]).all()


def test_clipping_is_recorded_before_and_after():
    model = small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = batch()
    with record_gradients(model, optimizer) as log:
        optimizer.zero_grad()
        (100 * nn.functional.cross_entropy(model(x), y)).backward()
        before = nn.utils.clip_grad_norm_(model.parameters(), 0.5).item()
        optimizer.step()
    flow = log.result()
    assert flow.total_norm[0] == pytest.approx(before, rel=1e-5)
    assert flow.total_norm_clipped[0] == pytest.approx(0.5, rel=1e-4)


def test_inplace_relu_gives_the_same_signals():
    results = []
    for inplace in (False, True):
        model = small_model(inplace)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = batch()
        with record_gradients(model, optimizer) as log:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        results.append(log.result())
    for name in results[0].names:
        assert results[0].signal_norms[name][0] == pytest.approx(results[1].signal_norms[name][0], rel=1e-6)


def test_frozen_and_unused_layers_show_no_gradient_and_are_kept():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.unused = nn.Linear(4, 4), nn.Linear(4, 2), nn.Linear(2, 2)

        def forward(self, x):
            return self.b(torch.relu(self.a(x)))

    model = Net()
    model.a.requires_grad_(False)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    with record_gradients(model, optimizer) as log:
        optimizer.zero_grad()
        model(torch.randn(3, 4)).sum().backward()
        optimizer.step()
    flow = log.result()
    assert set(flow.names) == {"a", "b", "unused"}
    assert not flow.has_gradient["a"][0] and np.isnan(flow.grad_norms["a"][0])
    assert not flow.has_gradient["unused"][0] and flow.has_gradient["b"][0]
    assert "a" in diagnose(flow).no_gradient


def test_a_module_called_twice_adds_both_signals():
    layer = nn.Linear(3, 3)

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            return self.layer(torch.tanh(self.layer(x)))

    model = Twice()
    x = torch.randn(4, 3)
    first = layer(x)
    second = layer(torch.tanh(first))
    grads = torch.autograd.grad(second.pow(2).sum(), [first, second])
    expected = math.sqrt(sum(g.norm().item() ** 2 for g in grads))
    with record_gradients(model) as log:
        model(x).pow(2).sum().backward()
    assert log.result().signal_norms["layer"][0] == pytest.approx(expected, rel=1e-5)


def test_hooks_are_removed_on_exit_even_after_an_exception():
    model = small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(RuntimeError, match="boom"):
        with record_gradients(model, optimizer):
            raise RuntimeError("boom")
    for module in model.modules():
        assert not module._forward_hooks
    for p in model.parameters():
        assert not getattr(p, "_post_accumulate_grad_hooks", None)
    assert not optimizer._optimizer_step_pre_hooks and not optimizer._optimizer_step_post_hooks


def test_dead_relu_fraction():
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU())
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.copy_(torch.tensor([-1.0, -1.0, 1.0, 1.0]))
    with record_gradients(model) as log:
        model(torch.randn(8, 2)).sum().backward()
    assert log.result().dead_fraction["1"][0] == 0.5


def test_nan_is_counted_and_diagnosed_not_dropped():
    flow = gradflow_experiment(activation="relu", init="scaled", std=3.0, steps=10)
    verdict = diagnose(flow)
    assert verdict.verdict == "exploding" and verdict.first_nonfinite is not None
    assert verdict.nonfinite_steps > 0 and len(flow.steps) == 10


def median_ratio(activation, init, std=None, seeds=range(7)):
    ratios = []
    for seed in seeds:
        flow = gradflow_experiment(activation=activation, init=init, std=std, steps=1, seed=seed)
        signal = flow.matrix("signal")[:, 0]
        ratios.append(signal[0] / signal[8])  # layer 1 over layer 9: eight hops
    return float(np.median(ratios))


def test_sigmoid_with_default_init_vanishes_by_orders_of_magnitude():
    assert median_ratio("sigmoid", "default") < 1e-5  # reference: about 1.5e-7


def test_relu_with_he_init_stays_within_a_small_factor():
    assert 0.5 < median_ratio("relu", "he") < 2.0  # reference: about 1.07


@pytest.mark.parametrize("k", [1.0, 2.0, 3.0])
def test_relu_with_scaled_normal_weights_scales_like_k_over_root_two(k):
    expected = (k / math.sqrt(2)) ** 8
    assert expected / 3 < median_ratio("relu", "scaled", std=k) < expected * 3


def test_the_backward_bound_holds_for_every_seed():
    # ||gz_l|| <= c ||W_{l+1}||_2 ||gz_{l+1}|| with c = 1/4 for sigmoid
    for seed in range(3):
        model = deep_mlp(6, 32, out_features=10, activation="sigmoid", seed=seed)
        x, y = random_data(64, 32, 10, seed=seed)
        with record_gradients(model) as log:
            nn.functional.cross_entropy(model(x), y).backward()
        flow = log.result()
        linears = [m for m in model if isinstance(m, nn.Linear)]
        for l in range(len(linears) - 1):
            bound = 0.25 * torch.linalg.matrix_norm(linears[l + 1].weight, ord=2).item()
            upper = flow.signal_norms[flow.names[l + 1]][0]
            assert flow.signal_norms[flow.names[l]][0] <= bound * upper * (1 + 1e-5)


def test_same_seed_same_draws_for_every_normal_init():
    xavier = deep_mlp(3, 16, activation="tanh", init="xavier", seed=4)
    he = deep_mlp(3, 16, activation="relu", init="he", seed=4)
    ratio = he.fc2.weight / xavier.fc2.weight
    assert torch.allclose(ratio, torch.full_like(ratio, math.sqrt(2)), rtol=1e-5)


def test_theoretical_factors_match_the_reference_table():
    assert theoretical_factor("sigmoid", "default") == pytest.approx(0.144, abs=0.01)
    assert theoretical_factor("relu", "he") == pytest.approx(1.0)
    assert theoretical_factor("relu", "default") == pytest.approx(0.41, abs=0.01)
    assert theoretical_factor("tanh", "default") == pytest.approx(0.58, abs=0.01)


def test_train_can_record_gradients():
    X, y = gradviz.make_dataset("moons", n=50)
    run = gradviz.train(gradviz.mlp(2, [8, 8], 1, seed=0), (X, y), "sgd", steps=5, record_gradients=True)
    assert run.gradients.names == ("fc1", "fc2", "out") and len(run.gradients.steps) == 5


def test_plots_draw_the_data(tmp_path):
    from gradviz.render.gradflow import (plot_bars, plot_clipping, plot_depth_profile, plot_grid, plot_heatmap,
                                         plot_update_ratio)

    import matplotlib.pyplot as plt

    flow = gradflow_experiment(steps=5, clip=1.0)
    try:
        plt.figure()
        ax = plot_depth_profile(flow)
        assert ax is plt.gca()  # ax=None draws where pyplot (and a notebook) looks: the current Axes
        signal_line = ax.get_lines()[0]
        np.testing.assert_allclose(signal_line.get_ydata(), gradviz.analysis.diagnosis.depth_profile(flow, "signal"))
        assert len(ax.get_lines()) == 3  # signal, weight, theory
        plt.figure()
        image = plot_heatmap(flow).get_images()[0]
        assert image.get_array().shape == (10, 5)
        plt.figure()
        clip_ax = plot_clipping(flow)
        np.testing.assert_allclose(clip_ax.get_lines()[0].get_ydata(), flow.total_norm)
        plt.figure()
        assert plot_update_ratio(flow).get_yscale() == "log"
        _, own = plt.subplots()
        assert plot_bars(flow, ax=own) is own and plt.gca() is own
        grid = plot_grid([flow, flow])
        assert grid.number in plt.get_fignums()  # a pyplot figure: shown inline in a notebook
    finally:
        plt.close("all")


def test_gradflow_gif_and_png(tmp_path, read_gif):
    path = gradviz.gradflow(tmp_path / "g.gif", steps=12, depth=4, width=16, size=(480, 270))
    frames, durations, loop, size = read_gif(path)
    assert size == (480, 270) and loop == 0 and sum(durations) == 11 * 100 + 1000
    png = gradviz.gradflow(tmp_path / "g.png", steps=5, depth=4, width=16, view="grid")
    assert png.stat().st_size > 10_000


@pytest.mark.parametrize("kwargs, message", [
    (dict(activations=["sigmod"]), "did you mean 'sigmoid'"), (dict(inits=["kaiming"]), "init"),
    (dict(depth=0), "depth"), (dict(width=0), "width"), (dict(std=0.0), "std"), (dict(clip=-1.0), "clip"),
    (dict(optimizer="adamm"), "adam"), (dict(view="pie"), "unknown panel .pie."), (dict(lr=-1.0), "learning rate"),
    (dict(frames=50), "at most 2 frames"),
])
def test_bad_gradflow_input(tmp_path, kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        gradviz.gradflow(tmp_path / "g.gif", steps=2, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_record_gradients_needs_a_module():
    with pytest.raises(InvalidArgument, match="nn.Module"):
        with record_gradients("not a model"):
            pass


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("buffer", [None, 0])  # output gradients normed at the pass's end, or one by one
def test_on_cuda_norms_match_and_one_transfer_a_step(buffer, monkeypatch):
    if buffer is not None:
        monkeypatch.setattr("gradviz.analysis.gradients.SIGNAL_BUFFER", buffer)
    device = torch.device("cuda")
    model = small_model().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = (t.to(device) for t in batch())
    outputs = {}
    handles = [model[i].register_forward_hook(lambda m, inp, out, i=i: outputs.__setitem__(i, out)) for i in (0, 2, 4)]
    loss = nn.functional.cross_entropy(model(x), y)
    expected_signal = torch.autograd.grad(loss, [outputs[i] for i in (0, 2, 4)])
    for h in handles:
        h.remove()
    steps = 5
    with record_gradients(model, optimizer) as log:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        expected_weight = [model[i].weight.grad.norm().item() for i in (0, 2, 4)]
        optimizer.step()
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("warn")  # every device -> host copy that waits now warns
        try:
            with pytest.warns(UserWarning) as warned:
                for _ in range(steps):
                    optimizer.zero_grad()
                    nn.functional.cross_entropy(model(x), y).backward()
                    optimizer.step()
        finally:
            torch.cuda.set_sync_debug_mode(0)
    flow = log.result()
    syncs = [w for w in warned if "synchroniz" in str(w.message)]
    assert len(syncs) == steps  # the one transfer a step, nothing else waits for the device
    for name, w, s in zip(flow.names, expected_weight, expected_signal):
        assert flow.grad_norms[name][0] == pytest.approx(w, rel=1e-4)
        assert flow.signal_norms[name][0] == pytest.approx(s.norm().item(), rel=1e-4)
    assert np.isfinite(flow.update_ratios["0"]).all() and len(flow.steps) == steps + 1


def _train(model, optimizer, batches, every=1, accumulate=1):
    with record_gradients(model, optimizer, every=every) as log:
        for x, y in batches:
            optimizer.zero_grad()
            for _ in range(accumulate):
                loss = nn.functional.cross_entropy(model(x), y)
                loss.backward()
            log.record_loss(loss)
            optimizer.step()
    return log.result()


@pytest.mark.parametrize("optimizer_name", ["sgd", "adam", None])
def test_every_records_exactly_every_kth_step_with_the_values_of_recording_all(optimizer_name):
    batches = [batch(seed) for seed in range(12)]
    flows = []
    for every in (1, 5):
        model = small_model()
        if optimizer_name is None:  # without an optimizer a step is a backward pass
            with record_gradients(model, every=every) as log:
                for x, y in batches:
                    model.zero_grad()
                    nn.functional.cross_entropy(model(x), y).backward()
            flows.append(log.result())
        else:
            cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer_name]
            flows.append(_train(model, cls(model.parameters(), lr=0.05), batches, every=every))
    full, sparse = flows
    np.testing.assert_array_equal(full.steps, np.arange(12))
    np.testing.assert_array_equal(sparse.steps, [0, 5, 10])
    assert sparse.names == full.names
    for quantity in ("signal", "weight", "param", "update"):
        np.testing.assert_allclose(sparse.matrix(quantity), full.matrix(quantity)[:, [0, 5, 10]], rtol=1e-6)
    np.testing.assert_allclose(sparse.total_norm, full.total_norm[[0, 5, 10]], rtol=1e-6)
    np.testing.assert_allclose(sparse.losses, full.losses[[0, 5, 10]], rtol=1e-6, equal_nan=True)
    for name in full.dead_fraction:
        np.testing.assert_allclose(sparse.dead_fraction[name], full.dead_fraction[name][[0, 5, 10]])


def test_every_leaves_unrecorded_steps_alone():
    model = small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = batch()
    calls = []
    with record_gradients(model, optimizer, every=3) as log:
        for method in ("_norms", "_measure"):
            original = getattr(log, method)
            setattr(log, method, lambda tensors, original=original, method=method:
                    calls.append((log._step, method)) or original(tensors))
        for step in range(6):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    # the gradients and signals at the pass's end, the weights before and the update after the step: on
    # steps 0 and 3 only
        assert log._module_handles  # step 6 is recorded: its hooks are back
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        assert not log._module_handles and all(not m._forward_hooks for m in model)  # step 7 is not
    assert all(not m._forward_hooks for m in model)
    assert sorted(calls) == [(s, m) for s in (0, 3, 6) for m in ("_measure", "_norms", "_norms")]
    assert list(log.result().steps) == [0, 3, 6]


def test_updates_false_records_the_same_but_copies_no_weights_and_has_no_update_ratio():
    batches = [batch(seed) for seed in range(4)]
    flows, copies = [], []
    for updates in (True, False):
        model = small_model()
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        with record_gradients(model, optimizer, updates=updates) as log:
            for x, y in batches:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
        flows.append(log.result())
        copies.append(log._copies)
    full, light = flows
    assert copies[0] is not None and copies[1] is None  # no copy of the weights was ever made
    for quantity in ("signal", "weight", "param"):
        np.testing.assert_array_equal(light.matrix(quantity), full.matrix(quantity))
    assert np.isfinite(full.matrix("update")).all() and np.isnan(light.matrix("update")).all()
    with pytest.raises(InvalidArgument, match="invalid updates: 'no'"):
        record_gradients(small_model(), updates="no").__enter__()


def test_every_must_be_a_positive_integer():
    with pytest.raises(InvalidArgument, match="every"):
        record_gradients(small_model(), every=0).__enter__()


def small_cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                         nn.Flatten(), nn.Linear(64, 10))


def _reference(model, loss_of, modules):
    """autograd.grad of the loss with respect to each module's output, and p.grad norms after backward."""
    outputs = {}
    handles = [module.register_forward_hook(
        lambda m, inp, out, name=name: outputs.__setitem__(name, out[0] if isinstance(out, tuple) else out))
        for name, module in modules]
    loss = loss_of(model)
    for handle in handles:
        handle.remove()
    names = [name for name, _ in modules if name in outputs]
    grads = torch.autograd.grad(loss, [outputs[name] for name in names], retain_graph=True)
    model.zero_grad()
    loss.backward()
    return {name: g.norm().item() for name, g in zip(names, grads)}


def _one_recorded_sgd_step(model, loss_of):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with record_gradients(model, optimizer) as log:
        optimizer.zero_grad()
        loss_of(model).backward()
        optimizer.step()
    return log.result()


def test_a_small_cnn_is_recorded_against_autograd():
    model = small_cnn()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, 3, 16, 16, generator=g), torch.randint(0, 10, (4,), generator=g)
    loss_of = lambda m: nn.functional.cross_entropy(m(x), y)
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.Linear))]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    expected = _reference(model, loss_of, layers)
    expected_weight = {name: m.weight.grad.norm().item() for name, m in layers}
    model.load_state_dict(state)  # batch-norm running statistics as before
    flow = _one_recorded_sgd_step(model, loss_of)
    assert flow.names == ("0", "1", "4", "5", "9")  # named_modules() names, forward order
    for name in flow.names:
        assert flow.signal_norms[name][0] == pytest.approx(expected[name], rel=1e-5)
        assert flow.grad_norms[name][0] == pytest.approx(expected_weight[name], rel=1e-5)
    assert set(flow.dead_fraction) == {"2", "6"}


def test_a_transformer_encoder_layer_is_recorded_against_autograd():
    torch.manual_seed(0)
    model = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0, batch_first=True)
    x = torch.randn(3, 5, 16, generator=torch.Generator().manual_seed(1))
    loss_of = lambda m: m(x).pow(2).mean()
    modules = [(name, m) for name, m in model.named_modules() if name and any(True for _ in m.parameters(recurse=False))]
    expected = _reference(model, loss_of, modules)
    expected_weight = {name: torch.sqrt(sum(p.grad.norm() ** 2 for p in m.parameters(recurse=False))).item()
                       if not hasattr(m, "weight") else m.weight.grad.norm().item() for name, m in modules}
    flow = _one_recorded_sgd_step(model, loss_of)
    # forward order of a post-norm layer; out_proj is never called (its parent uses its weights), so it
    # follows its parent and has no backward signal of its own
    assert flow.names == ("self_attn", "self_attn.out_proj", "norm1", "linear1", "linear2", "norm2")
    assert "self_attn.out_proj" not in expected and np.isnan(flow.signal_norms["self_attn.out_proj"][0])
    for name in flow.names:
        assert flow.grad_norms[name][0] == pytest.approx(expected_weight[name], rel=1e-5)
        if name in expected:
            assert flow.signal_norms[name][0] == pytest.approx(expected[name], rel=1e-5)


def median_slope(activation, init, std=None, seeds=range(7)):
    return float(np.median([diagnose(gradflow_experiment(activation=activation, init=init, std=std, steps=1,
                                                         seed=seed)).slope for seed in seeds]))


@pytest.mark.parametrize("activation, init, std", [("relu", "scaled", 3.0), ("sigmoid", "default", None)])
def test_slopes_at_initialization_match_the_theory(activation, init, std):
    # the tolerance of the ratio tests: a factor 3 over eight hops, log10(3) / 8 decades per layer
    theory = math.log10(theoretical_factor(activation, init, std=std))
    assert abs(median_slope(activation, init, std) - theory) < math.log10(3) / 8


def test_the_diagnosis_is_taken_at_initialization_and_later_steps_on_request():
    flow = gradflow_experiment(activation="relu", init="scaled", std=3.0, steps=4)
    at_init, later = diagnose(flow), diagnose(flow, step=1)
    assert at_init.step == 0 and "at initialization (step 0)" in at_init.text
    first_last = flow.matrix("signal")[:, 0]
    assert at_init.ratio == pytest.approx(first_last[0] / first_last[-1])
    assert later.step == 1 and "at step 1" in later.text and later.slope != at_init.slope
    with pytest.raises(InvalidArgument, match="step 9 is not recorded"):
        diagnose(flow, step=9)


@pytest.mark.parametrize("depth", [1, 2])
def test_one_and_two_layers_give_a_verdict_without_nan(depth, tmp_path):
    from gradviz.render.gradflow import summary_figure

    flow = gradflow_experiment(depth=depth, width=8, steps=3)
    verdict = diagnose(flow)
    assert "nan" not in verdict.text
    if depth == 1:
        assert verdict.verdict == "one layer" and "too few layers to fit a slope" in verdict.text
    else:  # one hop: a factor, not a trend through depth
        assert verdict.verdict == "two layers" and "too few layers" in verdict.text and np.isfinite(verdict.slope)
    for view in ("summary", "grid"):
        figure = summary_figure([flow], view, size=(480, 270))
        titles = [ax.get_title() for ax in figure.axes]
        assert titles and not any("nan" in t for t in titles) and not any("no gradient" in t for t in titles)


def test_the_animation_legend_matches_its_markers_and_the_loss_panel_says_what_it_shows():
    from matplotlib.markers import MarkerStyle

    from gradviz.render.gradflow import GradflowRenderer

    flows = [gradflow_experiment(depth=3, width=8, steps=4, activation=a, init=i) for a, i in
             (("sigmoid", "default"), ("relu", "he"))]
    renderer = GradflowRenderer(flows, size=(480, 270), frames=2)
    renderer.frame(1)
    legend = renderer.panels[0][0].get_legend()
    handles = {text.get_text().split()[0]: handle for text, handle in zip(legend.get_texts(), legend.legend_handles)}
    for (ax, _, (signal, weight)) in renderer.panels:
        for scatter, key in ((signal, "signal"), (weight, "weight")):
            style = MarkerStyle(handles[key].get_marker())
            expected = style.get_path().transformed(style.get_transform()).vertices
            np.testing.assert_allclose(scatter.get_paths()[0].vertices, expected)
            assert len(scatter.get_offsets()) == 3  # one marker per layer
    loss_legend = [t.get_text() for t in renderer.loss_axes.get_legend().get_texts()]
    assert loss_legend == ["sigmoid / default", "relu / he", "chance: ln 10"]
    assert "random labels" in renderer.loss_axes.get_title(loc="left")


def test_a_steady_shrink_after_training_is_not_called_healthy():
    # the README's later.png: Adam moves ReLU/He to a 100x shrink over 10 layers (-0.23 decades per
    # layer) by step 50, and 19x (-0.14) by step 20, which the old fixed 100x first/last called healthy
    flow = gradflow_experiment(activation="relu", init="he", optimizer="adam:lr=0.01", steps=21, batch_size=64)
    at_init, later = diagnose(flow), diagnose(flow, step=20)
    assert at_init.verdict == "healthy"
    assert 1e-2 < later.ratio < 0.1 and later.slope < -0.1 and later.verdict == "vanishing", later.text


@pytest.mark.parametrize("activation, init, std, depth, expected", [
    ("sigmoid", "default", None, 10, "vanishing"), ("relu", "he", None, 10, "healthy"),
    ("relu", "scaled", 3.0, 10, "exploding"), ("tanh", "xavier", None, 10, "healthy"),
    ("tanh", "xavier", None, 20, "healthy"), ("relu", "he", None, 20, "healthy"),
    ("relu", "scaled", 1.0, 10, "vanishing"),  # k / sqrt 2 = 0.71 per layer: 20x over 10 layers
    ("sigmoid", "default", None, 3, "vanishing"),  # 7x per hop, 50x over two hops
])
def test_verdicts_at_initialization(activation, init, std, depth, expected):
    flow = gradflow_experiment(activation=activation, init=init, std=std, depth=depth, steps=1)
    assert diagnose(flow).verdict == expected, diagnose(flow).text


def test_the_verdict_needs_both_the_slope_and_the_total():
    from gradviz.analysis.diagnosis import PER_LAYER, TOTAL
    from gradviz.records import GradientLog

    def verdict(profile):
        names = tuple(f"fc{i}" for i in range(len(profile)))
        column = {n: np.array([v]) for n, v in zip(names, profile)}
        log = GradientLog(names=names, steps=np.array([0]), grad_norms=column, signal_norms=column,
                          param_norms=column, update_ratios=column,
                          has_gradient={n: np.array([True]) for n in names},
                          nonfinite={n: np.array([0]) for n in names}, dead_fraction={},
                          total_norm=np.array([1.0]), total_norm_clipped=np.array([1.0]))
        return diagnose(log).verdict

    depth = np.arange(30)
    assert verdict(1.15 ** (depth - 29)) == "healthy"  # 60x over 30 layers, but only 1.15x per layer
    assert verdict(1.25 ** (depth - 29)) == "vanishing"  # 640x, 1.25x per layer
    assert verdict(1.25 ** (29 - depth)) == "exploding"
    assert verdict(1.5 ** (np.arange(5) - 4)) == "healthy"  # 1.5x per layer, but only 5x overall
    assert verdict(1.8 ** (np.arange(5) - 4)) == "vanishing"  # 10.5x overall
    assert PER_LAYER == 1.2 and TOTAL == 10
    # a deep net's small drift: 1.023x per layer over 2000 layers is 1e-20 first to last, not healthy
    deep = np.arange(2000)
    assert verdict(10.0 ** (0.01 * (deep - 1999))) == "vanishing"
    assert verdict(10.0 ** (0.01 * (1999 - deep))) == "exploding"
    assert verdict(10.0 ** (0.002 * (deep - 1999))) == "healthy"  # 1e-4 first to last: a drift, not 1e6



def test_std_goes_only_to_the_inits_that_take_it(tmp_path):
    from gradviz.pipelines.gradflow import _configurations

    with pytest.raises(InvalidArgument, match=r"std 3 applies only to the inits normal and scaled, not to the "
                                              r"inits given \(default, he\)"):
        gradviz.gradflow(tmp_path / "g.png", std=3.0, steps=2)
    assert list(tmp_path.iterdir()) == []
    assert _configurations(["sigmoid", "relu"], ["normal", "he"], 0.05) == [("sigmoid", "normal", 0.05),
                                                                          ("relu", "he", None)]
    with pytest.raises(InvalidArgument, match="not to init 'he'"):
        gradflow_experiment(activation="relu", init="he", std=3.0, steps=1)
    logs = gradviz.pipelines.gradflow.run_configurations(["sigmoid", "relu"], ["normal", "he"], std=0.05, steps=1,
                                                         depth=3, width=8)
    assert [log.label for log in logs] == ["sigmoid / normal (std 0.05)", "relu / he"]
    assert [log.meta["std"] for log in logs] == [0.05, None]


def test_the_animation_counter_counts_the_steps_trained():
    from gradviz.render.gradflow import GradflowRenderer

    flow = gradflow_experiment(depth=3, width=8, steps=12)
    assert list(flow.steps) == list(range(12))  # step k: the gradients after k updates
    renderer = GradflowRenderer([flow], size=(480, 270), frames=4)
    # the counter ends at its total (issue 21: 'step 99/100' read as unfinished): the last recorded step,
    # the gradients after 11 updates, is 'step 11/11'
    assert renderer.total_steps == 12 and renderer.counter.total == 11
    assert renderer._draw(len(renderer.frame_steps) - 1) == 11


def test_the_cli_refuses_std_for_inits_without_one_before_importing_torch(tmp_path):
    import os
    import subprocess
    import sys

    code = ("import sys\nfrom gradviz.cli import main\ntry:\n    main(['gradflow', '--std', '3', '-o', 'x.png'])\n"
            "except SystemExit as exit:\n    print('torch' in sys.modules, exit.code)\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=root))
    assert result.stdout.split() == ["False", "2"], result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "std 3" in lines[0] and "normal and scaled" in lines[0], result.stderr
    assert "(default, he)" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_gradflow_with_a_schedule_equals_its_plain_loop():
    from gradviz.analysis.gradients import gradflow_model

    S = torch.optim.lr_scheduler
    flow = gradflow_experiment(depth=3, width=8, activation="relu", init="he", optimizer="sgd:lr=0.5@cosine",
                               steps=12, batch_size=16, seed=1)
    model = deep_mlp(3, 8, in_features=8, out_features=10, activation="relu", init="he", seed=1)
    X, y = random_data(16 * 12, 8, 10, seed=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    scheduler = S.CosineAnnealingLR(optimizer, T_max=12)
    losses = []
    for step in range(12):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X[step * 16:(step + 1) * 16]), y[step * 16:(step + 1) * 16])
        loss.backward()
        losses.append(loss.item())
        optimizer.step()
        scheduler.step()
    np.testing.assert_array_equal(flow.losses, np.array(losses, dtype=np.float32))
    assert flow.meta["schedule"] == "cosine" and flow.meta["lr"] == 0.5

    # your own model: the same scheduler, stepped after each step (the data fits one batch)
    net = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    reference = copy.deepcopy(net)
    data = (X[:32], y[:32] % 3)
    own = gradflow_model(net, data, optimizer="momentum@step:step_size=3,gamma=0.2", lr=0.3, steps=10)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.3, momentum=0.9)
    scheduler = S.StepLR(optimizer, step_size=3, gamma=0.2)
    losses = []
    for _ in range(10):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(reference(data[0]), data[1])
        loss.backward()
        losses.append(loss.item())
        optimizer.step()
        scheduler.step()
    np.testing.assert_array_equal(own.losses, np.array(losses, dtype=np.float32))
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), reference.parameters()))
    assert own.meta["schedule"] == "step:step_size=3,gamma=0.2"


def test_weight_norms_is_a_deprecated_name_of_grad_norms():
    from gradviz.records import GradientLog

    log = GradientLog(names=("a",), steps=np.array([0, 1]), grad_norms={"a": [1.0, 2.0]},
                      signal_norms={"a": [3.0, 4.0]}, param_norms={"a": [5.0, 6.0]}, update_ratios={"a": [0.1, 0.2]},
                      has_gradient={"a": [True, True]}, nonfinite={"a": [0, 0]}, total_norm=[1.0, 2.0],
                      total_norm_clipped=[1.0, 2.0])
    with pytest.warns(DeprecationWarning, match="grad_norms"):
        old = log.weight_norms
    assert old is log.grad_norms and list(log.matrix("grad")[0]) == [1.0, 2.0]
    assert list(log.matrix("param")[0]) == [5.0, 6.0]  # ||W||, not ||dL/dW||


def test_the_library_refuses_a_panel_for_an_animation_as_the_cli_does(tmp_path):
    with pytest.raises(InvalidArgument, match="view 'grid' chooses what a .png shows"):
        gradviz.gradflow(tmp_path / "g.gif", view="grid", steps=2)
    assert list(tmp_path.iterdir()) == []


def test_gallery_sigmoid_vs_relu_runs_at_an_lr_without_the_relu_spike():
    """At the default lr 0.1 the gallery's 10-layer ReLU net (moons, SGD) blew up at step 46: loss 0.12 at
    step 42, then 0.29, 0.68, 1.78, 7.15 as the gradient norm rose 1.2 -> 27, before recovering. The gallery
    runs it at lr 0.03: no loss after the first steps above the starting one, and the net still learns."""
    from gradviz.gallery import GRADFLOW
    from gradviz.lecture.deepnets import gradflow_experiment

    settings = {k: GRADFLOW["gradflow-sigmoid-vs-relu.gif"][k] for k in ("steps", "data", "lr")}
    assert settings["lr"] == 0.03
    relu = np.asarray(gradflow_experiment(activation="relu", init="he", **settings).losses)
    assert relu[5:].max() < relu[0] and relu[-10:].mean() < 0.1
    spiking = np.asarray(gradflow_experiment(activation="relu", init="he", **{**settings, "lr": 0.1, "steps": 50}).losses)
    assert spiking.argmax() == 46 and spiking[46] > 7  # what the old gallery GIF showed
    sigmoid = np.asarray(gradflow_experiment(activation="sigmoid", init="default", **settings).losses)
    assert sigmoid[-10:].mean() > 0.5  # the contrast: the sigmoid net's loss stays near ln 2
