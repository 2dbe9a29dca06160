import threading

import pytest
from django.core.management import call_command
from django.db import DataError, connection
from django.db.utils import IntegrityError

from termino.platform.tenancy import services
from termino.platform.tenancy.models import Tenant, TenantStatus
from tests.conftest import make_signup, provision, unique_slug

from .schema_inspection import fingerprint, user_schemas


@pytest.fixture(scope="module")
def reference_schema(django_db_setup, django_db_blocker):
    """A schema built the default way: CREATE SCHEMA, then every migration (once for the module: the tests
    only compare other schemas with it)."""
    name = "ref_" + services.secrets.token_hex(4)
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{name}"')
        call_command("migrate_schemas", schema_name=name, tenant=True, interactive=False, verbosity=0)
        connection.set_schema_to_public()
    yield name
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{name}" CASCADE')


def assert_no_orphans():
    """Every schema has its tenant row and every tenant row its schema."""
    rows = set(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
    schemas = {s for s in user_schemas() if not s.startswith("ref_")}
    assert schemas == rows


def test_claimed_schema_is_identical_to_a_migrated_one(committed_db, reference_schema, business_a):
    assert fingerprint(business_a.schema) == fingerprint(reference_schema)
    assert len(fingerprint(reference_schema)["migrations"]) > 10


def test_spares_are_migrated_by_every_migrate_schemas_run(committed_db, reference_schema):
    spare = services.spare_schema_create()
    try:
        # Make the spare stale, as if it had been filled before the newest migrations existed.
        call_command(
            "migrate_schemas",
            "scheduling",
            "zero",
            schema_name=spare.schema_name,
            interactive=False,
            verbosity=0,
        )
        assert fingerprint(spare.schema_name) != fingerprint(reference_schema)
        call_command("migrate_schemas", interactive=False, verbosity=0)
        assert fingerprint(spare.schema_name) == fingerprint(reference_schema)
    finally:
        connection.set_schema_to_public()
        services.tenant_delete(tenant=Tenant.objects.get(pk=spare.pk))


def test_empty_pool_falls_back_to_migrating(committed_db, reference_schema):
    parked = list(Tenant.objects.filter(status=TenantStatus.SPARE).values_list("pk", flat=True))
    Tenant.objects.filter(pk__in=parked).update(status=TenantStatus.PREPARING)
    try:
        business = committed_db(unique_slug())
    finally:
        Tenant.objects.filter(pk__in=parked).update(status=TenantStatus.SPARE)
    assert fingerprint(business.schema) == fingerprint(reference_schema)
    assert business.tenant.status == TenantStatus.TRIAL
    assert_no_orphans()


def test_failure_in_the_last_step_leaves_nothing_half_made(committed_db):
    services.schema_pool_fill(size=2)
    spares_before = set(
        Tenant.objects.filter(status=TenantStatus.SPARE).values_list("schema_name", flat=True)
    )
    slug = unique_slug()
    # The owner's login name is longer than the user table allows: the very last insert fails.
    with pytest.raises(DataError):
        services.tenant_provision(signup=make_signup(slug, email=("x" * 150) + "@example.com"))
    assert not Tenant.objects.filter(slug=slug).exists()
    assert services.schema_name_for(slug) not in user_schemas()
    assert (
        set(Tenant.objects.filter(status=TenantStatus.SPARE).values_list("schema_name", flat=True))
        == spares_before
    )
    assert spares_before <= user_schemas()
    assert_no_orphans()


def test_domain_clash_rolls_back_the_rename(committed_db):
    services.schema_pool_fill(size=2)
    other = committed_db(unique_slug())
    slug = unique_slug()
    # Someone already routes this business's future host name (say, as a custom domain).
    other.tenant.domains.create(domain=services.business_host(slug), is_primary=False)
    with pytest.raises(services.SubdomainTaken):
        services.tenant_provision(signup=make_signup(slug))
    assert not Tenant.objects.filter(slug=slug).exists()
    assert services.schema_name_for(slug) not in user_schemas()
    assert_no_orphans()


def test_simultaneous_signups_for_one_address_have_one_winner(committed_db):
    contenders = 5
    services.schema_pool_fill(size=contenders)
    slug = unique_slug()
    barrier = threading.Barrier(contenders)
    outcomes: list[str] = []

    def sign_up(n: int) -> None:
        try:
            barrier.wait()
            services.tenant_provision(signup=make_signup(slug, email=f"owner{n}@race.example"))
            outcomes.append("won")
        except services.SubdomainTaken:
            outcomes.append("taken")
        except Exception as exc:  # surfaced by the assertion below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["taken"] * (contenders - 1) + ["won"]
    assert Tenant.objects.filter(slug=slug).count() == 1
    assert_no_orphans()


def test_pool_fill_tops_up_and_counts(committed_db):
    services.schema_pool_fill(size=3)
    assert Tenant.objects.filter(status=TenantStatus.SPARE).count() >= 3
    assert services.schema_pool_fill(size=3) == 0
    assert_no_orphans()


def test_pool_rows_cannot_have_an_address(db):
    with pytest.raises(IntegrityError):
        Tenant.objects.create(schema_name="spare_bad", status=TenantStatus.SPARE, slug="has-an-address")


def test_business_rows_must_have_an_address(db):
    with pytest.raises(IntegrityError):
        Tenant.objects.create(schema_name="t_nameless", status=TenantStatus.TRIAL)


def test_slug_format_is_a_database_constraint(db):
    with pytest.raises(IntegrityError):
        Tenant.objects.create(schema_name="t_x", status=TenantStatus.TRIAL, slug="UPPER")


def test_fill_sweeps_spares_left_half_made_by_a_crashed_filler(committed_db):
    spare = services.spare_schema_create()
    Tenant.objects.filter(pk=spare.pk).update(
        status=TenantStatus.PREPARING, created_at=spare.created_at - services.STALE_PREPARING_AFTER * 2
    )
    services.schema_pool_fill(size=0)
    assert not Tenant.objects.filter(pk=spare.pk).exists()
    assert spare.schema_name not in user_schemas()
    assert_no_orphans()


def test_only_one_filler_runs_at_a_time(committed_db):
    from termino.shared.db.leases import lease

    with lease(services.POOL_LEASE) as held:
        assert held
        before = Tenant.objects.filter(status=TenantStatus.SPARE).count()
        assert services.schema_pool_fill(size=before + 2) == 0
        assert Tenant.objects.filter(status=TenantStatus.SPARE).count() == before


def test_refill_task_tops_the_pool_up(committed_db):
    from termino.platform.tenancy.tasks import refill_schema_pool

    target = Tenant.objects.filter(status=TenantStatus.SPARE).count() + 1
    with override_pool_size(target):
        assert refill_schema_pool.apply().get() == 1
    assert Tenant.objects.filter(status=TenantStatus.SPARE).count() == target


def override_pool_size(size: int):
    from django.test import override_settings

    return override_settings(SCHEMA_POOL_SIZE=size)


def test_deleting_a_business_removes_its_uploads(committed_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    business = services.tenant_provision(signup=make_signup(unique_slug()))
    uploads = tmp_path / business.schema_name
    uploads.mkdir()
    (uploads / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / "t_other").mkdir()
    services.tenant_delete(tenant=business)
    assert not uploads.exists()
    assert (tmp_path / "t_other").exists()


@pytest.mark.django_db
def test_a_business_made_and_removed_in_one_transaction_is_dropped():
    """With no spare schema left, provisioning migrates a fresh one in this transaction; its deferred
    foreign-key checks are still pending when the schema is dropped, which PostgreSQL refuses unless they
    are run first."""
    for spare in Tenant.objects.filter(status=TenantStatus.SPARE):
        services.tenant_delete(tenant=spare)
    fresh = provision(unique_slug())
    services.tenant_delete(tenant=fresh.tenant)
    assert not Tenant.objects.filter(pk=fresh.tenant.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [fresh.schema])
        assert cursor.fetchone() is None
