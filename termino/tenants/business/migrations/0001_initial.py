"""The business's settings move here from the booking app: same table, same rows (state only); 0002 renames
the table."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("booking", "0003_hold_owner_sms_countries_cap"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="BusinessSettings",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "cancel_cutoff_hours",
                            models.PositiveIntegerField(
                                default=24, verbose_name="self-service cut-off (hours before)"
                            ),
                        ),
                        (
                            "approval_required",
                            models.BooleanField(default=False, verbose_name="bookings need staff approval"),
                        ),
                        (
                            "max_open_bookings",
                            models.PositiveIntegerField(default=3, verbose_name="open bookings per customer"),
                        ),
                        (
                            "privacy_policy_version",
                            models.CharField(
                                default="1", max_length=40, verbose_name="privacy notice version"
                            ),
                        ),
                        ("privacy_notice", models.TextField(blank=True, verbose_name="privacy notice")),
                        ("impressum", models.TextField(blank=True, verbose_name="legal notice (Impressum)")),
                        ("logo", models.ImageField(blank=True, upload_to="branding/", verbose_name="logo")),
                        (
                            "reminder_hours",
                            models.CharField(
                                blank=True,
                                default="24,2",
                                max_length=40,
                                verbose_name="reminders (hours before, comma-separated)",
                            ),
                        ),
                        (
                            "quiet_hours_start",
                            models.PositiveSmallIntegerField(default=21, verbose_name="no SMS from (hour)"),
                        ),
                        (
                            "quiet_hours_end",
                            models.PositiveSmallIntegerField(default=8, verbose_name="no SMS until (hour)"),
                        ),
                        (
                            "brand_colour",
                            models.CharField(
                                default="#1d4ed8", max_length=7, verbose_name="colour of the booking page"
                            ),
                        ),
                        (
                            "allowed_origins",
                            models.TextField(
                                blank=True,
                                help_text="One origin per line.",
                                verbose_name="websites allowed to embed the booking page",
                            ),
                        ),
                        (
                            "customer_address",
                            models.CharField(
                                choices=[("formal", "Formal (Sie)"), ("informal", "Informal (du)")],
                                default="formal",
                                max_length=8,
                                verbose_name="address customers",
                            ),
                        ),
                        (
                            "sms_sender_id",
                            models.CharField(blank=True, max_length=16, verbose_name="SMS sender"),
                        ),
                        (
                            "sms_countries",
                            models.CharField(blank=True, max_length=300, verbose_name="countries for SMS"),
                        ),
                        (
                            "sms_daily_cap",
                            models.PositiveIntegerField(
                                blank=True, null=True, verbose_name="SMS per day at most"
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "business settings",
                        "db_table": "booking_bookingsettings",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("id", 1)), name="booking_settings_singleton"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("quiet_hours_end__lte", 23), ("quiet_hours_start__lte", 23)
                                ),
                                name="booking_quiet_hours_range",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("brand_colour__regex", "^#[0-9a-fA-F]{6}$")),
                                name="booking_brand_colour_hex",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("customer_address__in", ["formal", "informal"])),
                                name="booking_customer_address_valid",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("sms_sender_id", ""),
                                    ("sms_sender_id__regex", "^(\\+?[1-9][0-9]{0,14}|[a-zA-Z0-9 ]{1,11})$"),
                                    _connector="OR",
                                ),
                                name="booking_sms_sender_id_format",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("sms_countries", ""),
                                    ("sms_countries__regex", "^[A-Z]{2}( [A-Z]{2})*$"),
                                    _connector="OR",
                                ),
                                name="booking_sms_countries_format",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
