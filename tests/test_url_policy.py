"""Every URL declares its policy (issue 9, "Trust boundaries", point 3).

The table is tests/url_policy.py. These tests walk the whole URL configuration and fail for a
pattern without an entry; request every page as each of twelve roles and compare with the
table; and request every URL that takes ids with the ids of *other people's* objects — the
answer must be a refusal (404/403, or the login page) that shows none of their data, and a
POST must change nothing in the database. Every HTML page they get must also carry the strict
Content-Security-Policy and no inline code (tests/csp.py).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from dataclasses import dataclass, field

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group as PermissionGroup
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, TestCase
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from PIL import Image

from absences import services as absence_services
from absences.models import AbsenceSettings, FollowUp, LeaveRequest
from communication.agenda import services as agenda
from communication.chats import services as chats
from communication.chats.models import Conversation
from communication.posts import services as posts
from conversations import services as planner
from conversations.models import Round
from klimop import services as directory
from klimop.models import GuardianRelation, NonSchoolDay, StaffMember
from klimop.privacy import services as privacy_services
from klimop.worktime import AMSTERDAM
from quality import services as quality_services
from quality.models import QualityTargets
from tests import factories as f
from tests.csp import page_problems
from tests.url_policy import (
    FOREIGN,
    OWN_CHILD,
    ROLES,
    admin_models_not_registered,
    classify,
    policies,
    urls,
)

pytestmark = pytest.mark.django_db

# Captured values that are not ids of anybody's objects: the page is requested with these.
FIXED_KWARGS = {
    "agenda:agenda_month": {"year": 2027, "month": 1},
    "admin:app_list": {"app_label": "klimop"},
    "admin/(?P<url>.*)$": {"url": "nergens/"},
    "account_confirm_email": {"key": "verzonnen-sleutel"},
    "account_reset_password_from_key": {"uidb36": "zz", "key": "verzonnen-sleutel"},
}


# --- the cast -------------------------------------------------------------------------------------
#
# Twelve roles (url_policy.ROLES), built once per test by the ``world`` fixture through the
# services, as people would, on Wednesday 27 January 2027, 10:00, while the report round of
# school A is open for booking.
#
# School A (Het Testveld): group 5a — Noor: parent and divorced_parent with gezag, info_parent
# without gezag, step_parent without consent; teacher. Group 6b — Sem: sem_parent with gezag
# (the role "other_group_parent"), barred_parent by court order; other_teacher. The director,
# the office and the care coordinator. School B (Elders): Wobke in 5a (wobke_parent, b_teacher);
# other_director.
#
# Objects are grouped in *sets* by whom they belong to: ``A5a`` (Noor's family and group: post,
# photo, attachment, event, chats, absence, follow-up, leave request, availability, booking,
# consent, notification, tokens …), ``A5a_private`` (what is Noor's parent's own within the
# family: their chats with the teachers, their notification), ``A5a_parents`` (a chat between
# Noor's two parents), ``A6b`` (Sem's family and group), ``A`` (school A as a whole: round,
# school post and event, survey, settings), ``B`` (all of school B) and ``GLOBAL`` (rows no
# school owns). ``url_policy.FOREIGN`` says which sets are other people's for each role;
# ``World.markers`` holds each set's private strings (the child's and the parent's names, the
# parent's e-mail and phone, every text written), which must never reach a role for which the
# set is foreign.

NOW = dt.datetime(2027, 1, 27, 10, 0, tzinfo=AMSTERDAM)  # a Wednesday; the round is open
TODAY = NOW.date()
FIRST_DAY = dt.date(2027, 2, 9)  # the round's first conversation day


@dataclass
class World:
    users: dict = field(default_factory=dict)  # role -> User (anonymous: None)
    sets: dict = field(default_factory=dict)  # set name -> {kind: object}
    markers: dict = field(default_factory=dict)  # set name -> [Marker]
    child: dict = field(default_factory=dict)  # set name -> the Marker of its child's name
    feeds: dict = field(default_factory=dict)  # role -> the token of their own agenda feed

    def schools_of(self, role):
        """The schools a role belongs to: every school that is not foreign to it."""
        foreign = {self.sets[name]["school"].pk for name in ("A", "B") if name in FOREIGN[role]}
        return [
            self.sets[name]["school"] for name in ("A", "B") if self.sets[name]["school"].pk not in foreign
        ]

    def foreign_markers(self, role, *, own_child_named=False):
        """The private strings ``role`` must never see (``own_child_named``: except the name
        of the child their own guardian record is about)."""
        skip = self.child.get(OWN_CHILD.get(role)) if own_child_named else None
        return [m for name in FOREIGN[role] for m in self.markers[name] if m is not skip]


def _jpeg(name="foto.jpg"):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def _pdf(name="brief.pdf"):
    return SimpleUploadedFile(
        name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf"
    )


@dataclass(frozen=True)
class Marker:
    """A private string, found as a whole word ("Sem" is not in "Semester")."""

    text: str

    def found_in(self, body: str) -> bool:
        # The plain search first: it is fast, and almost always "no".
        return (
            self.text in body
            and re.search(r"(?<![\w@.-])" + re.escape(self.text) + r"(?![\w-])", body) is not None
        )


def _words(*texts):
    return [Marker(t) for t in texts if t]


def _texts(tag):
    """The private texts written in one family's objects."""
    return [
        f"Geheim{tag}-{what}"
        for what in (
            "post",
            "posttekst",
            "bericht",
            "bijlage",
            "uitje",
            "ziek",
            "verlof",
            "melding",
            "kindchat",
            "groepsgesprek",
            "groepsbericht",
        )
    ] + [f"Lokaal{tag}"]


