"""Transaction-scoped advisory locks: released at commit or rollback, so only inside a transaction."""

from django.db import connection


def advisory_xact_locks(keys: list[int]) -> None:
    """Wait for the locks on `keys`, in one round trip. Callers pass them sorted: the target list takes
    them left to right, so two transactions locking overlapping sets never wait for each other crosswise."""
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["pg_advisory_xact_lock(%s)"] * len(keys)), keys)
