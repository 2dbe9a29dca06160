"""Schema editor: no second, LIKE-only index for each unique or indexed text column of a business.

Django's PostgreSQL schema editor gives every unique or `db_index` varchar/text column a second index with
`varchar_pattern_ops`, for `LIKE 'prefix%'` outside the C locale. A business's unique text columns are
tokens, token hashes and keys, looked up only by equality, which their own index serves: the second
index was 21 of a business's 209 indexes, written on every insert (a booking's appointment, hold owner
and messages) and one more relation per column in every schema, for every connection's catalog cache and
on disk (docs/scaling.md). `public`, of which there is one, keeps Django's behaviour.

Nor does a business's many-to-many table get an index of its first column: the unique pair (first,
second) Django makes for it starts with that column and serves every lookup by it. (Termino's own models
say so themselves: a foreign key whose column starts a constraint or index is `db_index=False`.)
"""

from django.db.backends.postgresql.schema import DatabaseSchemaEditor as PostgresSchemaEditor


class DatabaseSchemaEditor(PostgresSchemaEditor):
    def _field_should_be_indexed(self, model, field):
        in_business = self.connection.schema_name != self.connection.public_schema_name
        if in_business and _starts_the_pair(model, field):
            return False
        return super()._field_should_be_indexed(model, field)

    def _create_like_index_sql(self, model, field):
        if self.connection.schema_name != self.connection.public_schema_name:
            return None
        return super()._create_like_index_sql(model, field)


def _starts_the_pair(model, field) -> bool:
    """Whether `field` is the first column of the unique pair of a many-to-many table Django made."""
    meta = model._meta
    if not meta.auto_created or not meta.unique_together:
        return False
    first = meta.unique_together[0][0]
    return meta.get_field(first).column == field.column
