"""Errors the business logic raises for the caller to show, and how the API turns them into responses."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class InvalidRequest(Exception):
    """The request cannot be carried out as asked (HTTP 400)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotPermitted(Exception):
    """The actor may not do this (HTTP 403), e.g. a staff member outside their own calendar column."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ConflictError(Exception):
    """What was asked collides with what exists, e.g. a time just taken (HTTP 409)."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


def http_status(exc: InvalidRequest | NotPermitted | ConflictError) -> int:
    if isinstance(exc, ConflictError):
        return status.HTTP_409_CONFLICT
    if isinstance(exc, NotPermitted):
        return status.HTTP_403_FORBIDDEN
    return status.HTTP_400_BAD_REQUEST


def api_exception_handler(exc, context):
    if isinstance(exc, ConflictError):
        return Response({"detail": exc.message, **exc.details}, status=http_status(exc))
    if isinstance(exc, InvalidRequest | NotPermitted):
        return Response({"detail": exc.message}, status=http_status(exc))
    return exception_handler(exc, context)
