"""Pictures in the lecture's language (issue 31): gettext catalogs that match their sources, every marked
string translated with its placeholders intact, and no English left in the drawn text of a figure drawn
in Russian."""

from __future__ import annotations

import re
import string
from configparser import ConfigParser
from pathlib import Path

import pytest

from gradviz.i18n import (LOCALE_DIR, _, compile_mo, extract_messages, read_po, translated, use_language)
from gradviz.registry import InvalidArgument
from gradviz.render.frames import drawn_texts

PO = LOCALE_DIR / "ru" / "LC_MESSAGES" / "gradviz.po"


def test_the_compiled_catalog_is_its_source():
    assert (PO.with_suffix(".mo")).read_bytes() == compile_mo(read_po(PO)), \
        "gradviz.po changed: run python -m gradviz.i18n compile"


def test_every_marked_string_is_translated_with_the_same_placeholders():
    catalog = read_po(PO)
    fields = lambda text: sorted(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)  # noqa: E731
    for message in extract_messages():
        assert catalog.get(message), f"untranslated: {message!r} (python -m gradviz.i18n extract, then translate)"
        assert fields(catalog[message]) == fields(message), message


def test_english_is_the_default_and_the_language_is_checked():
    assert _("loss") == "loss"
    with use_language("ru"):
        assert _("loss") == "лосс"  # the lecture's own word
        assert _("Vanishing gradients: 0.25ⁿ bounds the σ' factors, not the gradient").startswith("Размытие градиента")
    assert _("loss") == "loss"
    assert translated("sigmoid", "ru") == "сигмоида"
    with pytest.raises(InvalidArgument, match=r"'de'.*en, ru"):
        with use_language("de"):
            pass


def test_the_catalogs_ship_with_the_package():
    config = ConfigParser()
    config.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    patterns = config["options.package_data"]["gradviz"]
    assert "locale/*/LC_MESSAGES/*.mo" in patterns


# Latin words that may stay in a Russian picture: code the seminar types, names, units, formulas
KEPT = {"model", "train", "eval", "no_grad", "requires_grad", "requires_grad_", "grad", "grad_fn", "True", "False",
        "None", "backward", "retain_graph", "zero_grad", "zero_", "preds", "labels", "zeros", "ones", "torch",
        "exp_avg", "exp_avg_sq", "PyTorch", "BatchNorm", "MAE", "BCE", "MSE", "MLP", "tanh", "ReLU", "leaky",
        "Adam", "RMSprop", "Cohen", "max", "fan_in", "running_mean", "weight", "fc1", "one-hot", "lambda",
        "sgd", "adam", "adagrad", "adadelta", "rmsprop", "adabelief", "momentum", "nesterov", "al", "et", "log",
        "SGD", "batch", "mini-batch"}


def english_left(texts, kept=KEPT):
    left = []
    for text in texts:
        prose = re.sub(r"\$[^$]*\$", "", text)  # mathtext
        prose = re.sub(r"[\w.]*\w\([^)]*\)|\w+(\.\w+)+|\w*_\w*", "", prose)  # calls, attributes, identifiers
        words = re.findall(r"[A-Za-z][A-Za-z\-]{2,}", prose)
        if any(w not in kept and w.strip("_-") not in kept for w in words):
            left.append(text)
    return left


@pytest.mark.parametrize("name", ["losses", "activations", "adam-bias", "train-eval-no-grad", "gradient-accumulation",
                                  "no-free-lunch", "empirical-risk", "data-augmentation"])
def test_a_figure_drawn_in_russian_has_no_english_left(name):
    from gradviz.pipelines.figure import build_figure

    with use_language("ru"):
        figure = build_figure(name)
        texts = [t.get_text() for t in drawn_texts(figure)]
    assert any(re.search("[а-яА-Я]", t) for t in texts)
    assert english_left(texts) == []


@pytest.mark.parametrize("name", ["momentum", "batch-size"])
def test_an_animated_figure_drawn_in_russian_has_no_english_left(name):
    from gradviz.pipelines.figure import build_figure

    with use_language("ru"):
        renderer = build_figure(name, size=(480, 270))
        renderer.frame(renderer.n_frames - 1)
        texts = [t.get_text() for t in drawn_texts(renderer.figure)]
    assert english_left(texts) == [] and any(re.search("[а-яА-Я]", t) for t in texts)


def test_the_check_finds_english():
    assert english_left(["шаг", "0.25", "model.eval()", "m_t (exp_avg в torch)", "learning rate",
                         "loss.backward() again"]) == ["learning rate", "loss.backward() again"]


