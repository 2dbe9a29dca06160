"""Customer list, search, detail, create/edit, notes and tags, as the team uses them."""

from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context

from termino.tenants.crm.models import Customer, CustomerNote
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as, make_user
from tests.tenants.crm.factories import appointment, consent, customer, message, note

pytestmark = pytest.mark.django_db


def in_a(business, fn, *args, **kwargs):
    with schema_context(business.schema):
        return fn(*args, **kwargs)


def page(response) -> str:
    return response.content.decode()


# --- List and search -------------------------------------------------------------------------------------


def test_list_shows_columns_and_searches(business_a):
    with schema_context(business_a.schema):
        anna = customer("Müller", "Anna", phone="+491712345678", email="anna@example.com", tags=["vip"])
        customer("Weiß", "Emil")
        appointment(anna, days=-3, status="no_show")
        appointment(anna, days=2)
    client = log_in_as(business_a, "staff")
    html = page(client.get("/customers/"))
    assert "Müller, Anna" in html and "Weiß, Emil" in html
    assert "0171 2345678" in html and "anna@example.com" in html and ">vip<" in html
    assert 'class="badge badge-err">1<' in html  # one no-show
    assert "Customers in total: 2" in html
    for query in ("mül", "0171 23", "17123"):
        html = page(client.get("/customers/", {"q": query}))
        assert "Müller, Anna" in html and "Weiß" not in html, query
    html = page(client.get("/customers/", {"tag": "vip"}))
    assert "Müller, Anna" in html and "Weiß" not in html
    assert "No customer matches “nobody”" in page(client.get("/customers/", {"q": "nobody"}))


def test_list_fragment_for_search_as_you_type(business_a):
    in_a(business_a, customer)
    response = log_in_as(business_a).get("/customers/", {"q": "mül"}, HTTP_X_FRAGMENT="results")
    html = page(response)
    assert "Müller, Anna" in html and "<html" not in html
    assert "X-Fragment" in response["Vary"]


def test_list_pages_of_fifty_keep_the_filter(business_a):
    with schema_context(business_a.schema):
        Customer.objects.bulk_create([Customer(last_name=f"Kunde {n:03}", tags=["x"]) for n in range(60)])
    client = log_in_as(business_a)
    first = page(client.get("/customers/", {"tag": "x"}))
    assert first.count('<td data-label="Name"') == 50 and "Page 1 of 2" in first
    assert "?tag=x&amp;page=2" in first
    second = page(client.get("/customers/", {"tag": "x", "page": 2}))
    assert second.count('<td data-label="Name"') == 10 and "Kunde 059" in second
    assert page(client.get("/customers/", {"page": "abc"})).count('<td data-label="Name"') == 50


def test_overlong_search_is_ignored_not_an_error(business_a):
    assert log_in_as(business_a).get("/customers/", {"q": "x" * 500}).status_code == 200


def test_search_json_for_the_calendar(business_a):
    with schema_context(business_a.schema):
        anna = customer("Müller", "Anna", phone="+491712345678", email="anna@example.com")
        Customer.objects.bulk_create([Customer(last_name=f"Müller {n}") for n in range(15)])
    client = log_in_as(business_a, "staff")
    data = client.get("/customers/search.json", {"q": "0171 234"}).json()
    assert data == {
        "results": [
            {
                "id": anna.pk,
                "name": "Anna Müller",
                "phone": "+491712345678",
                "email": "anna@example.com",
                "url": f"/customers/{anna.pk}/",
            }
        ]
    }
    assert len(client.get("/customers/search.json", {"q": "mül"}).json()["results"]) == 10
    assert client.get("/customers/search.json").json() == {"results": []}


# --- Detail --------------------------------------------------------------------------------------------


def test_detail_shows_history_notes_consents_and_messages(business_a):
    with schema_context(business_a.schema):
        anna = customer("Müller", "Anna", phone="+491712345678", tags=["vip"])
        visit = appointment(anna, days=-7, status="no_show")
        appointment(anna, days=3)
        note(anna, "Mag kurze Haare.")
        consent(anna, "sms_reminders", True)
        consent(anna, "sms_reminders", False)
        consent(anna, "privacy", True)
        sms = message(anna, status="skipped")
        sms.reason = "Keine Einwilligung"
        sms.save()
    html = page(log_in_as(business_a, "staff").get(f"/customers/{anna.pk}/"))
    assert "Anna Müller" in html and "0171 2345678" in html
    local = visit.start.astimezone(ZoneInfo(business_a.tenant.time_zone))
    assert local.strftime("%H:%M") in html and "Haarschnitt" in html and "No-show" in html
    assert "Mag kurze Haare." in html
    assert "Withdrawn" in html and "Given" in html and "Not recorded" in html
    assert "Booking confirmation" in html and "Skipped" in html and "Keine Einwilligung" in html
    assert "Ihr Termin ist gebucht." in html
    assert ">vip" in html


