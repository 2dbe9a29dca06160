"""`Authorization: Token <key>` for the staff API, with the hashed, expiring keys of accounts.ApiToken.

DRF's TokenAuthentication reads the header (and answers 401 with `WWW-Authenticate: Token`); only the
look-up is ours. Tokens live in each business's schema, so a key of another business is unknown here.
"""

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

# The 40 hex digits of the plaintext tokens Termino handed out before (DRF's authtoken); all were dropped.
OLD_KEY = re.compile(r"^[0-9a-f]{40}$")
OLD_KEY_MESSAGE = _(
    "API tokens of this old kind no longer work. Please get a new one from /api/v1/auth/token/."
)


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        # Imported here: DRF imports this class while rest_framework.views is still loading.
        from . import token_use

        token = token_use.use(key)
        if token is None:
            if OLD_KEY.match(key):
                raise exceptions.AuthenticationFailed(OLD_KEY_MESSAGE)
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.is_expired:
            raise exceptions.AuthenticationFailed(
                _("This API token has expired. Please get a new one from /api/v1/auth/token/.")
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
