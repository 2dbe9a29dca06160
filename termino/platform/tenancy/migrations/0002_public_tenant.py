from django.db import migrations


def create_public_tenant(apps, schema_editor):
    # The platform itself is the tenant of schema `public`; its hosts are BASE_DOMAIN and www.BASE_DOMAIN.
    Tenant = apps.get_model("tenancy", "Tenant")
    Tenant.objects.get_or_create(schema_name="public", defaults={"status": "active", "name": "Termino"})


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]
    operations = [migrations.RunPython(create_public_tenant, migrations.RunPython.noop)]
