"""Settings, all from environment variables (see README "Configuration")."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


LEDGER_DATA_DIR = Path(os.environ.get("LEDGER_DATA_DIR") or BASE_DIR / "var").resolve()

# Production is the default: debug only where asked for (`make demo` and the tests' settings set it).
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
    elif not os.environ.get("DATABASE_URL"):
        # The embedded database: one machine running the product on its own data directory. Its key is
        # made once and kept there (mode 600), so every process of that installation shares it.
        from .embedded_db import local_secret_key

        SECRET_KEY = local_secret_key(LEDGER_DATA_DIR)
    else:
        raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served by us, not from a CDN
    "django_otp",
    "django_otp.plugins.otp_email",
    "axes",
    "ledger",
    "cusin",
    "claims",
    "distribution",
    "accounting",
    "portal360",
    "invoiceportal",
    "api",
    "businessday",
    "demo",
]

MIDDLEWARE = [
    # First: the request id for every log line below it, and the action log of what the answer did.
    "payex_ledger.middleware.ActionLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal360.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into our "account locked" page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Production serves collected static files itself; runserver does it in development.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")  # right after SecurityMiddleware

ROOT_URLCONF = "payex_ledger.urls"
WSGI_APPLICATION = "payex_ledger.wsgi.application"
AUTH_USER_MODEL = "ledger.User"
LOGIN_URL = "portal360:login"
LOGIN_REDIRECT_URL = "portal360:start"
AUTHENTICATION_BACKENDS = [
    # First: counts failed sign-ins and refuses a locked-out user before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # A client's own OpenID Connect sign-in, "by agreement" (portal360.models.ClientFederation).
    "portal360.oidc.ClientOIDCBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Older hashes still verify, and are upgraded to Argon2 at the next sign-in.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# --- Sign-in to 360 (portal360/): second factor, lockout, sessions --------------------------------
# A one-time code by SMS or e-mail after the password, asked again when the last one on this device is
# older than the client's period (Client.second_factor_hours; this default for our own staff).
SECOND_FACTOR_HOURS = int(os.environ.get("SECOND_FACTOR_HOURS", "12"))
OTP_EMAIL_TOKEN_VALIDITY = int(os.environ.get("SECOND_FACTOR_CODE_VALID_SECONDS", "600"))
OTP_EMAIL_SUBJECT = "Ledger Service 360: your sign-in code"
OTP_EMAIL_BODY_TEMPLATE_PATH = "portal360/email/second_factor_code.txt"
OTP_EMAIL_COOLDOWN_DURATION = 30
# django-axes: after AXES_FAILURE_LIMIT failed passwords for one username, it is locked for the period.
AXES_FAILURE_LIMIT = int(os.environ.get("SIGNIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SIGNIN_LOCKOUT_MINUTES", "15")))
# Each on its own: too many failures for one username, or from one address, lock that one.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Behind a proxy (docker-compose: one), the client's address is the last-but-N of X-Forwarded-For.
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("SIGNIN_PROXY_COUNT", "0")) or None
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal360.views.auth.locked_out"
AXES_VERBOSE = False
# Sessions end after this much idle time (each request moves the expiry on).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
# Content-Security-Policy (django-csp) on every answer: scripts and styles only from our own origin, no
# inline script or style attribute anywhere; the one inline <style> is pygal's in the dashboard's SVG
# charts, allowed by the request's nonce (portal360/views/dashboard.py). No framing (clickjacking),
# forms post only to us.
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Cookies only over HTTPS in production (a TLS proxy in front); DJANGO_SECURE_COOKIES=0 for a local trial.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # the load balancer's check may come over plain HTTP
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    # The service's hosts are HTTPS only, subdomains included (set both to 0 where that is not so).
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# Database: DATABASE_URL, or the embedded PostgreSQL under LEDGER_DATA_DIR.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
EMBEDDED_DATABASE = not DATABASE_URL
if EMBEDDED_DATABASE:
    from .embedded_db import embedded_database_url

    DATABASE_URL = embedded_database_url(LEDGER_DATA_DIR)
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The 360 UI and the invoice portal: Norwegian bokmål, English, Swedish, Danish (LocaleMiddleware picks
# from the browser, the language switch from the session cookie).
LANGUAGES = [("nb", "Norsk bokmål"), ("en", "English"), ("sv", "Svenska"), ("da", "Dansk")]
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
TIME_ZONE = "UTC"
# The day the beat-scheduled business day runs for (each ledger books in its own time zone).
BUSINESS_TIME_ZONE = os.environ.get("BUSINESS_TIME_ZONE", "Europe/Oslo")
# Workers sharing the beat's business day, one ledger (a chunk) at a time each (businessday/daily.py).
BUSINESS_DAY_WORKERS = max(1, int(os.environ.get("BUSINESS_DAY_WORKERS", "1")))
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or LEDGER_DATA_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = LEDGER_DATA_DIR / "media"

# Celery: eager (in-process) unless a broker is configured.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "") or REDIS_URL
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "") or REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = BUSINESS_TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Queues per job kind, so a long import cannot hold up the business day or the sending (docker-compose.yml
# runs a worker per queue; docs/scaling.md). Off by default: a single worker on the default queue then
# runs everything.
CELERY_QUEUES_BY_KIND = os.environ.get("CELERY_QUEUES_BY_KIND", "") == "1"
TASK_QUEUES = {
    "cusin.scan_inbox": "imports",
    "claims.run_daily": "daily",
    "businessday.work": "daily",
    "distribution.distribute_documents": "distribution",
}
if CELERY_QUEUES_BY_KIND:
    CELERY_TASK_ROUTES = {name: {"queue": queue} for name, queue in TASK_QUEUES.items()}
# A worker may die in the middle of a task (SIGKILL, out of memory, the machine gone; docs/reliability.md).
# A task is acknowledged only once it has finished, so the broker delivers it again; a prefork child that
# dies puts its task back at once; each worker process reserves one task at a time, so a dead worker
# holds no others. With Redis, a message a whole dead worker had taken returns to the queue after the
# visibility timeout: it must be longer than the longest task (the business day), or a task still running
# would be delivered a second time. Every task is safe to run again and in parallel (a file by its digest,
# a day by what each part has done, a document by its claim): a second delivery books nothing twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The worker logs through LOGGING (JSON lines with the request id, payex_ledger/logs.py), not its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT_SECONDS", str(6 * 3600)))
}
if os.environ.get("CELERY_RESTORE_SWEEP_SECONDS"):
    # How often a worker looks for messages whose visibility timeout has passed (kombu sweeps every 10 s
    # and scans every 10th sweep: up to 100 s; the fault tests want it within a second or two).
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "unacked_restore_interval": int(os.environ["CELERY_RESTORE_SWEEP_SECONDS"]),
        "unacked_restore_throttle": 1,
    }
CELERY_BEAT_SCHEDULE = {
    # Import complete files from every client's sFTP inbox (cusin/inbox.py).
    "cusin-scan-inbox": {"task": "cusin.scan_inbox", "schedule": 60.0, "options": {"expires": 55}},
    # The business day (businessday/daily.py) once a day, early, in the service's time zone.
    "claims-run-daily": {
        "task": "claims.run_daily",
        # BUSINESS_DAY_EVERY_SECONDS (tests, demos) runs it every so many seconds instead.
        "schedule": int(os.environ["BUSINESS_DAY_EVERY_SECONDS"])
        if os.environ.get("BUSINESS_DAY_EVERY_SECONDS")
        else crontab(hour=int(os.environ.get("BUSINESS_DAY_HOUR", "5")), minute=0),
    },
}

# E-mail: SMTP when EMAIL_HOST is set, else files under LEDGER_DATA_DIR/mail.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = LEDGER_DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ledger@localhost")

# CUSIN files larger than this are rejected whole (PayEx's limit is 100 MB).
CUSIN_MAX_FILE_BYTES = int(os.environ.get("CUSIN_MAX_FILE_BYTES", str(100 * 1024 * 1024)))
CUSIN_MAX_INVOICES = int(os.environ.get("CUSIN_MAX_INVOICES", "50000"))
# sFTP inbox: a file untouched for this long counts as completely uploaded; a claimed file whose
# import has shown no progress for CUSIN_INBOX_STALE_SECONDS is taken over and resumed.
CUSIN_INBOX_MIN_AGE_SECONDS = int(os.environ.get("CUSIN_INBOX_MIN_AGE_SECONDS", "5"))
CUSIN_INBOX_STALE_SECONDS = int(os.environ.get("CUSIN_INBOX_STALE_SECONDS", "600"))

# Our ids at Nets for AvtaleGiro claim files (data transmitter, 8 digits; agreement, 9 digits).
NETS_DATA_TRANSMITTER = os.environ.get("NETS_DATA_TRANSMITTER", "00000000")
NETS_AVTALEGIRO_AGREEMENT_ID = os.environ.get("NETS_AVTALEGIRO_AGREEMENT_ID", "000000000")
# Our customer number at Bankgirot in Autogiro request files (6 digits); the payee bankgiro number is
# the ledger's client-funds account.
BANKGIROT_CUSTOMER_NUMBER = os.environ.get("BANKGIROT_CUSTOMER_NUMBER", "000000")
# Our ids at Nets in Betalingsservice deliveries: data supplier CVR no and PBS creditor no (8 digits
# each), debtor group (5 digits).
NETS_BS_CVR = os.environ.get("NETS_BS_CVR", "00000000")
NETS_BS_PBS_NO = os.environ.get("NETS_BS_PBS_NO", "00000000")
NETS_BS_DEBTOR_GROUP = os.environ.get("NETS_BS_DEBTOR_GROUP", "00001")

# --- Distribution (distribution/): archive, invoice portal links, SMS, print ----------------------
# The document archive: local files under LEDGER_DATA_DIR/documents, or an S3-compatible bucket when
# DOCUMENT_ARCHIVE_S3_BUCKET is set (needs boto3: pip install -e ".[s3]").
DOCUMENT_ARCHIVE_S3_BUCKET = os.environ.get("DOCUMENT_ARCHIVE_S3_BUCKET", "")
if DOCUMENT_ARCHIVE_S3_BUCKET:
    STORAGES["documents"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": DOCUMENT_ARCHIVE_S3_BUCKET,
            "endpoint_url": os.environ.get("DOCUMENT_ARCHIVE_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("DOCUMENT_ARCHIVE_S3_REGION") or None,
            "location": os.environ.get("DOCUMENT_ARCHIVE_S3_PREFIX", "documents"),
            "file_overwrite": False,
            "default_acl": None,
        },
    }
else:
    STORAGES["documents"] = {
        # written whole or not at all (a temporary name, fsync, then the real name)
        "BACKEND": "ledger.outbox.AtomicFileSystemStorage",
        "OPTIONS": {"location": str(LEDGER_DATA_DIR / "documents")},
    }
# invoice portal: links in e-mails, SMS and PDFs are <base>/<token>/ (invoiceportal.PortalLink: random
# tokens, only their hash stored); requests per client address and links that did not open are limited.
INVOICE_PORTAL_BASE_URL = os.environ.get("INVOICE_PORTAL_BASE_URL", "http://127.0.0.1:8000/p")
INVOICE_PORTAL_LINK_MAX_AGE_DAYS = int(os.environ.get("INVOICE_PORTAL_LINK_MAX_AGE_DAYS", "180"))
INVOICE_PORTAL_RATE_LIMIT = os.environ.get("INVOICE_PORTAL_RATE_LIMIT", "120/min")
INVOICE_PORTAL_BAD_LINK_LIMIT = os.environ.get("INVOICE_PORTAL_BAD_LINK_LIMIT", "20/hour")
# Adapters by payment method (vipps, swish, card) and for identification; unset: the built-in test ones.
INVOICE_PORTAL_PAYMENT_PROVIDERS = {}
INVOICE_PORTAL_IDENTITY_PROVIDER = os.environ.get("INVOICE_PORTAL_IDENTITY_PROVIDER", "")
# Invoice attachments (distribution/services/attachments.py): PDFs whose pages follow the invoice's.
INVOICE_ATTACHMENT_MAX_BYTES = int(os.environ.get("INVOICE_ATTACHMENT_MAX_BYTES", str(5 * 1024 * 1024)))
INVOICE_ATTACHMENTS_MAX = int(os.environ.get("INVOICE_ATTACHMENTS_MAX", "5"))
# eFaktura 2.0 alias register (Norway, distribution/efaktura.py): the adapter, and the JSON file the
# file-backed one reads; a match is looked up again when older than EFAKTURA_MATCH_DAYS.
EFAKTURA_REGISTER = os.environ.get("EFAKTURA_REGISTER", "distribution.efaktura.FileRegister")
EFAKTURA_REGISTER_FILE = Path(os.environ.get("EFAKTURA_REGISTER_FILE") or LEDGER_DATA_DIR / "efaktura" / "register.json")
EFAKTURA_MATCH_DAYS = int(os.environ.get("EFAKTURA_MATCH_DAYS", "7"))

# SMS: files under LEDGER_DATA_DIR/sms unless SMS_HTTP_URL names an HTTP gateway (JSON POST).
SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = os.environ.get("SMS_HTTP_TOKEN", "")
SMS_SENDER = os.environ.get("SMS_SENDER", "PayEx")
SMS_HTTP_TIMEOUT_SECONDS = int(os.environ.get("SMS_HTTP_TIMEOUT_SECONDS", "10"))
# A document claimed this long ago and still "processing" (its worker died) is taken over.
DOCUMENT_CLAIM_STALE_SECONDS = int(os.environ.get("DOCUMENT_CLAIM_STALE_SECONDS", "900"))
# A document whose sending failed is retried no sooner than this after its first attempt, twice that
# after its second (distribution/services/sending.py); MAX_SEND_ATTEMPTS in all.
DOCUMENT_RETRY_BACKOFF_SECONDS = int(os.environ.get("DOCUMENT_RETRY_BACKOFF_SECONDS", "300"))
# A bank file claimed for import this long ago and still in processing/ (its worker died, or the import
# failed on an outage) is taken over and imported again (ledger/payments/inbox.py).
BANK_INBOX_STALE_SECONDS = int(os.environ.get("BANK_INBOX_STALE_SECONDS", "600"))

# REST API (api/ and each app's api.py). A token without its own limit gets API_RATE_LIMIT
# (counted per token in PostgreSQL: api/throttling.py).
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "1200/min")
API_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 200
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.TokenScopePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ledger Service API",
    "DESCRIPTION": (
        "Per-ledger REST API: invoices, customers, actions, payments, documents (PDF), CUSIN upload and "
        "outbox files. "
        "Authenticate with `Authorization: Bearer <token>` (create one with `manage.py create_api_token`). "
        "Errors are `application/problem+json` with a stable `code`. POSTs accept an `Idempotency-Key`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags from the first path segment after the ledger: invoices, customers, payments, files, ...
    "SCHEMA_PATH_PREFIX": r"/api/v1/ledgers/\{company_no\}",
    # Choice sets that share a field name ("kind", "status") get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "DocumentKindEnum": "distribution.models.DocumentKind",
        "DocumentStatusEnum": "distribution.models.DocumentStatus",
        "DocumentChannelEnum": "distribution.models.Channel",
        "PaperRouteEnum": "distribution.models.PaperRoute",
        "ConsentKindEnum": "ledger.models.ConsentKind",
    },
}

# One JSON object per line with the request id (payex_ledger/logs.py); LOG_FORMAT=text for plain lines.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "payex_ledger.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "payex_ledger.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "text" if os.environ.get("LOG_FORMAT", "json") == "text" else "json",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
