"""An appointment is "abgesagt", a contract "gekündigt": one English word, two message contexts."""

from django.template import Context, Template
from django.utils import translation

from termino.platform.billing.models import SubscriptionStatus
from termino.platform.tenancy.models import TenantStatus
from termino.tenants.scheduling.models import AppointmentStatus


def test_a_cancelled_appointment_is_not_a_cancelled_contract_in_german():
    with translation.override("de"):
        appointment = str(AppointmentStatus.CANCELLED.label)
        business, subscription = str(TenantStatus.CANCELLED.label), str(SubscriptionStatus.CANCELED.label)
        booking_page = Template(
            '{% load i18n %}{% translate "Cancelled" context "appointment status" %}'
        ).render(Context())
    assert appointment == booking_page == "Abgesagt"
    assert business == "Gekündigt" and subscription == "gekündigt"
    with translation.override("en"):
        assert str(AppointmentStatus.CANCELLED.label) == str(TenantStatus.CANCELLED.label) == "Cancelled"


def test_every_appointment_status_has_its_own_german_label():
    with translation.override("de"):
        labels = {status: str(status.label) for status in AppointmentStatus}
    assert labels == {
        AppointmentStatus.HELD: "Reserviert während der Buchung",
        AppointmentStatus.REQUESTED: "Angefragt",
        AppointmentStatus.CONFIRMED: "Bestätigt",
        AppointmentStatus.CANCELLED: "Abgesagt",
        AppointmentStatus.NO_SHOW: "Nicht erschienen",
        AppointmentStatus.COMPLETED: "Erledigt",
    }
