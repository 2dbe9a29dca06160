"""What the isolation suite needs to know about URLs, and nothing else: edit this when you add a URL.

PARAMS   how to get business A's (or B's) value for a URL parameter, keyed by the literal path segment in
         front of the parameter and its name (`customers/<pk>` is a customer's id). A URL with a key not
         listed here makes the suite fail: add the key, and an object of that kind to world.py if needed.
PUBLIC   URL names that answer without a login, each with the reason. Every other URL of the tenant URLconf
         must send anonymous visitors to the login (pages) or answer 401/403 (API).
"""

from collections.abc import Callable

from .world import Side

PARAMS: dict[str, Callable[[Side], object]] = {
    # Backoffice and staff API: ids of the business's objects.
    "appointments/<pk>": lambda s: s.appointment.pk,
    "series/<pk>": lambda s: s.series.pk,
    "visits/<pk>": lambda s: s.visit.pk,
    "customers/<pk>": lambda s: s.customer.pk,
    "notes/<note_pk>": lambda s: s.note.pk,
    "services/<pk>": lambda s: s.service.pk,
    "resources/<pk>": lambda s: s.resource.pk,
    "hours/<pk>": lambda s: s.hours.pk,
    "closures/<pk>": lambda s: s.closure.pk,
    "blocks/<pk>": lambda s: s.block.pk,
    "invitations/<pk>": lambda s: s.invitation.pk,
    "team/<pk>": lambda s: s.staff_user.pk,
    "people/<pk>": lambda s: s.staff_user.pk,
    "columns/<pk>": lambda s: s.resource.pk,
    "tokens/<pk>": lambda s: s.api_token_obj.pk,
    "backups/<pk>": lambda s: s.nightly_export.pk,
    "outbox/<pk>": lambda s: s.outbox.pk,
    "requests/<pk>": lambda s: s.privacy_request.pk,
    "duplicates/<pk>": lambda s: s.suspicion.pk,
    "entries/<pk>": lambda s: s.waitlist_entry.pk,
    "offers/<pk>": lambda s: s.offer.pk,
    "waitlist/<pk>": lambda s: s.waitlist_entry.pk,
    "import/<token>": lambda s: s.import_token,
    "webhooks/<pk>": lambda s: s.webhook.pk,  # the settings page of an endpoint
    "endpoints/<pk>": lambda s: s.webhook.pk,  # the same in the staff API
    "deliveries/<pk>": lambda s: s.webhook_delivery.pk,
    "deliveries/<delivery_pk>": lambda s: s.webhook_delivery.pk,
    "payments/<pk>": lambda s: s.payment.pk,
    "refund/<payment_id>": lambda s: s.payment.pk,
    # Links that carry their own credential.
    "manage/<token>": lambda s: s.manage_token,
    "ics/<token>": lambda s: s.manage_token,
    "calendar/<token>": lambda s: s.feed_token,
    "bookings/<token>": lambda s: s.manage_token,
    "holds/<token>": lambda s: s.hold_token,
    "payment/<token>": lambda s: s.payment.token,
    "payments/<token>": lambda s: s.payment.token,
    "accept/<token>": lambda s: s.invitation_token,
    "reset/<uidb64>": lambda s: s.reset_uid,
    "reset/<token>": lambda s: s.reset_token,
    "privacy/<token>": lambda s: s.privacy_token,
    "staff-login/<token>": lambda s: s.staff_login_token,
    "confirm-email/<token>": lambda s: s.confirm_token,
    "welcome/<token>": lambda s: s.welcome_token,
    "offer/<token>": lambda s: s.offer_token,
    "offers/<token>": lambda s: s.offer_token,
    "waitlist/<token>": lambda s: s.waitlist_token,
    "media/<schema>": lambda s: s.schema,
    "media/<path>": lambda s: s.media_path,
    # The same in every business: not an object of A (a message template is chosen by kind and channel).
    "messages/<kind>": lambda s: "reminder",
    "messages/<channel>": lambda s: "sms",
}

