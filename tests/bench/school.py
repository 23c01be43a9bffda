"""The school the bench measures: the demo school, grown to 1,000 pupils if asked, and what the
load needs in it (logins with a known password, chats, a post, feed tokens, two planner rounds).

Runs in the bench's own process with ``klimop.settings.bench`` against the bench's database,
before gunicorn starts. Everything is written through the services, as the demo does; the
bench only chooses who. What the services queue for after the commit (invitations) lands in the
bench's Redis database and is flushed before the Celery worker starts: nobody is mailed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from communication.agenda.services import feed_token_get_or_create
from communication.chats import services as chat_services
from communication.chats.models import Conversation
from communication.posts.models import Post
from conversations import services as planner
from conversations.models import Booking, Round, Slot
from demo import school as demo_plan
from klimop import demo as directory_demo
from klimop import selectors, services, worktime
from klimop.models import Group, Guardian, GuardianRelation, Pupil, School, StaffMember, User
from klimop.notifications.services import notification_emails_mark_sent

Kind = GuardianRelation.Kind
Access = GuardianRelation.Access
#: The extra groups of the 1,000-pupil school: three more per year (c, d, e), 24 in all.
EXTRA_LETTERS = "cde"
PUPILS_PER_EXTRA_GROUP = 25


@dataclass
class Parent:
    email: str
    user_id: int
    pupil_id: int  # a child in a group of the attempt round
    chat_id: int  # that child's per-child chat
    feed_token: str
    taken_slot_id: int  # a slot of the child's group somebody else booked: a refused attempt


@dataclass
class RushFamily:
    user_id: int
    pupil_id: int
    group_id: int
    session_key: str = ""


@dataclass
class BenchSchool:
    school_id: int
    size: str
    counts: dict[str, int]
    password: str
    director: str
    teachers: list[str]
    parents: list[Parent]
    post_id: int
    attempt_round_id: int
    rush_round_id: int
    rush_slots: dict[int, list[int]] = field(default_factory=dict)  # group id -> slot ids
    rush_families: list[RushFamily] = field(default_factory=list)


@contextmanager
def _unsent() -> Iterator[None]:
    """One transaction whose after-commit work (invitation e-mails, queued tasks) is dropped, as
    the demo drops its past's: the bench's setup mails nobody."""
    with transaction.atomic():
        connection = transaction.get_connection()
        start = len(connection.run_on_commit)
        try:
            yield
        finally:
            del connection.run_on_commit[start:]


def build(size: str) -> School:
    """The demo school (``manage.py demo_school``), with 24 more groups for ``size == "1000"``."""
    call_command("demo_school", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    school = demo_plan.demo_school_get()
    assert school is not None
    if size == "1000":
        with _unsent():
            grow(school, pupils=1000, guardians=1600)
    return school


def _birth_date(year_group: int, rng: random.Random, starts_on: dt.date) -> dt.date:
    first = dt.date(starts_on.year - year_group - 4, 10, 1)
    return first + dt.timedelta(days=rng.randint(0, 330))


def grow(school: School, *, pupils: int, guardians: int) -> None:
    """More groups, class teachers, pupils and families through the directory's bulk services,
    until the school has ``pupils`` pupils and about ``guardians`` guardians, every one invited
    (with a login)."""
    rng = random.Random(20261000)
    year = school.school_years.order_by("-starts_on").first()
    assert year is not None
    have_pupils = Pupil.objects.filter(school=school).count()
    have_guardians = Guardian.objects.filter(pupils__school=school).distinct().count()
    names = [f"{y}{letter}" for letter in EXTRA_LETTERS for y in range(1, 9)]
    new_pupils = pupils - have_pupils
    # One child per new family; two parents in enough of them to reach ``guardians``.
    two_parent_families = min(new_pupils, max(0, guardians - have_guardians - new_pupils))
    staff = [
        directory_demo.StaffRow(
            f"BM{n:02d}",
            f"leerkracht.{name}@{demo_plan.DOMAIN}",
            rng.choice(demo_plan.ADULT_WOMEN),
            rng.choice(demo_plan.SURNAMES),
            StaffMember.Role.TEACHER,
            (name,),
            (0, 1, 2, 3, 4),
        )
        for n, name in enumerate(names, start=1)
    ]
    pupil_rows, guardian_rows = [], []
    for n in range(new_pupils):
        group = names[n % len(names)]
        surname = rng.choice(demo_plan.SURNAMES)
        pupil_id = f"B{n:04d}"
        first = rng.choice(demo_plan.CHILD_GIRLS + demo_plan.CHILD_BOYS)
        pupil_rows.append(
            services.PupilRow(
                pupil_id, first, surname, group, _birth_date(int(group[0]), rng, year.starts_on)
            )
        )
        adults = [rng.choice(demo_plan.ADULT_WOMEN), rng.choice(demo_plan.ADULT_MEN)]
        for m, adult in enumerate(adults[: 2 if n < two_parent_families else 1]):
            guardian_rows.append(
                services.GuardianRow(
                    f"bench-O{n:04d}-{m}",
                    adult,
                    surname,
                    pupil_id,
                    Kind.PARENT_WITH_AUTHORITY,
                    Access.FULL,
                    email=f"ouder{n:04d}.{m}@{demo_plan.DOMAIN}",
                )
            )
    now = timezone.now()
    directory_demo.people_create(
        school=school,
        year=year,
        groups=names,
        staff=staff,
        pupils=pupil_rows,
        guardians=guardian_rows,
        at=now,
    )
    office = User.objects.get(email=demo_plan.LOGIN_OFFICE)
    services.guardians_invite_bulk(
        actor=office, guardians=Guardian.objects.filter(external_id__startswith="bench-O").order_by("pk")
    )
    chat_services.child_conversations_sync(school_year=year)
    # Joining the per-child chats made no notification to mail, but be sure of it.
    notification_emails_mark_sent(
        actor=None, users=User.objects.filter(guardian__relations__pupil__school=school).distinct()
    )


def counts(school: School) -> dict[str, int]:
    return {
        "groups": Group.objects.filter(school=school).count(),
        "pupils": Pupil.objects.filter(school=school).count(),
        "guardians": Guardian.objects.filter(pupils__school=school).distinct().count(),
        "guardian logins": User.objects.filter(guardian__relations__pupil__school=school, is_active=True)
        .distinct()
        .count(),
        "staff": StaffMember.objects.filter(school=school).count(),
    }


def _working_days(school: School, after: dt.date, n: int) -> list[dt.date]:
    cal = selectors.school_calendar(school)
    days: list[dt.date] = []
    day = after
    while len(days) < n and day < after + dt.timedelta(days=120):
        if worktime.is_working_day(cal, day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _class_teacher(group: Group) -> StaffMember:
    members = (
        StaffMember.objects.filter(groups=group, role=StaffMember.Role.TEACHER)
        .annotate(n=Count("groups"))
        .filter(n=1)
        .order_by("external_id")
    )
    member = members.first()
    assert member is not None, f"no class teacher for {group}"
    return member


def _round(school: School, director: User, title: str, day: dt.date, groups: list[Group]) -> Round:
    """A round on one day, open for booking from an hour ago (as if it opened this morning)."""
    now = timezone.now()
    round_ = Round(
        school=school,
        kind=Round.Kind.PROGRESS,
        title=title,
        first_date=day,
        last_date=day,
        opens_at=now - dt.timedelta(hours=1),
        closes_at=dt.datetime.combine(day, dt.time(8, 0), tzinfo=worktime.AMSTERDAM),
    )
    return planner.round_save(actor=director, round_=round_, groups=groups)


def _slots(round_: Round, director: User, group: Group, day: dt.date, n: int) -> list[int]:
    step = round_.slot_minutes + round_.gap_minutes
    starts = dt.datetime.combine(day, dt.time(13, 0))
    ends = starts + dt.timedelta(minutes=step * n - round_.gap_minutes)
    planner.availability_add(
        actor=director,
        round_=round_,
        group=group,
        date=day,
        starts=starts.time(),
        ends=ends.time(),
        staff=_class_teacher(group),
        location=f"Lokaal {group.name}",
    )
    return list(
        Slot.objects.filter(round=round_, group=group).order_by("starts_at").values_list("pk", flat=True)
    )


def _session_for(user: User) -> str:
    """A signed-in session as ``django.contrib.auth.login`` stores it (for the rush's 300
    families: 300 password checks, PBKDF2 on purpose, would cost minutes of CPU)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return str(store.session_key)


