"""The default words of every customer message: German formal (Sie), German informal (du) and English.

These are not gettext strings: which text a customer gets depends on the business's settings (language
of customer texts, formal or informal address), not on the language of whoever is looking at the screen.
Texts use only the placeholders of `rendering.PLACEHOLDERS`; every text that names the time names the
time zone too. A line whose placeholders are all empty is left out (e.g. the manage link of a booking
made by phone), so defaults may put optional details on lines of their own.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    sms: str
    subject: str
    email: str


# Variant names: "<language>-<address>"; English has one variant for both.
DE_FORMAL = "de-formal"
DE_INFORMAL = "de-informal"
EN = "en"

DEFAULTS: dict[str, dict[str, Text]] = {
    DE_FORMAL: {
        "request": Text(
            sms="{business}: Ihre Terminanfrage ({service}) am {date} um {time} Uhr ({time_zone}) ist "
            "eingegangen. Wir bestätigen sie in Kürze.",
            subject="Ihre Terminanfrage bei {business}",
            email="""Guten Tag {customer},

vielen Dank für Ihre Anfrage. Wir prüfen den Termin und bestätigen ihn in Kürze:

{service}
{date}, {time} Uhr ({time_zone})
{address}

{payment}

Anfrage ändern oder zurückziehen: {manage_link}

Viele Grüße
{business}
Tel. {phone}""",
        ),
        "declined": Text(
            sms="{business}: Ihre Terminanfrage ({service}) am {date} um {time} Uhr ({time_zone}) können wir "
            "leider nicht annehmen. {reason} Tel. {phone}",
            subject="Ihre Terminanfrage bei {business}",
            email="""Guten Tag {customer},

leider können wir Ihre Terminanfrage nicht annehmen:

{service}
{date}, {time} Uhr ({time_zone})

{reason}

Für einen anderen Termin erreichen Sie uns unter {phone}.

Viele Grüße
{business}""",
        ),
        "confirmation": Text(
            sms="{business}: Ihr Termin ({service}) am {date} um {time} Uhr ({time_zone}) ist gebucht. "
            "Tel. {phone}\n{payment}",
            subject="Ihr Termin bei {business}",
            email="""Guten Tag {customer},

Ihr Termin bei {business} ist gebucht:

{service}
{date}, {time} Uhr ({time_zone})
{address}

{payment}

Termin verschieben oder absagen: {manage_link}

Viele Grüße
{business}
Tel. {phone}""",
        ),
        "change": Text(
            sms="{business}: Ihr Termin ({service}) wurde auf {date} um {time} Uhr ({time_zone}) verschoben.",
            subject="Ihr Termin bei {business} wurde verschoben",
            email="""Guten Tag {customer},

Ihr Termin bei {business} hat eine neue Zeit:

{service}
{date}, {time} Uhr ({time_zone})
{address}

Termin verschieben oder absagen: {manage_link}

Viele Grüße
{business}
Tel. {phone}""",
        ),
        "cancellation": Text(
            sms="{business}: Ihr Termin ({service}) am {date} um {time} Uhr ({time_zone}) ist abgesagt.",
            subject="Ihr Termin bei {business} ist abgesagt",
            email="""Guten Tag {customer},

Ihr Termin bei {business} ist abgesagt:

{service}
{date}, {time} Uhr ({time_zone})

Für einen neuen Termin erreichen Sie uns unter {phone}.

Viele Grüße
{business}""",
        ),
        "reminder": Text(
            sms="Erinnerung von {business}: {service} am {date} um {time} Uhr ({time_zone}). Tel. {phone}",
            subject="Erinnerung: Ihr Termin bei {business}",
            email="""Guten Tag {customer},

wir erinnern Sie an Ihren Termin bei {business}:

{service}
{date}, {time} Uhr ({time_zone})
{address}

Termin verschieben oder absagen: {manage_link}

Viele Grüße
{business}
Tel. {phone}""",
        ),
    },
    DE_INFORMAL: {
        "request": Text(
            sms="{business}: Deine Terminanfrage ({service}) am {date} um {time} Uhr ({time_zone}) ist "
            "eingegangen. Wir bestätigen sie in Kürze.",
            subject="Deine Terminanfrage bei {business}",
            email="""Hallo {first_name},

danke für deine Anfrage. Wir prüfen den Termin und bestätigen ihn in Kürze:

{service}
{date}, {time} Uhr ({time_zone})
{address}

{payment}

Anfrage ändern oder zurückziehen: {manage_link}

