"""The siblings' head start at every edge of the calendar.

Families with more than one child in a round (twins in one group too) may book, and are
invited, before everyone else. The head-start day is counted on local dates; when it is not
working time (a Sunday, a holiday), the head start opens at the previous working-time
opening, so the invitation (sent in office hours) still goes out before anyone else may
book. Every test freezes the clock (time-machine) and checks what a parent notices: from
when booking works, when the invitation arrives, what the pages say.
"""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from conversations import rules, selectors, services
from conversations.models import Booking, PlannerSettings, Round
from conversations.tasks import send_planner_invitations
from klimop.models import NonSchoolDay
from klimop.notifications.models import Notification
from klimop.worktime import AMSTERDAM
from tests import factories as f

# The planner's fixtures (a sibling of Noor in 6b).
pytest_plugins = ["tests.planner_cast"]

ONE_MINUTE = dt.timedelta(minutes=1)


def ams(year, month, day, hour=0, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


# --- the cast of a round: families, slots --------------------------------------------------------


@pytest.fixture
def single(group):
    """A family with one child in 5a."""
    return f.GuardianRelationFactory(
        pupil=f.PupilFactory(group=group, first_name="Sam"), guardian__user__email="single@example.test"
    ).guardian


@pytest.fixture
def twins(group):
    """Lotte and Mees, both in 5a, with one parent: the same teacher for both."""
    guardian = f.GuardianFactory(user__email="twins@example.test")
    for name in ("Lotte", "Mees"):
        f.GuardianRelationFactory(pupil=f.PupilFactory(group=group, first_name=name), guardian=guardian)
    return guardian


def _round(director, groups, *, first_date, opens_at=None):
    """A report round on ``first_date``; booking opens at ``opens_at`` or the school's default."""
    round_ = Round(
        school=groups[0].school,
        kind=Round.Kind.REPORT,
        first_date=first_date,
        last_date=first_date,
        opens_at=opens_at,
    )
    return services.round_save(actor=director.user, round_=round_, groups=groups)


def _slots(round_, staff, group):
    availability = services.availability_add(
        actor=staff.user,
        round_=round_,
        group=group,
        date=round_.first_date,
        starts=dt.time(13, 0),
        ends=dt.time(15, 0),
    )
    return list(availability.slots.order_by("starts_at"))


def _choices(guardian, round_, slots_by_group, offset=0):
    """One free slot per child of the guardian in the round (different slots for twins)."""
    pupils = sorted(guardian.pupils.filter(group__in=round_.groups.all()), key=lambda p: p.pk)
    return [(p, slots_by_group[p.group_id][offset + i]) for i, p in enumerate(pupils)]


def assert_books_from(guardian, round_, choices, moment, shown):
    """A minute before ``moment`` the parent is told when booking opens (``shown``); at
    ``moment`` the booking goes through."""
    with time_machine.travel(moment - ONE_MINUTE, tick=False), pytest.raises(ValidationError) as refused:
        services.bookings_create(actor=guardian.user, round_=round_, choices=choices)
    assert refused.value.messages == [f"Inschrijven kan vanaf {shown}."]
    with time_machine.travel(moment, tick=False):
        assert len(services.bookings_create(actor=guardian.user, round_=round_, choices=choices)) == len(
            choices
        )


def beat(start, end, every=dt.timedelta(minutes=15)):
    """The invitation sweep as Celery beat runs it (every 15 minutes), from ``start`` to ``end``."""
    moment = start.astimezone(dt.UTC)
    while moment <= end:
        with time_machine.travel(moment, tick=False):
            send_planner_invitations()
        moment += every


def beat_around(*moments, hours=1):
    """The beat in the hour before and after each of ``moments`` (the rest of the time the
    sweep has nothing new to send, which the full-week test shows once)."""
    for moment in moments:
        beat(moment - dt.timedelta(hours=hours), moment + dt.timedelta(hours=hours))


def invited_at(round_) -> dict[str, dt.datetime]:
    """E-mail address → when the invitation was made, on the school's clock."""
    return {
        n.user.email: rules.local(n.created_at)
        for n in Notification.objects.filter(cause=f"planner-invite:{round_.pk}").select_related("user")
    }


def _close(school, *days, name="Vrij"):
    for day in days:
        NonSchoolDay.objects.create(school=school, date=day, kind=NonSchoolDay.Kind.SCHOOL_HOLIDAY, name=name)


# --- a Sunday head-start day ---------------------------------------------------------------------

# Booking opens for everyone on Monday 25 January 2027 at 08:00 (14 days before Monday
# 8 February); a day earlier is Sunday, so families with several children start on Friday.
SUNDAY_CASE_FIRST_DAY = dt.date(2027, 2, 8)
MONDAY_OPENING = ams(2027, 1, 25, 8)
FRIDAY_OPENING = ams(2027, 1, 22, 8)
#: What the staff dashboard's planner card says of a round's state.
STATES = (
    "Nog niet open",
    "Open voor gezinnen met meerdere kinderen",
    "Inschrijving open",
    "Inschrijving gesloten",
)


@pytest.fixture
def monday_round(director, group, other_group, teacher, other_teacher):
    round_ = _round(director, [group, other_group], first_date=SUNDAY_CASE_FIRST_DAY)
    assert round_.opens_at == MONDAY_OPENING
    slots = {
        group.pk: _slots(round_, teacher, group),
        other_group.pk: _slots(round_, other_teacher, other_group),
    }
    return round_, slots


class TestSundayHeadStartDay:
    def test_siblings_book_from_friday_and_a_family_with_one_child_from_monday(
        self, monday_round, child, sibling, parent, single
    ):
        round_, slots = monday_round
        assert_books_from(
            parent, round_, _choices(parent, round_, slots), FRIDAY_OPENING, "vrijdag 22 januari, 08:00"
        )
        assert_books_from(
            single, round_, _choices(single, round_, slots, 3), MONDAY_OPENING, "maandag 25 januari, 08:00"
        )

    def test_siblings_are_invited_on_friday_at_eight_and_everyone_else_on_monday(
        self, monday_round, child, sibling, parent, divorced_parent, single
    ):
        round_, _slots = monday_round
        beat(ams(2027, 1, 22, 6), ams(2027, 1, 25, 9))
        assert invited_at(round_) == {
            "parent@example.test": FRIDAY_OPENING,
            "divorced@example.test": FRIDAY_OPENING,
            "single@example.test": MONDAY_OPENING,
        }

    def test_the_siblings_invitation_says_when_they_and_the_others_can_book(
        self, monday_round, child, sibling, parent, single
    ):
        round_, _slots = monday_round
        beat(FRIDAY_OPENING, FRIDAY_OPENING)
        body = Notification.objects.get(user=parent.user).body
        assert "u vanaf vrijdag 22 januari, 08:00, andere gezinnen vanaf maandag 25 januari, 08:00" in body
        beat(MONDAY_OPENING, MONDAY_OPENING)
        assert Notification.objects.get(user=single.user).body.startswith(
            "U kunt inschrijven tot zondag 7 februari"
        )

    def test_the_booking_page_tells_each_family_its_own_opening(
        self, client, monday_round, child, sibling, parent, single
    ):
        round_, _slots = monday_round
        url = reverse("conversations:round", args=[round_.pk])
        with time_machine.travel(ams(2027, 1, 20, 19), tick=False):
            client.force_login(parent.user)
            siblings_page = client.get(url).content.decode()
            client.force_login(single.user)
            single_page = client.get(url).content.decode()
        assert "U kunt plannen vanaf vrijdag 22 januari, 08:00." in siblings_page
        assert "zij kunnen plannen vanaf maandag 25 januari, 08:00" in siblings_page
        assert "U kunt plannen vanaf maandag 25 januari, 08:00." in single_page
        assert "vrijdag 22 januari" not in single_page

    def test_during_the_head_start_the_page_lets_siblings_book_and_says_others_cannot_yet(
        self, client, monday_round, child, sibling, parent, single
    ):
        round_, _slots = monday_round
        url = reverse("conversations:round", args=[round_.pk])
        with time_machine.travel(ams(2027, 1, 22, 10), tick=False):
            client.force_login(parent.user)
            siblings_page = client.get(url).content.decode()
            client.force_login(single.user)
            single_page = client.get(url).content.decode()
        assert "Plannen voor Noor" in siblings_page
        assert "Plannen voor" not in single_page
        assert "zij kunnen plannen vanaf maandag 25 januari, 08:00" in siblings_page
        assert "U kunt plannen vanaf maandag 25 januari, 08:00." in single_page

    def test_the_parent_card_says_the_head_start_is_before_other_families(
        self, rf, monday_round, child, sibling, parent
    ):
        request = rf.get("/")
        request.user = parent.user
        with time_machine.travel(ams(2027, 1, 21, 12), tick=False):
            html = Template('{% include "conversations/_parent_card.html" %}').render(
                Context({"request": request})
            )
        assert "U kunt plannen vanaf vrijdag 22 januari, 08:00." in html
        assert (
            "Dat is eerder dan andere gezinnen (zij kunnen plannen vanaf maandag 25 januari, 08:00)" in html
        )

    def test_the_teachers_dashboard_card_says_the_round_is_open_for_siblings_during_the_head_start(
        self, rf, monday_round, teacher
    ):
        request = rf.get("/")
        request.user = teacher.user

        def state_at(moment):
            with time_machine.travel(moment, tick=False), translation.override("nl"):
                html = Template('{% include "conversations/_staff_card.html" %}').render(
                    Context({"request": request})
                )
            return [t for t in STATES if t in html]

        assert state_at(FRIDAY_OPENING - dt.timedelta(minutes=1)) == ["Nog niet open"]
        assert state_at(FRIDAY_OPENING) == ["Open voor gezinnen met meerdere kinderen"]
        assert state_at(MONDAY_OPENING - dt.timedelta(minutes=1)) == [
            "Open voor gezinnen met meerdere kinderen"
        ]
        assert state_at(MONDAY_OPENING) == ["Inschrijving open"]


# --- holidays ------------------------------------------------------------------------------------


class TestHolidayHeadStartDay:
    def test_whit_monday_moves_the_head_start_to_friday(
        self, school, director, group, other_group, teacher, other_teacher, child, sibling, parent, single
    ):
        _close(school, dt.date(2027, 5, 17), name="Tweede Pinksterdag")
        round_ = _round(director, [group, other_group], first_date=dt.date(2027, 6, 1))
        assert round_.opens_at == ams(2027, 5, 18, 8)  # Tuesday after Whit Monday
        slots = {
            group.pk: _slots(round_, teacher, group),
            other_group.pk: _slots(round_, other_teacher, other_group),
        }
        beat_around(ams(2027, 5, 14, 8), ams(2027, 5, 17, 8), ams(2027, 5, 18, 8))
        assert invited_at(round_) == {
            "parent@example.test": ams(2027, 5, 14, 8),
            "divorced@example.test": ams(2027, 5, 14, 8),
            "single@example.test": ams(2027, 5, 18, 8),
        }
        assert_books_from(
            parent, round_, _choices(parent, round_, slots), ams(2027, 5, 14, 8), "vrijdag 14 mei, 08:00"
        )
        assert_books_from(
            single, round_, _choices(single, round_, slots, 3), ams(2027, 5, 18, 8), "dinsdag 18 mei, 08:00"
        )

    def test_after_the_christmas_holiday_the_head_start_is_the_last_friday_before_it(
        self, school, director, group, other_group, teacher, other_teacher, child, sibling, parent, single
    ):
        first, last = dt.date(2026, 12, 19), dt.date(2027, 1, 3)
        _close(
            school,
            *(first + dt.timedelta(days=n) for n in range((last - first).days + 1)),
            name="Kerstvakantie",
        )
        round_ = _round(director, [group, other_group], first_date=dt.date(2027, 1, 18))
        assert round_.opens_at == ams(2027, 1, 4, 8)  # the first Monday after the holiday
        slots = {
            group.pk: _slots(round_, teacher, group),
            other_group.pk: _slots(round_, other_teacher, other_group),
        }
        for moment in (
            ams(2026, 12, 18, 7, 45),
            ams(2026, 12, 18, 8),
            ams(2027, 1, 3, 10),
            ams(2027, 1, 4, 8),
        ):
            beat(moment, moment)
        assert invited_at(round_) == {
            "parent@example.test": ams(2026, 12, 18, 8),
            "divorced@example.test": ams(2026, 12, 18, 8),
            "single@example.test": ams(2027, 1, 4, 8),
        }
        assert_books_from(
            parent,
            round_,
            _choices(parent, round_, slots),
            ams(2026, 12, 18, 8),
            "vrijdag 18 december, 08:00",
        )


# --- twins -----------------------------------------------------------------------------------------


class TestTwins:
    def test_twins_in_one_group_get_the_head_start(self, monday_round, twins, single):
        round_, slots = monday_round
        beat_around(FRIDAY_OPENING, MONDAY_OPENING)
        assert invited_at(round_) == {
            "twins@example.test": FRIDAY_OPENING,
            "single@example.test": MONDAY_OPENING,
        }
        assert_books_from(
            twins, round_, _choices(twins, round_, slots), FRIDAY_OPENING, "vrijdag 22 januari, 08:00"
        )

    def test_twins_are_offered_back_to_back_times_with_their_teacher_and_book_them_in_one_step(
        self, client, monday_round, twins, teacher
    ):
        round_, _slots = monday_round
        with time_machine.travel(FRIDAY_OPENING, tick=False):
            plan = selectors.parent_round(viewer=twins.user, round_=round_)
            (p1, s1), (p2, s2) = plan.suggestions[0]
            assert {p1.first_name, p2.first_name} == {"Lotte", "Mees"}
            assert s1.staff == s2.staff == teacher
            assert s1.ends_at <= s2.starts_at <= s1.ends_at + services.ADJACENT_WITHIN
            client.force_login(twins.user)
            url = reverse("conversations:round", args=[round_.pk])
            page = client.get(url).content.decode()
            assert "Aansluitende gesprekken" in page
            response = client.post(url, {"run": f"{p1.pk}:{s1.pk},{p2.pk}:{s2.pk}"})
        assert response.status_code == 302
        assert set(Booking.objects.values_list("pupil_id", "slot_id")) == {(p1.pk, s1.pk), (p2.pk, s2.pk)}

    @pytest.mark.parametrize(
        ("gap", "back_to_back"), [(5, True), (30, False)], ids=["adjacent times", "no adjacent times"]
    )
    def test_the_directors_proposal_gives_twins_two_different_times(
        self, director, group, teacher, twins, gap, back_to_back
    ):
        round_ = Round(
            school=group.school,
            first_date=SUNDAY_CASE_FIRST_DAY,
            last_date=SUNDAY_CASE_FIRST_DAY,
            gap_minutes=gap,
        )
        round_ = services.round_save(actor=director.user, round_=round_, groups=[group])
        _slots(round_, teacher, group)
        proposed = services.proposals_for(actor=director.user, round_=round_, now=round_.closes_at)
        assert len({p.slot.pk for p in proposed}) == len(proposed) == 2
        first, second = sorted((p.slot for p in proposed), key=lambda s: s.starts_at)
        assert (second.starts_at <= first.ends_at + services.ADJACENT_WITHIN) is back_to_back
        booked, problems = services.proposals_confirm(
            actor=director.user,
            round_=round_,
            pairs=[(p.pupil, p.slot) for p in proposed],
            now=round_.closes_at,
        )
        assert (booked, problems) == (2, [])


# --- clock changes ------------------------------------------------------------------------------------

CLOCK_CHANGES = [
    # (the Monday after the clock change, the Friday before it, that Friday's UTC offset)
    pytest.param(dt.date(2027, 3, 29), dt.date(2027, 3, 26), 1, id="summer time (28 March 2027)"),
    pytest.param(dt.date(2026, 10, 26), dt.date(2026, 10, 23), 2, id="winter time (25 October 2026)"),
]


class TestClockChange:
    @pytest.mark.parametrize(("monday", "friday", "friday_offset"), CLOCK_CHANGES)
    def test_a_two_day_head_start_over_the_clock_change_opens_friday_at_eight(
        self, school, director, group, other_group, teacher, other_teacher, child, sibling, parent, single,
        monday, friday, friday_offset,
    ):  # fmt: skip
        PlannerSettings.objects.create(school=school, planner_siblings_head_start_days=2)
        round_ = _round(director, [group, other_group], first_date=monday + dt.timedelta(days=14))
        general = dt.datetime.combine(monday, dt.time(8), tzinfo=AMSTERDAM)
        early = dt.datetime.combine(friday, dt.time(8), tzinfo=AMSTERDAM)
        assert round_.opens_at == general
        assert early.utcoffset() == dt.timedelta(hours=friday_offset)
        slots = {
            group.pk: _slots(round_, teacher, group),
            other_group.pk: _slots(round_, other_teacher, other_group),
        }
        beat_around(early, general)
        assert invited_at(round_) == {
            "parent@example.test": early,
            "divorced@example.test": early,
            "single@example.test": general,
        }
        shown = f"vrijdag {friday.day} {'maart' if friday.month == 3 else 'oktober'}, 08:00"
        assert_books_from(parent, round_, _choices(parent, round_, slots), early, shown)

    @pytest.mark.parametrize(("monday", "friday", "friday_offset"), CLOCK_CHANGES)
    def test_a_four_day_head_start_over_the_clock_change_keeps_the_clock_time(
        self, client, school, director, group, other_group, teacher, other_teacher, child, sibling, parent,
        single, monday, friday, friday_offset,
    ):  # fmt: skip
        """The director opens on Tuesday at 10:00; four days earlier is Friday at 10:00 on
        the school's clock, not 09:00 or 11:00."""
        PlannerSettings.objects.create(school=school, planner_siblings_head_start_days=4)
        tuesday = monday + dt.timedelta(days=1)
        general = dt.datetime.combine(tuesday, dt.time(10), tzinfo=AMSTERDAM)
        early = dt.datetime.combine(friday, dt.time(10), tzinfo=AMSTERDAM)
        round_ = _round(
            director, [group, other_group], first_date=tuesday + dt.timedelta(days=14), opens_at=general
        )
        slots = {
            group.pk: _slots(round_, teacher, group),
            other_group.pk: _slots(round_, other_teacher, other_group),
        }
        beat_around(early, general)
        assert invited_at(round_) == {
            "parent@example.test": early,
            "divorced@example.test": early,
            "single@example.test": general,
        }
        assert early.astimezone(dt.UTC).hour == 10 - friday_offset
        shown = f"vrijdag {friday.day} {'maart' if friday.month == 3 else 'oktober'}, 10:00"
        with time_machine.travel(early - dt.timedelta(days=1), tick=False):
            client.force_login(parent.user)
            page = client.get(reverse("conversations:round", args=[round_.pk])).content.decode()
        assert f"U kunt plannen vanaf {shown}." in page
        assert_books_from(parent, round_, _choices(parent, round_, slots), early, shown)


# --- no head start ---------------------------------------------------------------------------------


class TestNoHeadStart:
    def test_in_a_round_without_siblings_everyone_is_invited_and_books_at_the_opening(
        self, monday_round, child, parent, divorced_parent, single
    ):
        round_, slots = monday_round
        beat_around(FRIDAY_OPENING, MONDAY_OPENING)
        assert invited_at(round_) == {
            "parent@example.test": MONDAY_OPENING,
            "divorced@example.test": MONDAY_OPENING,
            "single@example.test": MONDAY_OPENING,
        }
        assert_books_from(
            parent, round_, _choices(parent, round_, slots), MONDAY_OPENING, "maandag 25 januari, 08:00"
        )

    def test_a_sibling_in_a_group_outside_the_round_gives_no_head_start(
        self, director, group, teacher, child, sibling, parent, single
    ):
        round_ = _round(director, [group], first_date=SUNDAY_CASE_FIRST_DAY)
        slots = {group.pk: _slots(round_, teacher, group)}
        beat_around(FRIDAY_OPENING, MONDAY_OPENING)
        assert invited_at(round_) == {
            "parent@example.test": MONDAY_OPENING,
            "divorced@example.test": MONDAY_OPENING,
            "single@example.test": MONDAY_OPENING,
        }
        assert_books_from(
            parent, round_, _choices(parent, round_, slots), MONDAY_OPENING, "maandag 25 januari, 08:00"
        )

    def test_a_school_without_a_head_start_opens_for_everyone_at_once(
        self, school, director, group, other_group, teacher, other_teacher, child, sibling, parent, single
    ):
        PlannerSettings.objects.create(school=school, planner_siblings_head_start_days=0)
        round_ = _round(director, [group, other_group], first_date=SUNDAY_CASE_FIRST_DAY)
        beat_around(FRIDAY_OPENING, MONDAY_OPENING)
        assert invited_at(round_) == {
            "parent@example.test": MONDAY_OPENING,
            "divorced@example.test": MONDAY_OPENING,
            "single@example.test": MONDAY_OPENING,
        }
        assert "U kunt inschrijven tot" in Notification.objects.get(user=parent.user).body


# --- the first days of a school year ----------------------------------------------------------------


class TestStartOfTheSchoolYear:
    def test_a_round_opening_on_the_first_school_day_gives_siblings_that_day_and_others_the_next(
        self,
        client,
        school,
        director,
        group,
        other_group,
        teacher,
        other_teacher,
        child,
        sibling,
        parent,
        single,
    ):
        """No working time of this school year lies before Monday 31 August 2026, and the
        previous school year (with last year's groups) is no place for a head start."""
        f.SchoolYearFactory(
            school=school, name="2025/2026", starts_on=dt.date(2025, 8, 25), ends_on=dt.date(2026, 7, 10)
        )
        round_ = _round(director, [group, other_group], first_date=dt.date(2026, 9, 14))
        assert round_.opens_at == ams(2026, 8, 31, 8)
        slots = {
            group.pk: _slots(round_, teacher, group),
            other_group.pk: _slots(round_, other_teacher, other_group),
        }
        beat(ams(2026, 7, 10, 8), ams(2026, 7, 10, 8))  # the last day of the previous school year
        beat_around(ams(2026, 8, 31, 8), ams(2026, 9, 1, 8))
        assert invited_at(round_) == {
            "parent@example.test": ams(2026, 8, 31, 8),
            "divorced@example.test": ams(2026, 8, 31, 8),
            "single@example.test": ams(2026, 9, 1, 8),
        }
        with time_machine.travel(ams(2026, 8, 31, 9), tick=False):
            client.force_login(single.user)
            page = client.get(reverse("conversations:round", args=[round_.pk])).content.decode()
        assert "U kunt plannen vanaf dinsdag 1 september, 08:00." in page
        assert_books_from(
            parent, round_, _choices(parent, round_, slots), ams(2026, 8, 31, 8), "maandag 31 augustus, 08:00"
        )
        assert_books_from(
            single,
            round_,
            _choices(single, round_, slots, 3),
            ams(2026, 9, 1, 8),
            "dinsdag 1 september, 08:00",
        )
