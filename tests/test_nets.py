import copy

import numpy as np
import pytest
import torch

import gradviz
from gradviz.lecture import DATASETS, make_dataset, mlp, train, train_val_split
from gradviz.lecture.training import batches, loss_function
from gradviz.lecture.optim import OPTIMIZERS
from gradviz.registry import InvalidArgument


@pytest.mark.parametrize("name", list(DATASETS))
def test_datasets_are_seeded_and_shaped(name):
    X, y = make_dataset(name, n=120, seed=3)
    again, same = make_dataset(name, n=120, seed=3)
    other, _ = make_dataset(name, n=120, seed=4)
    assert X.shape == (120, 2) and X.dtype == torch.float32 and y.shape == (120,) and y.dtype == torch.long
    assert torch.equal(X, again) and torch.equal(y, same) and not torch.equal(X, other)
    assert set(y.tolist()) == set(range(DATASETS[name].classes))


def test_class_counts_and_arms():
    _, y = make_dataset("spirals", n=300, classes=3)
    assert np.bincount(y.numpy()).tolist() == [100, 100, 100]
    _, y = make_dataset("blobs", n=100, classes=5)
    assert int(y.max()) == 4


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="moon"), "did you mean 'moons'"), (dict(name="moons", n=1), "n"), (dict(name="moons", noise=-0.1), "noise"),
    (dict(name="moons", classes=3), "classes"), (dict(name="blobs", classes=1), "classes"),
])
def test_bad_dataset_arguments(kwargs, message):
    name = kwargs.pop("name")
    with pytest.raises(InvalidArgument, match=message):
        make_dataset(name, **kwargs)


def test_split_holds_out_a_fraction():
    X, y = make_dataset("moons", n=100)
    (Xt, yt), (Xv, yv) = train_val_split(X, y, fraction=0.2, seed=1)
    assert len(Xt) == 80 and len(Xv) == 20
    assert sorted(torch.cat([Xt, Xv])[:, 0].tolist()) == sorted(X[:, 0].tolist())


def test_mlp_names_and_logistic_regression():
    model = mlp(2, [8, 4], 3, activation="sigmoid", dropout=0.5)
    assert [name for name, _ in model.named_children()] == ["fc1", "act1", "drop1", "fc2", "act2", "drop2", "out"]
    assert isinstance(model.act1, torch.nn.Sigmoid)
    logistic = mlp(2, [], 1)
    assert [name for name, _ in logistic.named_children()] == ["out"]


def test_same_seed_same_weights_for_every_activation():
    a = mlp(2, [16, 16], 1, activation="sigmoid", seed=5)
    b = mlp(2, [16, 16], 1, activation="relu", seed=5)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    c = mlp(2, [16, 16], 1, activation="relu", seed=6)
    assert not torch.equal(a.fc1.weight, c.fc1.weight)


@pytest.mark.parametrize("kwargs, message", [
    (dict(hidden=[0]), "hidden layer size"), (dict(hidden=[4.5]), "hidden"), (dict(dropout=1.0), "dropout"),
    (dict(dropout=-0.1), "dropout"), (dict(activation="sigmod"), "did you mean 'sigmoid'"),
    (dict(init="kaiming"), "init"), (dict(init="normal", std=0), "std"),
])
def test_bad_model_arguments(kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        mlp(2, kwargs.pop("hidden", [4]), 1, **kwargs)


def plain_loop(model, X, y, optimizer_class, steps, batch_size=None, seed=0, scheduler=None, losses=None,
               **settings):
    """The loop `train` must equal; scheduler: optimizer -> a torch LRScheduler, stepped after each step;
    losses: a list that receives each step's loss."""
    optimizer = optimizer_class([p for p in model.parameters() if p.requires_grad], **settings)
    schedule = scheduler(optimizer) if scheduler is not None else None
    generator = torch.Generator().manual_seed(seed)
    order = []
    for _ in range(steps):
        if batch_size is None:
            index = None
        else:
            if not order:
                perm = torch.randperm(len(X), generator=generator)
                order = [perm[i:i + batch_size] for i in range(0, len(X) - batch_size + 1, batch_size)]
            index = order.pop(0)
        xb, yb = (X, y) if index is None else (X[index], y[index])
        optimizer.zero_grad()
        logits = model(xb)
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], yb.float())
                if logits.shape[1] == 1 else torch.nn.functional.cross_entropy(logits, yb))
        loss.backward()
        if losses is not None:
            losses.append((loss.item(), optimizer.param_groups[0]["lr"]))
        optimizer.step()
        if schedule is not None:
            schedule.step()
    return model


