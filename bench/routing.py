"""Cost of tenant routing: a trivial view served with and without the tenant middleware, in one run.

`.venv/bin/python bench/routing.py [N]`
"""

import sys
import time

from _harness import bench_signup, emit, log, setup_django


def ok(request):
    from django.http import HttpResponse

    return HttpResponse("ok")


urlpatterns = []  # filled after Django is set up


def main(n: int) -> None:
    setup_django("termino_bench_routing")
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import path

    from termino.platform.tenancy import services

    hashed = make_password("Bench-Password-2026")
    urlpatterns.append(path("ok/", ok))
    services.schema_pool_fill(size=1)
    services.tenant_provision(signup=bench_signup("route-bench", hashed))
    host = services.business_host("route-bench")

    def run(middleware: list[str]) -> tuple[float, int]:
        with override_settings(MIDDLEWARE=middleware, ROOT_URLCONF=__name__):
            client = Client(HTTP_HOST=host)
            for _ in range(50):  # warm-up (fills the routing cache)
                assert client.get("/ok/").status_code == 200
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                for _ in range(n):
                    client.get("/ok/")
                elapsed = time.perf_counter() - started
        return n / elapsed, len(queries)

    log(f"{n} requests each way ...")
    rps_plain, _ = run([])
    routing = "termino.platform.tenancy.middleware.TenantRoutingMiddleware"
    rps_tenant, tenant_queries = run([routing])
    emit(
        bench="routing",
        rps_tenant=round(rps_tenant),
        rps_plain=round(rps_plain),
        queries_per_request=tenant_queries / n,
        n=n,
    )
    # Request id, Prometheus samples and the JSON request log line (written to stderr) on every request.
    rps_operations, _ = run(["termino.shared.observability.middleware.OperationsMiddleware", routing])
    emit(
        bench="operations_middleware",
        rps=round(rps_operations),
        added_us_per_request=round((1 / rps_operations - 1 / rps_tenant) * 1e6, 1),
        n=n,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
