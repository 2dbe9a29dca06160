from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "termino.tenants.compliance"
    label = "compliance"
    verbose_name = "Data-protection paperwork of a business"
