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


def english_left(texts):
    left = []
    for text in texts:
        prose = re.sub(r"\$[^$]*\$", "", text)  # mathtext
        prose = re.sub(r"[\w.]*\w\([^)]*\)|\w+(\.\w+)+|\w*_\w*", "", prose)  # calls, attributes, identifiers
        words = re.findall(r"[A-Za-z][A-Za-z\-]{2,}", prose)
        if any(w not in KEPT and w.strip("_-") not in KEPT for w in words):
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