Bis bald
{business}
Tel. {phone}""",
        ),
        "declined": Text(
            sms="{business}: Deine Terminanfrage ({service}) am {date} um {time} Uhr ({time_zone}) können "
            "wir leider nicht annehmen. {reason} Tel. {phone}",
            subject="Deine Terminanfrage bei {business}",
            email="""Hallo {first_name},

leider können wir deine Terminanfrage nicht annehmen:

{service}
{date}, {time} Uhr ({time_zone})

{reason}

Für einen anderen Termin erreichst du uns unter {phone}.

Viele Grüße
{business}""",
        ),
        "confirmation": Text(
            sms="{business}: Dein Termin ({service}) am {date} um {time} Uhr ({time_zone}) ist gebucht. "
            "Tel. {phone}\n{payment}",
            subject="Dein Termin bei {business}",
            email="""Hallo {first_name},

dein Termin bei {business} ist gebucht:

{service}
{date}, {time} Uhr ({time_zone})
{address}

{payment}

Termin verschieben oder absagen: {manage_link}

Bis bald
{business}
Tel. {phone}""",
        ),
        "change": Text(
            sms="{business}: Dein Termin ({service}) wurde auf {date} um {time} Uhr ({time_zone}) "
            "verschoben.",
            subject="Dein Termin bei {business} wurde verschoben",
            email="""Hallo {first_name},

dein Termin bei {business} hat eine neue Zeit:

{service}
{date}, {time} Uhr ({time_zone})
{address}

Termin verschieben oder absagen: {manage_link}

Bis bald
{business}
Tel. {phone}""",
        ),
        "cancellation": Text(
            sms="{business}: Dein Termin ({service}) am {date} um {time} Uhr ({time_zone}) ist abgesagt.",
            subject="Dein Termin bei {business} ist abgesagt",
            email="""Hallo {first_name},

dein Termin bei {business} ist abgesagt:

{service}
{date}, {time} Uhr ({time_zone})

Für einen neuen Termin erreichst du uns unter {phone}.

Viele Grüße
{business}""",
        ),
        "reminder": Text(
            sms="Erinnerung von {business}: {service} am {date} um {time} Uhr ({time_zone}). Tel. {phone}",
            subject="Erinnerung: Dein Termin bei {business}",
            email="""Hallo {first_name},

wir erinnern dich an deinen Termin bei {business}:

{service}
{date}, {time} Uhr ({time_zone})
{address}

Termin verschieben oder absagen: {manage_link}

Bis bald
{business}
Tel. {phone}""",
        ),
    },
    EN: {
        "request": Text(
            sms="{business}: we have your request for {service} on {date} at {time} ({time_zone}) and will "
            "confirm it shortly.",
            subject="Your appointment request at {business}",
            email="""Hello {first_name},

thank you for your request. We will check the time and confirm it shortly:

{service}
{date}, {time} ({time_zone})
{address}

{payment}

Change or withdraw the request: {manage_link}

Kind regards
{business}
Phone {phone}""",
        ),
        "declined": Text(
            sms="{business}: sorry, we cannot accept your request for {service} on {date} at {time} "
            "({time_zone}). {reason} Phone {phone}",
            subject="Your appointment request at {business}",
            email="""Hello {first_name},

we are sorry, but we cannot accept your appointment request:

{service}
{date}, {time} ({time_zone})

{reason}

To find another time, call us on {phone}.

Kind regards
{business}""",
        ),
        "confirmation": Text(
            sms="{business}: your appointment ({service}) on {date} at {time} ({time_zone}) is booked. "
            "Phone {phone}\n{payment}",
            subject="Your appointment at {business}",
            email="""Hello {first_name},

your appointment at {business} is booked:

{service}
{date}, {time} ({time_zone})
{address}

{payment}

Reschedule or cancel: {manage_link}

Kind regards
{business}
Phone {phone}""",
        ),
        "change": Text(
            sms="{business}: your appointment ({service}) has moved to {date} at {time} ({time_zone}).",
            subject="Your appointment at {business} has moved",
            email="""Hello {first_name},

your appointment at {business} has a new time:

{service}
{date}, {time} ({time_zone})
{address}

Reschedule or cancel: {manage_link}

Kind regards
{business}
Phone {phone}""",
        ),
        "cancellation": Text(
            sms="{business}: your appointment ({service}) on {date} at {time} ({time_zone}) is cancelled.",
            subject="Your appointment at {business} is cancelled",
            email="""Hello {first_name},

your appointment at {business} is cancelled:

{service}
{date}, {time} ({time_zone})

To book a new appointment, call us on {phone}.

