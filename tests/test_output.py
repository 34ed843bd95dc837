import os

import numpy as np
import pytest

from gradviz.output import check_output_path, frame_delays, write_animation, write_image
from gradviz.registry import InvalidArgument


def moving_square_frames(n, size=(120, 80)):
    """A white background with a red square moving right and a blue bar growing: simple, known pixels."""
    width, height = size
    frames = []
    for i in range(n):
        frame = np.full((height, width, 3), 255, np.uint8)
        frame[30:40, 5 + 3 * i: 15 + 3 * i] = (220, 30, 30)
        frame[70:75, 0: 4 * i + 1] = (30, 30, 220)
        frames.append(frame)
    return frames


def test_gif_reads_back_frame_for_frame(tmp_path, read_gif):
    frames = moving_square_frames(20)
    path = write_animation(iter(frames), tmp_path / "a.gif", n_frames=20, fps=20)
    decoded, durations, loop, size = read_gif(path)
    assert size == (120, 80) and loop == 0 and len(decoded) == 20
    for original, back in zip(frames, decoded):
        np.testing.assert_array_equal(original, back)  # 3 colours fit the palette exactly
    assert durations[:-1] == [50] * 19 and durations[-1] == 1000


def test_identical_frames_are_merged_into_a_longer_one(tmp_path, read_gif):
    frames = moving_square_frames(3)
    frames = [frames[0], frames[1], frames[1], frames[1], frames[2]]
    path = write_animation(iter(frames), tmp_path / "held.gif", n_frames=5, fps=10)
    decoded, durations, _, _ = read_gif(path)
    assert len(decoded) == 3 and durations == [100, 300, 1000]


def test_fractional_fps_keeps_its_average_and_the_minimum_delay():
    delays = frame_delays(31, 30, hold_last=0)
    assert set(delays[:-1]) <= {3, 4} and sum(delays[:30]) == 100
    assert min(frame_delays(10, 50)) >= 2
    with pytest.raises(InvalidArgument, match="fps"):
        frame_delays(10, 60)


def test_many_colours_are_quantized_closely(tmp_path, read_gif):
    rng = np.random.default_rng(0)
    gradient = np.linspace(0, 255, 200).astype(np.uint8)
    base = np.stack(np.broadcast_arrays(gradient[None, :], gradient[:, None] // 2, 255 - gradient[None, :]), -1)
    frames = [base.copy() for _ in range(4)]
    for i, frame in enumerate(frames):
        frame[rng.integers(0, 190, 1)[0]:, :10 * i] = (0, 200, 0)
    path = write_animation(iter(frames), tmp_path / "g.gif", n_frames=4, fps=5,
                           palette_sample=np.concatenate([frames[0], frames[-1]]))
    decoded, _, _, _ = read_gif(path)
    for original, back in zip(frames, decoded):
        assert np.abs(original.astype(int) - back.astype(int)).mean() < 4


def test_frames_read_back_as_if_each_were_quantized_whole(tmp_path, read_gif):
    """The writer looks up only the pixels whose colour changed since the previous frame; every frame must
    still read back as that frame quantized whole, key colours (white among them) exact."""
    from gradviz.output import GifStream

    rng = np.random.default_rng(1)
    ramp = np.linspace(0, 255, 160).astype(np.uint8)
    base = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:90, None], 255 - ramp[None, :]), -1).copy()
    light = np.linspace(190, 255, 64).astype(np.uint8)  # near-whites, which pull Pillow's white off its key
    base[:64, 96:] = np.stack(np.broadcast_arrays(light[None, :], light[None, :], light[:, None]), -1)
    base[64:, 96:] = 255
    keys = np.array([[255, 255, 255], [20, 120, 40]], np.uint8)
    frames, frame = [], base.copy()
    for i in range(6):
        frame = (base if i == 3 else frame).copy()  # frame 3 puts every pixel back: a large change
        for _ in range(3):
            top, left = rng.integers(0, 80), rng.integers(0, 150)
            frame[top:top + rng.integers(1, 10), left:left + rng.integers(1, 10)] = rng.integers(0, 256, 3)
        frame[5 * i:5 * i + 4, 7 * i:7 * i + 4] = keys[i % 2]
        frames.append(frame)
    path = write_animation(iter(frames), tmp_path / "q.gif", n_frames=6, fps=10, palette_sample=base,
                           key_colours=keys)
    decoded, _, _, _ = read_gif(path)
    whole = GifStream(open(os.devnull, "wb"), (160, 90), base, keys)
    assert whole._misplaced  # white needs the writer's exact-key fix here: the test covers that path too
    palette = np.array(whole.palette.getpalette()[:255 * 3], np.uint8).reshape(-1, 3)
    assert len(decoded) == 6
    for i, (original, back) in enumerate(zip(frames, decoded)):
        np.testing.assert_array_equal(back, palette[whole.quantize(original)])
        np.testing.assert_array_equal(back[5 * i:5 * i + 4, 7 * i:7 * i + 4].reshape(-1, 3),
                                      np.repeat(keys[i % 2][None], 16, axis=0))


