from datetime import timedelta

from django.db import migrations
from django.utils import timezone

# Prices in euro cents; yearly is ten months' price (two months free).
PLANS = [
    {
        "code": "starter",
        "name": "Starter",
        "price_monthly_cents": 1900,
        "price_yearly_cents": 19000,
        "max_staff": 2,
        "sms_per_month": 100,
        "custom_domain": False,
        "sort_order": 10,
    },
    {
        "code": "professional",
        "name": "Professional",
        "price_monthly_cents": 3900,
        "price_yearly_cents": 39000,
        "max_staff": 6,
        "sms_per_month": 400,
        "custom_domain": True,
        "sort_order": 20,
    },
    {
        "code": "business",
        "name": "Business",
        "price_monthly_cents": 7900,
        "price_yearly_cents": 79000,
        "max_staff": 20,
        "sms_per_month": 1500,
        "custom_domain": True,
        "sort_order": 30,
    },
]
TRIAL_DAYS = 14


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    Tenant = apps.get_model("tenancy", "Tenant")
    BillingAccount = apps.get_model("billing", "BillingAccount")
    for data in PLANS:
        Plan.objects.update_or_create(code=data["code"], defaults=data)
    # Businesses from before billing existed start a fresh trial now rather than being suspended at once.
    starter = Plan.objects.get(code="starter")
    trial_ends_at = timezone.now() + timedelta(days=TRIAL_DAYS)
    businesses = Tenant.objects.exclude(schema_name="public").exclude(status__in=("preparing", "spare"))
    for tenant in businesses.filter(billing_account__isnull=True):
        BillingAccount.objects.create(tenant=tenant, plan=starter, trial_ends_at=trial_ends_at)


def unseed(apps, schema_editor):
    apps.get_model("billing", "BillingAccount").objects.all().delete()
    apps.get_model("billing", "Plan").objects.filter(code__in=[p["code"] for p in PLANS]).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial"), ("tenancy", "0002_public_tenant")]
    operations = [migrations.RunPython(seed, unseed)]
