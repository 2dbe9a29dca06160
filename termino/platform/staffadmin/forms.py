from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ActionKind

REASON_MAX = 500


class PasswordForm(forms.Form):
    username = forms.CharField(
        label=_("Login name"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from your authenticator app"),
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        error_messages={"invalid": _("Enter the 6 digits your app shows.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 ]*",
                "maxlength": "7",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].replace(" ", "").strip()


class ReasonForm(forms.Form):
    """Every action on a business says why; the reason goes into the audit log."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        help_text=_("Saved in the audit log. Please be specific (ticket number, what happened)."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, prefix_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if prefix_id:
            self.auto_id = f"id_{prefix_id}_%s"


class TrialExtendForm(ReasonForm):
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=365, initial=14)

    field_order = ["days", "reason"]


class ImpersonateForm(ReasonForm):
    user = forms.TypedChoiceField(label=_("Sign in as"), coerce=int, empty_value=None)

    field_order = ["user", "reason"]

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [
            (u.id, f"{u.name} · {u.role_label} · {u.username}") for u in users if u.is_active
        ]


class RestoreForm(ReasonForm):
    """Put the business back as it was in one of its exports: stored copies or files in RESTORE_INBOX."""

    source = forms.ChoiceField(label=_("Restore from"))
    logins = forms.BooleanField(
        label=_("Also take the logins (people, passwords, API tokens) from the file"),
        required=False,
        help_text=_("Normally logins stay as they are now. Nightly copies carry no passwords."),
    )
    confirm = forms.CharField(
        label=_("Type the business’s address to confirm"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )

    field_order = ["source", "logins", "confirm", "reason"]

    def __init__(self, *args, sources=(), slug: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = list(sources)
        self.slug = slug

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip().lower()
        if typed != self.slug:
            raise forms.ValidationError(_("This is not the business’s address; nothing was restored."))
        return typed


class BusinessFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False)
    plan = forms.ChoiceField(label=_("Plan"), required=False)

    def __init__(self, *args, statuses=(), plans=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses")), *statuses]
        self.fields["plan"].choices = [("", _("All plans")), *plans]


class AuditFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All actions")), *ActionKind.choices]
    )
