"""Forms of the People page: one person with a login, a calendar column, or both."""

from django import forms
from django.utils.translation import gettext_lazy as _

from termino.tenants.accounts.models import Role, User
from termino.tenants.scheduling.models import Service

from .settings_catalog_forms import ServiceChoices


def grantable_roles(acting_user) -> list[tuple[str, str]]:
    """Managers are appointed by the owner only; nobody is made owner here."""
    if acting_user.role == Role.OWNER:
        return [(Role.STAFF, Role.STAFF.label), (Role.MANAGER, Role.MANAGER.label)]
    return [(Role.STAFF, Role.STAFF.label)]


def _clean_name(value: str) -> str:
    return " ".join(value.split())


class PersonFieldsMixin(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    in_calendar = forms.BooleanField(
        label=_("Appears in the calendar"),
        required=False,
        help_text=_("Customers can book this person for the services ticked below."),
    )
    services = ServiceChoices(
        queryset=Service.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Services this person does"),
    )

    def _init_services(self):
        self.fields["services"].queryset = Service.objects.filter(active=True).order_by("name", "pk")

    def clean_name(self) -> str:
        return _clean_name(self.cleaned_data["name"])


class PersonAddForm(PersonFieldsMixin):
    email = forms.EmailField(
        label=_("E-mail (optional)"),
        required=False,
        help_text=_("With an address, the person gets an invitation to log in; it becomes their login name."),
        widget=forms.EmailInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    role = forms.ChoiceField(label=_("Role"), widget=forms.RadioSelect, required=False)

    field_order = ["name", "email", "role", "in_calendar", "services"]

    def __init__(self, *args, acting_user: User, **kwargs):
        super().__init__(*args, initial={"in_calendar": True, "role": Role.STAFF}, **kwargs)
        self.fields["role"].choices = grantable_roles(acting_user)
        self._init_services()

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        data = super().clean()
        data["role"] = data.get("role") or Role.STAFF
        return data


class PersonEditForm(PersonFieldsMixin):
    """A person with a login. The owner's role and one's own stay as they are."""

    role = forms.ChoiceField(label=_("Role"), widget=forms.RadioSelect)
    is_active = forms.BooleanField(
        label=_("May log in"),
        required=False,
        help_text=_("Instead of deleting someone, take away their access: they are logged out at once."),
    )

    field_order = ["name", "role", "in_calendar", "services", "is_active"]

    def __init__(self, *args, member: User, acting_user: User, **kwargs):
        column = getattr(member, "resource", None)
        initial = {
            "name": member.get_full_name(),
            "role": member.role,
            "is_active": member.is_active,
            "in_calendar": column is not None and column.active,
            "services": list(column.services.values_list("pk", flat=True)) if column else [],
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.member = member
        self.fixed_role = member.role == Role.OWNER or member.pk == acting_user.pk
        if self.fixed_role:
            del self.fields["role"], self.fields["is_active"]
        else:
            self.fields["role"].choices = grantable_roles(acting_user)
        self._init_services()

    def clean(self):
        data = super().clean()
        if self.fixed_role:
            data["role"], data["is_active"] = self.member.role, self.member.is_active
        return data


class ColumnEditForm(PersonFieldsMixin):
    """A person without a login (a calendar column); an e-mail address invites them to log in."""

    email = forms.EmailField(
        label=_("Invite to log in (optional)"),
        required=False,
        help_text=_("They get an e-mail with a link to choose a password, and then work in this column."),
        widget=forms.EmailInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    role = forms.ChoiceField(label=_("Role"), widget=forms.RadioSelect, required=False)

    field_order = ["name", "in_calendar", "services", "email", "role"]

    def __init__(self, *args, column, acting_user: User, invitable: bool, **kwargs):
        initial = {
            "name": column.name,
            "in_calendar": column.active,
            "services": list(column.services.values_list("pk", flat=True)),
            "role": Role.STAFF,
        }
        super().__init__(*args, initial=initial, **kwargs)
        if invitable:
            self.fields["role"].choices = grantable_roles(acting_user)
        else:  # invited already: the open invitation is shown instead
            del self.fields["email"], self.fields["role"]
        self._init_services()

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        data = super().clean()
        if "role" in self.fields:
            data["role"] = data.get("role") or Role.STAFF
        return data
