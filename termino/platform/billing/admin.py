from django.contrib import admin

from .models import BillingAccount, Plan, StripeEvent


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "price_monthly_cents",
        "price_yearly_cents",
        "max_staff",
        "sms_per_month",
        "active",
    )
    list_editable = ("active",)
    ordering = ("sort_order",)


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    list_display = ("tenant", "plan", "interval", "subscription_status", "trial_ends_at", "grace_until")
    list_filter = ("plan", "subscription_status")
    search_fields = ("tenant__name", "tenant__slug", "stripe_customer_id", "stripe_subscription_id")
    # Stripe's state is mirrored from webhooks; editing it here would only be overwritten.
    readonly_fields = (
        "tenant",
        "stripe_customer_id",
        "stripe_subscription_id",
        "subscription_status",
        "current_period_end",
        "updated_from_event_at",
        "cancelled_at",
    )


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("event_id", "type", "created", "tenant", "result")
    list_filter = ("type",)
    search_fields = ("event_id",)
    readonly_fields = (
        "event_id",
        "type",
        "created",
        "payload",
        "tenant",
        "received_at",
        "processed_at",
        "result",
    )
