"""Move one business to another database server: export it to a file, import the file there.

The file is a ZIP (ZIP64, deflated) holding
  manifest.json          format, Termino version, source, the schema's applied migrations, every table with
                         its columns, row count and the SHA-256 of its data, the id sequences, the media files
  public.json            the business's rows in `public`: tenant, domains, billing account with its SMS
                         pack purchases, status changes and Stripe events, SMS lock, connected Stripe
                         account (deposits)
  tables/<table>.copy    each table of the business's schema in PostgreSQL's COPY text format
  media/<path>           its uploaded files (MEDIA_ROOT/<schema>/…)

Everything travels, password hashes, API tokens and link tokens included, so logins and links keep
working. The platform's own records about the business stay where they were: the staff audit log
(append-only, about the source platform's staff), impersonation grants (one-time links of those staff),
the access log and login lockout counters.

Export reads one REPEATABLE READ, READ ONLY snapshot, so the file is consistent even while the business
is in use; what changes after the snapshot is not in it. Import is one transaction: it claims a migrated
spare schema (or migrates one first, committed as an ordinary pool spare), renames it, empties it, loads
every table with COPY, moves the id sequences on, and creates the public rows through the ORM (their
signals keep the routing cache true). Any failure rolls all of that back: no tenant row, no schema.

Restore (`tenant_replace`, restore.py) puts an export of a business back over that same live business: its
schema's rows from the file, its platform rows, logins, audit trail and message history as they are now.
"""

from .common import TransferError, schema_tables
from .export import ExportResult, tenant_export
from .importer import ImportResult, tenant_import
from .restore import RestorePlan, RestoreResult, restore_plan, tenant_replace

__all__ = [
    "ExportResult",
    "ImportResult",
    "RestorePlan",
    "RestoreResult",
    "TransferError",
    "restore_plan",
    "schema_tables",
    "tenant_export",
    "tenant_import",
    "tenant_replace",
]
