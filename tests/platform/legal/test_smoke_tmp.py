import pytest
from django.conf import settings

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_smoke(business_a):
    r = client_for(settings.BASE_DOMAIN, "en").get("/datenschutz/")
    assert r.status_code == 200, r.content[:3000]
    open("/tmp/privacy_en.html", "wb").write(r.content)
    r = client_for(settings.BASE_DOMAIN, "en").get("/datenschutz/v1.pdf")
    assert r.status_code == 200
    open("/tmp/privacy_en.pdf", "wb").write(r.content)
