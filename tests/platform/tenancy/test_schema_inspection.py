"""The schema helpers of the tenancy tests see the application's schemas only, on a Citus coordinator too."""

import pytest
from django.db import connection

from .schema_inspection import user_schemas

pytestmark = pytest.mark.django_db


def test_user_schemas_leave_out_what_citus_and_other_extensions_bring(business_a):
    with connection.cursor() as cursor:
        # Citus's own schemas (CREATE EXTENSION citus, citus_columnar), and a schema some extension owns.
        for name in (
            "citus",
            "citus_internal",
            "columnar",
            "columnar_internal",
            "owned_by_extension",
            "ref_x",
        ):
            cursor.execute(f'CREATE SCHEMA "{name}"')
        cursor.execute('ALTER EXTENSION plpgsql ADD SCHEMA "owned_by_extension"')
    found = user_schemas()
    assert {business_a.schema, "ref_x"} <= found
    assert not found & {"citus", "citus_internal", "columnar", "columnar_internal", "owned_by_extension"}