def _family_objects(*, tag, school, year, group, pupil, guardian, teacher, round_ctx):
    """Everything one family and its group own: built through the services, as users would."""
    post = posts.post_create(
        actor=teacher.user,
        group=group,
        title=f"Geheim{tag}-post",
        body=f"Geheim{tag}-posttekst",
        photos=[_jpeg()],
        attachments=[_pdf()],
        consent_confirmed=True,
    )
    event = agenda.event_create(
        actor=teacher.user,
        group=group,
        title=f"Geheim{tag}-uitje",
        all_day=True,
        starts_on=TODAY + dt.timedelta(days=7),
        ends_on=TODAY + dt.timedelta(days=7),
    )
    conversation = chats.conversation_start_direct(
        actor=guardian.user, pupil=pupil, body=f"Geheim{tag}-bericht"
    )
    message = chats.message_send(
        actor=guardian.user,
        conversation=conversation,
        body=f"Geheim{tag}-bijlage",
        attachment=_pdf("geheim.pdf"),
    )
    absence = absence_services.absence_reports_create(
        actor=guardian.user, pupils=[pupil], kind="sick", starts_on=TODAY, note=f"Geheim{tag}-ziek"
    )[0]
    follow_up = FollowUp.objects.create(
        report=absence, school=school, pupil=pupil, due_on=TODAY, created_at=NOW
    )
    leave = absence_services.leave_request_create(
        actor=guardian.user,
        pupils=[pupil],
        kind=LeaveRequest.Kind.EXTRA_VACATION,
        starts_on=dt.date(2027, 3, 1),
        ends_on=dt.date(2027, 3, 5),
        reason=f"Geheim{tag}-verlof",
        explanation="Pas net bekend.",
        statement=absence_services.leave_statement_process(_pdf("verklaring.pdf")),
    )
    availability = planner.availability_add(
        actor=teacher.user,
        round_=round_ctx,
        group=group,
        date=FIRST_DAY,
        starts=dt.time(13, 0),
        ends=dt.time(14, 0),
        location=f"Lokaal{tag}",
    )
    slots = list(availability.slots.order_by("starts_at"))
    booking = planner.bookings_create(
        actor=guardian.user, round_=round_ctx, choices=[(pupil, slots[0])], now=NOW
    )[0]
    notification = guardian.user.notifications.create(
        cause=f"url-policy:{tag}", title=f"Geheim{tag}-melding", deliver_at=NOW
    )
    privacy_services.consent_set(actor=guardian.user, pupil=pupil, purpose="website", granted=True)
    token = agenda.feed_token_get_or_create(actor=guardian.user)
    # A link to confirm a new contact address, as the e-mail to that mailbox carries it.
    sent = len(mail.outbox)
    with TestCase.captureOnCommitCallbacks(execute=True):
        directory.guardian_update_contact(
            actor=guardian.user,
            guardian=guardian,
            email=f"nieuw.{tag.lower()}@example.test",
            phone=guardian.phone,
        )
    contact_token = re.search(r"/me/contact/confirm/([^/\s]+)/", mail.outbox[sent].body)[1]
    return {
        "school": school,
        "school_year": year,
        "group": group,
        "pupil": pupil,
        "guardian": guardian,
        "user": guardian.user,
        "staff": teacher,
        "post": post,
        "photo": post.photos.first(),
        "post_attachment": post.attachments.first(),
        # A photo the teacher chose on a post form that came back with an error: only theirs.
        "pending_photo": posts.pending_uploads_store(actor=teacher.user, photos=[_jpeg()]).uploads[0],
        "event": event,
        "conversation": conversation,
        "message": message,
        "absence": absence,
        "follow_up": follow_up,
        "leave": leave,
        "availability": availability,
        "slot": slots[0],
        "free_slot": slots[1],
        "booking": booking,
        "round_ctx": round_ctx,
        "feed_token": token,
        "contact_token": contact_token,
        "email_address": EmailAddress.objects.create(
            user=guardian.user, email=guardian.user.email, verified=True, primary=True
        ),
        "consent_decision": pupil.consent_decisions.first(),
        "consent_event": pupil.consent_events.first(),
        "notification": notification,
    }


