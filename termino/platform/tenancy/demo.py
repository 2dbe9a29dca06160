"""The demo business that `make run` seeds once, and the logins it prints."""

from django.contrib.auth.hashers import make_password

from .services import BusinessSignup

DEMO_SLUG = "demo"
DEMO_OWNER = {"username": "anna@demo.example", "password": "Demo-Termino-2026"}
DEMO_STAFF = {"username": "jonas@demo.example", "password": "Demo-Termino-2026"}
DEMO_ADMIN = {"username": "admin", "password": "Admin-Termino-2026"}
DEMO_LOGINS = [
    {"where": "demo business (owner)", **DEMO_OWNER},
    {"where": "demo business (staff)", **DEMO_STAFF},
    {"where": "superadmin (TOTP set-up at first login)", **DEMO_ADMIN},
]


def demo_signup() -> BusinessSignup:
    return BusinessSignup(
        slug=DEMO_SLUG,
        company_name="Salon Sonnenschein",
        owner_name="Anna Schmidt",
        email=DEMO_OWNER["username"],
        password_hash=make_password(DEMO_OWNER["password"]),
        phone="+493098765432",
        street="Kastanienallee 12",
        postcode="10435",
        city="Berlin",
        country="DE",
        language="de",
    )
