from django.contrib import admin

from .models import Domain, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "status", "owner_name", "email", "created_at")
    list_filter = ("status", "country")
    search_fields = ("name", "slug", "owner_name", "email")
    # The status changes only through billing's services (suspend, reactivate, trial): the trail stays whole.
    readonly_fields = ("schema_name", "status", "created_at", "activated_at", "terms_accepted_at")
    inlines = [DomainInline]

    def get_queryset(self, request):
        # Spare schemas of the warm pool are plumbing, not businesses.
        return super().get_queryset(request).exclude(status__in=("preparing", "spare"))