def test_same_frames_same_bytes(tmp_path):
    a = write_animation(iter(moving_square_frames(10)), tmp_path / "a.gif", n_frames=10, fps=20)
    b = write_animation(iter(moving_square_frames(10)), tmp_path / "b.gif", n_frames=10, fps=20)
    assert a.read_bytes() == b.read_bytes()


def test_a_failure_midway_leaves_no_file(tmp_path):
    def broken():
        yield from moving_square_frames(3)
        raise KeyboardInterrupt

    target = tmp_path / "x.gif"
    with pytest.raises(KeyboardInterrupt):
        write_animation(broken(), target, n_frames=10, fps=20)
    assert os.listdir(tmp_path) == []


def test_an_existing_file_survives_a_failed_rewrite(tmp_path):
    target = tmp_path / "keep.gif"
    write_animation(iter(moving_square_frames(2)), target, n_frames=2, fps=20)
    before = target.read_bytes()
    with pytest.raises(ValueError, match="expected 5"):
        write_animation(iter(moving_square_frames(2)), target, n_frames=5, fps=20)
    assert target.read_bytes() == before and os.listdir(tmp_path) == ["keep.gif"]


def test_png_reads_back(tmp_path):
    from PIL import Image

    frame = moving_square_frames(4)[3]
    path = write_image(frame, tmp_path / "f.png")
    np.testing.assert_array_equal(np.asarray(Image.open(path).convert("RGB")), frame)


def test_mp4_without_the_video_extra_is_a_clear_error(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ffmpeg(name, *args, **kwargs):
        if name == "imageio_ffmpeg":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ffmpeg)
    with pytest.raises(InvalidArgument, match=r"gradviz\[video\]"):
        write_animation(iter(moving_square_frames(2)), tmp_path / "v.mp4", n_frames=2, fps=20)
    assert os.listdir(tmp_path) == []


