from django.contrib import admin

from .models import Domain, PlatformEvent, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "status", "owner_name", "email", "email_confirmed_at", "activated_at")
    list_filter = ("status", "country")
    search_fields = ("name", "slug", "owner_name", "email")
    # The status changes only through billing's services (suspend, reactivate, trial): the trail stays whole.
    readonly_fields = (
        "schema_name",
        "status",
        "created_at",
        "activated_at",
        "terms_accepted_at",
        "email_confirmed_at",
        "removal_warned_at",
    )
    inlines = [DomainInline]

    def get_queryset(self, request):
        # Spare schemas of the warm pool are plumbing, not businesses.
        return super().get_queryset(request).exclude(status__in=("preparing", "spare"))


@admin.register(PlatformEvent)
class PlatformEventAdmin(admin.ModelAdmin):
    """The platform log: read only (append-only in the database too)."""

    list_display = ("created_at", "kind", "tenant_label", "schema_name", "reason")
    list_filter = ("kind",)
    search_fields = ("slug", "tenant_label", "schema_name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
