import numpy as np
import pytest

import gradviz
from gradviz.registry import InvalidArgument


def test_trajectories_writes_a_looping_gif_one_frame_per_step(tmp_path, read_gif):
    path = gradviz.trajectories("beale", ["sgd", "adam:lr=0.05"], tmp_path / "b.gif", steps=30,
                                size=(320, 180), loss_panel=False)
    frames, durations, loop, size = read_gif(path)
    assert size == (320, 180) and loop == 0
    assert sum(durations) == 30 * 50 + 1000  # 31 frames at 20 fps, the last held a second
    assert min(durations) >= 20
    assert len(frames) <= 31


def test_same_inputs_same_bytes(tmp_path):
    a = gradviz.trajectories("himmelblau", ["adam", "rmsprop"], tmp_path / "a.gif", steps=20, size=(320, 180))
    b = gradviz.trajectories("himmelblau", ["adam", "rmsprop"], tmp_path / "b.gif", steps=20, size=(320, 180))
    assert a.read_bytes() == b.read_bytes()


def test_png_is_the_final_frame(tmp_path):
    from PIL import Image

    records = [gradviz.trace("rosenbrock", name, steps=15) for name in ("sgd", "adam")]
    path = gradviz.animate(records, tmp_path / "last.png", size=(320, 180))
    from gradviz.pipelines.trajectories import plot_window

    rosenbrock = gradviz.FUNCTIONS["rosenbrock"]  # 15 steps stay near the start: animate frames them closer
    window = plot_window(rosenbrock.domain, records, rosenbrock.minima)
    renderer = gradviz.TrajectoryRenderer(records, rosenbrock.surface(window), size=(320, 180))
    np.testing.assert_array_equal(np.asarray(Image.open(path).convert("RGB")), renderer.frame(15))


def test_animate_a_custom_function_frames_its_window_around_the_paths(tmp_path):
    record = gradviz.trace(lambda p: (p**2).sum(-1) + p[..., 0], "sgd", start=(2.0, 3.0), steps=10, lr=0.1)
    path = gradviz.animate(record, tmp_path / "c.png", function=lambda p: (p**2).sum(-1) + p[..., 0],
                           size=(320, 180))
    assert path.stat().st_size > 1000
    with pytest.raises(InvalidArgument, match="pass function="):
        gradviz.animate(record, tmp_path / "d.png")


def test_divergence_is_drawn_not_raised(tmp_path):
    path = gradviz.trajectories("rosenbrock", ["sgd:lr=0.1", "adam"], tmp_path / "d.png", steps=50, size=(320, 180))
    assert path.exists()


class StageRecorder:
    """A progress reporter like the CLI's bar: stage(label) announcements and (done, total) counts."""

    def __init__(self):
        self.events = []

    def stage(self, label):
        self.events.append(label)

    def __call__(self, done, total):
        self.events.append((done, total))


def test_progress_is_reported(tmp_path):
    seen = []
    gradviz.trajectories("booth", ["adam"], tmp_path / "p.gif", steps=9, size=(320, 180),
                         progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 9) for i in range(10)] + [(i, 10) for i in range(1, 11)]  # tracing, then rendering


def test_progress_covers_tracing_each_optimizer_then_rendering(tmp_path):
    # `--steps 100000` used to print nothing until rendering began, minutes later
    recorder = StageRecorder()
    gradviz.trajectories("booth", ["sgd", "adam"], tmp_path / "p.gif", steps=400, frames=5, size=(320, 180),
                         progress=recorder)
    labels = [e for e in recorder.events if isinstance(e, str)]
    assert labels == ["tracing sgd", "tracing adam", "rendering"]
    tracing_sgd = recorder.events[1:recorder.events.index("tracing adam")]
    assert tracing_sgd[0] == (0, 400) and tracing_sgd[-1] == (400, 400) and len(tracing_sgd) == 101
    assert recorder.events[-1] == (5, 5)


def test_more_frames_than_steps_is_said_not_capped(tmp_path):
    with pytest.raises(InvalidArgument, match="at most 11 frames"):
        gradviz.trajectories("booth", ["adam"], tmp_path / "p.gif", steps=10, frames=50)
    assert list(tmp_path.iterdir()) == []


def test_boundary_frames_beyond_the_recorded_steps_are_said_not_capped(tmp_path):
    with pytest.raises(InvalidArgument, match="at most 21 frames"):
        gradviz.boundary("moons", tmp_path / "b.gif", steps=20, frames=50)
    assert list(tmp_path.iterdir()) == []


def test_animate_hold_a_gif_cannot_store_is_one_clear_error(tmp_path):
    record = gradviz.trace("booth", "adam", steps=3)
    with pytest.raises(InvalidArgument, match="655.35"):
        gradviz.animate(record, tmp_path / "h.gif", hold=700)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, message", [
    (dict(optimizers=["adamm"]), "did you mean 'adam'"), (dict(optimizers=["adam:lr=0"]), "learning rate"),
    (dict(steps=-3), "steps"), (dict(fps=0), "fps"), (dict(fps=120), "fps"), (dict(theme="pink"), "theme"),
    (dict(size=(10, 10)), "size"), (dict(path="out.bmp"), "extension"), (dict(optimizers=[]), "no optimizers"),
])
def test_everything_is_checked_before_tracing(tmp_path, monkeypatch, kwargs, message):
    import gradviz.lecture.tracing

    monkeypatch.setattr(gradviz.lecture.tracing, "trace", lambda *a, **k: pytest.fail("traced before checking"))
    kwargs.setdefault("path", tmp_path / "x.gif")
    if not str(kwargs["path"]).startswith(str(tmp_path)):
        kwargs["path"] = tmp_path / kwargs["path"]
    with pytest.raises(InvalidArgument, match=message):
        gradviz.trajectories("rosenbrock", kwargs.pop("optimizers", ["adam"]), **kwargs)
    assert list(tmp_path.iterdir()) == []
