import numpy as np
import pytest

from gradviz.records import Swarm, Trajectory, finite_prefix


def naive_prefix(points, losses):
    out = []
    for i in range(points.shape[1]):
        k = 0
        while k < len(points) and np.isfinite(losses[k, i]) and np.isfinite(points[k, i]).all():
            k += 1
        out.append(k)
    return np.array(out)


def a_batch(n=7, count=5):
    rng = np.random.default_rng(0)
    points, losses = rng.normal(size=(n, count, 2)), rng.normal(size=(n, count))
    points[3, 1, 0] = np.nan  # x leaves
    points[5, 2, 1] = -np.inf  # y leaves, later
    losses[2, 3] = np.inf  # the loss leaves first, the point after it
    points[4, 3] = np.nan
    return points, losses


def test_finite_prefix_counts_each_start_s_finite_rows():
    points, losses = a_batch()
    np.testing.assert_array_equal(finite_prefix(points, losses), [7, 3, 5, 2, 7])
    np.testing.assert_array_equal(finite_prefix(points, losses), naive_prefix(points, losses))
    points[0, 4, 1] = np.nan
    assert finite_prefix(points, losses)[4] == 0
    np.testing.assert_array_equal(finite_prefix(points[:, [0]], losses[:, [0]]), [7])  # nothing leaves


def test_batch_records_equal_records_built_one_by_one_and_share_one_frozen_array():
    points, losses = a_batch()
    norms, lrs, evaluations = np.abs(losses), np.linspace(0.1, 0.2, 6), np.arange(2, 9)
    ends = finite_prefix(points, losses) - 1
    fields = {"optimizer": "adam", "hyperparams": {"lr": 0.1}, "function": "f", "steps_requested": 6}
    for array in (points, losses, norms, lrs, evaluations):
        array.setflags(write=False)
    batch = Trajectory.batch(points, losses, norms, lrs, ends, evaluations=evaluations, **fields)
    for i, (record, end) in enumerate(zip(batch, ends)):
        alone = Trajectory(points=points[:end + 1, i], losses=losses[:end + 1, i], grad_norms=norms[:end + 1, i],
                           lrs=lrs[:end], evaluations=evaluations[:end + 1],
                           diverged_at=end + 1 if end < 6 else None, **fields)
        for name, value in vars(alone).items():
            mine = getattr(record, name)
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(mine, value)
                assert mine.dtype == value.dtype and not mine.flags.writeable
            else:
                assert mine == value, name
        assert np.shares_memory(record.points, points)  # a view of the frozen batch: no copy
        assert record.label == alone.label
    batch[0].hyperparams["lr"] = 1.0  # each record owns its settings
    assert batch[1].hyperparams == {"lr": 0.1}


def test_records_copy_what_their_caller_may_still_write():
    points = np.zeros((4, 2, 2))
    record = Trajectory.batch(points, np.zeros((4, 2)), np.zeros((4, 2)), np.zeros(3), [3, 3], optimizer="sgd",
                              hyperparams={})[0]
    view = points[:, 0]
    view.setflags(write=False)  # read-only, but a view of memory the caller can still change
    alone = Trajectory(points=view, losses=np.zeros(4), grad_norms=np.zeros(4), lrs=np.zeros(3), optimizer="sgd")
    swarm = Swarm(points=points, losses=np.zeros((4, 2)), ends=[3, 3], diverged=[False, False], lrs=np.zeros(3),
                  optimizer="sgd")
    points[:] = 1.0
    assert (record.points == 0).all() and (alone.points == 0).all() and (swarm.points == 0).all()


@pytest.mark.parametrize("change, message", [
    ({"losses": np.zeros((4, 3))}, "losses"), ({"lrs": np.zeros(4)}, "lrs"), ({"ends": [0, 4]}, "ends"),
    ({"ends": [0.5, 1]}, "ends"), ({"evaluations": [1, 3, 2, 4]}, "evaluations")])
def test_a_malformed_batch_is_refused(change, message):
    arguments = {"points": np.zeros((4, 2, 2)), "losses": np.zeros((4, 2)), "grad_norms": np.zeros((4, 2)),
                 "lrs": np.zeros(3), "ends": [3, 1], **change}
    with pytest.raises(ValueError, match=message):
        Trajectory.batch(**arguments, optimizer="sgd", hyperparams={})
