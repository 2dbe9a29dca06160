from celery import shared_task

from . import services


@shared_task(name="accesslog.flush", acks_late=True, ignore_result=True)
def flush() -> int:
    """Move the access log buffered in Redis into the table (beat: every minute). Runs in `public`."""
    return services.access_log_flush()


@shared_task(name="accesslog.prune", acks_late=True, ignore_result=True)
def prune() -> int:
    """Delete access log entries older than ACCESS_LOG_DAYS (beat: nightly). Runs in `public`."""
    return services.access_log_prune()
