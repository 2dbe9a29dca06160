from django.contrib import admin

from .models import StaffAction


@admin.register(StaffAction)
class StaffActionAdmin(admin.ModelAdmin):
    """Readable in Django's admin too, never editable: the audit log is append-only."""

    list_display = ("created_at", "staff_username", "action", "tenant_label", "reason", "ip")
    list_filter = ("action",)
    search_fields = ("staff_username", "tenant_label", "reason")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
