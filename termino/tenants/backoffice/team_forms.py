"""Forms of the team pages: inviting people, editing them, and the invitee's own page to join."""

from django import forms
from django.contrib.auth.forms import SetPasswordMixin
from django.utils.translation import gettext_lazy as _

from termino.tenants.accounts import selectors
from termino.tenants.accounts.models import Role, User
from termino.tenants.scheduling.models import Resource

NEW_COLUMN = "new"
# The rules of AUTH_PASSWORD_VALIDATORS in words (Django's own help text is an HTML list).
PASSWORD_HELP = _("At least 10 characters, not too common, not only digits.")


def _grantable_roles(acting_user) -> list[tuple[str, str]]:
    """Managers are appointed by the owner only; nobody is made owner here."""
    if acting_user.role == Role.OWNER:
        return [(Role.STAFF, Role.STAFF.label), (Role.MANAGER, Role.MANAGER.label)]
    return [(Role.STAFF, Role.STAFF.label)]


class ColumnFieldsMixin(forms.Form):
    """The calendar column a person works in: none, a free existing one, or a new one.

    Sets cleaned_data["resource"] (a Resource or None) and cleaned_data["new_resource_name"].
    """

    column = forms.ChoiceField(
        label=_("Calendar column"),
        required=False,
        help_text=_("Staff members see and book only their own column in the calendar."),
    )
    new_column_name = forms.CharField(
        label=_("Name of the new column"),
        max_length=200,
        required=False,
        help_text=_("As customers see it when booking. Leave empty to use the person's name."),
    )

    def _set_column_choices(self, *, current: Resource | None) -> None:
        self._columns = {str(r.pk): r for r in selectors.staff_columns_free(keep=current)}
        self.fields["column"].choices = [
            ("", _("No calendar column")),
            (NEW_COLUMN, _("Create a new column")),
            *[(pk, r.name) for pk, r in self._columns.items()],
        ]

    def _clean_column(self, data: dict, *, role: str | None, person_name: str) -> None:
        choice = data.get("column") or ""
        data["resource"] = self._columns.get(choice)
        data["new_resource_name"] = ""
        if choice == NEW_COLUMN:
            data["new_resource_name"] = " ".join((data.get("new_column_name") or person_name or "").split())
        if role == Role.STAFF and not choice:
            self.add_error("column", _("A staff member needs a calendar column."))


class InviteForm(ColumnFieldsMixin):
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("The invitation goes to this address; it becomes the person's login name."),
        widget=forms.EmailInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"), widget=forms.RadioSelect)

    field_order = ["email", "name", "role", "column", "new_column_name"]

    def __init__(self, *args, acting_user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _grantable_roles(acting_user)
        self.fields["role"].initial = Role.STAFF
        self.fields["column"].initial = NEW_COLUMN
        self._set_column_choices(current=None)

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean(self):
        data = super().clean()
        self._clean_column(data, role=data.get("role"), person_name=data.get("name", ""))
        return data


class MemberForm(ColumnFieldsMixin):
    """A team member's name, role, column and access. The owner's role and one's own stay as they are."""

    name = forms.CharField(label=_("Name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"), widget=forms.RadioSelect)
    is_active = forms.BooleanField(
        label=_("May log in"),
        required=False,
        help_text=_("Instead of deleting someone, take away their access: they are logged out at once."),
    )

    field_order = ["name", "role", "column", "new_column_name", "is_active"]

    def __init__(self, *args, member: User, acting_user: User, **kwargs):
        current = Resource.objects.filter(user=member).first()
        initial = {
            "name": member.get_full_name(),
            "role": member.role,
            "is_active": member.is_active,
            "column": str(current.pk) if current else "",
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.member = member
        self.fixed_role = member.role == Role.OWNER or member.pk == acting_user.pk
        if self.fixed_role:
            del self.fields["role"], self.fields["is_active"]
        else:
            self.fields["role"].choices = _grantable_roles(acting_user)
        self._set_column_choices(current=current)

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean(self):
        data = super().clean()
        if self.fixed_role:
            data["role"], data["is_active"] = self.member.role, self.member.is_active
        self._clean_column(data, role=data.get("role"), person_name=data.get("name", ""))
        return data


class AcceptForm(SetPasswordMixin, forms.Form):
    """The invitee's name and password; the password is checked against Django's validators."""

    name = forms.CharField(label=_("Your name"), max_length=200)
    password1, password2 = SetPasswordMixin.create_password_fields()

    def __init__(self, *args, invitation, **kwargs):
        super().__init__(*args, initial={"name": invitation.name}, **kwargs)
        self.invitation = invitation
        self.fields["password1"].help_text = PASSWORD_HELP

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean(self):
        data = super().clean()
        self.validate_passwords()
        first_name, _sep, last_name = data.get("name", "").partition(" ")
        candidate = User(
            username=self.invitation.email,
            email=self.invitation.email,
            first_name=first_name,
            last_name=last_name,
        )
        self.validate_password_for_user(candidate)
        return data