def _guardian_users(school: School):
    """(user, pupil) of every parent with gezag, full access and a login, per child."""
    return (
        GuardianRelation.objects.filter(
            pupil__school=school,
            pupil__left_on__isnull=True,
            pupil__group__isnull=False,
            kind=Kind.PARENT_WITH_AUTHORITY,
            access=Access.FULL,
            guardian__user__is_active=True,
        )
        .select_related("guardian__user", "pupil__group")
        .order_by("pupil_id", "guardian_id")
    )


def prepare(school: School, *, size: str, users: int, rush_families: int, rush_slots: int) -> BenchSchool:
    """Logins, chats, tokens, the attempt round and the rush round; returns what the load needs."""
    with _unsent():
        bench = _prepare(school, size=size, users=users, rush_families=rush_families, rush_slots=rush_slots)
        # The refused attempts' booked slots notified their families: that was before the bench.
        notification_emails_mark_sent(
            actor=None, users=User.objects.filter(guardian__relations__pupil__school=school).distinct()
        )
    return bench


def _prepare(school: School, *, size: str, users: int, rush_families: int, rush_slots: int) -> BenchSchool:
    rng = random.Random(12)
    password = settings.KLIMOP_DEMO_PASSWORD
    director = User.objects.get(email=demo_plan.LOGIN_DIRECTOR)
    office = User.objects.get(email=demo_plan.LOGIN_OFFICE)
    groups = list(Group.objects.filter(school=school).order_by("name"))

    # --- who: parents with a child each, never used (their password is the bench's to set) ---
    pairs = list(_guardian_users(school))
    rng.shuffle(pairs)
    parents_of: dict[int, list[GuardianRelation]] = {}
    for relation in pairs:
        parents_of.setdefault(relation.pupil_id, []).append(relation)
    page_pairs: list[GuardianRelation] = []
    used_users: set[int] = set()
    used_pupils: set[int] = set()
    for relation in pairs:
        user = relation.guardian.user
        if len(page_pairs) == users:
            break
        if user.last_login is None and user.pk not in used_users and relation.pupil_id not in used_pupils:
            page_pairs.append(relation)
            used_users.add(user.pk)
            used_pupils.add(relation.pupil_id)
    # Their families are not in the rush; nor is anyone sharing a child with them.
    used_users |= {r.guardian.user.pk for p in used_pupils for r in parents_of[p]}
    rush: list[RushFamily] = []
    for relation in pairs:
        if len(rush) == rush_families:
            break
        user = relation.guardian.user
        if user.pk in used_users or relation.pupil_id in used_pupils:
            continue
        rush.append(RushFamily(user.pk, relation.pupil_id, relation.pupil.group_id))
        used_users |= {r.guardian.user.pk for r in parents_of[relation.pupil_id]}
        used_pupils.add(relation.pupil_id)

    teachers = [
        _class_teacher(g) for g in groups if g.name[-1] in "ab" and g.name != "5a"
    ]  # the demo's groups, which have posts and chats; leerkracht@ (5a) first
    teacher_members = [StaffMember.objects.get(user__email=demo_plan.LOGIN_TEACHER), *teachers][:users]
    for member in teacher_members:
        if member.user.last_login is None and not member.user.has_usable_password():
            services.staff_invite(actor=office, staff=member)
    page_users = User.objects.filter(
        Q(pk__in=[r.guardian.user.pk for r in page_pairs]) | Q(pk__in=[m.user_id for m in teacher_members])
    ).exclude(email__in=demo_plan.LOGINS)
    services.logins_set_password(actor=None, users=page_users, password=password)

    # --- the planner: a round where the page parents' attempts are refused, and the rush ------
    days = _working_days(school, worktime.local_date(timezone.now()) + dt.timedelta(days=21), 2)
    page_groups = sorted({r.pupil.group for r in page_pairs}, key=lambda g: g.name)
    attempt = _round(school, director, "Bench: voortgang (poging)", days[0], page_groups)
    taken: dict[int, int] = {}
    for group in page_groups:
        slot_ids = _slots(attempt, director, group, days[0], 2)
        others = Pupil.objects.filter(group=group).exclude(pk__in=used_pupils).order_by("pk")
        other = others.first()
        assert other is not None
        booking = planner.bookings_create(
            actor=director, round_=attempt, choices=[(other, Slot.objects.get(pk=slot_ids[0]))]
        )[0]
        taken[group.pk] = booking.slot_id

    by_group: dict[int, int] = {}
    for family in rush:
        by_group[family.group_id] = by_group.get(family.group_id, 0) + 1
    shares = {g: rush_slots * n / len(rush) for g, n in by_group.items()}
    allotted = {g: int(s) for g, s in shares.items()}
    for g in sorted(shares, key=lambda g: shares[g] - allotted[g], reverse=True)[
        : rush_slots - sum(allotted.values())
    ]:
        allotted[g] += 1
    rush_groups = [g for g in groups if g.pk in by_group]
    rush_round = _round(school, director, "Bench: voortgang (drukte)", days[1], rush_groups)
    slots = {
        g.pk: _slots(rush_round, director, g, days[1], allotted[g.pk]) for g in rush_groups if allotted[g.pk]
    }
    users_by_pk = User.objects.in_bulk([f.user_id for f in rush])
    for family in rush:
        family.session_key = _session_for(users_by_pk[family.user_id])

    # --- what each page parent reads: the child's chat, a school-wide post, their feed -------
    chats = dict(
        Conversation.objects.filter(kind=Conversation.Kind.CHILD, pupil__in=used_pupils).values_list(
            "pupil_id", "pk"
        )
    )
    post = (
        Post.objects.filter(school=school, group__isnull=True, publish_at__lte=timezone.now())
        .order_by("-publish_at")
        .first()
    )
    assert post is not None, "the demo school has a newsletter"
    parents = [
        Parent(
            email=r.guardian.user.email,
            user_id=r.guardian.user.pk,
            pupil_id=r.pupil_id,
            chat_id=chats[r.pupil_id],
            feed_token=feed_token_get_or_create(actor=r.guardian.user).token,
            taken_slot_id=taken[r.pupil.group_id],
        )
        for r in page_pairs
    ]
    return BenchSchool(
        school_id=school.pk,
        size=size,
        counts=counts(school),
        password=password,
        director=demo_plan.LOGIN_DIRECTOR,
        teachers=[m.user.email for m in teacher_members],
        parents=parents,
        post_id=post.pk,
        attempt_round_id=attempt.pk,
        rush_round_id=rush_round.pk,
        rush_slots=slots,
        rush_families=rush,
    )


def double_bookings(round_id: int) -> tuple[int, int]:
    """(slots booked twice, pupils booked twice) in a round: the constraints say 0 and 0."""
    slots = (
        Booking.objects.filter(round_id=round_id)
        .values("slot")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    pupils = (
        Booking.objects.filter(round_id=round_id, guardian__isnull=True)
        .values("pupil")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    return slots, pupils