@pytest.mark.parametrize("batch_size", [None, 1, 32])
def test_training_equals_a_plain_torch_loop(batch_size):
    X, y = make_dataset("moons", n=100)
    model = mlp(2, [8], 1, seed=0)
    reference = copy.deepcopy(model)
    run = train(model, (X, y), "momentum", steps=40, lr=0.05, batch_size=batch_size, seed=2, record_every=5)
    plain_loop(reference, X, y, torch.optim.SGD, 40, batch_size=batch_size, seed=2, lr=0.05, momentum=0.9)
    for p, q in zip(model.parameters(), reference.parameters()):
        assert torch.equal(p, q)
    final = torch.cat([p.detach().reshape(-1) for p in reference.parameters()]).numpy()
    np.testing.assert_array_equal(run.snapshots[-1], final)
    assert list(run.record_steps) == list(range(0, 41, 5))


S = torch.optim.lr_scheduler


@pytest.mark.parametrize("schedule, scheduler, batch_size", [
    ("cosine", lambda o: S.CosineAnnealingLR(o, T_max=40), None),
    ("warmup:total_iters=5+cosine:eta_min=0.01",
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5),
                                  S.CosineAnnealingLR(o, T_max=40, eta_min=0.01)], [5]), 32),
    ("step:step_size=7,gamma=0.3", lambda o: S.StepLR(o, step_size=7, gamma=0.3), 32),
])
def test_training_with_a_schedule_equals_a_plain_torch_loop_with_its_scheduler(schedule, scheduler, batch_size):
    X, y = make_dataset("moons", n=100)
    model = mlp(2, [8], 1, seed=0)
    reference = copy.deepcopy(model)
    run = train(model, (X, y), "momentum", steps=40, lr=0.2, schedule=schedule, batch_size=batch_size, seed=2,
                record_every=40)
    seen = []
    plain_loop(reference, X, y, torch.optim.SGD, 40, batch_size=batch_size, seed=2, scheduler=scheduler,
               losses=seen, lr=0.2, momentum=0.9)
    for p, q in zip(model.parameters(), reference.parameters()):
        assert torch.equal(p, q)
    np.testing.assert_array_equal(run.loss[:-1], [loss for loss, _ in seen])
    np.testing.assert_array_equal(run.lrs, [lr for _, lr in seen])
    assert len(set(run.lrs)) > 2  # the rate did move
    assert run.schedule == schedule and run.label == f"momentum (lr=0.2) @{schedule}"


def test_a_schedule_torch_refuses_is_one_message_before_training():
    X, y = make_dataset("moons", n=20)
    model = mlp(2, [4], 1, seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(InvalidArgument, match="invalid schedule 'onecycle'.*momentum"):
        train(model, (X, y), "adagrad", steps=5, schedule="onecycle")
    with pytest.raises(InvalidArgument, match="unknown scheduler 'cosin'"):
        train(model, (X, y), "sgd", steps=5, schedule="cosin")
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))


def test_record_contents():
    X, y = make_dataset("blobs", n=90, classes=3)
    (Xt, yt), validation = train_val_split(X, y)
    model = mlp(2, [8], 3, seed=0)
    run = train(model, (Xt, yt), "adam", steps=20, record_every=10, validation=validation, grid=12)
    assert run.loss.shape == (21,) and run.accuracy.shape == (21,)
    assert run.probabilities.shape == (3, 12, 12, 3) and run.classes == 3
    np.testing.assert_allclose(run.probabilities.sum(-1), 1.0, rtol=1e-5)
    with torch.no_grad():
        expected_val = loss_function(model(validation[0]), validation[1]).item()
        expected_train = loss_function(model(Xt), yt).item()
    assert run.val_loss[-1] == pytest.approx(expected_val, rel=1e-5)
    assert run.loss[-1] == pytest.approx(expected_train, rel=1e-5)
    assert run.snapshots.shape == (3, sum(p.numel() for p in model.parameters()))
    assert run.param_names == ("0.weight", "0.bias", "1.weight", "1.bias") or run.param_names[0] == "fc1.weight"


def test_logistic_regression_separates_linear_but_not_moons():
    X, y = make_dataset("linear", n=200)
    assert train(mlp(2, [], 1, seed=0), (X, y), "sgd", steps=300).accuracy[-1] == 1.0
    X, y = make_dataset("moons", n=200)
    assert train(mlp(2, [], 1, seed=0), (X, y), "sgd", steps=300).accuracy[-1] < 0.92