def test_mp4_reads_back(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    import imageio.v2 as imageio

    frames = moving_square_frames(10)
    path = write_animation(iter(frames), tmp_path / "v.mp4", n_frames=10, fps=10, hold_last=1.0)
    reader = imageio.get_reader(path)
    decoded = list(reader.iter_data())
    meta = reader.get_meta_data()
    reader.close()
    assert len(decoded) == 20 and decoded[0].shape == (80, 120, 3) and meta["fps"] == 10
    assert np.abs(decoded[3].astype(int) - frames[3].astype(int)).mean() < 8


@pytest.mark.parametrize("name, message", [("x.jpg", "extension '.jpg'"), ("noext", "has no extension: it must end in one of"),
                                           ("missing/x.gif", "does not exist")])
def test_bad_output_paths(tmp_path, name, message):
    with pytest.raises(InvalidArgument, match=message):
        check_output_path(tmp_path / name)


def test_unwritable_folder(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # root writes anywhere: ask as if the permission bits counted
        monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(InvalidArgument, match="not writable"):
        check_output_path(folder / "x.gif")


def test_a_folder_that_refuses_new_files_is_found_by_trying(tmp_path, monkeypatch):
    # as root, or on a read-only mount, the permission bits say yes: creating a file says no
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(InvalidArgument, match="'.*' is not writable \\(Read-only file system\\)"):
        check_output_path(tmp_path / "x.gif")
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_place_of_the_folder(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidArgument, match="does not exist"):
        check_output_path(tmp_path / "file" / "x.gif")


def test_pure_key_colours_round_trip_exactly(tmp_path, read_gif):
    # white and adam's magenta came back as (252, 252, 252) and (240, 50, 228): Pillow's palette lookup
    # picked a median-cut neighbour over the exact key entry
    keys = np.array([[255, 255, 255], [240, 50, 230], [0, 0, 0], [228, 26, 28], [55, 126, 184]], np.uint8)
    frame = np.ascontiguousarray(np.repeat(np.repeat(keys[None], 8, axis=0), 8, axis=1))
    ramp = np.linspace(190, 255, 64).astype(np.uint8)  # near-white and near-magenta shades in the sample
    sample = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:, None] // 4, ramp[None, :]), -1)
    sample = np.concatenate([sample, np.stack(np.broadcast_arrays(ramp[None, :], ramp[None, :], ramp[:, None]), -1)])
    path = write_animation(iter([frame, frame[:, ::-1].copy()]), tmp_path / "k.gif", n_frames=2, fps=10,
                           palette_sample=np.ascontiguousarray(sample), key_colours=keys)
    decoded, _, _, _ = read_gif(path)
    np.testing.assert_array_equal(decoded[0], frame)
    np.testing.assert_array_equal(decoded[1], frame[:, ::-1])


@pytest.mark.parametrize("fps, hold, message", [(0.001, 1.0, "655.35 s"), (20, 700, "hold 700"), (60, 1.0, "fps <= 50")])
def test_gif_timing_a_gif_cannot_store_is_one_clear_error(tmp_path, fps, hold, message):
    with pytest.raises(InvalidArgument, match=message):
        write_animation(iter(moving_square_frames(2)), tmp_path / "slow.gif", n_frames=2, fps=fps, hold_last=hold)
    assert os.listdir(tmp_path) == []


def test_identical_frames_longer_than_a_gif_delay_are_split(tmp_path, read_gif):
    frames = moving_square_frames(2)
    frames = [frames[0]] * 5 + [frames[1]]  # 5 x 200 s of the same picture: 1000 s > 655.35 s
    path = write_animation(iter(frames), tmp_path / "long.gif", n_frames=6, fps=0.005, hold_last=0)
    decoded, durations, _, _ = read_gif(path)
    assert sum(durations) == 6 * 200_000 and max(durations) <= 655_350
    np.testing.assert_array_equal(decoded[-1], frames[-1])


def _mp4_facts(path):
    """(stream line of `ffmpeg -i`, first frame's Y, Cb, Cr at the top-left, top-level box names in order)."""
    import subprocess

    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    info = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    stream = next(line for line in info.splitlines() if "Video:" in line)
    raw = subprocess.run([exe, "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "yuv420p", "-"], capture_output=True, check=True).stdout
    data, boxes, at = path.read_bytes(), [], 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        boxes.append(data[at + 4:at + 8].decode("latin-1"))
        at += size if size >= 8 else len(data)
    return stream, raw, boxes


def test_mp4_is_bt709_converted_and_tagged_padded_to_even_and_faststart(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    frame = np.zeros((161, 241, 3), np.uint8)
    frame[...] = (255, 0, 0)
    path = write_animation(iter([frame] * 3), tmp_path / "red.mp4", n_frames=3, fps=10, hold_last=0)
    stream, raw, boxes = _mp4_facts(path)
    assert "bt709" in stream and "unknown" not in stream and "242x162" in stream  # padded, not resampled
    width, height = 242, 162
    y, cb, cr = raw[0], raw[width * height], raw[width * height * 5 // 4]
    # pure red in limited-range BT.709 is Y=63, Cb=102, Cr=240 (BT.601 would give Y=81, Cb=90)
    assert abs(y - 63) <= 1 and abs(cb - 102) <= 1 and abs(cr - 240) <= 1
    assert boxes.index("moov") < boxes.index("mdat")


def test_written_paths_display_inline_in_a_notebook(tmp_path):
    import base64

    from gradviz.output import OutputPath

    gif = write_animation(iter(moving_square_frames(3)), tmp_path / "a.gif", n_frames=3, fps=10)
    png = write_image(moving_square_frames(1)[0], tmp_path / "a.png")
    assert isinstance(gif, OutputPath) and gif == tmp_path / "a.gif" and os.fspath(gif) == str(tmp_path / "a.gif")
    html = gif._repr_html_()
    assert html.startswith('<img src="data:image/gif;base64,')
    assert base64.b64decode(html.split(",", 1)[1].split('"')[0]) == gif.read_bytes()  # the animation itself
    assert png._repr_png_() == png.read_bytes()
    assert OutputPath(tmp_path / "missing.gif")._repr_html_() is None  # nothing to show: the plain repr
