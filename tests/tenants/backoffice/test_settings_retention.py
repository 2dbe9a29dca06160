"""Settings → Data retention: the rules, the dry-run preview and the recent runs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.tenants.retention.models import RetentionPolicy, RetentionRun
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as, make_user
from tests.tenants.retention.factories import message

pytestmark = pytest.mark.django_db

URL = "/settings/retention/"
VALID = {
    "customer_erase_years": "4",
    "appointment_anonymise_years": "10",
    "message_text_days": "30",
    "login_ip_days": "14",
    "action": "save",
}


def policy(business) -> RetentionPolicy | None:
    with schema_context(business.schema):
        return RetentionPolicy.objects.filter(pk=1).first()


def old_messages(business, n: int = 1, days: int = 60) -> None:
    with schema_context(business.schema):
        for _ in range(n):
            message(due=timezone.now() - timedelta(days=days))


def test_owner_and_manager_see_rules_preview_and_runs(business_a):
    old_messages(business_a, 2, days=100)
    with schema_context(business_a.schema):
        RetentionRun.objects.create(
            started_at=timezone.now() - timedelta(days=1),
            finished_at=timezone.now() - timedelta(days=1),
            counts={"customers_erased": 7, "appointments_anonymised": 0, "message_texts_deleted": 41},
        )
    for client in (log_in_as(business_a, "owner"), log_in_as(business_a, "manager")):
        response = client.get(URL)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Data retention" in page and 'aria-current="page"' in page
        assert "Message texts to delete" in page and "<dd>2</dd>" in page  # the live dry run
        assert "Recent runs" in page and ">41</td>" in page and ">7</td>" in page
        assert 'value="90"' in page and 'value="3"' in page and 'value="7"' in page  # the defaults
    assert policy(business_a) is None  # looking writes nothing


def test_the_settings_overview_links_to_the_page(business_a):
    page = log_in_as(business_a).get("/settings/").content.decode()
    assert f'href="{URL}"' in page


def test_save(business_a):
    manager = make_user(business_a, "manager")
    client = log_in_as(business_a, user=manager)
    response = client.post(URL, VALID)
    assert response.status_code == 302 and response["Location"] == URL
    saved = policy(business_a)
    assert saved.snapshot() == {
        "customer_erase_years": 4,
        "appointment_anonymise_years": 10,
        "message_text_days": 30,
        "login_ip_days": 14,
    }
    assert saved.updated_by_id == manager.pk
    assert "Saved." in client.get(URL).content.decode()


def test_preview_of_unsaved_rules_saves_nothing(business_a):
    old_messages(business_a, 3, days=60)  # inside the saved 90 days, outside the entered 30
    client = log_in_as(business_a)
    response = client.post(URL, {**VALID, "action": "preview"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "What the entered rules would change now" in page and "<dd>3</dd>" in page
    assert policy(business_a) is None
    assert "<dd>3</dd>" not in client.get(URL).content.decode()  # the saved rules: nothing due


@pytest.mark.parametrize(
    "wrong",
    [
        {"customer_erase_years": "-1"},
        {"customer_erase_years": "31"},
        {"appointment_anonymise_years": "abc"},
        {"message_text_days": "3651"},
        {"login_ip_days": "0"},
        {"login_ip_days": "366"},
        {"message_text_days": ""},
    ],
)
@pytest.mark.parametrize("action", ["save", "preview"])
def test_invalid_input_is_a_400_and_stores_nothing(business_a, wrong, action):
    response = log_in_as(business_a).post(URL, {**VALID, **wrong, "action": action})
    assert response.status_code == 400
    assert "Please check the marked fields." in response.content.decode()
    assert policy(business_a) is None


def test_invalid_input_keeps_the_saved_rules(business_a):
    client = log_in_as(business_a)
    client.post(URL, VALID)
    assert client.post(URL, {**VALID, "login_ip_days": "999"}).status_code == 400
    assert policy(business_a).login_ip_days == 14


def test_staff_may_not(business_a):
    staff = log_in_as(business_a, "staff")
    assert staff.get(URL).status_code == 403
    assert staff.post(URL, VALID).status_code == 403
    assert policy(business_a) is None


def test_other_businesses_and_strangers_are_sent_to_the_login(business_a, business_b):
    anonymous = client_for(business_a.host)
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b).cookies
    for client in (anonymous, stolen):
        for response in (client.get(URL), client.post(URL, VALID)):
            assert response.status_code == 302 and "/login/" in response["Location"]
    assert policy(business_a) is None


def test_each_business_sees_and_edits_its_own_rules(business_a, business_b):
    log_in_as(business_a).post(URL, VALID)
    page = log_in_as(business_b).get(URL).content.decode()
    assert 'value="30"' not in page and 'value="90"' in page
    assert policy(business_b) is None
