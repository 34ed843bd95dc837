"""Output: frames in, files out (GIF, MP4, PNG), written atomically.

The only module that imports imageio (and Pillow). Frames arrive one at a time as (H, W, 3) uint8 arrays
and are encoded as they come, so memory stays flat however many frames there are:

- GIF: one palette for the whole animation, computed up front from a sample (the first and last frames
  show every colour that will appear), each frame quantized against it without dithering as soon as it
  is drawn (only the pixels whose colour changed since the previous frame are looked up), and only the
  rectangle that changed is stored, its unchanged pixels transparent. Identical
  consecutive frames are merged into one longer frame. The file loops forever and the last frame is held.
- MP4: H.264 through imageio-ffmpeg (the `video` extra), converted to YUV with the BT.709 matrix and
  tagged BT.709 (what players assume for HD sizes), the index at the front (faststart) so a browser plays
  it while it loads. H.264 in 4:2:0 needs even sizes: an odd width or height gets one more column or row,
  a copy of the edge, so the picture is never resampled.
- PNG: a single image.

Every file is written to a temporary name beside the target and renamed at the end, so an error or
Ctrl-C leaves no partial file behind. The path returned is an `OutputPath`: a pathlib.Path that Jupyter
also displays, as the animation or image it names.
"""

from __future__ import annotations

import base64
import os
import struct
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

import numpy as np

from gradviz.registry import InvalidArgument

__all__ = ["FORMATS", "OutputPath", "check_output_path", "check_gif_timing", "write_animation", "write_image", "frame_delays"]

FORMATS = (".gif", ".mp4", ".png")
MIN_DELAY_CS = 2  # browsers treat shorter GIF delays as 100 ms; 20 ms is the shortest honoured
MAX_DELAY_CS = 65535  # a GIF delay is an unsigned 16-bit count of centiseconds: 655.35 s at most
TRANSPARENT = 255


class OutputPath(type(Path())):  # type: ignore[misc]  # PosixPath or WindowsPath: Path itself cannot be
    """A path gradviz wrote, usable wherever a path is, that a notebook shows inline: a GIF or PNG as an
    image, an MP4 as a looping video (embedded, so the notebook keeps it)."""

    _MIME = {".gif": "image/gif", ".png": "image/png", ".mp4": "video/mp4"}

    def _data(self) -> tuple[str, str] | None:
        mime = self._MIME.get(self.suffix.lower())
        if mime is None or not self.is_file():
            return None
        return mime, base64.b64encode(self.read_bytes()).decode("ascii")

    def _repr_html_(self) -> str | None:
        data = self._data()
        if data is None:
            return None
        mime, encoded = data
        if mime == "video/mp4":
            return f'<video src="data:{mime};base64,{encoded}" controls autoplay loop muted></video>'
        return f'<img src="data:{mime};base64,{encoded}" alt="{self.name}"/>'

    def _repr_png_(self) -> bytes | None:
        return self.read_bytes() if self.suffix.lower() == ".png" and self.is_file() else None