def test_detail_of_unknown_customer_is_404(business_a):
    client = log_in_as(business_a)
    assert client.get("/customers/999999/").status_code == 404
    assert client.get(f"/customers/{10**25}/").status_code == 404  # beyond bigint: not found, not a 500


# --- Create and edit -----------------------------------------------------------------------------------


def test_create_normalises_and_redirects(business_a):
    client = log_in_as(business_a, "staff")
    assert client.get("/customers/new/").status_code == 200
    response = client.post(
        "/customers/new/",
        {
            "first_name": "Anna",
            "last_name": "Müller",
            "email": "Anna@Example.com",
            "phone": "0171 2345678",
            "tags": "VIP, farbe",
            "notes": "",
        },
    )
    with schema_context(business_a.schema):
        anna = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/customers/{anna.pk}/"
    assert (anna.email, anna.phone, anna.tags) == ("anna@example.com", "+491712345678", ["vip", "farbe"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"last_name": ""}, "Please enter the last name."),
        ({"phone": "0171"}, "This does not look like a valid phone number."),
        ({"email": "anna@"}, "Please enter a valid e-mail address."),
    ],
)
def test_create_with_bad_input_is_400_and_stores_nothing(business_a, data, message):
    form = {"first_name": "Anna", "last_name": "Müller", "email": "", "phone": "", **data}
    response = log_in_as(business_a).post("/customers/new/", form)
    assert response.status_code == 400 and message in page(response)
    assert not in_a(business_a, Customer.objects.exists)


def test_create_warns_about_duplicates_until_confirmed(business_a):
    existing = in_a(business_a, customer, "Müller", "Anna", phone="+491712345678")
    client = log_in_as(business_a)
    form = {"first_name": "Anna", "last_name": "Mueller", "phone": "+49 171 2345678"}
    response = client.post("/customers/new/", form)
    html = page(response)
    assert response.status_code == 200 and "This customer may already exist." in html
    assert f"/customers/{existing.pk}/" in html and 'name="confirm_duplicate"' in html
    assert in_a(business_a, Customer.objects.count) == 1
    response = client.post("/customers/new/", {**form, "confirm_duplicate": "1"})
    assert response.status_code == 302 and in_a(business_a, Customer.objects.count) == 2


def test_edit(business_a):
    anna = in_a(business_a, customer, "Müller", "Anna")
    client = log_in_as(business_a, "staff")
    assert 'value="Müller"' in page(client.get(f"/customers/{anna.pk}/edit/"))
    bad = client.post(f"/customers/{anna.pk}/edit/", {"first_name": "A", "last_name": "M", "phone": "x"})
    assert bad.status_code == 400
    assert in_a(business_a, Customer.objects.get, pk=anna.pk).first_name == "Anna"
    ok = client.post(
        f"/customers/{anna.pk}/edit/", {"first_name": "Anna", "last_name": "Schulz", "phone": "030 1234567"}
    )
    assert ok.status_code == 302
    anna = in_a(business_a, Customer.objects.get, pk=anna.pk)
    assert (anna.last_name, anna.phone) == ("Schulz", "+49301234567")


# --- Notes and tags ------------------------------------------------------------------------------------


def test_notes_add_and_delete(business_a):
    anna = in_a(business_a, customer)
    staff_user = make_user(business_a, "staff")
    client = log_in_as(business_a, user=staff_user)
    assert client.post(f"/customers/{anna.pk}/notes/", {"text": "  "}).status_code == 400
    response = client.post(f"/customers/{anna.pk}/notes/", {"text": "Kommt mit Hund."})
    assert response.status_code == 302 and response["Location"].endswith("#notes")
    own = in_a(business_a, CustomerNote.objects.get)
    assert own.author_id == staff_user.pk
    others = in_a(business_a, note, anna, "Von der Chefin")
    # Staff may take back their own note, not someone else's; managers any.
    assert client.post(f"/customers/{anna.pk}/notes/{others.pk}/delete/").status_code == 403
    assert client.post(f"/customers/{anna.pk}/notes/{own.pk}/delete/").status_code == 302
    assert (
        log_in_as(business_a, "manager").post(f"/customers/{anna.pk}/notes/{others.pk}/delete/").status_code
        == 302
    )
    assert not in_a(business_a, CustomerNote.objects.exists)
    # A note id under another customer's URL is not found.
    other = in_a(business_a, customer, "Weiß")
    n = in_a(business_a, note, anna)
    assert client.post(f"/customers/{other.pk}/notes/{n.pk}/delete/").status_code == 404