Kind regards
{business}""",
        ),
        "reminder": Text(
            sms="Reminder from {business}: {service} on {date} at {time} ({time_zone}). Phone {phone}",
            subject="Reminder: your appointment at {business}",
            email="""Hello {first_name},

a reminder of your appointment at {business}:

{service}
{date}, {time} ({time_zone})
{address}

Reschedule or cancel: {manage_link}

Kind regards
{business}
Phone {phone}""",
        ),
    },
}


# An appointment series: one message with every date ({dates}, one per line, each with its time), whatever
# how many occurrences were booked, moved or cancelled together.
SERIES_TEXTS: dict[str, dict[str, Text]] = {
    DE_FORMAL: {
        "series": Text(
            sms="{business}: Ihre Termine ({service}) sind gebucht ({time_zone}): {dates}. Tel. {phone}",
            subject="Ihre Termine bei {business}",
            email="""Guten Tag {customer},

Ihre Terminserie bei {business} ist gebucht:

{service}, Zeiten in {time_zone}
{dates}
{address}

Kommende Termine absagen: {manage_link}

Alle Termine finden Sie auch in der angehängten Kalenderdatei.

Viele Grüße
{business}
Tel. {phone}""",
        ),
        "series_change": Text(
            sms="{business}: Ihre Terminserie ({service}) hat sich geändert. Ihre Termine ({time_zone}): "
            "{dates}. Tel. {phone}",
            subject="Ihre Terminserie bei {business} wurde geändert",
            email="""Guten Tag {customer},

Ihre Terminserie bei {business} hat sich geändert. Ihre kommenden Termine:

{service}, Zeiten in {time_zone}
{dates}
{address}

Die angehängte Kalenderdatei enthält alle Termine der Serie, abgesagte als abgesagt.

Viele Grüße
{business}
Tel. {phone}""",
        ),
    },
    DE_INFORMAL: {
        "series": Text(
            sms="{business}: Deine Termine ({service}) sind gebucht ({time_zone}): {dates}. Tel. {phone}",
            subject="Deine Termine bei {business}",
            email="""Hallo {first_name},

deine Terminserie bei {business} ist gebucht:

{service}, Zeiten in {time_zone}
{dates}
{address}

Kommende Termine absagen: {manage_link}

Alle Termine findest du auch in der angehängten Kalenderdatei.

Bis bald
{business}
Tel. {phone}""",
        ),
        "series_change": Text(
            sms="{business}: Deine Terminserie ({service}) hat sich geändert. Deine Termine ({time_zone}): "
            "{dates}. Tel. {phone}",
            subject="Deine Terminserie bei {business} wurde geändert",
            email="""Hallo {first_name},

deine Terminserie bei {business} hat sich geändert. Deine kommenden Termine:

{service}, Zeiten in {time_zone}
{dates}
{address}

Die angehängte Kalenderdatei enthält alle Termine der Serie, abgesagte als abgesagt.

Bis bald
{business}
Tel. {phone}""",
        ),
    },
    EN: {
        "series": Text(
            sms="{business}: your appointments ({service}) are booked ({time_zone}): {dates}. Phone {phone}",
            subject="Your appointments at {business}",
            email="""Hello {first_name},

your series of appointments at {business} is booked:

{service}, times in {time_zone}
{dates}
{address}

Cancel the appointments to come: {manage_link}

The attached calendar file holds every date.

Kind regards
{business}
Phone {phone}""",
        ),
        "series_change": Text(
            sms="{business}: your series of appointments ({service}) has changed. Your dates ({time_zone}): "
            "{dates}. Phone {phone}",
            subject="Your series of appointments at {business} has changed",
            email="""Hello {first_name},

your series of appointments at {business} has changed. Your coming dates:

{service}, times in {time_zone}
{dates}
{address}

The attached calendar file holds every date of the series, cancelled ones marked as cancelled.

Kind regards
{business}
Phone {phone}""",
        ),
    },
}
for _variant, _texts in SERIES_TEXTS.items():
    DEFAULTS[_variant].update(_texts)


def variant(*, language: str, address: str) -> str:
    """Which set of default texts fits the business: its language and, in German, Sie or du."""
    if (language or "de")[:2] == "en":
        return EN
    return DE_INFORMAL if address == "informal" else DE_FORMAL


def default_text(*, kind: str, channel: str, language: str, address: str) -> tuple[str, str]:
    """(subject, body) of the default text; the subject is empty for SMS."""
    text = DEFAULTS[variant(language=language, address=address)][kind]
    if channel == "sms":
        return "", text.sms
    return text.subject, text.email
