"""At a business's host: redeem a sign-in-as-user link once, and end that session."""

from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from termino.shared.client_ip import client_ip

from . import impersonation
from .services import GrantGone, GrantNotFound, impersonation_grant_redeem


@require_GET
def redeem(request, token: str):
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME or len(token) > 100:
        return render(request, "staffadmin/grant_invalid.html", {"gone": False}, status=404)
    try:
        grant, user = impersonation_grant_redeem(token=token, tenant=tenant, ip=client_ip(request))
    except GrantNotFound:
        return render(request, "staffadmin/grant_invalid.html", {"gone": False}, status=404)
    except GrantGone:
        return render(request, "staffadmin/grant_invalid.html", {"gone": True}, status=410)
    impersonation.start(request, user=user, grant=grant)
    return redirect("/")


@require_POST
def end_now(request):
    if impersonation.IMPERSONATION_GRANT not in request.session:
        return redirect("/")  # nothing to end: an ordinary session stays as it is
    return redirect(impersonation.finish(request, why="ended by staff"))