@pytest.mark.parametrize("dataset", ["moons", "circles"])
def test_an_mlp_learns_moons_and_circles(dataset):
    X, y = make_dataset(dataset, n=200)
    run = train(mlp(2, [16, 16], 1, seed=0), (X, y), "adam", steps=300, record_every=100)
    assert run.accuracy[-1] >= 0.97


def test_frozen_layer_is_bit_for_bit_unchanged():
    X, y = make_dataset("moons", n=100)
    model = mlp(2, [8, 8], 1, seed=0)
    before = model.fc1.weight.detach().clone(), model.fc1.bias.detach().clone()
    other = model.fc2.weight.detach().clone()
    train(model, (X, y), "adam", steps=30, freeze=["fc1"], weight_decay=0.1)
    assert torch.equal(model.fc1.weight, before[0]) and torch.equal(model.fc1.bias, before[1])
    assert not torch.equal(model.fc2.weight, other)
    with pytest.raises(InvalidArgument, match="unknown layer 'fc3' to freeze.*valid: fc1, fc2, out"):
        train(mlp(2, [8, 8], 1), (X, y), "adam", steps=1, freeze=["fc3"])


def test_dropout_is_off_in_evaluation_and_training_mode_is_restored():
    X, y = make_dataset("moons", n=100)
    model = mlp(2, [32], 1, dropout=0.5, seed=0)
    run = train(model, (X, y), "adam", steps=10, record_every=10, grid=10)
    assert model.training
    model.eval()
    gx, gy = torch.meshgrid(torch.tensor(run.grid_x, dtype=torch.float32), torch.tensor(run.grid_y, dtype=torch.float32),
                            indexing="xy")
    with torch.no_grad():
        p = torch.sigmoid(model(torch.stack([gx, gy], -1).reshape(-1, 2))).reshape(10, 10)
    np.testing.assert_allclose(run.probabilities[-1][..., 1], p.numpy(), rtol=1e-5)


def test_weight_decay_shrinks_the_weights():
    X, y = make_dataset("moons", n=100)
    norms = {}
    for decay in (0.0, 0.05):
        model = mlp(2, [16], 1, seed=0)
        train(model, (X, y), "sgd", steps=300, weight_decay=decay)
        norms[decay] = torch.cat([p.reshape(-1) for p in model.parameters()]).norm().item()
    assert norms[0.05] < 0.8 * norms[0.0]


def test_batches_cover_each_epoch_once():
    plan = batches(10, 3, 6, torch.Generator().manual_seed(0))
    first_epoch = torch.cat(plan[:3])
    assert len(plan) == 6 and len(set(first_epoch.tolist())) == 9


@pytest.mark.parametrize("kwargs, message", [(dict(steps=0), "steps"), (dict(lr=-1.0), "learning rate"),
                                             (dict(batch_size=0), "batch_size"), (dict(clip=-1.0), "clip"),
                                             (dict(weight_decay=-0.1), "weight_decay")])
def test_bad_training_arguments(kwargs, message):
    X, y = make_dataset("moons", n=20)
    with pytest.raises(InvalidArgument, match=message):
        train(mlp(2, [4], 1), (X, y), "sgd", **kwargs)


def test_every_optimizer_trains(tmp_path):
    X, y = make_dataset("moons", n=60)
    for name, spec in OPTIMIZERS.items():
        if not spec.uses_gradient:  # direct methods are for 2-D functions: refused with a message
            with pytest.raises(InvalidArgument, match="gradient-free"):
                train(mlp(2, [8], 1, seed=0), (X, y), name, steps=3)
            continue
        run = train(mlp(2, [8], 1, seed=0), (X, y), name, steps=30, record_every=30, grid=8)
        assert run.loss[-1] < run.loss[0], name


def test_boundary_side_by_side_gif(tmp_path, read_gif):
    path = gradviz.boundary("moons", tmp_path / "b.gif", optimizers=["sgd", "adam"], steps=40, n=80, grid=20,
                            size=(480, 270), fps=10)
    frames, durations, loop, size = read_gif(path)
    assert size == (480, 270) and loop == 0 and sum(durations) == 40 * 100 + 1000


def test_boundary_checks_before_training(tmp_path):
    with pytest.raises(InvalidArgument, match="'fc5' to freeze"):
        gradviz.boundary("moons", tmp_path / "b.gif", freeze=["fc5"], steps=5)
    with pytest.raises(InvalidArgument, match="extension"):
        gradviz.boundary("moons", tmp_path / "b.bmp", steps=5)
    assert list(tmp_path.iterdir()) == []


