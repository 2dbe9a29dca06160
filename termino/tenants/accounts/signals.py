"""Login audit receivers: Django's login signals and django-axes' lockout signal become LoginEvents.

One attempt can raise two signals (a failed login that trips the lockout sends `user_login_failed`
and axes' `user_locked_out`, in an order that depends on which app connected first); the request
remembers its event, and the second signal only corrects that event's outcome.
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .audit import login_event_of_request, login_event_record
from .lockout import axes_username_plain
from .models import LoginOutcome


@receiver(user_logged_in, dispatch_uid="accounts.login_audit.logged_in")
def login_succeeded(sender, request, user, **kwargs):
    login_event_record(request=request, username=user.get_username(), user=user, outcome=LoginOutcome.SUCCESS)


@receiver(user_login_failed, dispatch_uid="accounts.login_audit.failed")
def login_failed(sender, credentials, request=None, **kwargs):
    if login_event_of_request(request) is not None:
        return  # recorded as a lockout already
    login_event_record(
        request=request, username=str((credentials or {}).get("username") or ""), outcome=LoginOutcome.FAILURE
    )


@receiver(user_locked_out, dispatch_uid="accounts.login_audit.locked_out")
def login_locked_out(sender, request, username=None, **kwargs):
    event = login_event_of_request(request)
    if event is not None:
        if event.outcome != LoginOutcome.LOCKED_OUT:
            event.outcome = LoginOutcome.LOCKED_OUT
            event.save(update_fields=["outcome"])
        return
    login_event_record(
        request=request,
        username=axes_username_plain(request, username or ""),
        outcome=LoginOutcome.LOCKED_OUT,
    )


@receiver(user_logged_out, dispatch_uid="accounts.login_audit.logged_out")
def logged_out(sender, request, user, **kwargs):
    if user is not None and getattr(user, "pk", None) is not None:
        login_event_record(
            request=request, username=user.get_username(), user=user, outcome=LoginOutcome.LOGOUT
        )
