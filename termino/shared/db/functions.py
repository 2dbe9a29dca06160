"""Database functions the models use in their own columns."""

from django.db import models


class EpochMicroseconds(models.Func):
    """Microseconds since 1970-01-01 UTC of a range's lower or upper bound (`bound` "LOWER" or "UPPER").

    Taken through an interval: the epoch of a timestamptz is only *stable* in PostgreSQL's eyes, the epoch of
    the difference of two timestamptz is *immutable*, so the expression may compute a stored column. Exact
    to the microsecond (numeric arithmetic)."""

    template = (
        "(EXTRACT(EPOCH FROM (%(function)s(%(expressions)s) - TIMESTAMPTZ '1970-01-01 00:00:00+00'))"
        " * 1000000)::bigint"
    )
    output_field = models.BigIntegerField()

    def __init__(self, expression, *, bound: str, **extra):
        if bound not in ("LOWER", "UPPER"):
            raise ValueError("bound is LOWER or UPPER")
        super().__init__(expression, function=bound, **extra)
