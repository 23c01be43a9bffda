"""Settings shared by every environment; everything that differs comes from the environment.

The split follows cookiecutter-django: ``local`` (the embedded default behind
``make run``), ``production`` (docker-compose, gunicorn) and ``test``.
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
SITE_URL = env("SITE_URL", default="http://localhost:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "klimop.apps.KlimopAdminConfig",  # django.contrib.admin with Klimop's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # Django's own widget templates, for FORM_RENDERER below
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "import_export",
    "django_celery_beat",
    "csp",
    "klimop",
    "klimop.notifications",
    "klimop.privacy",
    "communication.posts",
    "communication.chats",
    "communication.agenda",
    "absences",
    "conversations",
    "quality",
    "dashboard",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "klimop.middleware.DatabaseUnavailableMiddleware",
    "klimop.middleware.UserLanguageMiddleware",
    "klimop.middleware.ActiveSchoolMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "klimop.middleware.StaffTwoFactorMiddleware",
]

ROOT_URLCONF = "klimop.urls"
WSGI_APPLICATION = "klimop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # {% icon "home" %} on every page without a {% load %} (klimop/templatetags/icons.py).
            "builtins": ["klimop.templatetags.icons", "klimop.templatetags.people"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "klimop.context_processors.klimop",
                "klimop.notifications.context_processors.notifications",
                "communication.chats.context_processors.chats",
            ],
        },
    },
]

# Widgets render with the project's templates, so templates/admin/widgets/ can give the admin's
# split date/time inputs their labels (the default renderer sees only Django's own templates).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'klimop.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if "postgresql" in DATABASES["default"]["ENGINE"]:
    # A database that is down answers within ~2 s (libpq's minimum), not the OS's minutes of
    # TCP retries: the person gets the 503 "try again" page (klimop.middleware) quickly.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=2)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "klimop.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# --- django-allauth: e-mail login, invitation only, TOTP for staff ---------------
ACCOUNT_ADAPTER = "klimop.adapters.InvitationOnlyAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
# A login has one address; the person changes it themself (/accounts/email/), and the new
# one replaces the old only once confirmed from its mailbox. Nobody else changes it.
ACCOUNT_CHANGE_EMAIL = True
# Failed logins are limited strictly per e-mail address (a password guesser gets 5 tries per
# 5 minutes, then the person is told when to retry and that a password reset works) and only
# loosely per IP address: a whole school on one Wi-Fi logs in at 08:00 from one address, and
# one parent's typos must not lock out the others. Both are counted per real client behind
# the proxy (ALLAUTH_TRUSTED_PROXY_COUNT below).
ACCOUNT_RATE_LIMITS = {
    "login": "300/m/ip",
    "login_failed": "300/5m/ip,5/5m/key",
    "reset_password": "60/m/ip,5/m/key",
    "reset_password_from_key": "60/m/ip",
    "confirm_email": "1/3m/key",
}
# How many proxies in front of the web server append to X-Forwarded-For (the TLS proxy: 1).
# 0 (locally, or when clients reach gunicorn directly) ignores the header — a client could
# forge it — and counts REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Klimop] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Klimop"
# Staff handle children's data: when this is on, staff must set up TOTP before
# they can use anything but the two-factor pages (klimop.middleware).
KLIMOP_STAFF_REQUIRE_2FA = env.bool("KLIMOP_STAFF_REQUIRE_2FA", default=False)
# How often an open chat page asks whether something new came in (an empty answer costs one query).
KLIMOP_CHAT_POLL_SECONDS = env.int("KLIMOP_CHAT_POLL_SECONDS", default=10)

# --- Content-Security-Policy (django-csp) ------------------------------------------
# Every page, in every environment (the browser tests run with it): scripts and styles only
# from Klimop's own static files — no inline <script>, no on…= handlers, no style="…"
# attributes (tests/test_security_headers.py). Scripts set sizes through element.style
# (CSSOM), which the policy allows. img-src also allows data: and blob: (the admin's and
# allauth's inline images such as the TOTP QR code, local previews of chosen photos).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF],
        "worker-src": [SELF],  # the service worker at /sw.js (browser push)
        "manifest-src": [SELF],
        "frame-src": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# --- i18n: Dutch first, English available; Europe/Amsterdam everywhere ----------
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

# --- static and uploaded files -------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads (children's photos) never live under a public URL: they are served by
# views that check the access rules.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "private-media")))
# No URL pattern serves this prefix (Django's test server needs a non-empty value).
MEDIA_URL = "/__private-media__/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- e-mail ---------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Klimop <noreply@klimop.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds one SMTP attempt may wait for the mail server: a hung server must not hold a
# row lock or the mail worker for long (the batch then ends, its rows try again later).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- browser push (Web Push with VAPID) -------------------------------------------
# `python manage.py webpush_keys` prints a fresh pair. Without both keys push is off:
# the notifications page does not offer it and nothing is pushed.
WEBPUSH_VAPID_PUBLIC_KEY = env("WEBPUSH_VAPID_PUBLIC_KEY", default="")
WEBPUSH_VAPID_PRIVATE_KEY = env("WEBPUSH_VAPID_PRIVATE_KEY", default="")
# Who the push services may contact about our pushes: a mailto: or https: URL.
WEBPUSH_VAPID_SUBJECT = env(
    "WEBPUSH_VAPID_SUBJECT",
    default=SITE_URL if SITE_URL.startswith("https://") else "mailto:noreply@klimop.localhost",
)

# --- cache (allauth's rate limits need a real, shared cache) ---------------------
# With Redis the backend answers from this process's memory while Redis is down (short
# timeouts, Redis tried again after FALLBACK_PAUSE seconds): logins keep working, their limits
# are then counted per process (klimop/cache.py). Sessions are in the database, not the cache.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "klimop.cache.RedisWithFallbackCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.5},
            "FALLBACK_PAUSE": 30,
        }
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "klimop_cache"}
    }

# --- Celery -----------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Results are not needed (the database is the truth); a backend can be set for diagnostics.
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# E-mail and push wait on servers outside Klimop: they have their own queue and worker
# (docker-compose.yml "mail-worker", `make run` starts one too), so a hanging mail server
# never delays the default queue (in-app notifications, reminders, escalations, invitations).
CELERY_MAIL_QUEUE = "mail"
CELERY_TASK_ROUTES = {
    "klimop.notifications.tasks.send_due_notification_emails": {"queue": CELERY_MAIL_QUEUE},
    "klimop.notifications.tasks.send_due_notification_pushes": {"queue": CELERY_MAIL_QUEUE},
}
# The database is the truth; these periodic sweeps find due work again even if an
# enqueue was lost (outbox pattern). Later capabilities add their sweeps here.
CELERY_BEAT_SCHEDULE = {
    "klimop-heartbeat": {"task": "klimop.tasks.heartbeat", "schedule": 60.0},
    "communication-notification-emails": {
        "task": "klimop.notifications.tasks.send_due_notification_emails",
        "schedule": 60.0,
    },
    "communication-notification-pushes": {
        "task": "klimop.notifications.tasks.send_due_notification_pushes",
        "schedule": 60.0,
    },
    # Enters the coming school year from the national calendar (from 1 March), once.
    "klimop-prepare-school-years": {
        "task": "klimop.tasks.prepare_school_years",
        "schedule": 86400.0,
    },
    # Asks parents again for photo consent at the start of a school year (office hours only).
    "klimop-consent-renewal": {
        "task": "klimop.privacy.tasks.consent_renewal_sweep",
        "schedule": 3600.0,
    },
    "communication-posts-notify-due": {
        "task": "communication.posts.tasks.notify_due_posts",
        "schedule": 60.0,
    },
    "communication-posts-rhythm-reminder": {
        "task": "communication.posts.tasks.remind_post_rhythm",
        "schedule": 900.0,
    },
    # Photos and files kept for a post form nobody finished go after a day.
    "communication-posts-clean-pending-uploads": {
        "task": "communication.posts.tasks.clean_pending_uploads",
        "schedule": 3600.0,
    },
    # Reminds parents of important agenda events (from 08:00 on the reminder day).
    "communication-agenda-event-reminders": {
        "task": "communication.agenda.tasks.send_event_reminders",
        "schedule": 900.0,
    },
    # The answer clock of parents' chat messages: reminder to staff, escalation to the director.
    "communication-chats-answer-reminders": {
        "task": "communication.chats.tasks.send_answer_reminders",
        "schedule": 300.0,
    },
    "communication-chats-answer-escalations": {
        "task": "communication.chats.tasks.send_answer_escalations",
        "schedule": 300.0,
    },
    # Per-child chats: created for every pupil of the school year, members kept in step.
    "communication-chats-sync-child-conversations": {
        "task": "communication.chats.tasks.sync_child_conversations",
        "schedule": 3600.0,
    },
    # Sickness follow-up: a task for the teacher at the N-th school day of a spell (once per spell).
    "absences-follow-ups": {
        "task": "absences.tasks.create_due_follow_ups",
        "schedule": 300.0,
    },
    "absences-forget-pending-statements": {
        "task": "absences.tasks.forget_pending_statements",
        "schedule": 86400.0,
    },
    # Conversation planner: invitations at opening (office hours), reminders the day before,
    # and the teachers' "who did not book" notice at closing. Each at most once per person.
    "conversations-planner-invitations": {
        "task": "conversations.tasks.send_planner_invitations",
        "schedule": 900.0,
    },
    "conversations-planner-reminders": {
        "task": "conversations.tasks.send_planner_reminders",
        "schedule": 900.0,
    },
    "conversations-planner-closing-notices": {
        "task": "conversations.tasks.send_planner_closing_notices",
        "schedule": 900.0,
    },
}
# A broker that is down must not make a write wait (the enqueue happens inside the request):
# a short connect timeout and no reconnect retries when publishing. Workers reconnect on
# their own (Celery's broker_connection_retry). The socket timeout stays above the 1 s of the
# workers' BRPOP polling.
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
KLIMOP_REDIS_BROKER_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 1.0,
    "socket_timeout": 5.0,
    "max_retries": 0,
}
CELERY_FILESYSTEM_DIR = Path(env("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery")))
CELERY_QUEUE_DIR = CELERY_FILESYSTEM_DIR / "queue"
CELERY_PROCESSED_DIR = CELERY_FILESYSTEM_DIR / "processed"
CELERY_CONTROL_DIR = CELERY_FILESYSTEM_DIR / "control"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu does not create the folders of its filesystem transport itself.
    for _folder in (CELERY_QUEUE_DIR, CELERY_PROCESSED_DIR, CELERY_CONTROL_DIR):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR),
        "data_folder_out": str(CELERY_QUEUE_DIR),
        "processed_folder": str(CELERY_PROCESSED_DIR),
        "control_folder": str(CELERY_CONTROL_DIR),
        "store_processed": False,
        "polling_interval": 0.5,
    }
else:
    # Redis redelivers unacked tasks after the visibility timeout; we never hold
    # work in long ETA tasks, so an hour is plenty.
    CELERY_BROKER_TRANSPORT_OPTIONS = KLIMOP_REDIS_BROKER_OPTIONS

# After one failed enqueue a process skips the broker for this many seconds (klimop/queue.py).
KLIMOP_BROKER_PAUSE = 30

# --- health (klimop/health.py, /healthz/ready, manage.py health) ----------------------------
# Beat's heartbeat runs every minute; older than this, beat or the workers are stuck.
KLIMOP_HEALTH_HEARTBEAT_MAX_AGE = env.int("KLIMOP_HEALTH_HEARTBEAT_MAX_AGE", default=300)
# The sweeps run every minute; a notification due for longer than this is stuck in the outbox.
KLIMOP_HEALTH_OUTBOX_MAX_AGE = env.int("KLIMOP_HEALTH_OUTBOX_MAX_AGE", default=600)
# Who may read the details of /healthz/ready (ages, counts, errors) besides the admin's staff:
# a monitoring system sending "Authorization: Bearer <token>". Empty: staff only.
KLIMOP_HEALTH_TOKEN = env("KLIMOP_HEALTH_TOKEN", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

KLIMOP_DEMO_PASSWORD = env("KLIMOP_DEMO_PASSWORD", default="klimop-demo-2026")
