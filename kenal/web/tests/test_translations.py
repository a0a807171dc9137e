"""The Indonesian catalogue is complete, consistent with the code, and shipped compiled."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.utils import translation

from kenal.customers import normalise

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "id" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sdr]")


@pytest.fixture(scope="module")
def catalogue() -> polib.POFile:
    return polib.pofile(str(LOCALE / "django.po"))


def test_every_entry_is_translated(catalogue: polib.POFile) -> None:
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert (untranslated, fuzzy) == ([], [])


def test_translations_keep_their_placeholders(catalogue: polib.POFile) -> None:
    for entry in catalogue.translated_entries():
        expected = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            assert sorted(PLACEHOLDER.findall(text)) == expected, entry.msgid


def test_the_compiled_catalogue_matches_the_source(catalogue: polib.POFile) -> None:
    compiled = {
        (entry.msgctxt, entry.msgid): entry for entry in polib.mofile(str(LOCALE / "django.mo"))
    }
    for entry in catalogue.translated_entries():
        key = (entry.msgctxt, entry.msgid)
        assert key in compiled, key
        assert compiled[key].msgstr == entry.msgstr, key


def test_validation_messages_speak_indonesian() -> None:
    with translation.override("id"), pytest.raises(normalise.InvalidValue) as caught:
        normalise.phone("12ab", field="phones[0].number")
    assert caught.value.expected.startswith("nomor telepon seperti")


@pytest.mark.django_db
def test_pages_speak_indonesian(login) -> None:
    client = login("agent")
    client.post("/i18n/setlang/", {"language": "id", "next": "/customers/"})
    body = client.get("/customers/").content.decode()
    assert 'lang="id"' in body
    assert "Pelanggan" in body
    assert "Cari pelanggan" in body
    assert ">Customers<" not in body
