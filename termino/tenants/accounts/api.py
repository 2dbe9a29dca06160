"""POST /api/v1/auth/token/: a login name and password become a new API token (accounts.ApiToken).

The login goes through django.contrib.auth's authenticate(), so django-axes counts failures and locks the
login name and address out as on the login page (answered here with 429 and Retry-After), and the login
history records the attempt. Every call makes a new token; the person sees and revokes theirs on the
account page.
"""

from django.contrib.auth import authenticate, user_logged_in
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .lockout import lockout_response
from .models import ApiToken


# Schema texts are English, as the rest of the API description; error messages follow the language.
class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=254, help_text="login name (e-mail address)")
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(
        max_length=ApiToken.NAME_LENGTH,
        required=False,
        allow_blank=True,
        help_text="what the token is for, shown on the account page (e.g. 'Website sync'); without one, "
        "the client's User-Agent",
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="send it as `Authorization: Token <token>`; shown only this once (only a hash is kept)"
    )
    name = serializers.CharField()
    expires_at = serializers.DateTimeField(help_text="the token stops working at this time")


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class TokenErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)
    username = serializers.ListField(child=serializers.CharField(), required=False)
    password = serializers.ListField(child=serializers.CharField(), required=False)
    name = serializers.ListField(child=serializers.CharField(), required=False)


class TokenObtainView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_token_create",
        summary="Get an API token",
        description=(
            "Exchanges a login name and password for a new API token, valid for the days set by "
            "`API_TOKEN_DAYS` (90 by default). Each call makes a new token; list and revoke them on the "
            "account page of the backoffice (`/account/tokens/`). A password change or the deactivation of "
            "the login ends all tokens of that person. Repeated failed logins lock the login name out for "
            "this address: 429 with `Retry-After` (seconds)."
        ),
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(
                TokenErrorSerializer,
                description="Wrong login name or password, or as many tokens as a person may have.",
            ),
            429: OpenApiResponse(
                DetailSerializer,
                description="Too many failed logins: try again after the `Retry-After` header's seconds.",
            ),
        },
        parameters=[
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[429],
                description="seconds until the login name may be tried again from this address",
            )
        ],
        examples=[
            OpenApiExample(
                "token",
                response_only=True,
                status_codes=["200"],
                value={
                    "token": "termino_q0Xz…",
                    "name": "curl/8.5.0",
                    "expires_at": "2027-03-01T09:30:00+01:00",
                },
            )
        ],
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials = {
            "username": serializer.validated_data["username"],
            "password": serializer.validated_data["password"],
        }
        user = authenticate(request=request, **credentials)
        if user is None:
            # axes marks the request it was given (DRF's, which its middleware never sees): answer here.
            if getattr(request, "axes_locked_out", False):
                return lockout_response(request, credentials={"username": credentials["username"]})
            raise serializers.ValidationError(
                {"non_field_errors": [_("Unable to log in with provided credentials.")]}, code="authorization"
            )
        token = services.api_token_create(
            user=user,
            name=serializer.validated_data.get("name", ""),
            user_agent=request.headers.get("User-Agent", ""),
        )
        # As a login on the page: the login history records it, axes clears the failures, last_login moves.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        data = {"token": token.key, "name": token.name, "expires_at": token.expires_at}
        return Response(TokenResponseSerializer(data).data, status=status.HTTP_200_OK)
