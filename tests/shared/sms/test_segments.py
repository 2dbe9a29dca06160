import pytest

from termino.shared.sms.segments import GSM7_BASIC, GSM7_EXTENSION, is_gsm7, sms_segments


def test_tables_have_the_gsm_03_38_sizes():
    assert len(GSM7_BASIC) == 127  # 128 code points, one of them the escape
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_german_umlauts_and_sharp_s_are_gsm7():
    text = "Grüße aus Köln! Ihr Termin bei Äpfel & Öle am Dienstag, Übergabe 14:30 Uhr."
    assert is_gsm7("äöüÄÖÜß")
    assert sms_segments(text) == ("gsm7", 1)


def test_characters_outside_gsm7_switch_to_ucs2():
    assert sms_segments("Bis morgen 😀") == ("ucs2", 1)
    assert sms_segments("Termin „morgen“") == ("ucs2", 1)  # German quotation marks are not GSM-7
    assert sms_segments("Łódź") == ("ucs2", 1)


def test_euro_is_an_extension_character_and_counts_double():
    assert sms_segments("€" * 80) == ("gsm7", 1)  # 160 septets
    assert sms_segments("€" * 80 + "a") == ("gsm7", 2)
    assert sms_segments("Preis: 25 €") == ("gsm7", 1)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4), (1530, 10)],
)
def test_gsm7_boundaries(length, segments):
    assert sms_segments("x" * length) == ("gsm7", segments)


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)])
def test_ucs2_boundaries(length, segments):
    assert sms_segments("ж" * length) == ("ucs2", segments)


def test_emoji_outside_the_bmp_takes_two_units():
    assert sms_segments("😀" * 35) == ("ucs2", 1)  # 70 units
    assert sms_segments("😀" * 36) == ("ucs2", 2)
    # 67 units per part: a surrogate pair is not split, so 33 emoji (66 units) fill a part
    assert sms_segments("😀" * 66) == ("ucs2", 2)
    assert sms_segments("😀" * 67) == ("ucs2", 3)


def test_an_escape_sequence_is_not_split_across_parts():
    # 152 single septets, then "€" (2) does not fit into the first part's 153
    assert sms_segments("a" * 152 + "€" + "a" * 151) == ("gsm7", 2)
    assert sms_segments("a" * 152 + "€" + "a" * 152) == ("gsm7", 3)
