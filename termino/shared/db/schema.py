"""Schema editor: no second, LIKE-only index for each unique or indexed text column of a business.

Django's PostgreSQL schema editor gives every unique or `db_index` varchar/text column a second index with
`varchar_pattern_ops`, for `LIKE 'prefix%'` outside the C locale. A business's unique text columns are
tokens, token hashes and keys, looked up only by equality, which their own index serves: the second
index was 21 of a business's 209 indexes, written on every insert (a booking's appointment, hold owner
and messages) and one more relation per column in every schema, for every connection's catalog cache and
on disk (docs/scaling.md). `public`, of which there is one, keeps Django's behaviour.
"""

from django.db.backends.postgresql.schema import DatabaseSchemaEditor as PostgresSchemaEditor


class DatabaseSchemaEditor(PostgresSchemaEditor):
    def _create_like_index_sql(self, model, field):
        if self.connection.schema_name != self.connection.public_schema_name:
            return None
        return super()._create_like_index_sql(model, field)
