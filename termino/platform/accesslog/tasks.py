from celery import shared_task

from . import services


@shared_task(name="accesslog.flush", acks_late=True, ignore_result=True)
def flush() -> int:
    """Move the access log buffered in Redis into the table (beat: every minute). Runs in `public`."""
    return services.access_log_flush()


@shared_task(name="accesslog.prune", acks_late=True, ignore_result=True)
def prune() -> int:
    """Delete access log entries older than ACCESS_LOG_DAYS (beat: nightly). Runs in `public`.

    Also shortens the IPs of platform staff logins (the `public` schema's login events), which the
    per-business retention runs do not reach."""
    from termino.tenants.accounts.audit import login_ip_cutoff
    from termino.tenants.accounts.services import login_ips_truncate

    login_ips_truncate(older_than=login_ip_cutoff())
    return services.access_log_prune()
