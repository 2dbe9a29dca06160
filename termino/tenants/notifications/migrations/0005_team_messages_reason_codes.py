"""Messages to the team (written when queued, hence a subject of their own) and the reasons of skipped or
failed messages as codes, shown in the reader's language: the English sentences stored so far become
their codes."""

from django.db import migrations, models

# The sentences stored until now, by code; the daily cap's named the cap and is matched by its beginning.
SENTENCES = {
    "restricted": "Processing of this customer's data is restricted.",
    "no_consent": "The customer has not given (or has withdrawn) consent for this channel.",
    "erased": "Customer data erased.",
    "sms_locked": "SMS of this business are locked by Termino support.",
    "email_unconfirmed": (
        "Not sent: the business has not confirmed its e-mail address yet. SMS go out once it has; "
        "resend this one from the message log if it is still needed."
    ),
    "not_mobile": "Not a mobile number of the countries this business texts: SMS not sent.",
    "quota_used_up": "SMS quota of this month used up",
    "worker_stopped_sms": "The worker stopped while sending; checked with the provider before sending again.",
    "worker_stopped_email": "The worker stopped while sending; the e-mail may have gone out. Check, then resend.",
    "restored_sms": "The database was restored from a backup; checked with the provider before sending.",
    "restored_email": (
        "The database was restored from a backup; this e-mail may have gone out before. Check, then resend."
    ),
}
DAILY_CAP_START = "Daily SMS limit of this business reached"


def to_codes(apps, schema_editor):
    OutboxMessage = apps.get_model("notifications", "OutboxMessage")
    for code, sentence in SENTENCES.items():
        OutboxMessage.objects.filter(reason=sentence).update(reason=code)
    OutboxMessage.objects.filter(reason__startswith=DAILY_CAP_START).update(reason="daily_cap")


def to_sentences(apps, schema_editor):
    OutboxMessage = apps.get_model("notifications", "OutboxMessage")
    for code, sentence in SENTENCES.items():
        OutboxMessage.objects.filter(reason=code).update(reason=sentence)
    OutboxMessage.objects.filter(reason="daily_cap").update(reason=f"{DAILY_CAP_START}: not sent.")


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_request_and_declined_messages"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="subject",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="kind",
            field=models.CharField(
                choices=[
                    ("confirmation", "Booking confirmation"),
                    ("request", "Booking request received"),
                    ("declined", "Booking request declined"),
                    ("change", "Booking change"),
                    ("cancellation", "Cancellation"),
                    ("reminder", "Reminder"),
                    ("team_booked", "Team notice: booked online"),
                    ("team_moved", "Team notice: moved online"),
                    ("team_cancelled", "Team notice: cancelled online"),
                    ("agenda", "Daily agenda"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(to_codes, to_sentences),
    ]