def _school_objects(*, tag, school, director):
    year = school.school_years.get()
    round_ = planner.round_save(
        actor=director.user,
        round_=Round(
            school=school,
            kind=Round.Kind.REPORT,
            first_date=FIRST_DAY,
            last_date=FIRST_DAY + dt.timedelta(days=2),
            title=f"Ronde{tag}",
        ),
        groups=list(year.groups.all()),
    )
    return {
        "school": school,
        "school_year": year,
        "round": round_,
        "round_ctx": round_,
        "school_post": posts.post_create(
            actor=director.user, school=school, title=f"GeheimSchool{tag}-post", body="Voor de hele school."
        ),
        "school_event": agenda.event_create(
            actor=director.user,
            title=f"GeheimSchool{tag}-uitje",
            all_day=True,
            starts_on=TODAY + dt.timedelta(days=8),
            ends_on=TODAY + dt.timedelta(days=8),
        ),
        "survey": quality_services.survey_open(
            actor=director.user,
            school=school,
            title=f"Peiling{tag}-geheim",
            opens_at=NOW - dt.timedelta(days=1),
            closes_at=NOW + dt.timedelta(days=7),
        ),
        "non_school_day": NonSchoolDay.objects.create(
            school=school,
            date=dt.date(2027, 4, 2),
            kind=NonSchoolDay.Kind.choices[0][0],
            name=f"Studiedag{tag}",
        ),
        "privacy_settings": privacy_services.privacy_settings_get_or_create(school=school),
        "quality_targets": QualityTargets.objects.get_or_create(school=school)[0],
        "absence_settings": AbsenceSettings.objects.get_or_create(school=school)[0],
    }


