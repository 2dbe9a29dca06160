import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from termino.shared.compile_messages import LOCALE_DIR, compile_all

CATALOGUES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/django.po"))


def test_there_is_a_german_catalogue():
    assert [p.parts[-3] for p in CATALOGUES] == ["de"]


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parts[-3])
def test_every_text_is_translated(po_path: Path):
    catalogue = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert untranslated == [] and fuzzy == []


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parts[-3])
def test_placeholders_survive_translation(po_path: Path):
    pattern = re.compile(r"%\(\w+\)[sd]")
    for entry in polib.pofile(str(po_path)).translated_entries():
        wanted = sorted(set(pattern.findall(entry.msgid_plural or entry.msgid)))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            assert sorted(set(pattern.findall(text))) == wanted, entry.msgid


def test_compiling_writes_mo_files(tmp_path):
    target = tmp_path / "de" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "django.po").write_text(CATALOGUES[0].read_text())
    built = compile_all(tmp_path)
    assert built == [target / "django.mo"]
    assert compile_all(tmp_path) == []  # up to date: nothing rebuilt


def test_every_text_in_the_code_is_in_the_catalogue(tmp_path):
    """makemessages over a copy of the code finds no text the German catalogue lacks or leaves empty."""
    assert shutil.which("xgettext") and shutil.which("msgmerge"), (
        "GNU gettext is needed (apt install gettext)"
    )
    root = Path(__file__).resolve().parents[2]
    shutil.copytree(
        root / "termino", tmp_path / "termino", ignore=shutil.ignore_patterns("*.mo", "__pycache__", "static")
    )
    shutil.copy(root / "manage.py", tmp_path / "manage.py")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "DJANGO_SETTINGS_MODULE": "termino.settings"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "--no-obsolete", "--verbosity", "0"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    regenerated = polib.pofile(str(tmp_path / "termino" / "locale" / "de" / "LC_MESSAGES" / "django.po"))
    missing = sorted(e.msgid for e in regenerated.untranslated_entries())
    fuzzy = sorted(e.msgid for e in regenerated.fuzzy_entries())
    assert missing == [] and fuzzy == [], "run `manage.py makemessages -l de` and translate these"
