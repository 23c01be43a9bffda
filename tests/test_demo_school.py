"""``manage.py demo_school``: the fictional school the README's demo logins live in.

Every test here reads one demo, built once for the module (``demo_built`` in conftest); what
a test writes (a login, a booking, a rebuild) is rolled back before the next. The tests that
need a database without the demo, or delete its photo files, are in test_demo_school_build.
"""

import datetime as dt
import hashlib
import re
from collections import defaultdict
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from import_export.results import RowResult
from PIL import Image

from absences import selectors as absence_selectors
from absences.models import AbsenceReport, FollowUp, LeaveRequest
from communication.agenda import selectors as agenda_selectors
from communication.agenda.models import Event
from communication.posts import demo as posts_demo
from communication.posts import selectors as post_selectors
from communication.posts import services as post_services
from communication.posts.models import Post, PostPhoto, PostRead
from conversations import selectors as planner_selectors
from conversations import services as planner_services
from conversations.models import Availability, Booking, BookingEvent, Round, Slot
from demo import school as demo
from klimop import access, worktime
from klimop.models import (
    Group,
    Guardian,
    GuardianRelation,
    NonSchoolDay,
    Pupil,
    School,
    SchoolYear,
    StaffMember,
    User,
)
from klimop.notifications import selectors as notification_selectors
from klimop.notifications.models import Notification
from klimop.privacy.models import ConsentDecision, ConsentEvent, ConsentPurpose
from klimop.privacy.selectors import consent_for_pupils, effective_consent
from klimop.resources import CSV, DIRECTORY_FILES, directory_import
from tests.conftest import DEMO_BUILT_AT, DEMO_DAY