def build_world(
    *,
    school,
    group,
    other_group,
    teacher,
    other_teacher,
    director,
    office,
    child,
    barred_child,
    parent,
    divorced_parent,
    info_parent,
    step_parent,
    barred_parent,
    other_school,
    other_group_elsewhere,
    other_director,
) -> World:
    # Guardians with names nobody else has: a name on a page is theirs.
    for person in (parent, parent.user):
        person.first_name, person.last_name = "Hendrika", "Zuidervaart"
        person.save(update_fields=["first_name", "last_name"])
    sem_parent = f.GuardianRelationFactory(
        pupil=barred_child,
        guardian__user__email="sem.ouder@example.test",
        guardian__user__first_name="Gerolt",
        guardian__user__last_name="Sevenhuysen",
        guardian__phone="06-61616161",
        kind=GuardianRelation.Kind.PARENT_WITH_AUTHORITY,
        access=GuardianRelation.Access.FULL,
    ).guardian
    care = f.StaffMemberFactory(
        school=school, role=StaffMember.Role.CARE_COORDINATOR, user__email="ib@example.test"
    )
    b_teacher = f.StaffMemberFactory(
        school=other_school, groups=[other_group_elsewhere], user__email="leerkracht@elders.test"
    )
    wobke = f.PupilFactory(group=other_group_elsewhere, first_name="Wobke", last_name="Elderskind")
    wobke_parent = f.GuardianRelationFactory(
        pupil=wobke,
        guardian__user__email="wobke.ouder@elders.test",
        guardian__phone="06-71717171",
        guardian__user__first_name="Grietje",
        guardian__user__last_name="Buitendijk",
    ).guardian
    school_a = _school_objects(tag="A", school=school, director=director)
    school_b = _school_objects(tag="B", school=other_school, director=other_director)
    a5a = _family_objects(
        tag="5a",
        school=school,
        year=group.school_year,
        group=group,
        pupil=child,
        guardian=parent,
        teacher=teacher,
        round_ctx=school_a["round"],
    )
    a6b = _family_objects(
        tag="6b",
        school=school,
        year=other_group.school_year,
        group=other_group,
        pupil=barred_child,
        guardian=sem_parent,
        teacher=other_teacher,
        round_ctx=school_a["round"],
    )
    b = _family_objects(
        tag="B",
        school=other_school,
        year=other_group_elsewhere.school_year,
        group=other_group_elsewhere,
        pupil=wobke,
        guardian=wobke_parent,
        teacher=b_teacher,
        round_ctx=school_b["round"],
    )
    b.update(school_b)
    b["round_ctx"] = school_b["round"]
    # The per-child chats (the hourly job makes them: custodial parents and the teachers), a
    # teacher's conversation with the group's parents, and a chat between Noor's two parents.
    for year in (group.school_year, other_group_elsewhere.school_year):
        chats.child_conversations_sync(school_year=year)
    for tag, objects, guardian, staff in (
        ("5a", a5a, parent, teacher),
        ("6b", a6b, sem_parent, other_teacher),
        ("B", b, wobke_parent, b_teacher),
    ):
        objects["child_conversation"] = Conversation.objects.get(
            kind=Conversation.Kind.CHILD, pupil=objects["pupil"]
        )
        objects["child_message"] = chats.message_send(
            actor=guardian.user, conversation=objects["child_conversation"], body=f"Geheim{tag}-kindchat"
        )
        objects["group_conversation"] = chats.conversation_start_group(
            actor=staff.user,
            group=objects["group"],
            title=f"Geheim{tag}-groepsgesprek",
            body=f"Geheim{tag}-groepsbericht",
        )
    a5a["parents_conversation"] = chats.conversation_start_parents(
        actor=parent.user, other=divorced_parent.user, group=group, body="Geheim5a-ouderchat"
    )
    interval = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    global_set = {
        "permission_group": PermissionGroup.objects.create(name="GeheimGroep"),
        "interval": interval,
        "crontab": CrontabSchedule.objects.create(minute="7", hour="3"),
        "solar": SolarSchedule.objects.create(event="sunrise", latitude=52.1, longitude=5.1),
        "clocked": ClockedSchedule.objects.create(clocked_time=NOW),
        "periodic_task": PeriodicTask.objects.create(name="geheime-taak", task="x.y", interval=interval),
    }
    b["authenticator"] = Authenticator.objects.create(
        user=b_teacher.user, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "x", "used_mask": 0}
    )

    # A revoked token of somebody else: a feed URL that once worked must stop working.
    revoked = agenda.feed_token_get_or_create(actor=a6b["user"]).token
    agenda.feed_token_revoke(actor=a6b["user"])
    a6b["feed_token"] = agenda.feed_token_get_or_create(actor=a6b["user"])
    for name, objects in (("A5a", a5a), ("A6b", a6b), ("B", b)):
        objects["dead_tokens"] = ["x" * 43] + ([revoked] if name == "A6b" else [])

    world = World()
    world.users = {
        "anonymous": None,
        "parent": parent.user,
        "other_group_parent": sem_parent.user,
        "info_parent": info_parent.user,
        "step_parent": step_parent.user,
        "barred_parent": barred_parent.user,
        "teacher": teacher.user,
        "other_teacher": other_teacher.user,
        "care_coordinator": care.user,
        "office": office.user,
        "director": director.user,
        "other_director": other_director.user,
    }
    private = (
        "conversation",
        "message",
        "child_conversation",
        "child_message",
        "notification",
        "feed_token",
        "contact_token",
    )
    world.sets = {
        "A5a": a5a,
        "A6b": a6b,
        "A": school_a,
        "B": b,
        "GLOBAL": global_set,
        # What is Noor's parent's own within the family: their chats with the teachers (the
        # child's chat has both custodial parents and the teachers), their notifications.
        "A5a_private": {k: a5a[k] for k in private},
        # A chat between Noor's two parents: theirs alone, not the teachers' or the school's.
        "A5a_parents": {"conversation": a5a["parents_conversation"]},
    }
    world.markers = {
        "A5a": _words("Noor", "Zuidervaart", parent.email, parent.phone, *_texts("5a"), "Geheim5a-ouderchat"),
        "A5a_private": _words(
            "Geheim5a-bericht", "Geheim5a-bijlage", "Geheim5a-kindchat", "Geheim5a-melding"
        ),
        "A5a_parents": _words("Geheim5a-ouderchat"),
        "A6b": _words("Sem", "Sevenhuysen", sem_parent.email, sem_parent.phone, *_texts("6b")),
        "A": _words("GeheimSchoolA-post", "GeheimSchoolA-uitje", "PeilingA-geheim", school.name),
        "B": _words(
            "Wobke",
            "Buitendijk",
            wobke_parent.email,
            wobke_parent.phone,
            *_texts("B"),
            "GeheimSchoolB-post",
            "GeheimSchoolB-uitje",
            "PeilingB-geheim",
            other_school.name,
            b_teacher.user.email,
        ),
        "GLOBAL": _words("GeheimGroep", "geheime-taak"),
    }
    world.child = {name: world.markers[name][0] for name in ("A5a", "A6b", "B")}
    # Everybody's own agenda feed (a calendar app reads it without a session).
    world.feeds = {
        role: agenda.feed_token_get_or_create(actor=user).token
        for role, user in world.users.items()
        if user is not None
    }
    return world


