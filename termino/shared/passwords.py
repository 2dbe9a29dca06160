"""Django's password rules with messages that read well in German and English (AUTH_PASSWORD_VALIDATORS).

Django's own German says "Das Passwort ist zu ähnlich zu Benutzername": one sentence with a field's name
slotted in cannot get the article and case right, so each attribute has its own sentence.
"""

from django.contrib.auth import password_validation as django_rules
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def _too_similar(attribute: str) -> str:
    return {
        "username": _("The password is too similar to your user name."),
        "first_name": _("The password is too similar to your first name."),
        "last_name": _("The password is too similar to your last name."),
        "email": _("The password is too similar to your e-mail address."),
    }.get(attribute, _("The password is too similar to your other details."))


class UserAttributeSimilarityValidator(django_rules.UserAttributeSimilarityValidator):
    def validate(self, password, user=None):
        for attribute in self.user_attributes:  # one at a time, to name the one that matched
            try:
                django_rules.UserAttributeSimilarityValidator((attribute,), self.max_similarity).validate(
                    password, user
                )
            except ValidationError:
                raise ValidationError(_too_similar(attribute), code="password_too_similar") from None

    def get_help_text(self):
        return _("It must not resemble your name or e-mail address.")


class MinimumLengthValidator(django_rules.MinimumLengthValidator):
    def get_error_message(self):
        return ngettext(
            "The password is too short: please use at least %(min_length)d character.",
            "The password is too short: please use at least %(min_length)d characters.",
            self.min_length,
        )

    def get_help_text(self):
        return ngettext(
            "At least %(min_length)d character.", "At least %(min_length)d characters.", self.min_length
        ) % {"min_length": self.min_length}


class CommonPasswordValidator(django_rules.CommonPasswordValidator):
    def get_error_message(self):
        return _("This password is one of the most common ones and easy to guess. Please choose another.")

    def get_help_text(self):
        return _("Not one of the common passwords.")


class NumericPasswordValidator(django_rules.NumericPasswordValidator):
    def get_error_message(self):
        return _("The password must not consist of digits only.")

    def get_help_text(self):
        return _("Not only digits.")
