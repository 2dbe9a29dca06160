import pytest


@pytest.fixture(autouse=True)
def _room_for_a_team(request):
    """Team tests invite several people: give the session's businesses the largest plan (rolled back
    with the test). The plan limit itself is tested on its own."""
    if "business_a" not in request.fixturenames and "business_b" not in request.fixturenames:
        return
    if request.node.get_closest_marker("django_db") is None:
        return
    from termino.platform.billing.models import BillingAccount, Plan

    BillingAccount.objects.filter(tenant__slug__in=["alpha-salon", "beta-praxis"]).update(
        plan=Plan.objects.get(code="business")
    )