# --- the walk -------------------------------------------------------------------------------------


def test_every_url_pattern_declares_its_policy():
    table = policies()
    walked = urls()
    missing = [
        f"{u.key!r}  (route {u.route!r}, view {getattr(u.callback, '__module__', '?')}."
        f"{getattr(u.callback, '__qualname__', u.callback)})"
        for u in walked
        if u.key not in table
    ]
    assert not missing, (
        "URL patterns without a declared policy — add each to POLICY (or, for a model in the "
        "admin, to ADMIN_MODELS) in tests/url_policy.py, saying what every role must get:\n  "
        + "\n  ".join(missing)
    )
    stale = sorted(set(table) - {u.key for u in walked}) + admin_models_not_registered()
    assert not stale, f"tests/url_policy.py declares URLs that no longer exist: {stale}"
    assert len({u.key for u in walked}) == len(walked), "two URL patterns share a name"


def test_every_url_with_ids_says_whose_ids_to_try():
    table = policies()
    wrong = []
    for u in urls():
        policy = table.get(u.key)
        if policy is None:
            continue  # test_every_url_pattern_declares_its_policy names it
        if u.params and u.key not in FIXED_KWARGS and policy.ids is None:
            wrong.append(f"{u.key}: captures {u.params} but declares no ids to try")
        if not u.params and policy.ids is not None:
            wrong.append(f"{u.key}: declares ids but captures nothing")
        if set(policy.get) != set(ROLES):
            wrong.append(f"{u.key}: outcomes for {sorted(policy.get)}, not for every role")
    assert not wrong, "\n".join(wrong)


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def world(
    school,
    group,
    other_group,
    teacher,
    other_teacher,
    director,
    office,
    child,
    barred_child,
    parent,
    divorced_parent,
    info_parent,
    step_parent,
    barred_parent,
    other_school,
    other_group_elsewhere,
    other_director,
):
    with time_machine.travel(NOW, tick=False):
        yield build_world(
            school=school,
            group=group,
            other_group=other_group,
            teacher=teacher,
            other_teacher=other_teacher,
            director=director,
            office=office,
            child=child,
            barred_child=barred_child,
            parent=parent,
            divorced_parent=divorced_parent,
            info_parent=info_parent,
            step_parent=step_parent,
            barred_parent=barred_parent,
            other_school=other_school,
            other_group_elsewhere=other_group_elsewhere,
            other_director=other_director,
        )


@pytest.fixture
def clients(world, settings):
    # Sessions in the cache: some five thousand requests, each spared a query (the engine is
    # not what these tests are about).
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    out = {}
    for role in ROLES:
        client = Client()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        out[role] = client
    return out


@pytest.fixture
def without_badges(settings):
    """The navigation's unread badges (two context processors) count the viewer's own chats and
    notifications on every page, whatever its URL. Every page is rendered with them, for every
    role, in test_every_page_answers_each_role_as_declared; the tests that follow send some three
    thousand requests with other people's ids, and leave them out for speed."""

    def badge(path):
        return path.rsplit(".", 1)[-1] in {"chats", "notifications"}

    settings.TEMPLATES = [
        {
            **engine,
            "OPTIONS": {
                **engine.get("OPTIONS", {}),
                "context_processors": [
                    cp for cp in engine.get("OPTIONS", {}).get("context_processors", []) if not badge(cp)
                ],
            },
        }
        for engine in settings.TEMPLATES
    ]