def test_boundary_runs_schedules_at_each_rate_and_checks_them_before_training(tmp_path, monkeypatch):
    from gradviz.pipelines.boundary import train_variants, tune_rates

    runs = train_variants("moons", n=40, steps=6, grid=4, optimizers=["sgd@cosine", ("adam", {}, "step:step_size=2")],
                          lr="0.1,1")
    assert [run.label for run in runs] == ["sgd (lr=0.1) @cosine", "sgd (lr=1) @cosine",
                                           "adam (lr=0.1) @step:step_size=2", "adam (lr=1) @step:step_size=2"]
    np.testing.assert_allclose(runs[2].lrs, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    np.testing.assert_allclose(runs[1].lrs, [0.5 * (1 + np.cos(np.pi * k / 6)) for k in range(6)])
    assert tune_rates("moons", ["sgd@cosine"], lr="0.1,1", n=40, steps=5).labels == ("sgd @cosine",)

    def no_training(*args, **kwargs):
        raise AssertionError("trained before every schedule was checked")

    monkeypatch.setattr(gradviz.lecture, "train", no_training)
    with pytest.raises(InvalidArgument, match="invalid schedule 'onecycle'.*momentum"):
        gradviz.boundary("moons", tmp_path / "b.gif", optimizers=["adam", "adagrad@onecycle"], steps=5)
    assert list(tmp_path.iterdir()) == []


def test_dropout_runs_are_repeatable_and_leave_the_global_generator_alone():
    X, y = make_dataset("moons", n=80)
    state = torch.random.get_rng_state()
    runs = [train(mlp(2, [16], 1, dropout=0.5, seed=0), (X, y), "adam", steps=20, seed=3) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].loss, runs[1].loss)
    assert torch.equal(torch.random.get_rng_state(), state)
    other = train(mlp(2, [16], 1, dropout=0.5, seed=0), (X, y), "adam", steps=20, seed=4)
    assert not np.array_equal(other.loss, runs[0].loss)


def test_training_reports_progress():
    seen = []
    train(mlp(2, [4], 1, seed=0), make_dataset("moons", n=40), "adam", steps=250,
          progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 250) and seen[-1] == (250, 250) and 100 <= len(seen) <= 130
    assert all(b[0] > a[0] for a, b in zip(seen, seen[1:]))


def _at_snapshot(model, run, index):
    """`model` (a copy) holding the run's parameters at its `index`th recorded step."""
    model = copy.deepcopy(model)
    torch.nn.utils.vector_to_parameters(torch.tensor(run.snapshots[index], dtype=torch.float32), model.parameters())
    return model


def test_the_eval_mode_training_loss_is_the_loss_of_the_eval_model_at_the_recorded_steps():
    X, y = make_dataset("moons", n=80, seed=2)
    model = mlp(2, [16], 1, dropout=0.5, seed=0)
    run = train(copy.deepcopy(model), (X, y), "adam", steps=20, batch_size=16, record_every=5, grid=4)
    for index in range(len(run.record_steps)):
        net = _at_snapshot(model, run, index).eval()
        with torch.no_grad():
            logits = net(X)[:, 0]
        expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, y.float())
        np.testing.assert_allclose(run.train_eval_loss[index], expected.item(), rtol=1e-6)
        assert run.train_eval_accuracy[index] == ((logits > 0).long() == y).float().mean().item()
    # the mini-batch losses with dropout on are other numbers
    assert not np.allclose(run.loss[run.record_steps], run.train_eval_loss)
    # without dropout, on full batches, it is the ordinary loss of those steps
    plain = train(mlp(2, [16], 1, seed=0), (X, y), "adam", steps=20, record_every=5, grid=4)
    np.testing.assert_allclose(plain.train_eval_loss, plain.loss[plain.record_steps], rtol=1e-6)
    np.testing.assert_array_equal(plain.train_eval_accuracy, plain.accuracy[plain.record_steps])


@pytest.fixture(scope="module")
def fine_tuned():
    """Weights trained on clean moons, fine-tuned on noisy ones with nothing and with fc1+fc2 frozen."""
    from gradviz.pipelines.boundary import train_variants

    pretrained = mlp(2, [8, 8], 1, seed=1)
    train(pretrained, make_dataset("moons", n=60, seed=1), "adam", steps=30, record_every=30, grid=2)
    state = copy.deepcopy(pretrained.state_dict())
    runs = train_variants("moons", n=60, noise=0.3, hidden=(8, 8), optimizers=["sgd:lr=0.5"], steps=25,
                          weights=state, freeze=[[], ["fc1", "fc2"]], record_every=5, grid=4)
    return state, runs