def test_every_drawing_command_takes_lang_and_ru_changes_the_picture(tmp_path):
    from click.testing import CliRunner

    from gradviz.cli import cli

    runner = CliRunner()
    drawing = [name for name in cli.commands if name not in ("list", "gallery")]
    assert drawing
    for name in drawing:
        assert "--lang [en|ru]" in runner.invoke(cli, [name, "--help"]).output, name
    for lang in ("en", "ru"):
        result = runner.invoke(cli, ["figure", "losses", "--lang", lang, "-q", "-o", str(tmp_path / f"{lang}.png")])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "en.png").read_bytes() != (tmp_path / "ru.png").read_bytes()
    bad = runner.invoke(cli, ["figure", "losses", "--lang", "de"])
    assert bad.exit_code != 0 and "'de'" in bad.output and "valid: en, ru" in bad.output
    assert runner.invoke(cli, ["figure", "losses", "--lang", "RU", "-q", "-o", str(tmp_path / "RU.png")]).exit_code == 0


# -- every drawing command, drawn in Russian (issue 31) ------------------------------------------------------

def _names_kept():
    """Names a Russian picture keeps in Latin letters: the test functions' titles and the optimizers'
    names (identifiers the user types), the lecture nets' layer names, and abbreviations."""
    from gradviz.lecture.functions import FUNCTIONS
    from gradviz.lecture.optim import OPTIMIZERS
    from gradviz.render.trajectories import surface_title

    words = {w for name in FUNCTIONS for w in re.findall(r"[A-Za-z]+", surface_title(name))}
    words |= {w for name in OPTIMIZERS for w in (name, *re.findall(r"[A-Za-z]+", name))}
    return words | {"PCA", "auc", "out", "GELU", "ELU"}


@pytest.fixture(scope="module")
def drawn_by_command():
    """Runs a command with --lang ru and returns every text its figures drew: each full draw's texts and
    each Text drawn on its own (the step counters blit theirs with draw_artist)."""
    from click.testing import CliRunner
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from gradviz.cli import cli

    seen = []
    draw, draw_artist = FigureCanvasAgg.draw, Figure.draw_artist

    def recording_draw(canvas, *args, **kwargs):
        result = draw(canvas, *args, **kwargs)
        seen.extend(t.get_text() for t in drawn_texts(canvas.figure))
        return result

    def recording_draw_artist(figure, artist):
        if isinstance(artist, Text) and artist.get_visible() and artist.get_text().strip():
            seen.append(artist.get_text())
        return draw_artist(figure, artist)

    def run(args, tmp_path):
        seen.clear()
        FigureCanvasAgg.draw, Figure.draw_artist = recording_draw, recording_draw_artist
        try:
            result = CliRunner().invoke(cli, [*args[:-1], "--size", "480x270", "-q", "--lang", "ru",
                                              "-o", str(tmp_path / args[-1])])
        finally:
            FigureCanvasAgg.draw, Figure.draw_artist = draw, draw_artist
        assert result.exit_code == 0, result.output
        return list(dict.fromkeys(seen))

    return run


RUSSIAN_COMMANDS = {  # each as small as still draws every part: about 1 s apiece
    "boundary": ["boundary", "--steps", "2", "--n", "40", "--hidden", "4", "-O", "sgd", "--validation", "0.25",
                 "--dropout", "0,0.5", "b.gif"],
    "gradflow": ["gradflow", "--depth", "4", "--width", "4", "--steps", "2", "--batch-size", "8", "g.gif"],
    "gradflow-summary": ["gradflow", "--depth", "4", "--width", "4", "--steps", "2", "--batch-size", "8",
                         "--clip", "1", "gs.png"],
    "gradflow-grid": ["gradflow", "--depth", "4", "--width", "4", "--steps", "2", "--batch-size", "8",
                      "--panel", "grid", "gg.png"],
    "gradflow-deep": ["gradflow", "--depth", "30", "--width", "4", "--steps", "2", "--batch-size", "8",
                      "--activation", "relu", "--init", "he", "gd.gif"],
    "landscape": ["landscape", "--steps", "4", "--grid", "3", "--frames", "2", "l.gif"],
    "landscape-line": ["landscape", "--steps", "4", "--grid", "3", "--plane", "line", "ll.png"],
    "sweep": ["sweep", "--steps", "10", "--lr", "0.001,0.01", "s.png"],
    "basins": ["basins", "--resolution", "6", "--steps", "20", "ba.png"],
    "trajectories": ["trajectories", "-O", "sgd:lr=0.1", "-O", "adam", "--steps", "10", "--frames", "2", "t.gif"],
    "compare-starts": ["trajectories", "--steps", "10", "--starts", "grid:2x2", "--frames", "2", "ts.gif"],
    "compare-seeds": ["trajectories", "--steps", "10", "--seeds", "2", "--gradient-noise", "0.5", "--frames", "2",
                      "tn.gif"],
    "compare-evaluations": ["trajectories", "-O", "adam", "-O", "nelder-mead", "--budget", "evaluations:60",
                            "--frames", "2", "te.gif"],
}


@pytest.mark.parametrize("name", list(RUSSIAN_COMMANDS))
def test_every_drawing_command_in_russian_has_no_english_left(name, drawn_by_command, tmp_path):
    texts = drawn_by_command(RUSSIAN_COMMANDS[name], tmp_path)
    assert any(re.search("[а-яА-Я]", t) for t in texts), texts
    kept = KEPT | _names_kept()
    assert english_left(texts, kept) == []