@pytest.fixture(autouse=True)
def _quiet_refusals():
    """Hundreds of 403/404/405 are the point here; Django would log a warning for each."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def _body(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", errors="replace")


def _leaks(world, role, response, policy) -> list[str]:
    """The private strings of other people in the response."""
    text = _body(response)
    markers = world.foreign_markers(role, own_child_named=policy.names_own_child)
    return sorted({m.text for m in markers if m.found_in(text)}) if text else []


class Writes:
    """Which tables got rows written since the last call. PostgreSQL counts the rows each table
    had inserted, updated or deleted in this transaction (the test's): one cheap query per call.
    SQLite (the fallback without PostgreSQL) counts rows changed on the connection, without
    saying where. Sessions live in the cache here, so a login's session is no write."""

    _COUNT = (
        "pg_stat_get_xact_tuples_inserted(oid) + pg_stat_get_xact_tuples_updated(oid)"
        " + pg_stat_get_xact_tuples_deleted(oid)"
    )

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        connection.ensure_connection()
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                    "AND c.relkind = 'r'"
                )
                self.tables = dict(cursor.fetchall())
            self.per_table = self._per_table()
        self.total = self._total()

    def _query(self, select):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {select} FROM unnest(%s::oid[]) AS oid",  # noqa: S608 - ours
                [list(self.tables)],
            )
            return cursor.fetchall()

    def _total(self):
        if self.postgres:
            return self._query(f"sum({self._COUNT})")[0][0]
        return connection.connection.total_changes

    def _per_table(self):
        return {self.tables[oid]: n for oid, n in self._query(f"oid, {self._COUNT}")}

    def since_last(self) -> list[str]:
        total = self._total()
        if total == self.total:
            return []
        self.total = total
        if not self.postgres:
            return ["(rows; SQLite does not say which table)"]
        per_table = self._per_table()
        changed = sorted(t for t in per_table if per_table[t] != self.per_table.get(t))
        self.per_table = per_table
        return changed


# --- pages without ids ----------------------------------------------------------------------------


def test_every_page_answers_each_role_as_declared(world, clients):
    table = policies()
    problems, requests = [], 0
    with time_machine.travel(NOW, tick=False):
        for u in urls():
            if (u.params and u.key not in FIXED_KWARGS) or u.key not in table:
                continue
            base = u.path(**FIXED_KWARGS.get(u.key, {}))
            expected = table[u.key].get
            for path in [base] + [f"{base}?{query}" for query in table[u.key].formats]:
                for role in ROLES:
                    response = clients[role].get(path)
                    requests += 1
                    outcome = classify(response)
                    if outcome not in expected[role]:
                        problems.append(
                            f"GET {path} as {role}: {outcome} ({response.status_code}), "
                            f"declared {'|'.join(sorted(expected[role]))}"
                        )
                    if leaked := _leaks(world, role, response, table[u.key]):
                        problems.append(f"GET {path} as {role} shows other people's data: {leaked}")
                    # The Content-Security-Policy, and nothing inline it would refuse (tests/csp.py).
                    problems += [f"GET {path} as {role}: {p}" for p in page_problems(response)]
    assert requests > 12 * 100
    assert not problems, "\n".join(problems)


# --- other people's ids ---------------------------------------------------------------------------


# Refusals that come before a view looks at any object: the login page, the admin's gate, a
# POST-only view answering a GET. One object is enough to see them.
BEFORE_ANY_OBJECT = frozenset({"login", "gate", "405"})


def _requests_with_other_peoples_ids(world, method):
    """Batches of (path, data) per URL and role, with the expected outcomes: the ids of each set
    of objects foreign to the role (a refusal before any object is looked at: one object)."""
    table = policies()
    for u in urls():
        policy = table.get(u.key)
        if policy is None:
            continue  # test_every_url_pattern_declares_its_policy names it
        outcomes = policy.get if method == "get" else policy.post
        # Without ids in the URL, a page takes them in its query string (GET) or a form in its
        # body (POST): other people's, from ``query`` / ``data``.
        if method == "get" and policy.ids is None:
            if policy.query is None:
                continue
            make_ids = _queries(policy)
        else:
            make_ids = policy.ids or (lambda s, p=policy: [{}] if p.data(s) else [])
        if outcomes is None:
            continue
        for role in ROLES:
            expected = outcomes[role]
            batch = []
            for name in FOREIGN[role]:
                objects = world.sets[name]
                batch += [
                    (name, u.path(**kwargs) + kwargs.pop("?", ""), policy.data(objects))
                    for kwargs in map(dict, make_ids(objects))
                ]
            if expected <= BEFORE_ANY_OBJECT:
                batch = batch[:1]
            if batch:
                yield u, policy, role, batch, expected


