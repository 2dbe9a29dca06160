"""Termino settings: one module, every knob from the environment, development defaults that just work.

Production sets at least SECRET_KEY, DATABASE_URL, REDIS_URL, BASE_DOMAIN and DEBUG=0.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")

# Businesses live at <slug>.<BASE_DOMAIN>; the platform itself at BASE_DOMAIN. `*.localhost` resolves
# to loopback in browsers and curl, so development needs no DNS set-up.
BASE_DOMAIN = env("BASE_DOMAIN", "localhost").lower()
# The port that absolute links carry in development (http://demo.localhost:8000/).
SITE_PORT = env("SITE_PORT", "8000" if DEBUG else "")
SITE_SCHEME = env("SITE_SCHEME", "http" if DEBUG else "https")

# Hosts are checked by the tenant routing middleware against the Domain table (custom domains included),
# which answers an unknown host with a 404 page before any view runs.
ALLOWED_HOSTS = ["*"]

# --- Tenancy -----------------------------------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "django.contrib.postgres",
    "termino.platform.tenancy",
    "termino.platform.billing",
    "termino.platform.staffadmin",
    "termino.platform.accesslog",
    # The privacy notice and the data-processing agreement, built from the operator's entries and the code.
    "termino.platform.legal",
    "termino.platform.backups",
    # The due index: which business has periodic work due when (beat visits only those).
    "termino.platform.duework",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    # Users live in every schema: platform staff in `public`, each business's staff in its own.
    "termino.tenants.accounts",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Two-factor login (TOTP) of platform staff; devices live in `public` with the staff users.
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Login lockout. Its counters live in one table in `public`, keyed by schema-prefixed login name
    # and client IP (termino/tenants/accounts/lockout.py): no extra tables in every business schema.
    "axes",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "termino.tenants.accounts",
    "termino.tenants.business",
    "termino.tenants.crm",
    "termino.tenants.scheduling",
    "termino.tenants.booking",
    "termino.tenants.notifications",
    "termino.tenants.privacy",
    "termino.tenants.retention",
    "termino.tenants.compliance",
    "termino.tenants.webhooks",
    "termino.tenants.calendars",
    "termino.tenants.payments",
    "termino.tenants.waitlist",
    "termino.tenants.backoffice",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenancy.Tenant"
TENANT_DOMAIN_MODEL = "tenancy.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "termino.urls_public"
ROOT_URLCONF = "termino.urls_tenant"
# Skip the `SET search_path` when the connection already points at the wanted schema.
TENANT_LIMIT_SET_CALLS = True
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# `migrate_schemas` runs tenants in parallel when asked (--executor=multiprocessing).
TENANT_MULTIPROCESSING_MAX_PROCESSES = env_int("TENANT_MIGRATION_PROCESSES", 2)
# Spare schemas kept migrated and ready, so a signup claims one instead of running migrations.
SCHEMA_POOL_SIZE = env_int("SCHEMA_POOL_SIZE", 3)

MIDDLEWARE = [
    # Before anything host- or HTTPS-related: probes and scrapers reach pods by IP over plain HTTP.
    "termino.shared.observability.middleware.OperationsMiddleware",
    # Every answer (the unknown-host page too) carries HSTS, CSP and the other headers.
    "django.middleware.security.SecurityMiddleware",
    # Nothing is cached that does not say it may be: pages and API answers carry personal data.
    "termino.shared.cache_headers.NoStoreMiddleware",
    # Production: static files from the app itself (hashed names, cached for a year), no shared volume.
    # Development serves them through runserver from the apps' folders.
    *([] if DEBUG else ["whitenoise.middleware.WhiteNoiseMiddleware"]),
    "termino.shared.security_headers.ContentSecurityPolicyMiddleware",
    # A request that failed because PostgreSQL or Redis was away (a restart, a failover) is a 503 with
    # Retry-After, not a 500; outside everything that reads them, inside the headers above.
    "termino.shared.outage.OutageMiddleware",
    # Garbage (NUL bytes, broken UTF-8, over-long addresses, oversized or too deeply nested bodies) gets a
    # 4xx here, with the headers above, before the routing looks the host up and views query with the path.
    "termino.shared.guard.middleware.RequestGuardMiddleware",
    "termino.platform.tenancy.middleware.TenantRoutingMiddleware",
    "termino.shared.request_memo.RequestMemoMiddleware",  # reads a request repeats, made once
    "termino.platform.accesslog.middleware.AccessLogMiddleware",  # to Redis, never the database
    "termino.shared.middleware.TenantTimezoneMiddleware",
    "termino.tenants.booking.framing.PublicApiCorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): staff passed the TOTP step
    "termino.platform.staffadmin.middleware.ImpersonationMiddleware",  # ends staff sessions as a user
    "termino.platform.tenancy.middleware.ClosedBusinessMiddleware",  # a closed business's page, by who asks
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the 429 page
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "termino" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "termino.shared.context_processors.site",
                "termino.tenants.backoffice.context_processors.billing",
            ],
            # Prices and phone numbers as the business's country writes them.
            "libraries": {"display": "termino.shared.display"},
        },
    },
]

WSGI_APPLICATION = "termino.wsgi.application"
ASGI_APPLICATION = "termino.asgi.application"

# --- Database ----------------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", "postgresql://postgres@127.0.0.1:54329/termino")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        # django-tenants' backend, plus the schema set per transaction behind PgBouncer (docs/scaling.md).
        engine="termino.shared.db",
        # A connection that lives keeps the catalog entries of the businesses it served warm; what bounds
        # their memory is CONN_MAX_SCHEMAS below, so the age only makes connections turn over now and then.
        conn_max_age=env_int("CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
# A connection that has had this many business schemas on its search path is closed at the end of its
# request (termino/shared/db/base.py): each costs its backend 0.1-0.5 MB for what the booking page, the
# public availability and the staff API touch, more when a request touches every table (docs/scaling.md,
# measured by bench/tenant_scale.py). 0 = no bound.
DATABASES["default"]["CONN_MAX_SCHEMAS"] = env_int("CONN_MAX_SCHEMAS", 2000)
# A database that is away must fail a request within seconds (a 503, termino.shared.outage), never hang a
# worker: connecting gives up after DATABASE_CONNECT_TIMEOUT seconds, and TCP keepalives notice a server
# that vanished mid-connection.
DATABASES["default"].setdefault("OPTIONS", {}).update(
    {
        "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 5),
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
)
# "session": the connection keeps its `SET search_path` (direct to PostgreSQL, or PgBouncer in session
# mode). "transaction": PgBouncer in transaction mode hands each transaction to any server connection,
# so the schema is set with `SET LOCAL` inside every transaction and server-side cursors are off.
DATABASE_POOL_MODE = env("DATABASE_POOL_MODE", "session")
if DATABASE_POOL_MODE not in {"session", "transaction"}:
    raise RuntimeError(f"DATABASE_POOL_MODE must be 'session' or 'transaction', not {DATABASE_POOL_MODE!r}.")
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_POOL_MODE == "transaction"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Redis ---------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:63799/0")
# Seconds a cache call waits for Redis before giving up: an absent or frozen Redis must not hang requests.
CACHE_REDIS_TIMEOUT = float(env("CACHE_REDIS_TIMEOUT", "1"))
_CACHE_SOCKETS = {"socket_connect_timeout": CACHE_REDIS_TIMEOUT, "socket_timeout": CACHE_REDIS_TIMEOUT}
CACHES = {
    # Tenant data: every key carries the schema, so one business never reads another's entries. Without
    # Redis it degrades to "nothing cached" (termino/shared/cache.py): reads miss, writes are dropped.
    "default": {
        "BACKEND": "termino.shared.cache.DegradingRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "termino",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "OPTIONS": _CACHE_SOCKETS,
    },
    # Platform-wide data (host → tenant routing), keyed the same whatever schema is active. Errors are
    # raised: routing falls back to the database itself, and a lost invalidation must not pass silently.
    # Django's Redis cache with one redis-py client per pool (termino/shared/cache.py), as is "default".
    "platform": {
        "BACKEND": "termino.shared.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "termino-platform",
        "TIMEOUT": 3600,
        "OPTIONS": _CACHE_SOCKETS,
    },
}
# Each process also keeps the hosts it routed in a dictionary, and checks Redis's routing version at most
# this often: the longest a process serves a business as it was before a change (termino/platform/tenancy/
# routing.py).
ROUTING_LOCAL_SECONDS = float(env("ROUTING_LOCAL_SECONDS", "0.25"))
# Likewise each process remembers the API tokens it has checked, per business, and re-reads that business's
# auth version at most this often: the longest a revoked token or a deactivated person still gets through
# (termino/tenants/accounts/token_memory.py).
API_TOKEN_LOCAL_SECONDS = float(env("API_TOKEN_LOCAL_SECONDS", "0.25"))
# ... and reads a remembered token again after this long even when nothing said it changed.
API_TOKEN_MEMORY_SECONDS = float(env("API_TOKEN_MEMORY_SECONDS", "30"))
# Likewise the operator and sub-processors the booking pages' notices list: the platform cache's legal
# version is checked at most this often, and what was read is read again after the second time at the latest
# (termino/platform/legal/facts_memory.py).
LEGAL_LOCAL_SECONDS = float(env("LEGAL_LOCAL_SECONDS", "0.25"))
LEGAL_MEMORY_SECONDS = float(env("LEGAL_MEMORY_SECONDS", "60"))

# --- Auth, sessions, cookies -------------------------------------------------------------------------
# Django's rules, with messages that read well in German ("ähnelt zu sehr Ihrem Benutzernamen").
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "termino.shared.passwords.UserAttributeSimilarityValidator"},
    {"NAME": "termino.shared.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "termino.shared.passwords.CommonPasswordValidator"},
    {"NAME": "termino.shared.passwords.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "termino.shared.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Sessions live in each tenant's schema (and in `public` for platform staff); the cookie ends with the
# browser session, the login name is remembered separately in the `username` cookie for a year.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
USERNAME_COOKIE_NAME = "username"
USERNAME_COOKIE_AGE = 365 * 24 * 60 * 60
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "today:index"
LOGOUT_REDIRECT_URL = "accounts:login"
# Every cookie is strictly necessary and listed on /cookies/ (termino/shared/cookies.py). The CSRF and
# language cookies end with the browser session like the session cookie; none is readable by scripts.
CSRF_COOKIE_AGE = None
CSRF_COOKIE_HTTPONLY = True  # our scripts read the token from the form, never from the cookie
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = None  # `django_language`, set by the language switcher
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Messages ("saved") travel in the session, not in a cookie of their own.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Security: proxies, login lockout, login audit, headers ------------------------------------------
# Reverse proxies in front of the app. Each appends to X-Forwarded-For, so the client is the entry this
# many places from the right; what is left of it is never trusted (termino/shared/client_ip.py, used by
# the login audit, the lockout and every rate limit; DRF reads the same number below).
NUM_PROXIES = env_int("NUM_PROXIES", 0)
# Behind a TLS-terminating proxy, it says whether the client used https (nginx: X-Forwarded-Proto $scheme).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if NUM_PROXIES else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)  # businesses are subdomains
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"  # the booking page alone may be framed, by its business's origins (framing.py)
SILENCED_SYSTEM_CHECKS = []
if not SECURE_HSTS_PRELOAD:
    # security.W021 asks for the HSTS `preload` flag. Preloading BASE_DOMAIN into browsers is the
    # operator's decision (hstspreload.org, hard to undo for every subdomain); SECURE_HSTS_PRELOAD=1 opts in.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# Lockout after repeated failed logins (django-axes), per login name *and* client IP, for a cool-off
# time: a stranger elsewhere cannot lock a person out, and nobody needs an admin to be let back in.
AUTHENTICATION_BACKENDS = [
    # AxesStandaloneBackend plus ModelBackend's get_user: a session may name this first backend.
    "axes.backends.AxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "termino.tenants.accounts.lockout.axes_username"  # schema-prefixed: per business
AXES_CLIENT_IP_CALLABLE = "termino.tenants.accounts.lockout.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "termino.tenants.accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Tries while locked out are refused but do not push the end of the lockout further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Our login audit (accounts.LoginEvent) is the access log, with its IP retention; axes keeps only counters.
AXES_DISABLE_ACCESS_LOG = True
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
AXES_VERBOSE = False
# Login audit: full IP addresses of logins are kept this many days, then cut to their /24 (/48) network.
LOGIN_IP_DAYS = env_int("LOGIN_IP_DAYS", 7)
# Forgotten passwords (termino/tenants/accounts/password_reset.py): a link works once and for this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60)
# Links asked for per hour, for one address at one business (or at the staff login) and from one client IP.
PASSWORD_RESET_PER_ADDRESS = env_int("PASSWORD_RESET_PER_ADDRESS", 3)
PASSWORD_RESET_PER_IP = env_int("PASSWORD_RESET_PER_IP", 10)

# --- REST API ----------------------------------------------------------------------------------------
# API tokens (POST /api/v1/auth/token/) expire this many days after they were made; a person has at most
# API_TOKENS_PER_USER unexpired ones (they revoke old ones on their account page).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
API_TOKENS_PER_USER = env_int("API_TOKENS_PER_USER", 20)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a failed token login then answers 401 with `WWW-Authenticate: Token`. Tokens are
        # accounts.ApiToken (hashed, expiring, listed on the account page), not DRF's plaintext authtoken.
        "termino.tenants.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's JSONRenderer, which also sends answers already written as JSON text (lists of slots) as they are.
    "DEFAULT_RENDERER_CLASSES": ["termino.shared.json_text.Renderer"],
    # DRF's three, with JSON nested deeper than 64 levels (or holding NUL) refused with a 400.
    "DEFAULT_PARSER_CLASSES": [
        "termino.shared.guard.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "termino.shared.errors.api_exception_handler",
    # Proxies in front of the app: X-Forwarded-For is trusted exactly this deep, so it cannot be spoofed.
    "NUM_PROXIES": NUM_PROXIES,
}

# --- Limits against abuse from the open internet ------------------------------------------------------
# Requests of the public booking API per client IP (an IPv6 client by its /64) and business, as "N/period"
# (s, min, hour, day); "" switches one off. Atomic in Redis (termino/shared/ratelimit.py): 50 concurrent
# requests against a limit of 20 let exactly 20 through.
PUBLIC_RATE_LIMITS = {
    "public_read": env("THROTTLE_PUBLIC_READ", "120/min"),
    "public_booking": env("THROTTLE_PUBLIC_BOOKING", "20/min"),
    # Endpoints that send an SMS, counted in successful requests (termino/tenants/booking/throttles.py):
    # per phone number at one business and across all, per client IP at one business, and per business
    # (many numbers from many addresses). A booking and its changes (reschedule, cancel) count alike:
    # 5 lets a customer book and change their mind.
    "public_sms_phone": env("THROTTLE_PUBLIC_SMS_PHONE", "5/hour"),
    "public_sms_phone_platform": env("THROTTLE_PUBLIC_SMS_PHONE_PLATFORM", "10/hour"),
    "public_sms_ip": env("THROTTLE_PUBLIC_SMS_IP", "10/hour"),
    "public_sms_business": env("THROTTLE_PUBLIC_SMS_BUSINESS", "60/hour"),
}
# Slots one visitor may hold at once while filling in the booking form: per client IP, and per form (a
# new hold from the same form replaces its earlier one). A booking releases its form's other holds.
# The booking page's free slots are cached per business until a booking or any other change of what is
# free (termino/tenants/booking/slots_cache.py), at most this long, since "now" moves the minimum notice.
# 0 turns the cache off.
PUBLIC_AVAILABILITY_CACHE_SECONDS = env_int("PUBLIC_AVAILABILITY_CACHE_SECONDS", 30)
PUBLIC_HOLDS_PER_IP = env_int("PUBLIC_HOLDS_PER_IP", 2)
PUBLIC_HOLDS_PER_FORM = env_int("PUBLIC_HOLDS_PER_FORM", 1)
# A booking (or waitlist) form sent back sooner than this after the page fetched it was not typed by a
# person and is refused. The page learns the value from the services answer and waits it out itself.
PUBLIC_FORM_MIN_SECONDS = float(env("PUBLIC_FORM_MIN_SECONDS", "3"))
# "Your data" requests from the booking page, per client IP and per e-mail address at one business.
PRIVACY_REQUESTS_PER_HOUR = env_int("PRIVACY_REQUESTS_PER_HOUR", 5)
# SMS a business sends per local day at most, unless it set its own number (Settings → Booking rules, up
# to SMS_DAILY_CAP_MAX). Checked where SMS leave the outbox; the owner gets one e-mail the day it bites.
SMS_DAILY_CAP = env_int("SMS_DAILY_CAP", 200)
SMS_DAILY_CAP_MAX = env_int("SMS_DAILY_CAP_MAX", 2000)

SPECTACULAR_SETTINGS = {
    "TITLE": "Termino API",
    "DESCRIPTION": "Staff API of one business: services, staff and rooms, hours, closures, appointments, "
    "availability. Authenticate with a session or `Authorization: Token <key>` from /api/v1/auth/token/ "
    f"(valid for {API_TOKEN_DAYS} days; listed and revocable on the account page; a password change or "
    "deactivation ends them).",
    "VERSION": "1.0.0",
    # Choice sets that share a field name get their own component names.
    "ENUM_NAME_OVERRIDES": {
        "WebhookEventEnum": "termino.tenants.webhooks.models.EventType",
        "WebhookDeliveryStatusEnum": "termino.tenants.webhooks.models.DeliveryStatus",
        "PaymentStatusEnum": "termino.tenants.payments.models.PaymentStatus",
        "RefundStatusEnum": "termino.tenants.payments.models.RefundStatus",
        "WaitlistEntryStatusEnum": "termino.tenants.waitlist.models.EntryStatus",
        "WaitlistOfferStatusEnum": "termino.tenants.waitlist.models.OfferStatus",
        "NewAppointmentStatusEnum": [("confirmed", "confirmed"), ("requested", "requested")],
    },
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Internationalisation ----------------------------------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "termino" / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / ".run" / "static")))
STATICFILES_DIRS = [BASE_DIR / "termino" / "static"]

# Uploads (logos) live per business: MEDIA_ROOT/<schema>/…, served at /media/<schema>/… on its own host.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / ".run" / "media")))
MEDIA_URL = "/media/"

# --- Backups of single businesses (termino.platform.backups; docs/operations.md) ------------------------
# Stored exports live here, encrypted; by default on the media volume (shared by web and worker pods), in a
# directory the media view never serves (it serves only MEDIA_ROOT/<the request's own schema>/).
BUSINESS_EXPORTS_ROOT = Path(env("BUSINESS_EXPORTS_ROOT", str(MEDIA_ROOT / ".exports")))
# Days a nightly copy is kept, per plan code ("plan:days,…"); plans not named get none.
NIGHTLY_EXPORT_DAYS = {
    code.strip(): int(days)
    for code, _sep, days in (
        item.partition(":") for item in env("NIGHTLY_EXPORT_DAYS", "professional:14,business:30").split(",")
    )
    if code.strip() and days.strip()
}
# The copy of a business taken before every restore (so a restore can be undone) is kept this long.
RESTORE_SAFETY_DAYS = env_int("RESTORE_SAFETY_DAYS", 30)
# Where an operator puts exports made on a scratch server for the superadmin's restore action.
RESTORE_INBOX = Path(env("RESTORE_INBOX", str(MEDIA_ROOT / ".restore-inbox")))
# AES-256 keys of the stored exports: URL-safe base64 of 32 bytes, comma-separated, the first encrypts
# (`manage.py backup_key` makes one). Empty: derived from SECRET_KEY (development only).
BACKUP_ENCRYPTION_KEYS = env("BACKUP_ENCRYPTION_KEYS")
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    # Production (DEBUG off) serves collected files under content-hashed names, cached for a year.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Request bodies (termino.shared.guard) --------------------------------------------------------------
# Refused with 413 by their Content-Length before they are read. Forms and JSON: Django's own limit.
# Multipart uploads (the customer CSV import takes 2 MB, logos 1 MB): nginx's client_max_body_size.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", 3 * 1024 * 1024)

# --- Celery ------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# An absent broker fails a publish within seconds instead of waiting for the OS's TCP timeout. (No read
# timeout: workers sit in blocking reads on the broker by design.)
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 3
# Workers log through LOGGING below (JSON lines with request id and schema), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "refill-schema-pool": {"task": "tenancy.refill_schema_pool", "schedule": 60.0},
    # Periodic work of the businesses (messages due, lapsed holds, …) is dispatched from the due index
    # (termino.platform.duework): one indexed query, a task only for businesses whose work is due.
    "due-dispatch": {"task": "duework.dispatch", "schedule": 30.0},
    # The safety net: every live business's next due times, written into the index (LEAST), so work whose
    # mark was lost between a commit and the index update is dispatched all the same.
    "due-sweep": {"task": "tenancy.fan_out", "schedule": 3600.0, "kwargs": {"task_name": "duework.repair"}},
}
# A dispatched row is pushed this far ahead while its run waits in the queue and works; a run that never
# finishes (lost task, killed worker) is dispatched again after it. Longer than a queue backlog lasts.
DUE_LEASE_SECONDS = env_int("DUE_LEASE_SECONDS", 600)

# --- Outgoing webhooks (termino.tenants.webhooks, docs/webhooks.md) -----------------------------------
# Targets that resolve to private, loopback, link-local or reserved addresses are refused (SSRF), at
# registration and again at every send. Allowed in development and tests, where receivers run locally.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", DEBUG)
# Retries stop this long after a delivery was queued; an endpoint failing this long is disabled.
WEBHOOKS_RETRY_DAYS = env_int("WEBHOOKS_RETRY_DAYS", 3)
# The delivery log (bodies may name customers) is deleted this long after a delivery's last attempt.
WEBHOOKS_LOG_DAYS = env_int("WEBHOOKS_LOG_DAYS", 30)
WEBHOOKS_MAX_ENDPOINTS = env_int("WEBHOOKS_MAX_ENDPOINTS", 10)
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env_int("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", 5)
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 10)
# A delivery left in `sending` this long (its worker died) is sent again: receivers dedupe by its id.
WEBHOOKS_STUCK_AFTER_SECONDS = env_int("WEBHOOKS_STUCK_AFTER_SECONDS", 300)

# --- Signup and e-mail confirmation (termino.platform.tenancy) ----------------------------------------
# Businesses one client IP may create (an IPv6 client counts per /64 network); refused signups get a page
# that says when to try again (429).
SIGNUPS_PER_IP_PER_HOUR = env_int("SIGNUPS_PER_IP_PER_HOUR", 3)
SIGNUPS_PER_IP_PER_DAY = env_int("SIGNUPS_PER_IP_PER_DAY", 10)
# The owner confirms the signup address through an e-mailed link, valid this long; until then the booking
# page takes no bookings and no SMS go out. New links from the backoffice banner, per business:
SIGNUP_CONFIRM_LINK_DAYS = env_int("SIGNUP_CONFIRM_LINK_DAYS", 7)
SIGNUP_CONFIRM_RESENDS_PER_HOUR = env_int("SIGNUP_CONFIRM_RESENDS_PER_HOUR", 3)
SIGNUP_CONFIRM_RESENDS_PER_DAY = env_int("SIGNUP_CONFIRM_RESENDS_PER_DAY", 10)
# Trial businesses still unconfirmed this long after signup are removed (schema and all), the owner
# warned by e-mail a day before; each removal is written to the platform log (tenancy.PlatformEvent).
SIGNUP_UNCONFIRMED_REMOVE_DAYS = env_int("SIGNUP_UNCONFIRMED_REMOVE_DAYS", 7)
CELERY_BEAT_SCHEDULE["tenancy-remove-unconfirmed"] = {
    "task": "tenancy.remove_unconfirmed",
    "schedule": 3600.0,
}

# --- Billing: plans and Stripe (termino.platform.billing) --------------------------------------------
# Stripe is reached only through termino/platform/billing/stripe_gateway.py; tests point STRIPE_API_BASE
# at a local fake server. The webhook endpoint is https://BASE_DOMAIN/billing/webhook/.
STRIPE_API_BASE = env("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", "")
STRIPE_WEBHOOK_TOLERANCE = env_int("STRIPE_WEBHOOK_TOLERANCE", 300)  # seconds a signature stays valid
STRIPE_TIMEOUT = env_int("STRIPE_TIMEOUT", 20)
# Connect: businesses take their customers' payments on their own Stripe accounts (tenants/payments). Its
# webhook endpoint (/billing/connect/webhook/, events of connected accounts) has its own signing secret; the
# platform's fee per payment is a share in basis points plus a fixed part, in cents.
STRIPE_CONNECT_WEBHOOK_SECRET = env("STRIPE_CONNECT_WEBHOOK_SECRET", "")
PAYMENTS_PLATFORM_FEE_BPS = env_int("PAYMENTS_PLATFORM_FEE_BPS", 100)
PAYMENTS_PLATFORM_FEE_FIXED_CENTS = env_int("PAYMENTS_PLATFORM_FEE_FIXED_CENTS", 0)
BILLING_TRIAL_PLAN = env("BILLING_TRIAL_PLAN", "starter")
BILLING_TRIAL_DAYS = env_int("BILLING_TRIAL_DAYS", 14)
BILLING_GRACE_DAYS = env_int("BILLING_GRACE_DAYS", 7)  # after a failed payment, before suspension
BILLING_RETENTION_DAYS = env_int("BILLING_RETENTION_DAYS", 90)  # data kept after cancellation
CELERY_BEAT_SCHEDULE["billing-suspend-overdue"] = {"task": "billing.suspend_overdue", "schedule": 600.0}

# --- Platform staff superadmin (termino.platform.staffadmin), at https://BASE_DOMAIN/staff/ ------------
# Staff (users of `public` with is_staff) sign in with password and a TOTP code. Their session ends this
# long after signing in, whatever they do (and with the browser).
STAFFADMIN_SESSION_SECONDS = env_int("STAFFADMIN_SESSION_SECONDS", 8 * 60 * 60)
# Failed sign-ins (wrong password or wrong code) per login name, and per IP address, within
# STAFFADMIN_LOCKOUT_SECONDS; once reached, signing in is refused until that time has passed.
STAFFADMIN_MAX_FAILURES = env_int("STAFFADMIN_MAX_FAILURES", 5)
STAFFADMIN_MAX_FAILURES_PER_IP = env_int("STAFFADMIN_MAX_FAILURES_PER_IP", 20)
STAFFADMIN_LOCKOUT_SECONDS = env_int("STAFFADMIN_LOCKOUT_SECONDS", 15 * 60)
# After the password, the code must follow within this time.
STAFFADMIN_PENDING_SECONDS = env_int("STAFFADMIN_PENDING_SECONDS", 5 * 60)
# The name authenticator apps show next to the staff member's login.
STAFFADMIN_TOTP_ISSUER = env("STAFFADMIN_TOTP_ISSUER", "Termino Staff")
# Impersonation: the one-time link must be used within GRANT_SECONDS; the session then lasts MINUTES.
STAFFADMIN_IMPERSONATION_GRANT_SECONDS = env_int("STAFFADMIN_IMPERSONATION_GRANT_SECONDS", 120)
STAFFADMIN_IMPERSONATION_MINUTES = env_int("STAFFADMIN_IMPERSONATION_MINUTES", 30)
# Last login, appointments and SMS of the businesses listed are counted per schema and kept this long.
STAFFADMIN_COUNTS_CACHE_SECONDS = env_int("STAFFADMIN_COUNTS_CACHE_SECONDS", 60)

# --- Retention rules and access log (termino.tenants.retention, termino.platform.accesslog) ----------
# Beat runs on UTC (CELERY_TIMEZONE is unset): nightly jobs at fixed UTC times never run twice or not at
# all when clocks change. 02:15 UTC is 03:15 in Berlin in winter and 04:15 in summer.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["retention-nightly"] = {
    "task": "tenancy.fan_out",
    "schedule": crontab(hour=2, minute=15),
    "kwargs": {"task_name": "retention.run"},
}
# Access log: the middleware pushes each request to a Redis list; this moves it into the table in bulk.
# Nightly copies of the businesses whose plan keeps them (termino.platform.backups), then the expired ones go.
CELERY_BEAT_SCHEDULE["backups-nightly"] = {
    "task": "tenancy.fan_out",
    "schedule": crontab(hour=1, minute=30),
    "kwargs": {"task_name": "backups.nightly_export"},
}
CELERY_BEAT_SCHEDULE["backups-prune"] = {"task": "backups.prune", "schedule": crontab(hour=3, minute=30)}
CELERY_BEAT_SCHEDULE["accesslog-flush"] = {"task": "accesslog.flush", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["accesslog-prune"] = {"task": "accesslog.prune", "schedule": crontab(hour=2, minute=45)}
# Platform staff log in on the platform host: their login IPs are shortened like a business's (LOGIN_IP_DAYS).
CELERY_BEAT_SCHEDULE["staff-login-ips-prune"] = {
    "task": "staffadmin.login_ips_prune",
    "schedule": crontab(hour=2, minute=50),
}
ACCESS_LOG_ENABLED = env_bool("ACCESS_LOG_ENABLED", True)
ACCESS_LOG_DAYS = env_int("ACCESS_LOG_DAYS", 14)  # entries older than this are deleted nightly
ACCESS_LOG_REDIS_URL = env("ACCESS_LOG_REDIS_URL", REDIS_URL)

# --- Calendar feeds and CalDAV sync (termino.tenants.calendars; docs/integrations.md) ---------------------
# Fernet keys of the stored CalDAV passwords and feed tokens, comma-separated; the first encrypts, all
# decrypt (rotation). Empty: derived from SECRET_KEY (development only).
CALENDAR_ENCRYPTION_KEYS = env("CALENDAR_ENCRYPTION_KEYS")
# A connected calendar is pulled at most this often (scheduled and "sync now" alike).
CALDAV_PULL_INTERVAL_SECONDS = env_int("CALDAV_PULL_INTERVAL_SECONDS", 300)
CALDAV_MIN_PULL_SECONDS = env_int("CALDAV_MIN_PULL_SECONDS", 180)
# How far ahead busy times are pulled (the longest booking horizon worth covering).
CALDAV_PULL_DAYS = env_int("CALDAV_PULL_DAYS", 180)
CALDAV_TIMEOUT_SECONDS = env_int("CALDAV_TIMEOUT_SECONDS", 15)
# CalDAV URLs pointing into private networks (loopback, RFC 1918, link-local) are refused unless allowed:
# the worker would otherwise fetch addresses of the platform's own network for whoever types them.
CALDAV_ALLOW_PRIVATE_HOSTS = env_bool("CALDAV_ALLOW_PRIVATE_HOSTS", DEBUG)
# Feed requests per token and per client IP and minute (calendar apps poll every 5 minutes or slower).
CALENDAR_FEED_PER_MINUTE = env_int("CALENDAR_FEED_PER_MINUTE", 20)

# --- Mail --------------------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# For EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", f"Termino <noreply@{BASE_DOMAIN}>")

# --- SMS ---------------------------------------------------------------------------------------------
# "console" prints, "file" appends JSON lines to SMS_FILE_PATH, "lox24" sends through LOX24's API.
SMS_BACKEND = env("SMS_BACKEND", "console")
LOX24_API_URL = env("LOX24_API_URL", "https://api.lox24.eu")
LOX24_TOKEN = env("LOX24_TOKEN", "")
LOX24_SERVICE_CODE = env("LOX24_SERVICE_CODE", "direct")
LOX24_TIMEOUT = env_int("LOX24_TIMEOUT", 10)
# Delivery reports come to https://BASE_DOMAIN/webhooks/lox24/<this secret>/ (set it in LOX24's console).
LOX24_WEBHOOK_SECRET = env("LOX24_WEBHOOK_SECRET", "")
SMS_FILE_PATH = Path(env("SMS_FILE_PATH", str(BASE_DIR / ".run" / "sms.jsonl")))
# A row still `sending` this long after its claim was left by a worker that died (or timed out): it is
# looked up at the provider and either recorded as sent or sent again. Longer than any request can take.
OUTBOX_STUCK_AFTER_SECONDS = env_int("OUTBOX_STUCK_AFTER_SECONDS", 300)
# Wait before the first retry after a temporary gateway error; doubled for each further attempt.
OUTBOX_BACKOFF_SECONDS = env_int("OUTBOX_BACKOFF_SECONDS", 30)

# --- Logging -----------------------------------------------------------------------------------------
# "json": one JSON object per line with time, level, logger, message, request_id and schema (production
# default, for log collectors); "text": the same fields readable by people (development default).
LOG_FORMAT = env("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "termino.shared.observability.logs.ContextFilter"}},
    "formatters": {
        "json": {
            "()": "termino.shared.observability.logs.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(schema)s",
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(schema)s %(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["context"], "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # axes reports every successful login at INFO; failures and lockouts (WARNING) are what matter.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # One line per request (route pattern, status, time); runserver prints its own in development.
        "termino.requests": {"level": env("REQUEST_LOG_LEVEL", "WARNING" if DEBUG else "INFO")},
    },
}

# --- Operations: health, metrics (termino.shared.observability) --------------------------------------
# /healthz (process up) and /readyz (database and Redis answer) on every host, for probes. /metrics
# (Prometheus) needs `Authorization: Bearer <METRICS_TOKEN>`; without a token it answers only loopback
# and private addresses (a scraper inside the cluster), never the internet.
METRICS_TOKEN = env("METRICS_TOKEN")
READINESS_TIMEOUT_SECONDS = float(env("READINESS_TIMEOUT_SECONDS", "2"))
