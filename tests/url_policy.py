"""Every URL of Klimop and what each role must get from it (issue 9, "Trust boundaries", point 3).

``urls()`` walks the whole URL configuration (``get_resolver()``, through every include:
Klimop's apps, allauth, the admin site with each registered model). ``POLICY`` declares, for
every pattern, the expected outcome per role; tests/test_url_policy.py fails for a pattern
without an entry, requests every page as each of the twelve roles, and requests every URL
with object ids with the ids of other people's objects.

Outcomes (``classify`` turns a response into one):

- ``ok``       200
- ``login``    302 to the login page (anonymous)
- ``gate``     302 to the admin's login, which then answers 403 (signed in, not a manager)
- ``redirect`` another 3xx (a page that sends this role elsewhere, or a form that redirects)
- ``denied``   403 or 404 (not yours, not your role; a missing object looks the same)
- ``405``      wrong method (POST-only endpoints on GET, and the reverse)
- ``400``      bad request (a JSON endpoint without its parameters)

A role maps to a set of acceptable outcomes; most pages have exactly one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver

ROLES = (
    "anonymous",
    "parent",  # gezag, full access (Noor, 5a)
    "other_group_parent",  # gezag, full access (Sem, 6b)
    "info_parent",  # without gezag, information on request (Noor)
    "step_parent",  # step-parent without the custodial parents' consent (Noor)
    "barred_parent",  # court order (Sem)
    "teacher",  # teacher of 5a
    "other_teacher",  # teacher of 6b
    "care_coordinator",  # IB, school A
    "office",  # school A
    "director",  # school A
    "other_director",  # school B
)

# Per role: the sets of objects that are other people's (the sets are built and described in
# tests/test_url_policy.py, "the cast"). Their ids must be refused, their data never shown.
FOREIGN: dict[str, tuple[str, ...]] = {
    "anonymous": ("A5a", "A6b", "A", "B", "GLOBAL"),
    "parent": ("A6b", "B", "GLOBAL"),
    "other_group_parent": ("A5a", "B", "GLOBAL"),
    "info_parent": ("A5a_private", "A5a_parents", "A6b", "B", "GLOBAL"),
    "step_parent": ("A5a", "A6b", "A", "B", "GLOBAL"),
    "barred_parent": ("A6b", "A", "B", "GLOBAL"),
    "teacher": ("A5a_parents", "A6b", "B", "GLOBAL"),
    "other_teacher": ("A5a", "B", "GLOBAL"),
    "care_coordinator": ("A5a_private", "A5a_parents", "B", "GLOBAL"),
    "office": ("A5a_private", "A5a_parents", "B", "GLOBAL"),
    "director": ("A5a_private", "A5a_parents", "B", "GLOBAL"),
    "other_director": ("A5a", "A6b", "A", "GLOBAL"),
}

# Where each guardian's own child belongs (the set named after that family).
OWN_CHILD = {
    "parent": "A5a",
    "info_parent": "A5a",
    "step_parent": "A5a",
    "other_group_parent": "A6b",
    "barred_parent": "A6b",
}

PARENTS = ("parent", "other_group_parent", "info_parent", "step_parent", "barred_parent")
TEACHERS = ("teacher", "other_teacher")
WHOLE_SCHOOL = ("care_coordinator", "office", "director", "other_director")
MANAGERS = ("office", "director", "other_director")
STAFF = TEACHERS + WHOLE_SCHOOL
SIGNED_IN = PARENTS + STAFF


@dataclass(frozen=True)
class Url:
    key: str  # "namespace:name", or the full route of an unnamed pattern
    route: str  # the full route, prefixes included
    params: tuple  # keyword arguments the pattern captures
    callback: object

    def path(self, **kwargs) -> str:
        out = self.route
        out = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m[1]]), out)
        out = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m[1]]), out)
        return "/" + out.replace("^", "").replace("$", "")


def urls() -> list[Url]:
    found: list[Url] = []

    def walk(patterns, prefix, namespace, params):
        for p in patterns:
            here = params + _params(p)
            if isinstance(p, URLResolver):
                ns = namespace
                if p.namespace:
                    ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
                walk(p.url_patterns, prefix + str(p.pattern), ns, here)
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                name = f"{namespace}:{p.name}" if namespace and p.name else p.name
                key = name or route  # an unnamed pattern (the admin's redirects) by its route
                found.append(Url(key, route, here, p.callback))

    walk(get_resolver().url_patterns, "", None, ())
    return found


def _params(p) -> tuple:
    pattern = p.pattern
    if hasattr(pattern, "converters") and pattern.converters:
        return tuple(pattern.converters)
    return tuple(pattern.regex.groupindex)


def classify(response) -> str:
    code = response.status_code
    if code == 200:
        return "ok"
    if code in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        if location.startswith("/accounts/login/"):
            return "login"
        if location.startswith("/admin/login/"):
            return "gate"
        return "redirect"
    if code in (403, 404):
        return "denied"
    return str(code)


# --- outcomes per role --------------------------------------------------------------------------

GROUPS = {
    "parents": PARENTS,
    "teachers": TEACHERS,
    "whole_school": WHOLE_SCHOOL,
    "managers": MANAGERS,
    "staff": STAFF,
    "signed_in": SIGNED_IN,
}


def per_role(default: str, **outcomes: str) -> dict[str, frozenset[str]]:
    """``default`` for every role, then groups (``parents=``, ``staff=`` …), then single roles.
    An outcome "a|b" accepts either."""
    table = dict.fromkeys(ROLES, default)
    for name, outcome in outcomes.items():
        if name in GROUPS:
            table.update(dict.fromkeys(GROUPS[name], outcome))
    for name, outcome in outcomes.items():
        if name not in GROUPS:
            assert name in ROLES, name
            table[name] = outcome
    return {role: frozenset(value.split("|")) for role, value in table.items()}


@dataclass(frozen=True)
class Policy:
    """``get``: the outcome per role of a GET (for URLs with ids: with *other people's* ids).
    ``ids``: set of objects -> list of kwargs naming objects of that set (None: no ids).
    ``post``: the outcome per role of a POST with other people's ids (None: not posted);
    ``data``: set -> the POST body, as if the role were allowed to do it."""

    get: dict
    ids: object = None
    post: dict | None = None
    data: object = field(default=lambda s: {})
    names_own_child: bool = False
    # A page without ids in its path that takes them in its query string: set -> query ("" when
    # the set has nothing to try). The answer is the page's own outcome, without their data,
    # and never matching ``refused`` (a regex) when given.
    query: object = None
    refused: str | None = None
    # Other formats of the same page (``?format=csv``): the same outcome per role.
    formats: tuple = ()


# Pages without ids.
PUBLIC = per_role("ok")
PAGE = per_role("ok", anonymous="login")  # every signed-in user
PARENT_PAGE = per_role("ok", anonymous="login", staff="redirect")  # staff go to their dashboard
PARENT_ONLY = per_role("ok", anonymous="login", staff="denied")
ACTING_PARENT = per_role("denied", anonymous="login", parent="ok", other_group_parent="ok")
STAFF_PAGE = per_role("ok", anonymous="login", parents="denied")
WHOLE_SCHOOL_PAGE = per_role("ok", anonymous="login", parents="denied", teachers="denied")
MANAGER_PAGE = per_role("denied", anonymous="login", managers="ok")
OWN_POST_ONLY = per_role("405", anonymous="login")  # POST-only, acts on the user's own data
# The admin: only directors and the office pass the gate; each model is scoped to their school.
ADMIN_PAGE = per_role("gate", managers="ok")
ADMIN_SUPERUSER = per_role("gate", managers="denied")
ADMIN_POST_ONLY = per_role("gate", managers="405")
# Other people's objects: never shown, never changed.
OTHERS = per_role("denied", anonymous="login")
OTHERS_POST_ONLY = per_role("405", anonymous="login")  # a GET; the POST must be OTHERS
ADMIN_OTHERS = per_role("gate", managers="redirect|denied")  # the admin's "does not exist" redirect
# A form posted with other people's ids in its body: refused one way or another (404, the form
# again with an error, a redirect with a message) — and nothing is stored.
REFUSED = per_role("denied|400|ok|redirect", anonymous="login")
SUBMISSION = "5d1c9a64-3f0e-4b8e-9d57-2f6f1a0c7e11"


def form(policy_get, data, **kwargs):
    return Policy(policy_get, post=REFUSED, data=data, **kwargs)


def _query(key, name):
    """``?name=<pk of the set's key>``; "" for a set without that key."""
    return lambda s: f"{name}={s[key].pk}" if key in s else ""


def _with(*keys):
    """POST data from a set that has ``keys``; {} (not posted) for one that does not."""

    def wrap(build):
        return lambda s: build(s) if all(k in s for k in keys) else {}

    return wrap


def ids(*kinds, kw="pk"):
    def make(s):
        return [{kw: s[k].pk} for k in kinds if k in s]

    return make


def _with_round(key, kw):
    def make(s):
        return [{"pk": s["round_ctx"].pk, kw: s[key].pk}] if key in s else []

    return make


def others(kinds, *, data=None, post_only=False, get=None):
    """A URL with the id of one of ``kinds`` (set keys; a tuple for several)."""
    kinds = (kinds,) if isinstance(kinds, str) else kinds
    make = kinds if callable(kinds) else ids(*kinds)
    return Policy(
        get=get or (OTHERS_POST_ONLY if post_only else OTHERS),
        ids=make,
        post=OTHERS if (post_only or data is not None) else None,
        data=data or (lambda s: {}),
    )


CHATS = ("conversation", "child_conversation", "group_conversation", "parents_conversation")


def _slot_of(s):
    return {f"slot_{s['pupil'].pk}": s["free_slot"].pk} if "pupil" in s else {}


POLICY: dict[str, Policy] = {
    # klimop
    "home": Policy(PARENT_PAGE),
    "staff_dashboard": Policy(per_role("ok", anonymous="login", parents="redirect")),
    "pupil_detail": others("pupil"),
    "contact_details": Policy(PARENT_PAGE),
    "my_name": Policy(PAGE),  # the user's own name on their login
    # The link mailed to a guardian's new address carries that address (signed, not secret):
    # the page names only it. Confirming it as anybody but that guardian changes nothing.
    "contact_email_confirm": Policy(
        per_role("ok|400", anonymous="login"),
        ids=lambda s: [{"token": s["contact_token"]}, {"token": "x" * 40}] if "contact_token" in s else [],
        post=per_role("400", anonymous="login"),
    ),
    "set_language": Policy(per_role("405")),
    "school_switch": form(OWN_POST_ONLY, _with("school")(lambda s: {"school": s["school"].pk})),
    "favicon": Policy(PUBLIC),
    "healthz": Policy(PUBLIC),
    # Readiness: ok/fail per part for anyone (503 here: the test database has no heartbeat).
    "healthz_ready": Policy(per_role("ok|503")),
    "privacy:privacy_home": Policy(PAGE),
    "privacy:privacy_child_update": others(
        "pupil", post_only=True, data=lambda s: {f"child-{s['pupil'].pk}-group_page": "on"}
    ),
    "privacy:privacy_withdraw_all": Policy(OWN_POST_ONLY),
    "privacy:privacy_group": others("group"),
    "privacy:privacy_overview": Policy(MANAGER_PAGE, formats=("format=csv",)),
    # The guardian's own record (AVG art. 15) names the children they are related to, also
    # when a court order bars them or consent is missing — but nothing more about the child.
    "privacy:privacy_my_data": Policy(PARENT_ONLY, names_own_child=True),
    "quality:card": Policy(MANAGER_PAGE, formats=("format=csv",)),
    "quality:survey_results": others("survey"),
    "quality:survey_answer": others("survey", data=lambda s: {"score": "5", "comment": "Ingebroken"}),
    # notifications
    "notifications:notifications": Policy(PAGE),
    "notifications:notifications_read": Policy(OWN_POST_ONLY),
    "notifications:push_subscribe": Policy(OWN_POST_ONLY),
    "notifications:push_unsubscribe": Policy(OWN_POST_ONLY),
    "notifications:service_worker": Policy(PUBLIC),
    # posts
    "posts:timeline": Policy(PAGE),
    "posts:post_detail": others(("post", "school_post")),
    "posts:post_create": form(
        per_role("ok", anonymous="login", parents="denied", care_coordinator="denied"),
        _with("group")(
            lambda s: {
                "audience": s["group"].pk,
                "kind": "atmosphere",
                "title": "Ingebroken",
                "body": "Ingebroken",
            }
        ),
        query=_query("group", "group"),
    ),
    "posts:my_posts": Policy(STAFF_PAGE),
    "posts:post_publication_preview": Policy(STAFF_PAGE),
    "posts:post_edit": others(
        ("post", "school_post"), data=lambda s: {"title": "Ingebroken", "body": "Ingebroken"}
    ),
    "posts:post_delete": others(("post", "school_post"), data=lambda s: {}),
    "posts:post_photo": others("photo"),
    "posts:post_photo_thumb": others("photo"),
    "posts:post_attachment": others("post_attachment"),
    "posts:pending_photo": others("pending_photo"),
    "posts:post_thank": others(("post", "school_post"), post_only=True, data=lambda s: {"thanked": "1"}),
    # agenda
    "agenda:agenda": Policy(PAGE, query=_query("group", "groep")),
    "agenda:agenda_month": Policy(PAGE),
    "agenda:event_create": form(
        STAFF_PAGE,
        _with("group")(
            lambda s: {
                "group": s["group"].pk,
                "title": "Ingebroken",
                "kind": "activity",
                "all_day": "on",
                "starts_on": "2027-02-03",
                "ends_on": "2027-02-03",
            }
        ),
    ),
    "agenda:event_detail": others(("event", "school_event")),
    "agenda:event_edit": others(
        ("event", "school_event"),
        data=lambda s: {
            "title": "Ingebroken",
            "kind": "activity",
            "all_day": "on",
            "starts_on": "2027-02-03",
            "ends_on": "2027-02-03",
        },
    ),
    "agenda:event_delete": others(("event", "school_event"), data=lambda s: {}),
    "agenda:agenda_feed_settings": Policy(PAGE),
    "agenda:agenda_feed_settings_change": Policy(OWN_POST_ONLY),
    # A feed URL is a capability: whoever holds a live token reads that user's agenda (by
    # design, for calendar apps). A revoked or made-up token must give nothing, to anyone.
    "agenda:agenda_feed": Policy(
        per_role("denied"), ids=lambda s: [{"token": t} for t in s.get("dead_tokens", ())]
    ),
    # chats
    "chats:chat_export": Policy(PAGE),
    "chats:unread_counts": Policy(PAGE),
    "chats:chat_inbox": Policy(PAGE),
    "chats:chat_start": form(
        PAGE,
        _with("pupil")(lambda s: {"pupil": s["pupil"].pk, "body": "Ingebroken"}),
        query=_query("pupil", "pupil"),
    ),
    "chats:chat_start_group": form(
        STAFF_PAGE,
        _with("group")(lambda s: {"group": s["group"].pk, "title": "Ingebroken", "body": "Ingebroken"}),
        query=_query("group", "group"),
    ),
    "chats:chat_start_parent": form(
        PARENT_ONLY,
        _with("user", "group")(lambda s: {"other": f"{s['user'].pk}-{s['group'].pk}", "body": "Ingebroken"}),
    ),
    "chats:chat_detail": others(CHATS, data=lambda s: {"body": "Ingebroken"}),
    "chats:chat_poll": others(CHATS),
    "chats:chat_leave": others(CHATS, post_only=True),
    "chats:chat_acknowledge": others(("message", "child_message"), post_only=True),
    "chats:chat_remove": others(("message", "child_message"), post_only=True),
    "chats:chat_attachment": others("message"),
    # absences and leave
    "absences:overview": Policy(PARENT_PAGE),
    "absences:report_sick": form(
        ACTING_PARENT,
        _with("pupil")(
            lambda s: {
                "pupils": s["pupil"].pk,
                "kind": "sick",
                "starts_on": "2027-01-28",
                "submission": SUBMISSION,
            }
        ),
    ),
    "absences:report": form(
        ACTING_PARENT,
        _with("pupil")(
            lambda s: {
                "pupils": s["pupil"].pk,
                "kind": "late",
                "starts_on": "2027-01-28",
                "from_time": "08:30",
                "until_time": "09:30",
                "submission": SUBMISSION,
            }
        ),
    ),
    "absences:recover": others("absence", data=lambda s: {"back_on": "2027-01-28"}),
    "absences:cancel": others("absence", post_only=True),
    "absences:today": Policy(STAFF_PAGE),
    "absences:today_print": Policy(STAFF_PAGE),
    "absences:staff_report": form(
        STAFF_PAGE,
        _with("pupil")(
            lambda s: {
                "pupil": s["pupil"].pk,
                "kind": "unexplained",
                "starts_on": "2027-01-27",
                "caller": "Ingebroken",
                "submission": SUBMISSION,
            }
        ),
        query=_query("pupil", "leerling"),
    ),
    "absences:follow_up_done": others("follow_up", post_only=True, data=lambda s: {"note": "Ingebroken"}),
    "absences:register": Policy(WHOLE_SCHOOL_PAGE, formats=("format=csv",)),
    "absences:pupil_register": others("pupil"),
    "absences:leave_list": Policy(PARENT_ONLY),
    "absences:leave_create": form(
        ACTING_PARENT,
        _with("pupil")(
            lambda s: {
                "pupils": s["pupil"].pk,
                "kind": "important",
                "starts_on": "2027-03-08",
                "ends_on": "2027-03-08",
                "reason": "Ingebroken",
                "explanation": "Ingebroken",
                "submission": SUBMISSION,
            }
        ),
    ),
    # The leave form's live check answers {"ok": false} for a child that is not the asker's.
    "absences:leave_check": Policy(
        PAGE,
        refused=r'"ok":\s*true',
        query=lambda s: (
            (f"pupils={s['pupil'].pk}&kind=important&starts_on=2027-03-08&ends_on=2027-03-08")
            if "pupil" in s
            else ""
        ),
    ),
    "absences:leave_detail": others("leave"),
    "absences:leave_withdraw": others("leave", post_only=True),
    "absences:leave_print": others("leave"),
    "absences:leave_statement": others("leave"),
    # parent conversations
    "conversations:index": Policy(PARENT_PAGE),
    "conversations:round": others("round", data=_slot_of),
    "conversations:booking_detail": others("booking"),
    "conversations:booking_ics": others("booking"),
    "conversations:booking_move": others(
        "booking", post_only=True, data=lambda s: {"slot": s["free_slot"].pk}
    ),
    "conversations:booking_cancel": others("booking", post_only=True),
    "conversations:staff_rounds": Policy(STAFF_PAGE),
    "conversations:staff_round": others(
        "round",
        data=lambda s: {"date": "2027-02-09", "starts": "15:00", "ends": "15:30", "location": "Ingebroken"},
    ),
    "conversations:availability_delete": others(
        _with_round("availability", "availability_pk"), post_only=True
    ),
    "conversations:staff_book": others(
        "round",
        post_only=True,
        data=lambda s: {**({"pupil": s["pupil"].pk, "slot": s["free_slot"].pk} if "pupil" in s else {})},
    ),
    "conversations:separate_toggle": others(
        _with_round("pupil", "pupil_pk"), post_only=True, data=lambda s: {"allowed": "1"}
    ),
    "conversations:day": others(
        lambda s: [{"pk": s["round"].pk, "day": "2027-02-09"}] if "round" in s else []
    ),
    "conversations:proposals": others(
        "round", data=lambda s: {"pair": f"{s['pupil'].pk}:{s['free_slot'].pk}"} if "pupil" in s else {}
    ),
    # allauth: sign-in pages are public; account pages need a session. The outcomes are
    # allauth's own (a signed-in user is sent away from the login and signup pages).
    "account_login": Policy(per_role("redirect", anonymous="ok")),
    "account_logout": Policy(per_role("ok", anonymous="redirect")),
    "account_inactive": Policy(PUBLIC),
    "account_signup": Policy(per_role("redirect", anonymous="ok")),
    "account_reauthenticate": Policy(PAGE),
    "account_request_reauthentication_code": Policy(
        per_role("redirect", anonymous="login", parent="ok", other_group_parent="ok")
    ),
    "account_confirm_reauthentication_code": Policy(per_role("redirect", anonymous="login")),
    "account_email": Policy(PAGE),
    "account_email_verification_sent": Policy(PUBLIC),
    "account_change_password": Policy(PAGE),
    "account_set_password": Policy(per_role("redirect", anonymous="login")),
    "account_reset_password": Policy(PUBLIC),
    "account_confirm_login_code": Policy(per_role("redirect", anonymous="login")),
    # Key URLs: a made-up key shows the "invalid link" page and nothing else.
    "account_confirm_email": Policy(PUBLIC),
    "account_reset_password_from_key_done": Policy(PUBLIC),
    "account_reset_password_from_key": Policy(PUBLIC),
    "account_reset_password_done": Policy(PUBLIC),
    "mfa_index": Policy(PAGE),
    "mfa_authenticate": Policy(per_role("redirect", anonymous="login")),
    "mfa_reauthenticate": Policy(per_role("redirect", anonymous="login")),
    "mfa_activate_totp": Policy(per_role("redirect", anonymous="login")),
    "mfa_deactivate_totp": Policy(per_role("denied", anonymous="login")),
    "mfa_view_recovery_codes": Policy(per_role("denied", anonymous="login")),
    "mfa_generate_recovery_codes": Policy(per_role("redirect", anonymous="login")),
    "mfa_download_recovery_codes": Policy(per_role("denied", anonymous="login")),
    # the admin site itself
    "admin:index": Policy(ADMIN_PAGE),
    "admin:login": Policy(per_role("denied", anonymous="login", managers="redirect")),
    "admin:logout": Policy(per_role("redirect", managers="405")),
    "admin:password_change": Policy(ADMIN_PAGE),
    "admin:password_change_done": Policy(ADMIN_PAGE),
    # Autocomplete of the inlines (a pupil's guardians, a guardian's children): only the
    # manager's own school answers, whatever the search term.
    "admin:autocomplete": Policy(
        per_role("gate", managers="denied|ok"),
        query=lambda s: [
            f"term={s[key].last_name}&app_label=klimop&model_name=guardianrelation&field_name={key}"
            for key in ("guardian", "pupil")
            if key in s
        ],
    ),
    "admin:jsi18n": Policy(ADMIN_PAGE),
    "admin:directory_import": Policy(ADMIN_PAGE),  # the four directory files in one go
    "admin:app_list": Policy(ADMIN_PAGE),
    "admin/(?P<url>.*)$": Policy(per_role("gate", managers="denied")),
    "admin:view_on_site": Policy(
        ADMIN_OTHERS,
        ids=lambda s: [
            {"content_type_id": ContentType.objects.get_for_model(s[k]).pk, "object_id": s[k].pk}
            for k in ("pupil", "guardian", "post")
            if k in s
        ],
    ),
    "admin:auth_user_password_change": Policy(ADMIN_SUPERUSER, ids=ids("user", kw="id")),
}

# Each model in the admin: (its list for managers, its add page for managers, the set key of its
# objects). Every registered model must be here; its URLs get their policy from this row.
ADMIN_MODELS = {
    "auth.group": ("denied", "denied", "permission_group"),
    "account.emailaddress": ("denied", "denied", "email_address"),
    "mfa.authenticator": ("denied", "denied", "authenticator"),
    "django_celery_beat.periodictask": ("denied", "denied", "periodic_task"),
    "django_celery_beat.clockedschedule": ("denied", "denied", "clocked"),
    "django_celery_beat.crontabschedule": ("denied", "denied", "crontab"),
    "django_celery_beat.solarschedule": ("denied", "denied", "solar"),
    "django_celery_beat.intervalschedule": ("denied", "denied", "interval"),
    "klimop.school": ("ok", "denied", "school"),
    "klimop.schoolyear": ("ok", "ok", "school_year"),
    "klimop.nonschoolday": ("ok", "ok", "non_school_day"),
    "klimop.group": ("ok", "ok", "group"),
    "klimop.pupil": ("ok", "ok", "pupil"),
    "klimop.guardian": ("ok", "ok", "guardian"),
    "klimop.staffmember": ("ok", "ok", "staff"),
    "klimop.user": ("denied", "denied", "user"),
    "privacy.consentdecision": ("ok", "denied", "consent_decision"),
    "privacy.consentevent": ("ok", "denied", "consent_event"),
    "quality.survey": ("ok", "ok", "survey"),
    "absences.absencereport": ("ok", "denied", "absence"),
    "absences.followup": ("ok", "denied", "follow_up"),
    # The director's list opens on the requests awaiting a decision (a redirect to the filter).
    "absences.leaverequest": ("redirect", "denied", "leave"),
    "conversations.round": ("ok", "ok", "round"),
}

# The import/export pages of the directory (django-import-export), scoped like their lists.
for _model in ("group", "pupil", "guardian", "staffmember"):
    POLICY[f"admin:klimop_{_model}_import"] = Policy(ADMIN_PAGE)
    POLICY[f"admin:klimop_{_model}_export"] = Policy(ADMIN_PAGE)
    POLICY[f"admin:klimop_{_model}_process_import"] = Policy(ADMIN_POST_ONLY)


def _admin_policies() -> dict[str, Policy]:
    out = {}
    for model in admin.site._registry:
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        if label not in ADMIN_MODELS:
            continue  # the walk test names it: no policy for its URLs
        listing, add, kind = ADMIN_MODELS[label]
        app, name = model._meta.app_label, model._meta.model_name
        gate_or = lambda outcome: per_role("gate", managers=outcome)  # noqa: E731
        out[f"admin:{app}_{name}_changelist"] = Policy(gate_or(listing))
        out[f"admin:{app}_{name}_add"] = Policy(gate_or(add))
        for view in ("change", "history"):
            out[f"admin:{app}_{name}_{view}"] = Policy(ADMIN_OTHERS, ids=ids(kind, kw="object_id"))
        out[f"admin:{app}_{name}_delete"] = Policy(
            ADMIN_OTHERS,
            ids=ids(kind, kw="object_id"),
            post=per_role("gate", managers="redirect|denied"),
            data=lambda s: {"post": "yes"},
        )
        out[f"admin/{app}/{name}/<path:object_id>/"] = Policy(ADMIN_OTHERS, ids=ids(kind, kw="object_id"))
    return out


def policies() -> dict[str, Policy]:
    return {**POLICY, **_admin_policies()}


def admin_models_not_registered() -> list[str]:
    """Rows of ADMIN_MODELS for models the admin no longer has (moved or removed)."""
    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    return sorted(set(ADMIN_MODELS) - registered)