def _queries(policy):
    """For a page with other people's ids in its query string: one "?" entry per query."""

    def make(objects):
        queries = policy.query(objects)
        queries = [queries] if isinstance(queries, str) else queries
        return [{"?": f"?{q}"} for q in queries if q]

    return make


def _check(world, clients, method):
    problems, tried, requests = [], set(), 0
    writes = Writes()
    with time_machine.travel(NOW, tick=False):
        for u, policy, role, batch, expected in _requests_with_other_peoples_ids(world, method):
            tried.add(u.key)
            for name, path, data in batch:
                client = clients[role]
                response = client.get(path) if method == "get" else client.post(path, data)
                requests += 1
                what = f"{method.upper()} {path} ({u.key}, {name}'s) as {role}"
                outcome = classify(response)
                if outcome not in expected:
                    problems.append(
                        f"{what}: {outcome} ({response.status_code}), declared {'|'.join(sorted(expected))}"
                    )
                if leaked := _leaks(world, role, response, policy):
                    problems.append(f"{what} shows other people's data: {leaked}")
                if policy.refused and re.search(policy.refused, _body(response)):
                    problems.append(f"{what} answers as if they were the asker's: {_body(response)}")
            if changed := writes.since_last():
                problems.append(
                    f"{method.upper()} {u.key} as {role} with ids of "
                    f"{sorted({name for name, _p, _d in batch})} changed {changed}"
                )
    return problems, tried, requests


# Per role, the sets of objects that are theirs or that they may see: their own family (or
# group, or a family of their school), their school, their private chats.
OWN_SETS = {
    "anonymous": (),
    "parent": ("A5a", "A5a_private", "A5a_parents", "A"),
    "other_group_parent": ("A6b", "A"),
    "info_parent": ("A5a", "A"),
    "step_parent": (),
    "barred_parent": (),
    "teacher": ("A5a", "A5a_private", "A"),
    "other_teacher": ("A6b", "A"),
    "care_coordinator": ("A5a", "A"),
    "office": ("A6b", "A"),
    "director": ("A5a", "A"),
    "other_director": ("B",),
}
# Files that are the object itself (a photo, a PDF): nothing of anybody else can be in them.
FILES = {
    "posts:post_photo",
    "posts:post_photo_thumb",
    "posts:pending_photo",
    "posts:post_attachment",
    "chats:chat_attachment",
    "absences:leave_statement",
}


def test_pages_of_ones_own_objects_show_nothing_of_others(world, clients, without_badges):
    """The other way round: a page about one's own (or visible) object — the round of one's
    school, the pupil in one's group, one's own post — shows nothing of other people either,
    and no id gives a server error."""
    table, problems, requests = policies(), [], 0
    with time_machine.travel(NOW, tick=False):
        for u in urls():
            policy = table.get(u.key)
            if policy is None or policy.ids is None or u.key in FILES:
                continue
            for role in ROLES:
                if policy.get[role] <= BEFORE_ANY_OBJECT:
                    continue  # refused before any object is looked at (the test above)
                seen = set()
                if u.key == "agenda:agenda_feed" and not OWN_SETS[role] and role in world.feeds:
                    seen.add("")  # a role that sees no child still has its own (empty) feed
                    response = clients[role].get(u.path(token=world.feeds[role]))
                    requests += 1
                    if leaked := _leaks(world, role, response, policy):
                        problems.append(f"{role}'s own agenda feed shows: {leaked}")
                for name in OWN_SETS[role]:
                    assert name not in FOREIGN[role], (role, name)
                    if u.key == "agenda:agenda_feed":  # one's own live feed
                        ids = [{"token": world.feeds[role]}] if role in world.feeds else []
                    else:
                        ids = policy.ids(world.sets[name])
                    for kwargs in ids:
                        path = u.path(**kwargs)
                        if path in seen:
                            continue
                        seen.add(path)
                        response = clients[role].get(path)
                        requests += 1
                        if response.status_code >= 500:
                            problems.append(f"GET {path} ({u.key}) as {role}: {response.status_code}")
                        problems += [f"GET {path} as {role}: {p}" for p in page_problems(response)]
                        if leaked := _leaks(world, role, response, policy):
                            problems.append(
                                f"GET {path} ({u.key}, {name}'s) as {role} shows "
                                f"other people's data: {leaked}"
                            )
    assert requests > 300
    assert not problems, "\n".join(problems)


