import pytest
from django.conf import settings

from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as

pytestmark = pytest.mark.django_db


def test_smoke(business_a):
    r = client_for(settings.BASE_DOMAIN, "en").get("/datenschutz/")
    assert r.status_code == 200, r.content[:3000]
    r = client_for(settings.BASE_DOMAIN, "de").get("/datenschutz/")
    assert r.status_code == 200, r.content[:3000]
    c = log_in_as(business_a)
    for path in ["/data-protection/", "/data-protection/dpa/", "/data-protection/dpa.pdf?lang=de", "/data-protection/record/",
                 "/data-protection/record.pdf?lang=en", "/data-protection/record.md?lang=de", "/settings/legal/", "/settings/legal/?edit=1"]:
        r = c.get(path)
        assert r.status_code == 200, (path, r.content[:3000])
        name = path.strip("/").replace("/", "_").replace("?", "_")
        open(f"/tmp/smoke_{name}", "wb").write(r.content)
    r = c.post("/data-protection/dpa/", {"version": "1"})
    assert r.status_code == 302, r.content[:2000]
    r = c.get("/data-protection/dpa.pdf?lang=en")
    open("/tmp/dpa_en.pdf", "wb").write(r.content)
    r = client_for(business_a.host, "en").get("/book/")
    assert r.status_code == 200
    open("/tmp/smoke_book.html", "wb").write(r.content)
