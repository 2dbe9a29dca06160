"""Signup-to-ready: our pool-claiming path against django-tenants' default (migrate every schema).

Both paths do the same work around the schema: tenant row, primary domain and the owner's login. The
password is hashed before provisioning starts (as the signup form does); that cost is the same for both
paths and is printed on its own as `password_hash`. `.venv/bin/python bench/provisioning.py [N]`
"""

import sys
import time

from _harness import bench_signup, emit, log, setup_django, summary_ms


def main(n: int) -> None:
    setup_django("termino_bench_provisioning")
    from django.contrib.auth.hashers import make_password
    from django_tenants.utils import schema_context

    from termino.platform.tenancy import services
    from termino.platform.tenancy.models import Domain, Tenant, TenantStatus

    hash_times = []
    for _ in range(n):
        started = time.perf_counter()
        hashed = make_password("Bench-Password-2026")
        hash_times.append(time.perf_counter() - started)

    def signup(i: int, prefix: str) -> services.BusinessSignup:
        return bench_signup(f"{prefix}-{i}", hashed)

    log(f"filling the pool with {n} spare schemas ...")
    services.schema_pool_fill(size=n)
    ours = []
    for i in range(n):
        started = time.perf_counter()
        services.tenant_provision(signup=signup(i, "pool"))
        ours.append(time.perf_counter() - started)

    log(f"provisioning {n} businesses the default way (migrations per schema) ...")
    theirs = []
    for i in range(n):
        data = signup(i, "migrate")
        started = time.perf_counter()
        tenant = Tenant(
            schema_name=services.schema_name_for(data.slug),
            slug=data.slug,
            status=TenantStatus.TRIAL,
            name=data.company_name,
            owner_name=data.owner_name,
            email=data.email,
        )
        tenant.auto_create_schema = True  # django-tenants: CREATE SCHEMA + migrate_schemas on save
        tenant.save(verbosity=0)
        Domain.objects.create(domain=services.business_host(data.slug), tenant=tenant, is_primary=True)
        with schema_context(tenant.schema_name):
            services.owner_create(signup=data)
        theirs.append(time.perf_counter() - started)

    pool = summary_ms("provision", ours)
    migrate = summary_ms("provision_migrate", theirs)
    emit(**pool)
    emit(**migrate)
    emit(**summary_ms("password_hash", hash_times))
    emit(bench="provision_ratio", ratio=round(migrate["p50_ms"] / pool["p50_ms"], 1))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
