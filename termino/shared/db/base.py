"""Database backend: django-tenants' schema switching, made safe behind a transaction-pooling PgBouncer.

Pool modes (per database: the entry's "POOL_MODE", by default settings.DATABASE_POOL_MODE):

- "session" (direct to PostgreSQL, or PgBouncer in session mode): exactly django-tenants — one
  session-level `SET search_path` per connection, repeated only when the schema changes.
- "transaction" (PgBouncer in transaction mode): never a session-level SET. Every statement carries
  `SET LOCAL search_path` in its own transaction (cursors.SchemaLocalCursor), so the schema cannot outlive
  the transaction it was set in, whichever server connection PgBouncer picks (introspection too:
  introspection.SchemaLocalIntrospection). Statements that cannot run in a transaction (CREATE INDEX
  CONCURRENTLY, VACUUM …) run as they are in `public` and are refused in a business's schema; session
  state (SET, LISTEN, PREPARE, temporary tables) is refused (statements.Kind). Needs client-side binding
  (Django's default), no prepared statements (Django's default) and DISABLE_SERVER_SIDE_CURSORS (a named
  cursor is declared in one transaction and fetched in others; WITH HOLD cursors are session state).

A PostgreSQL backend caches the catalog entries of every table it touched, in every schema, and never gives
them back. Besides `CONN_MAX_AGE`, a connection in session mode is therefore closed at the end of the
request in which it reached its entry's "CONN_MAX_SCHEMAS" business schemas (Django's
close_if_unusable_or_obsolete, run when a request starts and ends): its backend's cache stays bounded by
schemas, not by time, so a web worker's connection that serves a bounded set of businesses (hosts routed to
the same web pods, docs/scaling.md) may live long and keep their entries warm. Celery closes its
connections after every task anyway. Behind PgBouncer the server connections outlive ours: its
`server_lifetime` bounds them instead.
"""

import select
from collections import OrderedDict

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, NotSupportedError
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper
from django_tenants.utils import get_public_schema_name, quote_schema_name
from psycopg.pq import TransactionStatus

from .cursors import SchemaLocalCursor
from .introspection import SchemaIntrospection, SchemaLocalIntrospection
from .operations import DatabaseOperations
from .schema import DatabaseSchemaEditor

POOL_MODES = ("session", "transaction")


