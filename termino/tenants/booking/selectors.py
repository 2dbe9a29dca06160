from termino.tenants.scheduling.models import Service


def bookable_services():
    return Service.objects.filter(active=True, bookable_online=True).order_by("name")
