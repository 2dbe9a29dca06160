"""The web server's access log (schema `public`): one row per request, without the visitor's IP address.

Rows are written in bulk by the `accesslog.flush` task from the Redis buffer the middleware fills, never
by the request itself, and deleted after ACCESS_LOG_DAYS by `accesslog.prune`.
"""

from django.db import models
from django.db.models import Q

PATH_MAX = 500
REFERRER_MAX = 500
VISITOR_LENGTH = 16


class AccessLogEntry(models.Model):
    at = models.DateTimeField()  # UTC
    # The server's offset from UTC at that moment (settings.TIME_ZONE), as a web server's log shows it.
    utc_offset_minutes = models.SmallIntegerField()
    host = models.CharField(max_length=253)
    schema = models.CharField(max_length=63)  # the business's schema, or "public" for the platform
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=PATH_MAX)  # without query string; secret tokens masked
    status = models.PositiveSmallIntegerField()
    response_bytes = models.PositiveBigIntegerField(null=True, blank=True)  # unknown for streamed bodies
    referrer = models.CharField(max_length=REFERRER_MAX, blank=True)  # origin and path only
    browser = models.CharField(max_length=50, blank=True)
    os = models.CharField(max_length=50, blank=True)
    language = models.CharField(max_length=8, blank=True)  # primary language of Accept-Language
    # Keyed hash of the IP address with a secret that changes every day and is then forgotten: entries of
    # one day can be grouped by visitor, but no one can get back to the address (see pseudonym.py).
    visitor = models.CharField(max_length=VISITOR_LENGTH)

    class Meta:
        verbose_name = "access log entry"
        verbose_name_plural = "access log"
        indexes = [
            models.Index(fields=["at"], name="accesslog_at_idx"),
            models.Index(fields=["schema", "at"], name="accesslog_schema_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="accesslog_status_http", condition=Q(status__gte=100, status__lte=599)
            ),
            models.CheckConstraint(
                name="accesslog_offset_range",
                condition=Q(utc_offset_minutes__gte=-24 * 60, utc_offset_minutes__lte=24 * 60),
            ),
            # A pseudonym, never an address: 16 lower-case hex digits.
            models.CheckConstraint(
                name="accesslog_visitor_pseudonym", condition=Q(visitor__regex=r"^[0-9a-f]{16}$")
            ),
            models.CheckConstraint(
                name="accesslog_language_code", condition=Q(language__regex=r"^([a-z]{2,8})?$")
            ),
            models.CheckConstraint(name="accesslog_path_absolute", condition=Q(path__startswith="/")),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.host} {self.path} {self.status}"