def test_tags_add_and_remove(business_a):
    anna = in_a(business_a, customer)
    client = log_in_as(business_a, "staff")
    assert client.post(f"/customers/{anna.pk}/tags/", {"tags": "VIP, Farbe"}).status_code == 302
    assert in_a(business_a, Customer.objects.get, pk=anna.pk).tags == ["vip", "farbe"]
    bad = client.post(f"/customers/{anna.pk}/tags/", {"tags": "x" * 41})
    assert bad.status_code == 400 and "at most 40 characters" in page(bad)
    assert client.post(f"/customers/{anna.pk}/tags/", {"tags": ""}).status_code == 400
    assert client.post(f"/customers/{anna.pk}/tags/", {"remove": "vip"}).status_code == 302
    assert in_a(business_a, Customer.objects.get, pk=anna.pk).tags == ["farbe"]


def test_post_only_endpoints_refuse_get(business_a):
    anna = in_a(business_a, customer)
    client = log_in_as(business_a)
    assert client.get(f"/customers/{anna.pk}/notes/").status_code == 405
    assert client.get(f"/customers/{anna.pk}/tags/").status_code == 405


# --- Other businesses and anonymous visitors -------------------------------------------------------------


def everything(pk: int, note_pk: int) -> list[tuple[str, str]]:
    return [
        ("get", "/customers/"),
        ("get", "/customers/search.json?q=m"),
        ("get", "/customers/new/"),
        ("post", "/customers/new/"),
        ("get", f"/customers/{pk}/"),
        ("get", f"/customers/{pk}/edit/"),
        ("post", f"/customers/{pk}/edit/"),
        ("post", f"/customers/{pk}/notes/"),
        ("post", f"/customers/{pk}/notes/{note_pk}/delete/"),
        ("post", f"/customers/{pk}/tags/"),
        ("get", "/customers/merge/"),
        ("post", "/customers/merge/"),
        ("get", "/customers/import/"),
        ("post", "/customers/import/"),
        ("get", "/customers/import/sample.csv"),
        ("get", "/customers/import/sometoken/"),
        ("post", "/customers/import/sometoken/"),
        ("get", "/customers/export.csv"),
    ]


def test_session_of_another_business_or_none_gets_the_login(business_a, business_b):
    anna = in_a(business_a, customer)
    n = in_a(business_a, note, anna)
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b, "owner").cookies
    for client in (stolen, client_for(business_a.host)):
        for method, url in everything(anna.pk, n.pk):
            response = getattr(client, method)(
                url, {"last_name": "X", "text": "x", "tags": "x"} if method == "post" else None
            )
            assert response.status_code == 302 and response["Location"].startswith("/login/"), (method, url)
    assert in_a(business_a, Customer.objects.get).last_name == "Müller"
    assert in_a(business_a, CustomerNote.objects.count) == 1


def test_ids_of_another_business_are_not_found(business_a, business_b):
    anna = in_a(business_a, customer, "Geheim", "Anna")
    n = in_a(business_a, note, anna)
    client_b = log_in_as(business_b, "owner")
    assert client_b.get(f"/customers/{anna.pk}/").status_code == 404
    assert client_b.get(f"/customers/{anna.pk}/edit/").status_code == 404
    assert client_b.post(f"/customers/{anna.pk}/edit/", {"last_name": "X"}).status_code == 404
    assert client_b.post(f"/customers/{anna.pk}/notes/", {"text": "x"}).status_code == 404
    assert client_b.post(f"/customers/{anna.pk}/notes/{n.pk}/delete/").status_code == 404
    assert client_b.post(f"/customers/{anna.pk}/tags/", {"tags": "x"}).status_code == 404
    assert "Geheim" not in page(client_b.get("/customers/", {"q": "geheim"}))
    assert client_b.get("/customers/search.json", {"q": "geheim"}).json() == {"results": []}
    assert in_a(business_a, Customer.objects.get).last_name == "Geheim"
    assert in_a(business_a, CustomerNote.objects.count) == 1


def test_staff_may_not_merge_import_or_export(business_a):
    anna, other = in_a(business_a, customer), in_a(business_a, customer, "Weiß")
    staff = log_in_as(business_a, "staff")
    for method, url in [
        ("get", "/customers/merge/"),
        ("get", f"/customers/merge/?keep={anna.pk}&duplicate={other.pk}"),
        ("post", "/customers/merge/"),
        ("get", "/customers/import/"),
        ("post", "/customers/import/"),
        ("get", "/customers/import/sample.csv"),
        ("get", "/customers/import/sometoken/"),
        ("post", "/customers/import/sometoken/"),
        ("get", "/customers/export.csv"),
    ]:
        assert getattr(staff, method)(url).status_code == 403, (method, url)
    staff.post("/customers/merge/", {"keep": anna.pk, "duplicate": other.pk})
    assert in_a(business_a, Customer.objects.count) == 2
    html = page(staff.get("/customers/"))
    assert "/customers/import/" not in html and "/customers/export.csv" not in html
    assert "/customers/merge/" not in page(staff.get(f"/customers/{anna.pk}/"))