def check_output_path(path: str | os.PathLike[str], formats: Iterable[str] = FORMATS) -> Path:
    """Fail early, before any work, on an empty name, an unknown extension, a missing folder, a folder
    that cannot take a new file (tried: a permission bit says nothing to root or on a read-only mount),
    or an .mp4 without the video extra."""
    formats = tuple(formats)
    if not str(path).strip() or str(path).strip() == ".":
        raise InvalidArgument(f"output file name is empty: give one such as picture{formats[0]} "
                              f"(valid extensions: {', '.join(formats)})")
    path = Path(path)
    if path.is_dir() or str(path).endswith(("/", os.sep)):
        raise InvalidArgument(f"output path {str(path)!r} is a folder: give a file name in it, such as "
                              f"{str(path).rstrip('/' + os.sep) or '.'}/picture{formats[0]} (valid extensions: "
                              f"{', '.join(formats)})")
    if path.name.startswith(".") and not path.suffix and path.name.lower() in formats:
        # Path('.gif').suffix is '': a name that is only an extension has no name before it
        raise InvalidArgument(f"output file name {str(path)!r} is only an extension: give a name before it, such as "
                              f"picture{path.name.lower()}")
    if path.suffix.lower() not in formats:
        shown = f"extension {path.suffix!r}" if path.suffix else "no extension"
        raise InvalidArgument(f"output file {str(path)!r} has {shown}: it must end in one of {', '.join(formats)} "
                              "(the extension picks the format)")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidArgument(f"output folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidArgument(f"output folder {str(folder)!r} is not writable")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise InvalidArgument(f"output folder {str(folder)!r} is not writable ({error.strerror or error})") from None
    if path.suffix.lower() == ".mp4":
        import importlib.util

        if importlib.util.find_spec("imageio_ffmpeg") is None:
            raise InvalidArgument(_MP4_HINT)
    return path


_MP4_HINT = ("writing .mp4 needs the video extra: pip install -e \".[video]\" in a checkout, "
             "pip install 'gradviz[video]' otherwise (or write a .gif)")


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".part{path.suffix}", dir=path.parent or ".")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def check_gif_timing(fps: float, hold_last: float = 1.0) -> None:
    """InvalidArgument for a frame rate or a hold a GIF cannot store (each delay is 20 ms to 655.35 s)."""
    if fps > 100 / MIN_DELAY_CS:
        raise InvalidArgument(f"invalid fps {fps:g} for a GIF: frames shorter than 20 ms play wrongly; "
                              f"use fps <= {100 // MIN_DELAY_CS}")
    if fps < 100 / MAX_DELAY_CS:
        raise InvalidArgument(f"invalid fps {fps:g} for a GIF: a frame lasts at most 655.35 s; "
                              f"use fps >= {100 / MAX_DELAY_CS:.6f}")
    if not 0 <= hold_last <= MAX_DELAY_CS / 100:
        raise InvalidArgument(f"invalid hold {hold_last:g} s for a GIF: the last frame lasts 0 to 655.35 s")


def frame_delays(n_frames: int, fps: float, *, hold_last: float = 1.0) -> list[int]:
    """GIF delays in centiseconds: an average of 100/fps (rounding carried over), the last held.

    GIF delays are whole centiseconds; carrying the rounding error keeps 30 fps at 3,3,4,3,3,4...
    """
    check_gif_timing(fps, hold_last)
    delays, clock = [], 0.0
    for i in range(n_frames):
        end = round((i + 1) * 100.0 / fps)
        delays.append(max(MIN_DELAY_CS, int(end - clock)))
        clock = end
    if delays:
        delays[-1] = max(delays[-1], int(round(hold_last * 100)))
    return delays


