"""The password rules speak good German and English (termino/shared/passwords.py)."""

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import translation

from termino.tenants.accounts.models import User


def refusal(password: str, language: str, user=None) -> list[str]:
    with translation.override(language), pytest.raises(ValidationError) as refused:
        password_validation.validate_password(password, user=user)
    with translation.override(language):
        return list(refused.value.messages)


PERSON = User(
    username="lena.fischer", first_name="Lena", last_name="Wolkenstein", email="post@mailbox.example"
)


@pytest.mark.parametrize(
    ("password", "german", "english"),
    [
        (
            "lena.fischer",
            "Das Passwort ähnelt zu sehr Ihrem Benutzernamen.",
            "too similar to your user name.",
        ),
        ("Wolkenstein1", "Das Passwort ähnelt zu sehr Ihrem Nachnamen.", "too similar to your last name."),
        ("post@mailbox.example", "Das Passwort ähnelt zu sehr Ihrer E-Mail-Adresse.", "your e-mail address."),
        (
            "Kurz-1",
            "Das Passwort ist zu kurz: Bitte verwenden Sie mindestens 10 Zeichen.",
            "at least 10 characters.",
        ),
        ("password123", "gehört zu den häufigsten und ist leicht zu erraten", "one of the most common ones"),
        (
            "93017264538",
            "Das Passwort darf nicht nur aus Ziffern bestehen.",
            "must not consist of digits only.",
        ),
    ],
)
def test_each_rule_explains_itself_in_both_languages(password, german, english):
    in_german, in_english = refusal(password, "de", PERSON), refusal(password, "en", PERSON)
    assert any(german in message for message in in_german), in_german
    assert any(english in message for message in in_english), in_english
    # Nothing of Django's own wording is left ("zu ähnlich zu", "entirely numeric", "too common").
    assert not any("zu ähnlich zu" in m or "vollständig" in m for m in in_german)
    assert not any("entirely numeric" in m or "too common" in m for m in in_english)


def test_a_good_password_passes():
    password_validation.validate_password("Kalender-Blau-2026", user=PERSON)


def test_help_texts_are_plain_sentences():
    with translation.override("de"):
        texts = password_validation.password_validators_help_texts()
    assert texts == [
        "Es darf Ihrem Namen oder Ihrer E-Mail-Adresse nicht ähneln.",
        "Mindestens 10 Zeichen.",
        "Keines der gängigen Passwörter.",
        "Nicht nur Ziffern.",
    ]