def test_fine_tuning_with_frozen_trained_layers_keeps_them_bit_for_bit(fine_tuned):
    state, (unfrozen, frozen) = fine_tuned
    assert unfrozen.label.endswith("nothing frozen") and frozen.label.endswith("frozen: fc1+fc2")
    pretrained = torch.cat([state[name].reshape(-1) for name in frozen.param_names]).numpy()
    np.testing.assert_array_equal(frozen.snapshots[0], pretrained)  # both start from the trained weights
    np.testing.assert_array_equal(unfrozen.snapshots[0], pretrained)
    cut = sum(int(np.prod(shape)) for name, shape in zip(frozen.param_names, frozen.param_shapes)
              if name.startswith(("fc1.", "fc2.")))
    assert frozen.param_names[:4] == ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")
    for snapshot in frozen.snapshots:
        np.testing.assert_array_equal(snapshot[:cut], pretrained[:cut])
    assert not np.array_equal(frozen.snapshots[-1][cut:], pretrained[cut:])  # the output layer learnt
    assert frozen.train_eval_loss[-1] < frozen.train_eval_loss[0]


def test_the_unfrozen_baseline_is_a_plain_torch_loop_from_the_same_weights(fine_tuned):
    state, (unfrozen, _) = fine_tuned
    X, y = make_dataset("moons", n=60, noise=0.3, seed=0)
    model = mlp(2, [8, 8], 1, seed=123)
    model.load_state_dict(state)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(25):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(X)[:, 0], y.float())
        loss.backward()
        optimizer.step()
    final = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy()
    np.testing.assert_allclose(unfrozen.snapshots[-1], final, rtol=1e-5, atol=1e-7)


def test_weights_from_a_file_and_bad_freeze_choices(fine_tuned, tmp_path):
    from gradviz.pipelines.boundary import freeze_choices, train_variants

    state, (unfrozen, _) = fine_tuned
    torch.save(state, tmp_path / "pretrained.pt")
    again = train_variants("moons", n=60, noise=0.3, hidden=(8, 8), optimizers=["sgd:lr=0.5"], steps=25,
                           weights=tmp_path / "pretrained.pt", record_every=5, grid=4)
    np.testing.assert_array_equal(again[0].snapshots, unfrozen.snapshots)
    assert freeze_choices(["fc1"]) == [["fc1"]] and freeze_choices([[], ("fc1",)]) == [[], ["fc1"]]
    with pytest.raises(InvalidArgument, match="invalid freeze"):
        freeze_choices([["fc1"], 3])
    with pytest.raises(InvalidArgument, match="does not fit the model"):
        train_variants("moons", n=20, hidden=(4,), steps=1, weights=state)
    with pytest.raises(InvalidArgument, match="'fc9' to freeze"):
        train_variants("moons", n=20, hidden=(8, 8), steps=1, weights=state, freeze=[[], ["fc9"]])
    with pytest.raises(InvalidArgument, match="drop tune or weights"):
        gradviz.boundary("moons", tmp_path / "t.gif", hidden=(8, 8), weights=state, tune=True, steps=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pretrained.pt"]


def test_the_seminar_three_class_step_has_a_curved_boundary_to_learn_at_the_lectures_settings():
    """pinwheel: softmax regression (straight boundaries; a convex problem, so this is its best) stays
    below 90%; the lecture's 2-5-5-3 sigmoid net with cross-entropy and SGD lr 0.1 sits on a plateau, then
    bends its boundaries past that within the gallery's steps."""
    from gradviz.gallery import SEMINAR

    settings = next(arguments for stem, _, arguments in SEMINAR if stem.startswith("seminar-4"))
    assert (settings["dataset"], settings["hidden"], settings["activation"], settings["optimizers"]) == \
        ("pinwheel", (5, 5), "sigmoid", ["sgd:lr=0.1"])
    X, y = make_dataset("pinwheel", n=300, seed=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # thousands of tiny steps: threads only contend (25x slower on a busy machine)
    try:
        linear = train(mlp(2, [], 3, seed=0), (X, y), "adam", lr=0.05, steps=1000, record_every=1000, grid=2)
        run = train(mlp(2, [5, 5], 3, activation="sigmoid", seed=0), (X, y), "sgd", lr=0.1,
                    steps=settings["steps"], record_every=settings["steps"], grid=2)
    finally:
        torch.set_num_threads(threads)
    assert linear.accuracy[-1] < 0.9
    assert run.loss[1000] > 0.9 * run.loss[0]  # the plateau
    assert run.accuracy[-1] >= 0.9 and run.loss[-1] < 0.8 * linear.loss[-1]