# Two schools on one portal (tests/cross_school.py): collected here, on this module's demo.
from tests.cross_school import (  # noqa: F401 - pytest collects what this module holds
    test_no_add_form_of_school_b_offers_an_object_of_school_a,
    test_school_b_changes_nothing_of_school_a_through_any_admin_view_or_action,
    test_school_b_imports_and_invitations_change_nothing_of_school_a,
    world,
)
from tests.csp import crawl
from tests.language import (
    TYPICAL_ENGLISH,
    _names_in_the_demo,
    _shape,
    delete_selected_confirmations,
    foreign_words,
    walk_admin,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_built", "_demo_clock")]

Access = GuardianRelation.Access
Kind = GuardianRelation.Kind
#: A date inside school year 2026/2027, so the suite does not depend on today.
TODAY = DEMO_DAY
#: People, places and a phone number named in the real schools' agreements that Klimop's
#: settings were drawn from; the demo must not reuse them. Kept as (length, the first 16 hex
#: digits of the SHA-256 of the lower-cased text), so the repository does not repeat them.
SEED_NAME_HASHES = frozenset(
    {
        (5, "05a331a7f4f1929f"),
        (5, "2143d0865cae4439"),
        (16, "1ce531aa5988f99c"),
        (6, "308c02faa8cffc8e"),
        (9, "f08192f359b64a95"),
        (8, "45a46883096a45cd"),
    }
)
#: Where the maintainers keep those documents, beside the repository. Optional: when the
#: folder is there, the test also checks that every hashed name still occurs in them.
SEEDS_DIR = Path(settings.BASE_DIR).parent / "shared" / "seeds"


def _hashes_in(text: str) -> set[tuple[int, str]]:
    """Every (length, hash) of a substring of ``text`` with a length that SEED_NAME_HASHES has."""
    text = text.lower()
    found = set()
    for length in {n for n, _h in SEED_NAME_HASHES}:
        for i in range(len(text) - length + 1):
            digest = hashlib.sha256(text[i : i + length].encode()).hexdigest()[:16]
            if (length, digest) in SEED_NAME_HASHES:
                found.add((length, digest))
    return found


def run_demo(*args: str, date: dt.date = TODAY) -> str:
    """The command for ``date``, on that day's clock at 10:00 (never the real clock)."""
    out = StringIO()
    with time_machine.travel(dt.datetime.combine(date, DEMO_BUILT_AT.timetz()), tick=False):
        call_command("demo_school", *args, date=date, stdout=out)
    return out.getvalue()


@pytest.fixture
def _demo_clock():
    """Each test reads the demo at the moment it was built (TODAY, 10:00), not on today's
    clock: what is published, delivered or upcoming does not depend on when the suite runs."""
    with time_machine.travel(DEMO_BUILT_AT, tick=False):
        yield


@pytest.fixture
def output(demo_built):
    """What ``manage.py demo_school`` printed when it built the module's demo."""
    return demo_built


@pytest.fixture
def school(demo_built):
    return School.objects.get(slug=demo.SLUG)


def user(email: str) -> User:
    return User.objects.get(email=email)


def counts() -> dict[str, int]:
    return {
        "schools": School.objects.count(),
        "years": SchoolYear.objects.count(),
        "days off": NonSchoolDay.objects.count(),
        "groups": Group.objects.count(),
        "pupils": Pupil.objects.count(),
        "guardians": Guardian.objects.count(),
        "relations": GuardianRelation.objects.count(),
        "staff": StaffMember.objects.count(),
        "staff groups": StaffMember.groups.through.objects.count(),
        "users": User.objects.count(),
        "email addresses": EmailAddress.objects.count(),
        "posts": Post.objects.count(),
        "photos": PostPhoto.objects.count(),
        "post reads": PostRead.objects.count(),
        "events": Event.objects.count(),
        "consent decisions": ConsentDecision.objects.count(),
        "consent history": ConsentEvent.objects.count(),
        "notifications": Notification.objects.count(),
        "absences": AbsenceReport.objects.count(),
        "follow-ups": FollowUp.objects.count(),
        "leave requests": LeaveRequest.objects.count(),
        "rounds": Round.objects.count(),
        "slots": Slot.objects.count(),
        "bookings": Booking.objects.count(),
    }


def people() -> list[tuple]:
    """Everyone in the demo by their stable ids, without database keys or password salts."""
    pupils = sorted(
        Pupil.objects.values_list("external_id", "first_name", "last_name", "date_of_birth", "group__name")
    )
    relations = sorted(
        GuardianRelation.objects.values_list(
            "pupil__external_id",
            "guardian__external_id",
            "guardian__first_name",
            "guardian__last_name",
            "guardian__email",
            "guardian__phone",
            "kind",
            "access",
        )
    )
    staff = sorted(StaffMember.objects.values_list("external_id", "user__email", "role", "groups__name"))
    return [*pupils, *relations, *staff]


def school_life() -> list[tuple]:
    """Posts, events, consent and reads by stable keys (dates follow --date, not the clock)."""
    posts = Post.objects.values_list("group__name", "author__email", "kind", "title", "body", "publish_at")
    events = Event.objects.values_list("group__name", "title", "kind", "starts_at", "ends_at", "bring")
    consent = ConsentDecision.objects.values_list(
        "pupil__external_id", "guardian__external_id", "purpose", "granted", "decided_at"
    )
    reads = PostRead.objects.values_list("post__title", "post__group__name", "user__email")
    absences = AbsenceReport.objects.values_list(
        "pupil__external_id",
        "kind",
        "starts_on",
        "ends_on",
        "reported_at",
        "reported_late",
        "reported_by__email",
        "follow_up__due_on",
    )
    leave = LeaveRequest.objects.values_list(
        "pupils__external_id", "kind", "starts_on", "ends_on", "status", "submitted_at", "decided_at"
    )
    slots = Slot.objects.values_list("group__name", "staff__user__email", "starts_at")
    bookings = Booking.objects.values_list(
        "pupil__external_id", "slot__starts_at", "booked_by__email", "created_at"
    )
    return sorted([*posts, *events, *consent, *reads, *absences, *leave, *slots, *bookings], key=repr)


# --- size and shape -----------------------------------------------------------------------


def test_demo_school_has_the_promised_size(school):
    assert Group.objects.filter(school=school).count() == 16
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(demo.GROUP_NAMES)
    assert 380 <= Pupil.objects.filter(school=school).count() <= 420
    assert 600 <= Guardian.objects.filter(pupils__school=school).distinct().count() <= 700
    assert StaffMember.objects.filter(school=school).count() == 30
    for group in Group.objects.all():
        assert 20 <= group.pupils.count() <= 30


def test_school_year_contains_the_date_with_holidays_and_two_study_days(school):
    year = SchoolYear.objects.get(school=school)
    assert year.name == "2026/2027"
    assert year.starts_on <= TODAY <= year.ends_on
    days = NonSchoolDay.objects.filter(school=school)
    assert days.filter(kind=NonSchoolDay.Kind.SCHOOL_HOLIDAY).count() >= 20
    assert days.filter(kind=NonSchoolDay.Kind.PUBLIC_HOLIDAY).exists()
    study_days = days.filter(kind=NonSchoolDay.Kind.STUDY_DAY)
    assert study_days.count() == 2
    for day in study_days:
        assert year.starts_on < day.date < year.ends_on
        assert day.date.weekday() < 5
        assert not day.from_calendar


def test_dates_of_birth_match_the_year_group(school):
    starts_on = SchoolYear.objects.get().starts_on
    for pupil in Pupil.objects.select_related("group"):
        age_at_start = (starts_on - pupil.date_of_birth).days / 365.25
        assert pupil.group.year + 2.9 < age_at_start < pupil.group.year + 5, pupil


def test_at_least_four_duo_groups_share_the_week_on_different_days(school):
    duo_groups = 0
    for group in Group.objects.filter(school=school):
        # Class teachers teach one group; the gym teacher and assistants teach several.
        class_teachers = [t for t in group.teachers.all() if t.groups.count() == 1]
        assert 1 <= len(class_teachers) <= 2
        if len(class_teachers) == 2:
            first, second = (t.working_weekdays for t in class_teachers)
            assert first != second
            assert first | second == {0, 1, 2, 3, 4}, "together the duo covers the week"
            duo_groups += 1
        else:
            assert class_teachers[0].working_weekdays == {0, 1, 2, 3, 4}
    assert duo_groups >= 4


def test_staff_has_a_director_an_office_and_a_care_coordinator(school):
    roles = list(StaffMember.objects.filter(school=school).values_list("role", flat=True))
    assert roles.count(StaffMember.Role.DIRECTOR) == 1
    assert roles.count(StaffMember.Role.OFFICE) == 1
    assert roles.count(StaffMember.Role.CARE_COORDINATOR) == 1
    gym_teacher = max(StaffMember.objects.filter(school=school), key=lambda s: s.groups.count())
    assert gym_teacher.groups.count() >= 6


def test_siblings_share_their_guardians_across_groups(school):
    families = [g for g in Guardian.objects.all() if g.pupils.count() >= 2]
    sibling_sets = {frozenset(g.pupils.values_list("pk", flat=True)) for g in families}
    assert 25 <= len(sibling_sets) <= 35
    for pupils in sibling_sets:
        groups = Pupil.objects.filter(pk__in=pupils).values_list("group__year", flat=True)
        assert len(set(groups)) == len(pupils), "siblings are in different year groups"


def test_the_family_situations_are_all_there(school):
    relations = GuardianRelation.objects.filter(pupil__school=school)
    single_parent_pupils = Pupil.objects.filter(school=school).filter(
        pk__in=[p.pk for p in Pupil.objects.all() if p.guardian_relations.count() == 1]
    )
    assert single_parent_pupils.count() >= 40
    assert relations.filter(kind=Kind.STEP_PARENT, access=Access.NONE).exists()
    assert relations.filter(kind=Kind.STEP_PARENT, access=Access.FULL).exists()
    assert relations.filter(kind=Kind.PARENT_WITHOUT_AUTHORITY, access=Access.ON_REQUEST).exists()
    assert relations.filter(access=Access.BARRED).count() >= 2
    assert relations.filter(kind=Kind.PARENT_WITH_AUTHORITY, access=Access.FULL).count() > 600


# --- idempotence -----------------------------------------------------------------------


def test_running_twice_changes_nothing(school):
    before, everyone, life = counts(), people(), school_life()
    out = run_demo()
    assert "already exists" in out
    assert counts() == before
    assert people() == everyone
    assert school_life() == life


def test_reset_rebuilds_the_same_people_and_school_life_and_leaves_other_schools_alone(school):
    before, everyone, life = counts(), people(), school_life()
    other = School.objects.create(name="Basisschool Elders", slug="elders")
    other_user = User.objects.create_user(email="someone@example.test")
    out = run_demo("--reset")
    assert "Deleted: 1 schools" in out
    assert School.objects.filter(pk=other.pk).exists()
    assert User.objects.filter(pk=other_user.pk).exists()
    other.delete()
    other_user.delete()
    assert counts() == before
    assert people() == everyone
    assert school_life() == life


def test_a_school_deleted_by_hand_leaves_nothing_in_the_way(school):
    before = counts()
    school.delete()  # leaves the guardians and the logins behind
    run_demo()
    assert counts() == before


# --- logins -------------------------------------------------------------------------------


@pytest.mark.parametrize("email", demo.LOGINS)
def test_every_demo_login_can_log_in_with_a_verified_address(school, email):
    assert authenticate(email=email, password=settings.KLIMOP_DEMO_PASSWORD) == user(email)
    assert EmailAddress.objects.filter(user__email=email, email=email, verified=True, primary=True).exists()
    assert user(email).language == "nl"


def test_demo_login_through_the_client(client, school):
    assert client.login(email=demo.LOGIN_PARENT, password=settings.KLIMOP_DEMO_PASSWORD)


def test_most_families_are_active_and_some_not_invited_yet(school):
    with_login = Guardian.objects.filter(user__isnull=False)
    assert {
        demo.LOGIN_PARENT,
        demo.LOGIN_DIVORCED,
        demo.LOGIN_STEP,
        demo.LOGIN_BARRED,
    } <= set(with_login.values_list("email", flat=True))
    assert 450 <= with_login.count() <= 600
    assert Guardian.objects.filter(user__isnull=True).count() >= 50
    # Active parents accepted an invitation (verified address) but their password is theirs.
    active = User.objects.filter(guardian__isnull=False).exclude(email__in=demo.LOGINS)
    assert not active.filter(invited_at__isnull=True).exists()
    assert EmailAddress.objects.filter(user__in=active, verified=True).count() == active.count()
    # Only guardians who see a child have an account; a barred parent never gets one.
    assert not with_login.filter(relations__access=Access.BARRED).exclude(email=demo.LOGIN_BARRED).exists()


def test_only_the_demo_logins_have_a_usable_password(school):
    usable = {u.email for u in User.objects.all() if u.has_usable_password()}
    assert usable == set(demo.LOGINS)
    assert StaffMember.objects.filter(user__isnull=True).count() == 0


def test_output_lists_the_logins_with_the_password_and_a_summary(output):
    for email in demo.LOGINS:
        assert re.search(rf"{re.escape(email)}\s+{settings.KLIMOP_DEMO_PASSWORD}", output)
    assert "pupils" in output
    assert "guardians" in output


# --- what each login sees ------------------------------------------------------------


def test_parent_sees_exactly_their_two_children_in_different_groups(school):
    parent = user(demo.LOGIN_PARENT)
    children = access.pupils_visible_to(parent)
    assert children.count() == 2
    assert children.values("group").distinct().count() == 2
    assert set(children) == set(parent.guardian_records.get().pupils.all())
    assert set(access.pupils_actable_by(parent)) == set(children)
    for child in children:
        assert access.can_set_consent_for(parent, child)
        # The other parent has gezag too, and no login yet.
        others = child.guardian_relations.exclude(guardian__user=parent)
        assert others.filter(kind=Kind.PARENT_WITH_AUTHORITY, guardian__user=None).exists()


def test_barred_parent_sees_nothing(school):
    barred = user(demo.LOGIN_BARRED)
    relations = barred.guardian_records.get().relations.all()
    assert [r.access for r in relations] == [Access.BARRED]
    assert not access.pupils_visible_to(barred).exists()
    assert not access.groups_visible_to(barred).exists()
    # The child still has a parent with gezag who sees them.
    child = relations[0].pupil
    assert child.guardian_relations.filter(kind=Kind.PARENT_WITH_AUTHORITY, access=Access.FULL).exists()


def test_divorced_parent_shares_the_child_with_an_ex_with_gezag(school):
    divorced = user(demo.LOGIN_DIVORCED)
    (child,) = access.pupils_actable_by(divorced)
    parents = child.guardian_relations.filter(kind=Kind.PARENT_WITH_AUTHORITY, access=Access.FULL)
    assert parents.count() == 2
    emails = set(parents.values_list("guardian__email", flat=True))
    phones = set(parents.values_list("guardian__phone", flat=True))
    assert len(emails) == 2
    assert len(phones) == 2


def test_step_parent_without_consent_sees_nothing(school):
    step = user(demo.LOGIN_STEP)
    assert list(step.guardian_records.get().relations.values_list("kind", "access")) == [
        (Kind.STEP_PARENT, Access.NONE)
    ]
    assert not access.pupils_visible_to(step).exists()


def test_teacher_and_duo_see_only_their_group(school):
    teacher, duo = user(demo.LOGIN_TEACHER), user(demo.LOGIN_DUO)
    (group,) = access.staff_member_of(teacher).groups.all()
    assert list(access.staff_member_of(duo).groups.all()) == [group]
    assert access.staff_member_of(teacher).working_weekdays != access.staff_member_of(duo).working_weekdays
    assert set(access.pupils_visible_to(teacher)) == set(group.pupils.all())
    assert set(access.pupils_visible_to(duo)) == set(group.pupils.all())
    # One of ouder@'s children is in this group.
    assert user(demo.LOGIN_PARENT).guardian_records.get().pupils.filter(group=group).exists()


def test_director_and_office_see_the_whole_school(school):
    pupils = Pupil.objects.filter(school=school).count()
    for email, role in (
        (demo.LOGIN_DIRECTOR, StaffMember.Role.DIRECTOR),
        (demo.LOGIN_OFFICE, StaffMember.Role.OFFICE),
    ):
        manager = user(email)
        assert access.staff_member_of(manager).role == role
        assert access.pupils_visible_to(manager).count() == pupils
        assert access.is_school_manager(manager, school)


# --- fictional data ---------------------------------------------------------------------


def test_contact_details_are_fictional(school):
    emails = list(Guardian.objects.values_list("email", flat=True))
    emails += list(User.objects.values_list("email", flat=True))
    assert all(e.endswith("@klimop.example") for e in emails)
    assert len(set(Guardian.objects.values_list("email", flat=True))) == Guardian.objects.count()
    phones = list(Guardian.objects.values_list("phone", flat=True))
    assert all(re.fullmatch(r"06-9\d{7}", p) for p in phones)
    assert len(set(phones)) == len(phones)


def test_no_name_from_the_seed_documents(school):
    if SEEDS_DIR.is_dir():  # only the maintainers have the documents: keep the list honest
        seeds = " ".join(p.read_text(errors="ignore") for p in SEEDS_DIR.glob("*.txt"))
        assert _hashes_in(seeds.replace(" ", "")) == SEED_NAME_HASHES
    texts = [
        *Guardian.objects.values_list("first_name", "last_name", "email", "phone"),
        *Pupil.objects.values_list("first_name", "last_name"),
        *User.objects.values_list("first_name", "last_name", "email"),
        *School.objects.values_list("name", "phone", "address", "email"),
    ]
    data = " ".join(" ".join(t) for t in texts)
    assert not _hashes_in(data)
    assert "klimop" not in School.objects.get(slug=demo.SLUG).name.lower()


# --- school life: posts, agenda, consent, notifications ---------------------------------


def published_before(moment: dt.datetime):
    return Post.objects.filter(publish_at__lt=moment)


def test_every_group_has_posts_from_the_last_weeks_published_and_announced(school):
    now = timezone.now()
    for group in Group.objects.filter(school=school):
        posts = Post.objects.filter(group=group)
        assert 2 <= posts.count() <= 5, group
        assert posts.filter(kind=Post.Kind.ATMOSPHERE).exists()
        assert posts.filter(kind=Post.Kind.FUNCTIONAL).exists()
        for post in posts:
            assert post.publish_at < now
            assert dt.date(2026, 10, 20) <= timezone.localdate(post.publish_at) < TODAY
            assert timezone.localtime(post.publish_at).weekday() < 5
            assert post.created_at == post.publish_at
            assert access.staff_member_of(post.author).groups.filter(pk=group.pk).exists()
    newsletter = Post.objects.get(group=None, kind=Post.Kind.NEWSLETTER)
    assert newsletter.author.email == demo.LOGIN_DIRECTOR
    assert "<ul>" in newsletter.body  # sanitised by the service, list kept
    # Everything was announced back then: the publish sweep has nothing to send now.
    assert not Post.objects.filter(notified_at__isnull=True).exists()
    assert post_services.posts_notify_due(now=now) == 0


def test_the_photo_post_went_through_the_photo_pipeline(school):
    raw = Image.open(posts_demo.demo_photo(0, seed=demo.SEED + 10))
    assert raw.getexif(), "the drawn photo carries EXIF, like a phone photo"
    post = Post.objects.filter(photos__isnull=False).distinct().get()
    assert post.group.name == "5a"
    assert post.author.email == demo.LOGIN_TEACHER
    assert post.consent_confirmed_at == post.publish_at
    assert post.photos.count() == 2
    for photo in post.photos.all():
        assert photo.content_type == "image/jpeg"
        for field in (photo.image, photo.thumbnail):
            with field.open("rb") as f:
                image = Image.open(f)
                assert not image.getexif()
                assert "exif" not in image.info


def test_photos_are_served_only_to_the_groups_parents(school, client):
    photo = PostPhoto.objects.filter(post__group__name="5a").first()
    urls = [
        reverse("posts:post_photo", args=[photo.pk]),
        reverse("posts:post_photo_thumb", args=[photo.pk]),
    ]
    assert client.login(email=demo.LOGIN_PARENT, password=settings.KLIMOP_DEMO_PASSWORD)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
    client.logout()
    assert client.login(email=demo.LOGIN_DIVORCED, password=settings.KLIMOP_DEMO_PASSWORD)
    for url in urls:
        assert client.get(url).status_code == 404


def test_parent_has_two_unread_posts_and_notifications(school):
    parent = user(demo.LOGIN_PARENT)
    timeline = post_selectors.timeline_for(viewer=parent)
    unread = timeline.filter(is_read=False)
    assert timeline.count() > 4
    assert unread.count() == 2
    assert {p.group.name for p in unread} == {"5a", "2b"}
    notes = notification_selectors.notifications_for(viewer=parent, unread_only=True)
    causes = set(notes.values_list("cause", flat=True))
    assert {f"post:{p.pk}" for p in unread} <= causes
    assert any(c.startswith("event-reminder:") for c in causes)
    # Delivered, and not mailed again when the worker starts; what is due only after the build
    # (a teacher's, held until their working day) is mailed then, not marked as mailed before.
    pending = Notification.objects.filter(email_status=Notification.EmailStatus.PENDING)
    assert not pending.filter(deliver_at__lte=DEMO_BUILT_AT).exists()
    assert not Notification.objects.filter(emailed_at__gt=DEMO_BUILT_AT).exists()


def test_teacher_sees_real_read_counts(school):
    rows = post_selectors.posts_by_author(viewer=user(demo.LOGIN_TEACHER))
    assert rows
    for row in rows:
        assert 0 < row.families_read < row.families


def test_agenda_has_upcoming_events_for_the_parents_groups(school):
    parent = user(demo.LOGIN_PARENT)
    events = agenda_selectors.events_visible_to(parent).filter(starts_on__gt=TODAY)
    assert events.filter(group__name="5a", kind=Event.Kind.TRIP).exclude(bring="").exists()
    assert events.filter(group__name="2b", kind=Event.Kind.PARENT_EVENING).exists()
    school_events = events.filter(group=None)
    assert {"Koffie-uurtje", "MR-vergadering", "Sinterklaasviering", "Kerstviering"} <= set(
        school_events.values_list("title", flat=True)
    )
    # 5 December 2026 is a Saturday: the school celebrates on Friday the 4th.
    assert school_events.get(title="Sinterklaasviering").starts_on == dt.date(2026, 12, 4)
    for event in Event.objects.all():
        assert TODAY < event.starts_on <= TODAY + dt.timedelta(days=60)
        assert event.starts_on not in set(NonSchoolDay.objects.values_list("date", flat=True))
    assert Event.objects.filter(group__name="6a", kind=Event.Kind.TEST).exists()


def test_consent_decisions_with_their_history(school):
    decisions = ConsentDecision.objects.all()
    assert decisions.count() > 1000
    year = SchoolYear.objects.get()
    assert not decisions.exclude(school_year=year).exists()
    # Each decision is what its latest history row says, by the same parent.
    latest = {}
    for e in ConsentEvent.objects.order_by("at", "pk"):
        latest[(e.pupil_id, e.guardian_id, e.purpose)] = e
    assert len(latest) == decisions.count()
    # Each decider has one guardian record at the school, and it is the decision's.
    records = defaultdict(list)
    for user_id, guardian_id in Guardian.objects.values_list("user_id", "pk"):
        records[user_id].append(guardian_id)
    for d in decisions:
        event = latest[(d.pupil_id, d.guardian_id, d.purpose)]
        assert (event.new_granted, event.at, event.actor_id) == (d.granted, d.decided_at, d.decided_by_id)
        assert records[d.decided_by_id] == [d.guardian_id]
    assert ConsentEvent.objects.filter(old_granted=True, new_granted=False).exists()
    # Mostly yes for the group page, mixed for social media; silence is no consent.
    consent = consent_for_pupils(Pupil.objects.all())
    group_page = sum(c.effective[ConsentPurpose.GROUP_PAGE] for c in consent.values())
    social = sum(c.effective[ConsentPurpose.SOCIAL_MEDIA] for c in consent.values())
    assert 200 <= group_page <= 350
    assert 40 <= social < group_page
    for child in user(demo.LOGIN_PARENT).guardian_records.get().pupils.all():
        assert not child.consent_decisions.exists()
        assert not effective_consent(pupil=child, purpose=ConsentPurpose.GROUP_PAGE)


def test_divorced_parents_differ_and_the_stricter_choice_holds(school):
    divorced = user(demo.LOGIN_DIVORCED)
    (child,) = access.pupils_actable_by(divorced)
    entry = consent_for_pupils([child])[child.pk]
    assert len(entry.deciders) == 2
    mine = entry.choices[divorced.guardian_records.get().pk]
    (other,) = [g for g in entry.deciders if g != divorced.guardian_records.get().pk]
    assert mine[ConsentPurpose.GROUP_PAGE] is True
    assert entry.choices[other][ConsentPurpose.GROUP_PAGE] is False
    assert not effective_consent(pupil=child, purpose=ConsentPurpose.GROUP_PAGE)
    assert effective_consent(pupil=child, purpose=ConsentPurpose.WEBSITE)


def test_summary_has_a_line_per_kind(output):
    for kind in (
        "posts",
        "post reads",
        "agenda events",
        "consent decisions",
        "notifications",
        "conversations",
        "absences",
        "leave requests",
        "planner",
        "parent accounts",
    ):
        assert re.search(rf"^{kind}\s+\d", output, re.MULTILINE), kind


def test_the_demo_has_conversations_with_one_parent_waiting_for_leerkracht(school):
    from communication.chats import selectors as chat_selectors
    from communication.chats.models import Conversation

    teacher, parent = user(demo.LOGIN_TEACHER), user(demo.LOGIN_PARENT)
    pupils = Pupil.objects.filter(school=school, left_on__isnull=True).count()
    assert Conversation.objects.filter(kind=Conversation.Kind.CHILD).count() == pupils
    waiting = chat_selectors.open_parent_messages_for(viewer=teacher)
    assert len(waiting) == 1
    assert "gymles" in waiting[0].body
    # Started from "new conversation", the question went into the child's per-child chat.
    mine = [c for c in chat_selectors.conversations_for(viewer=parent) if c.kind == "child"]
    assert len(mine) == 1
    assert mine[0].unread == 0
    bodies = list(mine[0].messages.order_by("created_at").values_list("body", flat=True))
    assert "orthodontist" in bodies[0]
    assert "klaarstaat" in bodies[1]
    assert chat_selectors.unread_conversation_count(viewer=parent) == 0


def test_the_chat_badge_counts_what_each_persons_inbox_shows_unread(school):
    """The navigation's badge (one fixed SQL statement) and the inbox (the ORM's rule) agree
    for every person of the demo who takes part in a conversation: staff, parents with full
    access and those whose access ended or never allowed acting."""
    from communication.chats import selectors as chat_selectors
    from communication.chats.models import Message, Participant

    # Everyone in a conversation that has messages (the empty per-child chats count 0 both ways).
    users = list(
        User.objects.filter(
            pk__in=Participant.objects.filter(conversation__messages__isnull=False).values("user_id")
        ).order_by("pk")
    )
    earlier = timezone.now() - dt.timedelta(days=3)  # later messages are not delivered yet then
    assert Message.objects.filter(deliver_at__gt=earlier).exists()
    for moment in (timezone.now(), earlier):
        counts = {}
        for person in users:
            inbox = chat_selectors.conversations_for(viewer=person, now=moment)
            counts[person.pk] = (
                chat_selectors.unread_conversation_count(viewer=person, now=moment),
                sum(1 for c in inbox if c.unread),
            )
        assert len(counts) > 20
        assert all(badge == inbox for badge, inbox in counts.values()), {
            pk: pair for pk, pair in counts.items() if pair[0] != pair[1]
        }
        if moment != earlier:
            assert sum(1 for badge, _ in counts.values() if badge) >= 3  # the demo has unread chats


def test_a_chat_poll_answers_what_the_conversation_page_would_show(school):
    """An open chat page's poll (one fixed SQL statement) agrees with the ORM's rules: who
    may read the conversation (``conversations_visible_to``) and whether anything is new
    (``anything_new``), for everyone in a chat with messages, on their own conversations
    and on one that is not theirs, at several moments."""
    from communication.chats import selectors as chat_selectors
    from communication.chats.models import Conversation, Participant

    talked = Conversation.objects.filter(messages__isnull=False).distinct().order_by("pk")
    first_talk = talked.first()
    users = list(User.objects.filter(chat_participations__conversation__in=talked).distinct().order_by("pk"))
    now = timezone.now()
    conversations = Conversation.objects.in_bulk()
    checked = seen_new = 0
    for person in users:
        mine = list(
            Participant.objects.filter(user=person)
            .order_by("conversation_id")
            .values_list("conversation_id", flat=True)
        )
        visible = set(chat_selectors.conversations_visible_to(person).values_list("pk", flat=True))
        for pk in [*mine, first_talk.pk]:
            for since in (now - dt.timedelta(days=3), now):
                state = chat_selectors.poll_state(viewer=person, conversation_id=pk, since=since, now=now)
                new = pk in visible and chat_selectors.anything_new(
                    viewer=person, conversation=conversations[pk], since=since, now=now
                )
                assert state == (pk in visible, new), (person.email, pk, since)
                checked += 1
                seen_new += new
    assert checked > 100
    assert seen_new > 10


# --- absences and leave -------------------------------------------------------------------

#: The demo's clock on the build day: before school (see ``demo._school_life_create``).
MORNING = demo._local(TODAY, 7, 30)


def test_the_5a_teacher_sees_todays_absences_with_one_reported_late(school):
    teacher = user(demo.LOGIN_TEACHER)
    rows = absence_selectors.absences_on(viewer=teacher, day=TODAY)
    assert {r.pupil.group.name for r in rows} == {"5a"}
    assert len(rows) == 2
    (late,) = [r for r in rows if r.reported_late]
    assert (late.kind, late.since) == (AbsenceReport.Kind.SICK, TODAY)
    # The service marked it: reported in the portal after the cutoff on its first day.
    assert timezone.localtime(late.report.reported_at) > demo._local(TODAY, 8, 20)
    assert late.report.channel == AbsenceReport.Channel.PORTAL
    card = absence_selectors.dashboard_context(teacher, now=demo._local(TODAY, 9))
    assert (card["count"], card["late_count"]) == (2, 1)
    assert card["is_school_day"]


def test_todays_absences_span_several_groups_with_a_doctors_visit(school):
    rows = absence_selectors.absences_on(viewer=user(demo.LOGIN_DIRECTOR), day=TODAY)
    assert len({r.pupil.group.name for r in rows}) >= 5
    kinds = [r.kind for r in rows]
    assert kinds.count(AbsenceReport.Kind.APPOINTMENT) == 1
    assert kinds.count("leave") == 1  # the extra vacation granted weeks ago starts today
    visit = AbsenceReport.objects.get(kind=AbsenceReport.Kind.APPOINTMENT)
    assert visit.from_time < visit.until_time
    assert visit.hours > 0
    phoned = AbsenceReport.objects.get(channel=AbsenceReport.Channel.PHONE)
    assert phoned.reported_by.email == demo.LOGIN_OFFICE
    assert phoned.caller
    for report in AbsenceReport.objects.all():
        assert report.events.get().at == report.reported_at
        assert report.reported_at < demo._local(TODAY, 9)
    # The demo logins' children are not among them: their pages stay as described.
    children = Pupil.objects.filter(guardian_relations__guardian__user__email__in=demo.LOGINS)
    assert not AbsenceReport.objects.filter(pupil__in=children).exists()


def test_a_pupil_sick_for_three_school_days_gives_the_5a_teacher_a_follow_up(school):
    teacher = user(demo.LOGIN_TEACHER)
    (task,) = absence_selectors.open_follow_ups_for(viewer=teacher)
    assert task.pupil.group.name == "5a"
    assert task.report.is_open
    # Sick since Wednesday 18 November; Friday was the third school day, today the fourth.
    assert task.report.starts_on == dt.date(2026, 11, 18)
    assert task.due_on == dt.date(2026, 11, 20)
    assert task.created_at == demo._local(task.due_on, 8)
    (row,) = [r for r in absence_selectors.absences_on(viewer=teacher, day=TODAY) if r.follow_up]
    assert row.school_day == 4
    # leerkracht@ works Monday to Wednesday: the notification arrived this morning, unread.
    note = Notification.objects.get(user=teacher, cause=f"absence-follow-up:{task.pk}")
    assert note.deliver_at == demo._local(TODAY, 8)
    assert note.read_at is None
    assert note.email_status == Notification.EmailStatus.SENT


def test_the_director_has_one_open_leave_request_and_granted_one_earlier(school):
    director, parent = user(demo.LOGIN_DIRECTOR), user(demo.LOGIN_PARENT)
    (waiting,) = absence_selectors.open_leave_requests_for(viewer=director)
    assert waiting.requested_by == parent
    assert waiting.kind == LeaveRequest.Kind.IMPORTANT
    assert set(waiting.pupils.all()) == set(access.pupils_actable_by(parent))
    assert waiting.starts_on > TODAY
    assert waiting.submitted_at < MORNING
    assert Notification.objects.filter(
        user=director, cause=f"leave-request:{waiting.pk}", read_at__isnull=True
    ).exists()
    assert absence_selectors.director_leave_context(director, now=MORNING)["requests"] == [waiting]
    card = absence_selectors.parent_card_context(parent, now=MORNING)
    assert waiting in card["leave_requests"]

    granted = LeaveRequest.objects.get(status=LeaveRequest.Status.GRANTED)
    assert granted.kind == LeaveRequest.Kind.EXTRA_VACATION
    assert granted.decided_by == director
    assert granted.submitted_at < granted.decided_at < MORNING
    assert granted.decision_reasons
    assert list(granted.events.values_list("new_status", flat=True)) == ["submitted", "granted"]
    assert Notification.objects.get(cause=f"leave-decision:{granted.pk}").read_at is not None


# --- conversation planner ---------------------------------------------------------------------


def test_report_conversations_about_two_weeks_ahead_on_school_days(school):
    round_ = Round.objects.get(school=school)
    assert round_.kind == Round.Kind.REPORT
    assert round_.child_attends_years == planner_services.planner_settings_for(school).child_attends_years
    assert TODAY + dt.timedelta(days=12) <= round_.first_date < round_.last_date
    assert round_.last_date <= TODAY + dt.timedelta(days=21)
    assert round_.opens_at == planner_services.default_opening(round_)
    closed = set(NonSchoolDay.objects.values_list("date", flat=True))
    days = set()
    for slot in Slot.objects.filter(round=round_):
        day = timezone.localtime(slot.starts_at).date()
        assert day.weekday() < 5
        assert day not in closed
        days.add(day)
    assert days == {round_.first_date, round_.last_date}
    # Every group's class teacher has time on both days, 13:00–16:30.
    for group in Group.objects.filter(school=school):
        availability = Availability.objects.filter(round=round_, group=group)
        assert availability.count() == 2, group
        assert {(a.starts, a.ends) for a in availability} == {(dt.time(13), dt.time(16, 30))}
        assert all(a.staff.groups.count() == 1 for a in availability)


def test_ouder_can_book_right_away_with_the_siblings_head_start(school):
    parent = user(demo.LOGIN_PARENT)
    round_ = Round.objects.get(school=school)
    plan = planner_selectors.parent_round(viewer=parent, round_=round_, now=MORNING)
    assert plan.is_open
    assert plan.head_start
    assert len(plan.children) == 2
    assert all(c.booking is None and c.free_count > 0 for c in plan.children)
    assert {c.pupil.group.name: c.attends for c in plan.children} == {"5a": True, "2b": False}
    assert plan.suggestions, "back-to-back times with both teachers"
    assert Notification.objects.filter(
        user=parent, cause=f"planner-invite:{round_.pk}", read_at__isnull=True
    ).exists()
    booked = planner_services.bookings_create(
        actor=parent, round_=round_, choices=plan.suggestions[0], now=MORNING
    )
    assert len(booked) == 2
    # A family with one child in the round waits for the opening at 08:00.
    single = next(
        u
        for u in User.objects.filter(
            guardian__relations__pupil__group__name="6a",
            guardian__relations__access=Access.FULL,
        )
        .exclude(email__in=demo.LOGINS)
        .order_by("pk")
        if access.pupils_actable_by(u).count() == 1
    )
    assert planner_services.opening_for(round_, single) == round_.opens_at > MORNING


def test_the_round_has_free_slots_and_bookings_by_other_families(school):
    round_ = Round.objects.get(school=school)
    slots = Slot.objects.filter(round=round_).count()
    bookings = Booking.objects.filter(round=round_)
    assert 4 <= bookings.count() < slots
    assert planner_selectors.free_slots(round_, now=MORNING).count() == slots - bookings.count()
    assert not bookings.filter(booked_by__email__in=demo.LOGINS).exists()
    children = Pupil.objects.filter(guardian_relations__guardian__user__email__in=demo.LOGINS)
    assert not bookings.filter(pupil__in=children).exists()
    # Families with children in several groups, who booked in their head start yesterday.
    early = round_.opens_at - planner_services.head_start(round_)
    for booking in bookings:
        assert early < booking.created_at < MORNING
        assert BookingEvent.objects.get(booking_id_at_time=booking.pk).at == booking.created_at
        assert booking.booked_by.guardian_records.get().pupils.values("group").distinct().count() > 1
    view = planner_selectors.staff_round(viewer=user(demo.LOGIN_TEACHER), round_=round_, now=MORNING)
    assert 0 < view.booked_count < view.slot_count


def test_the_quality_card_has_figures_to_show(school):
    from quality import selectors as quality

    noon = dt.datetime.combine(TODAY, dt.time(12, 0), tzinfo=worktime.AMSTERDAM)
    card = quality.quality_card_for(viewer=user(demo.LOGIN_DIRECTOR), school=school, now=noon)
    satisfaction = card.figure("satisfaction")
    assert satisfaction.value is not None
    assert satisfaction.value >= 85
    assert card.figure("active").value >= 60
    assert card.surveys


# --- every page a parent and a teacher reach: the Content-Security-Policy, no inline code -----

#: Pages each role must have reached (URL names), so the crawl cannot pass by seeing little.
#: The same check runs on every URL for twelve roles in tests/test_url_policy.py, on a small
#: cast; here on the demo's full pages (photos, long timelines, chats, the planner).
MUST_SEE = {
    demo.LOGIN_PARENT: [
        "home",
        "posts:timeline",
        "chats:chat_inbox",
        "agenda:agenda",
        "notifications:notifications",
        "absences:overview",
        "absences:report_sick",
        "conversations:index",
        "contact_details",
        "privacy:privacy_home",
        "account_change_password",
        "agenda:agenda_feed_settings",
    ],
    demo.LOGIN_TEACHER: [
        "staff_dashboard",
        "posts:my_posts",
        "posts:post_create",
        "chats:chat_inbox",
        "agenda:agenda",
        "absences:today",
        "conversations:index",
        "mfa_index",
    ],
}


@pytest.mark.parametrize("login", list(MUST_SEE))
def test_every_page_of_the_parent_and_teacher_has_the_policy_and_no_inline_code(client, school, login):
    client.force_login(user(login))
    must_see = [reverse(name) for name in MUST_SEE[login]]
    pages = crawl(client, ["/", *must_see])

    assert set(must_see) <= set(pages), set(must_see) - set(pages)
    assert len(pages) >= 10


# --- the sample files of docs/import/ import into the demo (issue 14) ---------------------------
# The demo's groups have the samples' group ids (G-5a): the samples add their people to the
# demo's groups, one file at a time in the documented order or all four in one go.

IMPORT_SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "import"


def _import_samples() -> dict[str, tuple[str, bytes]]:
    return {s.key: (s.file_name, (IMPORT_SAMPLES / s.file_name).read_bytes()) for s in DIRECTORY_FILES}


def test_the_import_samples_go_into_the_demo_school_in_one_go(school):
    groups_before = Group.objects.filter(school=school).count()
    pupils_before = Pupil.objects.filter(school=school).count()

    result = directory_import(
        actor=user(demo.LOGIN_OFFICE), school=school, files=_import_samples(), dry_run=False
    )

    assert result.imported, result.problems
    assert result.files[0].skipped == 4  # the demo's own groups, matched on their ids
    assert Group.objects.filter(school=school).count() == groups_before
    assert Pupil.objects.filter(school=school).count() == pupils_before + 5
    sara = Pupil.objects.get(school=school, external_id="L1005")
    assert sara.group == Group.objects.get(school=school, external_id="G-5a", name="5a")
    assert StaffMember.objects.get(school=school, external_id="M002").groups.count() == 2
    samples_relations = GuardianRelation.objects.filter(
        pupil__school=school, pupil__external_id__startswith="L100"
    )
    assert samples_relations.count() == 8


def test_the_import_samples_go_into_the_demo_one_file_at_a_time_in_the_documented_order(school):
    for spec in DIRECTORY_FILES:
        dataset = CSV().create_dataset((IMPORT_SAMPLES / spec.file_name).read_bytes())
        result = spec.resource(school=school, actor=user(demo.LOGIN_OFFICE)).import_data(dataset)
        assert not result.has_errors(), [e.error for e in result.base_errors]
        assert not result.has_validation_errors(), [r.error_dict for r in result.invalid_rows]
        if spec.key == "groups":
            assert result.totals[RowResult.IMPORT_TYPE_SKIP] == 4


def test_the_demo_office_imports_the_samples_on_the_directory_import_page(client, school):
    client.force_login(user(demo.LOGIN_OFFICE))
    files = {key: SimpleUploadedFile(name, data) for key, (name, data) in _import_samples().items()}
    preview = client.post(reverse("admin:directory_import"), {"action": "preview", **files})
    assert preview.context["can_confirm"], preview.context["outcome"].problems
    client.post(reverse("admin:directory_import"), {"action": "confirm", "digest": preview.context["digest"]})
    assert Pupil.objects.filter(school=school, external_id="L1004", group__name="8a").exists()


# --- the director's admin in Dutch (tests/language.py) -------------------------------------


def test_the_directors_admin_shows_no_english_in_dutch(client):
    director = User.objects.get(email=demo.LOGIN_DIRECTOR)
    assert director.language == "nl"
    client.force_login(director)
    with time_machine.travel(DEMO_BUILT_AT, tick=False):
        pages = walk_admin(client)
        pages.update(delete_selected_confirmations(client, pages))
    names = _names_in_the_demo()
    kinds = {_shape(p)[0].rstrip("/").rsplit("/", 1)[-1] for p in pages}
    # The walk reached lists, add and change forms, the history, delete pages and the
    # confirmation of the "delete selected" action.
    assert {"admin", "pupil", "add", "change", "history", "delete", "delete_selected"} <= kinds, sorted(kinds)
    assert len(pages) > 60
    found = {path: foreign_words(html, TYPICAL_ENGLISH, names) for path, html in pages.items()}
    problems = [f"{path}: {sorted(words)}" for path, words in found.items() if words]
    assert not problems, "\n".join(problems)


def test_the_admins_scripts_are_dutch_too(client):
    """The two-box selector of a round's groups and a teacher's groups ("Alle groepen kiezen",
    not "Choose all groepen") reads its words from the admin's JavaScript catalogue."""
    client.force_login(User.objects.get(email=demo.LOGIN_DIRECTOR))
    catalogue = client.get(reverse("admin:jsi18n")).content.decode()
    for dutch in ("Alle %s kiezen", "Geselecteerde %s kiezen", "Alle %s verwijderen", "Beschikbare %s"):
        assert dutch in catalogue