# Parameters that name no object of a business: a URL with only these is the other business's own page.
SHARED_PARAMS = {"messages/<kind>", "messages/<channel>"}

PUBLIC: dict[str, str] = {
    "accounts:login": "the login form itself",
    "accounts:logout": "logging out needs no login (and ends nothing at another business)",
    "booking:page": "the booking page for the business's customers",
    "booking:manage": "a customer's manage link: the token in the link is the credential",
    "booking:ics": "the calendar file of a booking: the token in the link is the credential",
    "calendars:feed": "a calendar subscription feed: the secret token in the link is the credential",
    "embed-js": "the loader a business puts on its own website",
    "booking:embed-check": "whether a website may embed the booking page (the list its CSP header shows)",
    "accounts:welcome": "signup's one-time pass into the new backoffice: the token is the credential",
    "media": "the business's logo, shown on its booking page",
    "api-token": "exchanges a username and password for an API token",
    "api-schema": "the OpenAPI description of the API; it holds no business data",
    "api-docs": "Swagger UI for the OpenAPI description; it holds no business data",
    "set_language": "switching the language needs no login",
    "team:accept": "an invitation link: the token in the link is the credential",
    "cookies": "the cookie list the privacy policy promises",
    "accounts:password_reset": "asks for a password-reset link (the same answer for any address)",
    "accounts:password_reset_sent": "says the e-mail with the link is on its way",
    "accounts:password_reset_confirm": "the e-mailed password-reset link: its token is the credential",
    "booking:privacy": "a customer asks for their data (confirmed through an e-mailed link)",
    "booking:privacy_sent": "says the e-mail is on its way",
    "booking:privacy_confirm": "the e-mailed privacy link: the token in the link is the credential",
    "booking:privacy_export": "download of a confirmed access request: the link token is the credential",
    "staff_login:redeem": "platform staff's one-time sign-in link: the token is the credential",
    "staff_login:end": "ends a staff sign-in; an ordinary session is left as it is",
    "email_confirm:confirm": "the owner's e-mailed address confirmation: the signed link is the credential",
    "public_api:services": "anonymous booking API: what can be booked",
    "public_api:availability": "anonymous booking API: free times",
    "public_api:holds": "anonymous booking API: hold a time while the customer types",
    "public_api:hold": "anonymous booking API: release a hold (the hold token is the credential)",
    "public_api:bookings": "anonymous booking API: book",
    "public_api:booking": "anonymous booking API: a booking by its manage token",
    "public_api:cancel": "anonymous booking API: cancel by manage token",
    "public_api:reschedule": "anonymous booking API: reschedule by manage token",
    "public_api:payment": "anonymous booking API: a booking's payment (its token is the credential)",
    "booking:payment": "where Checkout sends the customer back: the payment's token is the credential",
    "booking:payment-abandon": "the customer gives up paying: the payment's token is the credential",
    "booking:waitlist-offer": "a waitlist offer's link: the token in the link is the credential",
    "public_api:waitlist": "anonymous booking API: join the waitlist",
    "public_api:waitlist-leave": "anonymous booking API: leave the waitlist by its link token",
    "public_api:waitlist-offer": "anonymous booking API: a waitlist offer by its link token",
    "public_api:waitlist-accept": "anonymous booking API: book a waitlist offer by its link token",
    "public_api:waitlist-decline": "anonymous booking API: decline a waitlist offer by its link token",
    "public_api:visits": "anonymous booking API: book several services as one visit",
    "public_api:visit-availability": "anonymous booking API: free times of a visit",
}

# Tables that record attempts: an attack may add rows to them (and nothing else).
LOGS: dict[str, str] = {
    "accounts_loginevent": "every login attempt is recorded where it is made, failed ones too",
}

# Public URLs that show the data of the customer whose e-mailed link they are (Side.holder_data) to whoever
# holds the link. Everything else confidential stays hidden there too.
REVEALS_HOLDER_DATA = {"booking:privacy_confirm", "booking:privacy_export"}