class GifStream:
    """A GIF encoder that takes one frame at a time against a fixed palette."""

    def __init__(self, fp: IO[bytes], size: tuple[int, int], palette_sample: np.ndarray,
                 key_colours: np.ndarray | None = None) -> None:
        from PIL import Image

        self._image = Image
        self.fp = fp
        self.width, self.height = size
        # 255 colours, leaving index 255 for "unchanged" (transparent) pixels. Key colours (trails,
        # markers, text) go in exactly: median cut alone merges a thin trail into the contours around it.
        keys = np.unique(np.asarray(key_colours if key_colours is not None else np.zeros((0, 3)),
                                    dtype=np.uint8).reshape(-1, 3), axis=0)[:64]
        sample = Image.fromarray(np.ascontiguousarray(palette_sample[..., :3]))
        median = sample.quantize(colors=255 - len(keys), method=Image.Quantize.MEDIANCUT,
                                 dither=Image.Dither.NONE)
        colours = keys.reshape(-1).tolist() + (median.getpalette() or [])[: (255 - len(keys)) * 3]
        colours += [0] * (255 * 3 - len(colours))
        self.palette = Image.new("P", (1, 1))
        self.palette.putpalette(colours)  # exactly 255 entries: quantizing can never yield index 255
        # Pillow maps a colour to the palette entry nearest the centre of its cache cell, not to the
        # nearest entry: white went to a median-cut (252, 252, 252) beside the exact white entry. Find the
        # keys this happens to (the mapping depends on the colour alone) and put their pixels right in
        # each frame: an exact-match mask per misplaced key, a few milliseconds a frame.
        probe = Image.fromarray(np.ascontiguousarray(keys[None])) if len(keys) else None
        landed = (np.asarray(probe.quantize(palette=self.palette, dither=Image.Dither.NONE))[0]
                  if probe is not None else [])
        self._misplaced = [(key, index) for index, (key, got) in enumerate(zip(keys, landed)) if got != index]
        fp.write(b"GIF89a" + struct.pack("<HHBBB", self.width, self.height, 0xF7, 0, 0))
        fp.write(bytes(colours) + bytes(3))
        # NETSCAPE2.0 application extension: loop forever.
        fp.write(b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", 0) + b"\x00")
        self._previous: np.ndarray | None = None
        self._previous_rgb: np.ndarray | None = None
        self._pending: tuple[np.ndarray, tuple[int, int], int] | None = None

    def quantize(self, frame: np.ndarray) -> np.ndarray:
        """(H, W) palette indices of an (H, W, 3) frame, key colours exact."""
        rgb = np.ascontiguousarray(frame[..., :3])
        image = self._image.fromarray(rgb)
        indexed = np.array(image.quantize(palette=self.palette, dither=self._image.Dither.NONE))
        if self._misplaced:  # one packed 24-bit view of the frame, then one comparison per misplaced key
            packed = rgb[..., 0].astype(np.uint32)  # built in place: temporaries made it 4x slower
            packed <<= 8
            packed |= rgb[..., 1]
            packed <<= 8
            packed |= rgb[..., 2]
            for key, index in self._misplaced:
                indexed[packed == (int(key[0]) << 16 | int(key[1]) << 8 | int(key[2]))] = index
        return indexed

    def _changes(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-> (flat indices of the pixels whose palette index changed since the previous frame, their new
        indices), the previous frame's indices updated in place. A pixel's index depends on its colour
        alone, so only the pixels that changed colour are looked up (a frame of an animation changes a few
        thousand of its half million pixels): the result equals quantizing the whole frame."""
        assert self._previous is not None and self._previous_rgb is not None
        differs = (rgb != self._previous_rgb).reshape(len(rgb), -1)
        rows = np.flatnonzero(differs.any(axis=1))  # a fast reduction along rows first, then only their band
        if rows.size == 0:
            return rows, rows
        first, last = rows[0], rows[-1] + 1
        band = differs[first:last].reshape(-1, self.width, 3)
        moved = np.flatnonzero(band[..., 0] | band[..., 1] | band[..., 2]) + first * self.width
        looked_up = self.quantize(rgb.reshape(-1, 3)[moved][None])[0]
        indexed = self._previous.reshape(-1)
        differ = looked_up != indexed[moved]  # a new colour may still map to the same palette entry
        changed, values = moved[differ], looked_up[differ]
        indexed[changed] = values
        self._previous_rgb[first:last] = rgb[first:last]
        return changed, values

    def add(self, frame: np.ndarray, delay_cs: int) -> None:
        if frame.shape[:2] != (self.height, self.width):
            raise ValueError(f"frame of shape {frame.shape} in a {self.width}x{self.height} GIF")
        rgb = np.ascontiguousarray(frame[..., :3], dtype=np.uint8)
        if self._previous is None:
            self._previous, self._previous_rgb = self.quantize(rgb), rgb.copy()
            self._emit_pending()
            self._pending = (self._previous.copy(), (0, 0), delay_cs)  # _previous changes in place later
            return
        changed, values = self._changes(rgb)
        if changed.size == 0:  # identical frame: hold the pending one longer
            assert self._pending is not None
            data, offset, delay = self._pending
            if delay + delay_cs <= MAX_DELAY_CS:
                self._pending = (data, offset, delay + delay_cs)
                return
            # past the longest delay a GIF stores: continue with an empty (transparent) one-pixel frame
            self._emit_pending()
            self._pending = (np.full((1, 1), TRANSPARENT, np.uint8), (0, 0), delay_cs)
            return
        rows, cols = np.divmod(changed, self.width)
        top, left = rows.min(), cols.min()
        # the rectangle around the changes, its unchanged pixels transparent
        patch = np.full((rows.max() + 1 - top, cols.max() + 1 - left), TRANSPARENT, np.uint8)
        patch[rows - top, cols - left] = values
        self._emit_pending()
        self._pending = (patch, (int(left), int(top)), delay_cs)

    def _emit_pending(self) -> None:
        if self._pending is None:
            return
        from PIL import GifImagePlugin

        data, offset, delay = self._pending
        data = np.ascontiguousarray(data)
        image = self._image.frombytes("P", (data.shape[1], data.shape[0]), data.tobytes())
        # getdata writes the graphic control extension (delay, disposal 1 = keep, transparency),
        # the image descriptor and the LZW data, using Pillow's C encoder.
        for chunk in GifImagePlugin.getdata(image, offset, duration=delay * 10, disposal=1,
                                            transparency=TRANSPARENT):
            self.fp.write(chunk)
        self._pending = None

    def close(self) -> None:
        self._emit_pending()
        self.fp.write(b";")


def write_animation(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike[str],
    *,
    n_frames: int,
    fps: float = 20,
    palette_sample: np.ndarray | None = None,
    key_colours: np.ndarray | None = None,
    hold_last: float = 1.0,
    on_frame: Callable[[int], None] | None = None,
) -> Path:
    """Encode `frames` (n_frames arrays of shape (H, W, 3), uint8) to a GIF or MP4 at `path`.

    For a GIF, palette_sample is an image holding the colours to expect (default: the first frame) and
    key_colours, (k, 3) uint8, colours that must be reproduced exactly (at most 64).
    """
    path = check_output_path(path, (".gif", ".mp4"))
    if path.suffix.lower() == ".gif":
        delays = frame_delays(n_frames, fps, hold_last=hold_last)
        with _atomic(path) as tmp, open(tmp, "wb") as fp:
            stream: GifStream | None = None
            count = 0
            for count, frame in enumerate(frames, start=1):
                if count > n_frames:
                    raise ValueError(f"more than the {n_frames} frames announced")
                if stream is None:
                    sample = palette_sample if palette_sample is not None else frame
                    stream = GifStream(fp, (frame.shape[1], frame.shape[0]), sample, key_colours)
                stream.add(frame, delays[count - 1])
                if on_frame:
                    on_frame(count)
            if stream is None or count != n_frames:
                raise ValueError(f"got {count} frames, expected {n_frames}")
            stream.close()
        return OutputPath(path)
    return _write_mp4(frames, path, n_frames=n_frames, fps=fps, hold_last=hold_last, on_frame=on_frame)


# BT.709 for the matrix that turns RGB into YUV and for the tags that tell a player which matrix that was;
# limited ("tv") range, what H.264 players expect. Faststart moves the index before the data.
_MP4_OPTIONS = ["-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
                "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv",
                "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
                "-movflags", "+faststart", "-threads", "1"]


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad an odd width or height with a copy of the last column or row (4:2:0 video needs even sizes)."""
    height, width = frame.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return frame
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


def _write_mp4(frames: Iterable[np.ndarray], path: Path, *, n_frames: int, fps: float, hold_last: float,
               on_frame: Callable[[int], None] | None) -> Path:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise InvalidArgument(_MP4_HINT) from None

    with _atomic(path) as tmp:
        writer = None
        try:
            last = None
            for count, frame in enumerate(frames, start=1):
                frame = np.ascontiguousarray(_even(np.asarray(frame)[..., :3]), dtype=np.uint8)
                if writer is None:
                    writer = imageio_ffmpeg.write_frames(
                        str(tmp), (frame.shape[1], frame.shape[0]), pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
                        fps=fps, codec="libx264", quality=8, macro_block_size=1, ffmpeg_log_level="error",
                        output_params=list(_MP4_OPTIONS))
                    writer.send(None)
                writer.send(frame)
                last = frame
                if on_frame:
                    on_frame(count)
            for _ in range(int(round(hold_last * fps)) if last is not None else 0):
                writer.send(last)
            if writer is None:
                raise ValueError(f"got 0 frames, expected {n_frames}")
        finally:
            if writer is not None:
                writer.close()
    return OutputPath(path)


def write_image(frame: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write one (H, W, 3) uint8 frame as a PNG."""
    import imageio.v3 as iio

    path = check_output_path(path, (".png",))
    with _atomic(path) as tmp:
        iio.imwrite(tmp, np.ascontiguousarray(frame[..., :3]), extension=".png")
    return OutputPath(path)
