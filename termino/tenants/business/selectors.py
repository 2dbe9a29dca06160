"""Reads of the business's settings: the one way every app gets them."""

from .models import BusinessSettings


def business_settings() -> BusinessSettings:
    """The current business's settings (the active schema's row, made with defaults on first use)."""
    return BusinessSettings.current()
