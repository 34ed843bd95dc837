"""The language pictures are drawn in: English by default, Russian (the lecture's own language) with
`use_language("ru")`; the stdlib's gettext catalogs under gradviz/locale/<lang>/LC_MESSAGES/gradviz.mo.

Renderers wrap every string they draw in `_()`; a string with numbers in it is translated as a template
and formatted after: `_("lr = {lr:g}").format(lr=0.1)`. The catalogs are plain .po files compiled to .mo
by `python -m gradviz.i18n compile` (pure Python, no msgfmt needed); `python -m gradviz.i18n extract` adds
every `_()` string of the package to each .po with an empty translation (docs/lecture.md: the workflow).
Imports neither torch nor matplotlib.
"""

from __future__ import annotations

import ast
import gettext
import struct
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from gradviz.registry import Registry, normalize_name

__all__ = ["LANGUAGES", "LANGUAGE", "use_language", "check_language", "_", "N_", "gettext_", "translated",
           "read_po", "compile_mo", "extract_messages", "LOCALE_DIR"]

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "gradviz"
# the languages pictures can be drawn in (--lang reads this registry): code -> what it is
LANGUAGES: Registry = Registry("language")
LANGUAGES.register("en", "English (the source strings)")
LANGUAGES.register("ru", "Russian, in the lecture's own terms")

# the language renderers draw in while a command runs (set by `use_language`)
LANGUAGE: ContextVar[str] = ContextVar("gradviz_language", default="en")


def check_language(name: str) -> str:
    """The language code, or InvalidArgument naming the bad value and the choices."""
    LANGUAGES.lookup(name)  # raises for an unknown code, naming the valid ones
    return normalize_name(name)


@lru_cache(maxsize=None)
def _catalog(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[language])


def _(message: str) -> str:
    """`message` in the current language (itself in English, or where the catalog has no translation)."""
    return _catalog(LANGUAGE.get()).gettext(message)


gettext_ = _


def N_(message: str) -> str:
    """Mark `message` for translation where it is defined (a record's names, a registry's labels) and
    return it unchanged; the renderer translates it with `_()` when it draws it."""
    return message


def translated(message: str, language: str) -> str:
    """`message` in `language`, whatever the current language."""
    return _catalog(check_language(language)).gettext(message)


@contextmanager
def use_language(name: str | None) -> Iterator[str]:
    """Within the block, renderers draw their text in `name` ('en', 'ru'); None: no change."""
    if name is None:
        yield LANGUAGE.get()
        return
    token = LANGUAGE.set(check_language(name))
    try:
        yield name
    finally:
        LANGUAGE.reset(token)


# -- catalogs: read .po, write .mo, extract _() strings ------------------------------------------------------

def _unquote(line: str) -> str:
    return ast.literal_eval(line)  # a .po string is a C string, which Python reads the same for our escapes


def read_po(path: str | Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (the header under ''; fuzzy entries and empty translations kept)."""
    entries: dict[str, str] = {}
    msgid = msgstr = None
    field = None

    def flush() -> None:
        if msgid is not None:
            entries[msgid] = msgstr or ""

    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("msgid "):
            flush()
            msgid, msgstr, field = _unquote(line[6:]), None, "id"
        elif line.startswith("msgstr "):
            msgstr, field = _unquote(line[7:]), "str"
        elif line.startswith('"'):
            if field == "id":
                msgid = (msgid or "") + _unquote(line)
            elif field == "str":
                msgstr = (msgstr or "") + _unquote(line)
        elif not line or line.startswith("#"):
            field = None if not line else field
    flush()
    return entries


def compile_mo(entries: dict[str, str]) -> bytes:
    """The GNU .mo bytes for `entries` (untranslated ones left out), as Python's Tools/i18n/msgfmt.py
    writes them: sorted keys, no hash table."""
    pairs = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in entries.items() if v)
    ids = b"".join(k + b"\0" for k, _v in pairs)
    strs = b"".join(v + b"\0" for _k, v in pairs)
    count = len(pairs)
    key_start = 7 * 4 + 16 * count
    value_start = key_start + len(ids)
    offsets, k_at, v_at = [], 0, 0
    for k, v in pairs:
        offsets.append((len(k), key_start + k_at, len(v), value_start + v_at))
        k_at += len(k) + 1
        v_at += len(v) + 1
    header = struct.pack("Iiiiiii", 0x950412DE, 0, count, 7 * 4, 7 * 4 + count * 8, 0, 0)
    table = b"".join(struct.pack("ii", length, at) for length, at, _l, _a in offsets)
    table += b"".join(struct.pack("ii", length, at) for _l, _a, length, at in offsets)
    return header + table + ids + strs


def extract_messages(package: str | Path = Path(__file__).parent) -> list[str]:
    """Every string literal passed to `_()` or `N_()` in the package's source, in order of first appearance."""
    found: dict[str, None] = {}
    for path in sorted(Path(package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_")
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found[node.args[0].value] = None
    return list(found)


def _po_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def write_po(path: Path, entries: dict[str, str], header: str) -> None:
    lines = ['msgid ""', f"msgstr {_po_string(header)}", ""]
    for msgid, msgstr in entries.items():
        if msgid:
            lines += [f"msgid {_po_string(msgid)}", f"msgstr {_po_string(msgstr)}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _main(argv: list[str]) -> int:
    command = argv[0] if argv else "compile"
    for language in (lang for lang in LANGUAGES if lang != "en"):
        folder = LOCALE_DIR / language / "LC_MESSAGES"
        po = folder / f"{DOMAIN}.po"
        entries = read_po(po)
        if command == "extract":
            header = entries.pop("", "")
            messages = extract_messages()
            dropped = set(entries) - set(messages)  # strings the code no longer draws
            entries = {message: entries.get(message, "") for message in messages}
            write_po(po, entries, header)
            if dropped:
                print(f"{po}: dropped {len(dropped)} strings no longer in the code")
            missing = [m for m, t in entries.items() if not t]
            print(f"{po}: {len(entries)} strings, {len(missing)} untranslated")
        elif command == "compile":
            (folder / f"{DOMAIN}.mo").write_bytes(compile_mo(entries))
            print(f"{folder / (DOMAIN + '.mo')}: {sum(1 for v in entries.values() if v)} strings")
        else:
            print("usage: python -m gradviz.i18n [extract|compile]", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
