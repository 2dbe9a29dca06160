"""Point-in-time recovery with PostgreSQL's own tools: base backup, WAL archive, replay to a noted time.

What production runs is pgBackRest (helm/termino `backup.pgbackrest`, docs/operations.md): it cannot run
against the embedded server of the tests (no pgBackRest binary in any wheel, and Debian's 2.45 predates
PostgreSQL 18), so this proves the mechanism it drives instead: `archive_command` copies each finished WAL
segment into an archive, `pg_basebackup` takes the base backup, and a second data directory made from that
backup replays the archive through `restore_command` up to `recovery_target_time`.

The server is a throw-away copy of the test server (a `pg_basebackup` of it, so it holds the migrated
database and business A), started with archiving on. Bookings are written through the ORM on a connection
to it.

"Noting the time": recovery compares the target with the commit times PostgreSQL itself wrote into the WAL,
which come from the server's clock, not from the suite's pinned one. So the time noted is the commit time of
the first set's last transaction as PostgreSQL recorded it (`track_commit_timestamp`), read back with
`pg_xact_commit_timestamp`: exactly what an operator looks up in a log to choose a target.
"""

import json
import time as clock_time
from datetime import time

from django.db import connection
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.scheduling.models import Appointment, Service
from tests.tenants.scheduling.factories import next_monday

from .scratch import (
    base_backup,
    database_alias,
    owned_dir,
    scratch_root,
    scratch_server,
    session_database,
    session_port,
)

NUMBERS: dict[str, str] = {}


def _book(alias: str, service: Service, marker: str, count: int, offset: int) -> list[int]:
    """`count` appointments one after another (each its own transaction), through the ORM on `alias`."""
    ids = []
    for n in range(count):
        start = timeutils.shift(next_monday(time(9)), minutes=30 * (n + offset))
        appointment = Appointment.objects.using(alias).create(
            service=service, start=start, end=timeutils.shift(start, minutes=30), notes=marker
        )
        ids.append(appointment.pk)
    return ids


def test_a_restore_to_a_noted_time_has_exactly_what_was_committed_before_it(business_a, committed_db):
    database = session_database()
    schema = business_a.schema
    with scratch_root() as root:
        archive = owned_dir(root / "wal-archive")
        began = clock_time.monotonic()
        primary_dir = base_backup(session_port(), root / "primary" / "pgdata")
        settings = {
            "archive_mode": "on",
            "archive_command": f"test ! -f {archive}/%f && cp %p {archive}/%f",
            "archive_timeout": "0",
            "wal_level": "replica",
            "track_commit_timestamp": "on",
        }
        with scratch_server(primary_dir, settings, fast=False) as primary:
            NUMBERS["throw-away primary (copy of the test server) up"] = (
                f"{clock_time.monotonic() - began:.1f} s"
            )
            with database_alias("pitr", primary.port, database) as alias:
                alias.set_schema(schema)
                service = Service.objects.using("pitr").create(name="PITR", duration_minutes=30)

                began = clock_time.monotonic()
                backup_dir = base_backup(primary.port, root / "restored" / "pgdata")
                NUMBERS["pg_basebackup"] = f"{clock_time.monotonic() - began:.1f} s"

                first = _book("pitr", service, "first set", 3, 0)
                with alias.cursor() as cursor:
                    cursor.execute(
                        f'SELECT pg_xact_commit_timestamp(xmin)::text FROM "{schema}".scheduling_appointment '
                        "WHERE id = %s",
                        [first[-1]],
                    )
                    noted = cursor.fetchone()[0]
                second = _book("pitr", service, "second set", 3, 10)
                with alias.cursor() as cursor:
                    cursor.execute("SELECT pg_walfile_name(pg_switch_wal())")
                    last_segment = cursor.fetchone()[0]
            deadline = clock_time.monotonic() + 30
            while not (archive / last_segment).exists():
                assert clock_time.monotonic() < deadline, f"{last_segment} was not archived"
                clock_time.sleep(0.1)

        # The primary is gone; its backup and the archive are all there is.
        (backup_dir / "recovery.signal").touch()
        recovery = {
            "restore_command": f"cp {archive}/%f %p",
            "recovery_target_time": noted,
            "recovery_target_inclusive": "on",
            "recovery_target_action": "promote",
            "archive_mode": "off",
        }
        began = clock_time.monotonic()
        with scratch_server(backup_dir, recovery, fast=False) as restored:
            restored.wait_out_of_recovery(database)
            NUMBERS["recovery to the noted time"] = f"{clock_time.monotonic() - began:.1f} s"
            with restored.connect(database) as conn:
                rows = conn.execute(
                    f'SELECT id, notes FROM "{schema}".scheduling_appointment'
                    " WHERE service_id = %s ORDER BY id",
                    [service.pk],
                ).fetchall()
                log = (restored.server.log_file).read_text()
    assert [row[0] for row in rows] == first, rows
    assert {row[1] for row in rows} == {"first set"}
    assert not set(second) & {row[0] for row in rows}
    assert "recovery stopping before commit" in log or "recovery stopping after commit" in log
    connection.set_schema_to_public()
    with schema_context(schema):  # the test server itself never saw any of it
        assert not Appointment.objects.filter(notes__in=["first set", "second set"]).exists()
    print("\npoint-in-time recovery numbers:", json.dumps({**NUMBERS, "noted time": noted}, indent=1))