# --- the control: the same ids work for their owners ------------------------------------------


OWNERS = [
    # (role, url name or path, set, kwargs from the set, a private string the page must show)
    ("parent", "pupil_detail", "A5a", lambda s: {"pk": s["pupil"].pk}, "Noor"),
    ("parent", "posts:post_detail", "A5a", lambda s: {"pk": s["post"].pk}, "Geheim5a-post"),
    ("parent", "agenda:event_detail", "A5a", lambda s: {"pk": s["event"].pk}, "Geheim5a-uitje"),
    (
        "parent",
        "chats:chat_detail",
        "A5a",
        lambda s: {"pk": s["conversation"].pk},
        "Geheim5a-bericht",
    ),
    ("parent", "absences:leave_detail", "A5a", lambda s: {"pk": s["leave"].pk}, "Geheim5a-verlof"),
    ("parent", "conversations:booking_detail", "A5a", lambda s: {"pk": s["booking"].pk}, "Noor"),
    ("parent", "/meldingen/", "A5a", lambda s: {}, "Geheim5a-melding"),
    (
        "parent",
        "chats:chat_detail",
        "A5a_parents",
        lambda s: {"pk": s["conversation"].pk},
        "Geheim5a-ouderchat",
    ),
    (
        "parent",
        "chats:chat_detail",
        "A5a",
        lambda s: {"pk": s["child_conversation"].pk},
        "Geheim5a-kindchat",
    ),
    (
        "teacher",
        "chats:chat_detail",
        "A5a",
        lambda s: {"pk": s["group_conversation"].pk},
        "Geheim5a-groepsbericht",
    ),
    (
        "director",
        "admin:klimop_guardian_change",
        "A5a",
        lambda s: {"object_id": s["guardian"].pk},
        "Zuidervaart",
    ),
    (
        "other_group_parent",
        "chats:chat_detail",
        "A6b",
        lambda s: {"pk": s["conversation"].pk},
        "Geheim6b-bericht",
    ),
    ("teacher", "absences:pupil_register", "A5a", lambda s: {"pk": s["pupil"].pk}, "Noor"),
    (
        "teacher",
        "chats:chat_detail",
        "A5a",
        lambda s: {"pk": s["conversation"].pk},
        "Geheim5a-bericht",
    ),
    ("teacher", "conversations:staff_round", "A", lambda s: {"pk": s["round"].pk}, "Noor"),
    ("other_teacher", "absences:today", "A6b", lambda s: {}, "Sem"),
    ("director", "absences:leave_detail", "A5a", lambda s: {"pk": s["leave"].pk}, "Geheim5a-verlof"),
    ("director", "admin:klimop_pupil_change", "A5a", lambda s: {"object_id": s["pupil"].pk}, "Noor"),
    (
        "office",
        "admin:klimop_guardian_change",
        "A6b",
        lambda s: {"object_id": s["guardian"].pk},
        "sem.ouder@example.test",
    ),
    (
        "other_director",
        "admin:absences_leaverequest_change",
        "B",
        lambda s: {"object_id": s["leave"].pk},
        "GeheimB-verlof",
    ),
]


def test_the_same_ids_show_their_owners_what_is_theirs(world, clients):
    """A control for the tests above: the objects, ids and markers are right, so a refusal
    there is a refusal and not a wrong id, and a leak would be seen."""
    by_key = {u.key: u for u in urls()}
    problems = []
    with time_machine.travel(NOW, tick=False):
        for role, key, name, kwargs, shown in OWNERS:
            path = key if key.startswith("/") else by_key[key].path(**kwargs(world.sets[name]))
            response = clients[role].get(path)
            if response.status_code != 200 or shown not in _body(response):
                problems.append(
                    f"GET {path} as {role}: {response.status_code}, "
                    f"{shown!r} {'shown' if shown in _body(response) else 'not shown'}"
                )
    assert not problems, "\n".join(problems)