class DatabaseWrapper(TenantDatabaseWrapper):
    ops_class = DatabaseOperations
    SchemaEditorClass = DatabaseSchemaEditor

    def __init__(self, settings_dict, alias=DEFAULT_DB_ALIAS):
        mode = settings_dict.get("POOL_MODE") or getattr(settings, "DATABASE_POOL_MODE", "session")
        if mode not in POOL_MODES:
            raise ImproperlyConfigured(
                f"POOL_MODE of database {alias!r} must be one of {POOL_MODES}, not {mode!r}."
            )
        self.pool_mode = mode
        self.transaction_pooling = mode == "transaction"
        self.public_schema_name = get_public_schema_name()
        self._search_path_local = (None, "")
        self._schemas_seen: set[str] = set()
        self._forget_prepared()
        super().__init__(settings_dict, alias)
        introspection = SchemaLocalIntrospection if self.transaction_pooling else SchemaIntrospection
        self.introspection = introspection(self)

    def get_connection_params(self):
        params = super().get_connection_params()
        if self.transaction_pooling:
            self._check_transaction_pooling(params)
            params["cursor_factory"] = SchemaLocalCursor
        return params

    def _check_transaction_pooling(self, params) -> None:
        problems = []
        if self.settings_dict["OPTIONS"].get("server_side_binding"):
            problems.append("OPTIONS server_side_binding (one statement per query: no room for SET LOCAL)")
        if params.get("prepare_threshold") is not None:
            problems.append("OPTIONS prepare_threshold (prepared statements live in one server session)")
        if not self.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
            problems.append("server-side cursors (set DISABLE_SERVER_SIDE_CURSORS = True)")
        if problems:
            raise ImproperlyConfigured(
                f"Database {self.alias!r} uses transaction pooling, which cannot work with: "
                + "; ".join(problems)
            )

    def _configure_connection(self, connection):
        commit = super()._configure_connection(connection)
        if not self.transaction_pooling:
            # The prepared statements (prepared.py, the only ones: Django binds client-side) get a plan for
            # any parameters from their first run, not five custom plans first: each is one business's and
            # may run only a few times per connection. Behind transaction pooling nothing is prepared.
            connection.execute("SET plan_cache_mode = force_generic_plan")
            commit = True
        return commit

    def create_cursor(self, name=None):
        if name and self.transaction_pooling:
            raise NotSupportedError("Named (server-side) cursors do not survive transaction pooling.")
        cursor = super().create_cursor(name)
        if self.transaction_pooling:
            cursor.tenant_db = self
        return cursor

    def set_tenant(self, tenant, include_public=True):
        # django-tenants forgets the session's search_path on every switch (the routing middleware switches
        # to public, then to the business), so each request paid a `SET search_path` round trip even when
        # the connection already served that business. Remember what the session has; close() and every
        # rollback forget it, since a rollback can revert a SET.
        if tenant is self.tenant and include_public == self.include_public_schema:
            return  # the same business again (routing hands out one object per host): nothing changes
        super().set_tenant(tenant, include_public)
        session = getattr(self, "_session_paths", None)
        if (
            session is not None
            and not self.transaction_pooling
            and session == self._get_cursor_search_paths()
        ):
            self.search_path_set_schemas = session

    def is_usable(self):
        # Django's health check (conn_health_checks) is a `SELECT 1` round trip at the start of every request.
        # An idle connection has nothing to read unless its server went away: a restart, failover or killed
        # backend sends an error and closes the socket, which makes it readable. A zero-timeout poll tells
        # that without a round trip; only then (or when the session is not idle) Django's check decides.
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        try:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                return super().is_usable()
            readable, _, _ = select.select([conn.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return super().is_usable() if readable else True

    def connect(self):
        self._schemas_seen = set()
        self._forget_prepared()  # a new session has no prepared statements
        super().connect()

    def _forget_prepared(self) -> None:
        # prepared.py: how many prepared statements each business ran on this session, and which businesses
        # have statements of their own.
        self.prepared_uses: OrderedDict[str, int] = OrderedDict()
        self.prepared_hot: OrderedDict[str, bool] = OrderedDict()

    def close(self):
        self._session_paths = None
        super().close()

    def close_if_unusable_or_obsolete(self):
        super().close_if_unusable_or_obsolete()
        limit = self.settings_dict.get("CONN_MAX_SCHEMAS")
        if (
            limit
            and self.connection is not None
            and not self.in_atomic_block
            and len(self._schemas_seen) >= limit
        ):
            self.close()

    @property
    def schemas_seen(self) -> int:
        """Business schemas this connection's session has had on its search path since it was opened."""
        return len(self._schemas_seen)

    def rollback(self):
        self._session_paths = None
        super().rollback()

    def savepoint_rollback(self, sid):
        self._session_paths = None
        super().savepoint_rollback(sid)

    def _handle_search_path(self, cursor=None):
        if self.transaction_pooling:
            return  # each statement sets it (SET LOCAL), never the session
        super()._handle_search_path(cursor)
        self._session_paths = self.search_path_set_schemas
        if self.schema_name != self.public_schema_name:
            self._schemas_seen.add(self.schema_name)

    def search_path_local_sql(self) -> str:
        """`SET LOCAL search_path = "<schema>", "public"; ` for the current schema (cached per schema)."""
        key = (self.schema_name, self.include_public_schema)
        cached_key, prefix = self._search_path_local
        if cached_key != key:
            if not self.schema_name:
                raise ImproperlyConfigured("Database schema not set. Did you forget to call set_schema()?")
            paths = ", ".join(quote_schema_name(path) for path in self._get_cursor_search_paths())
            prefix = f"SET LOCAL search_path = {paths}; "
            self._search_path_local = (key, prefix)
        return prefix
