"""The token in a password-reset link: Django's generator, bound to the schema and read on our clock.

Django's PasswordResetTokenGenerator hashes the user's id, password hash, last login and e-mail with the
SECRET_KEY, so a link works once (setting the password changes the hash) and only for PASSWORD_RESET_TIMEOUT
seconds. Two additions:
- the schema the user lives in is hashed too: user ids repeat in every business, so without it a link made
  at business A could open the account with the same id at business B when their password hashes and
  e-mail addresses happen to match (an owner of two businesses, a copied schema);
- "now" comes from `timeutils.now()` in UTC, not from the naive local `datetime.now()` Django uses, so a
  link's age does not jump by an hour on the nights the clocks change.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import connection
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int

from termino.shared import timeutils

_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)  # Django's epoch for the link's timestamp, as an instant


class ResetTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "termino.tenants.accounts.tokens.ResetTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{connection.schema_name}\x1f{super()._make_hash_value(user, timestamp)}"

    def _now(self):
        return timeutils.now()

    def _num_seconds(self, dt):
        return int((dt - _EPOCH).total_seconds())

    def is_expired(self, user, token) -> bool:
        """The token was made for this user in this schema and is unchanged, but is too old.

        Lets the page tell "this link has expired, ask for a new one" apart from "used or not valid".
        """
        try:
            ts_b36, _hash = str(token).split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return self._num_seconds(self._now()) - ts > settings.PASSWORD_RESET_TIMEOUT


reset_tokens = ResetTokenGenerator()
