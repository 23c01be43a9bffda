"""The conversation planner: rounds, slots, opening times, joint and separate bookings,
never double booked (also under concurrent clicks), reminders, calendar files, staff pages."""

import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from icalendar import Calendar

from conversations import selectors, services
from conversations.models import Booking, BookingEvent, PlannerSettings, Round, Slot
from klimop.notifications.models import Notification
from klimop.worktime import AMSTERDAM
from tests import factories as f
from tests.planner_times import FIRST_DAY, OPENS, SIBLINGS_OPEN, WHILE_OPEN, at

# The planner's fixtures (a round for 5a and 6b, slots, a sibling in 6b).
pytest_plugins = ["tests.planner_cast"]

#: Queries of a refused booking of a one-child family, answered with that child's part: the
#: session and its user, the round, the family, the slot, who may book and when (the service's
#: own check), the lock (in a savepoint), and the child's part read afresh.
REFUSAL_MAX = 16


@pytest.fixture
def while_open():
    with time_machine.travel(WHILE_OPEN, tick=False) as traveller:
        yield traveller


def _book(guardian, pupil, slot, round_, now=WHILE_OPEN):
    return services.bookings_create(actor=guardian.user, round_=round_, choices=[(pupil, slot)], now=now)[0]


def _taken_by_another_family(slot, round_, group):
    """Another family of the group books ``slot`` first."""
    rival = f.GuardianRelationFactory(pupil=f.PupilFactory(group=group)).guardian
    return _book(rival, rival.pupils.get(), slot, round_)


def _booked_by_script(client, round_, pupil, slot):
    """A booking as static/js/planner.js sends it (HX-Request)."""
    return client.post(
        reverse("conversations:round", args=[round_.pk]),
        {f"slot_{pupil.pk}": slot.pk},
        headers={"HX-Request": "true"},
    )


# --- rounds and slots ---------------------------------------------------------------------------------


class TestRound:
    def test_a_round_gets_the_schools_defaults(self, conversation_round):
        assert conversation_round.opens_at == OPENS  # 14 days before, at the office's opening
        assert conversation_round.closes_at == at(FIRST_DAY - dt.timedelta(days=1), 12)
        assert conversation_round.child_attends_years == [5, 6, 7, 8]

    def test_a_round_follows_the_schools_planner_settings(
        self, school, group, other_group, director, teacher
    ):
        PlannerSettings.objects.create(
            school=school,
            planner_opens_days_before=7,
            child_attends_years=[7, 8],
            conversations_end_by=dt.time(20, 0),
        )
        round_ = Round(school=school, first_date=FIRST_DAY, last_date=FIRST_DAY + dt.timedelta(days=2))
        round_ = services.round_save(actor=director.user, round_=round_, groups=[group, other_group])

        assert round_.opens_at == at(FIRST_DAY - dt.timedelta(days=7), 8)
        assert round_.child_attends_years == [7, 8]
        availability = services.availability_add(
            actor=teacher.user,
            round_=round_,
            group=group,
            date=FIRST_DAY,
            starts=dt.time(19),
            ends=dt.time(20),
        )
        assert availability.slots.count() == 4  # 19:00 to 19:45; 20:00 would end after 20:00

    def test_a_teacher_cannot_create_a_round(self, school, group, teacher):
        round_ = Round(school=school, first_date=FIRST_DAY, last_date=FIRST_DAY)
        with pytest.raises(Exception, match="Alleen de directie"):
            services.round_save(actor=teacher.user, round_=round_, groups=[group])

    def test_the_child_attends_from_group_5(self, conversation_round, child, group):
        group.year = 4
        assert not conversation_round.child_attends(child)
        group.year = 5
        assert conversation_round.child_attends(child)


class TestSlotGeneration:
    def test_slots_follow_length_and_gap(self, slots_5a):
        times = [s.starts_at.astimezone(AMSTERDAM).strftime("%H:%M") for s in slots_5a]
        assert times == ["13:00", "13:15", "13:30", "13:45", "14:00", "14:15", "14:30", "14:45"]
        assert all(s.ends_at - s.starts_at == dt.timedelta(minutes=10) for s in slots_5a)

    def test_no_slot_ends_after_the_schools_latest_end(self, conversation_round, teacher, group):
        availability = services.availability_add(
            actor=teacher.user,
            round_=conversation_round,
            group=group,
            date=FIRST_DAY,
            starts=dt.time(16, 0),
            ends=dt.time(17, 0),
        )
        last = availability.slots.order_by("starts_at").last()
        # 16:45–16:55 fits; 17:00–17:10 would pass 17:00 and is not made.
        assert last.starts_at == at(FIRST_DAY, 16, 45)
        assert last.ends_at <= at(FIRST_DAY, 17)

    def test_a_slot_may_end_exactly_at_the_latest_end(self, conversation_round, teacher, group):
        conversation_round.slot_minutes, conversation_round.gap_minutes = 15, 0
        availability = services.availability_add(
            actor=teacher.user,
            round_=conversation_round,
            group=group,
            date=FIRST_DAY,
            starts=dt.time(16, 0),
            ends=dt.time(17, 0),
        )
        assert availability.slots.order_by("starts_at").last().ends_at == at(FIRST_DAY, 17)

    def test_time_after_the_latest_end_is_refused_with_the_time(self, conversation_round, teacher, group):
        with pytest.raises(ValidationError) as exc:
            services.availability_add(
                actor=teacher.user,
                round_=conversation_round,
                group=group,
                date=FIRST_DAY,
                starts=dt.time(16, 0),
                ends=dt.time(17, 30),
            )
        assert "17:00" in exc.value.message_dict["ends"][0]
        assert not Slot.objects.exists()

    def test_breaks_are_kept_free(self, conversation_round, teacher, group):
        availability = services.availability_add(
            actor=teacher.user,
            round_=conversation_round,
            group=group,
            date=FIRST_DAY,
            starts=dt.time(13, 0),
            ends=dt.time(14, 30),
            breaks=services.parse_breaks("13:35-14:00"),
        )
        times = [
            s.starts_at.astimezone(AMSTERDAM).strftime("%H:%M")
            for s in availability.slots.order_by("starts_at")
        ]
        assert times == ["13:00", "13:15", "14:00", "14:15"]

    def test_a_teacher_cannot_publish_time_twice(self, slots_5a, conversation_round, teacher, group):
        with pytest.raises(ValidationError, match="U heeft op die tijd al gesprekken"):
            services.availability_add(
                actor=teacher.user,
                round_=conversation_round,
                group=group,
                date=FIRST_DAY,
                starts=dt.time(14, 0),
                ends=dt.time(16, 0),
            )

    def test_a_teacher_cannot_publish_for_another_group(self, conversation_round, teacher, other_group):
        with pytest.raises(Http404):
            services.availability_add(
                actor=teacher.user,
                round_=conversation_round,
                group=other_group,
                date=FIRST_DAY,
                starts=dt.time(13, 0),
                ends=dt.time(14, 0),
            )

    def test_duo_teachers_share_the_groups_slots(
        self, slots_5a, conversation_round, duo_teacher, group, child, parent, while_open
    ):
        services.availability_add(
            actor=duo_teacher.user,
            round_=conversation_round,
            group=group,
            date=FIRST_DAY + dt.timedelta(days=2),
            starts=dt.time(13, 0),
            ends=dt.time(14, 0),
        )
        plan = selectors.parent_round(viewer=parent.user, round_=conversation_round)
        teachers = {s.staff for _day, slots in plan.children[0].days for s in slots}
        assert teachers == {slots_5a[0].staff, duo_teacher}
        view = selectors.staff_round(viewer=duo_teacher.user, round_=conversation_round)
        assert view.slot_count == len(slots_5a) + 4


# --- opening --------------------------------------------------------------------------------------------


class TestOpening:
    def test_a_family_with_one_child_waits_for_the_opening(self, conversation_round, slots_5a, child, parent):
        with pytest.raises(ValidationError, match="Inschrijven kan vanaf"):
            _book(parent, child, slots_5a[0], conversation_round, now=OPENS - dt.timedelta(minutes=1))
        assert _book(parent, child, slots_5a[0], conversation_round, now=OPENS)

    def test_a_family_with_children_in_two_groups_books_a_day_earlier(
        self, conversation_round, slots_5a, slots_6b, child, sibling, parent
    ):
        assert services.opening_for(conversation_round, parent.user) == SIBLINGS_OPEN
        with pytest.raises(ValidationError, match="Inschrijven kan vanaf"):
            _book(parent, child, slots_5a[0], conversation_round, now=SIBLINGS_OPEN - dt.timedelta(minutes=1))
        assert _book(parent, child, slots_5a[0], conversation_round, now=SIBLINGS_OPEN)

    def test_the_page_tells_a_parent_when_booking_opens(self, client, conversation_round, child, parent):
        with time_machine.travel(OPENS - dt.timedelta(days=3), tick=False):
            client.force_login(parent.user)
            response = client.get(reverse("conversations:round", args=[conversation_round.pk]))
        assert response.status_code == 200
        assert "dinsdag 26 januari, 08:00" in response.content.decode()

    def test_a_closed_round_takes_no_bookings_from_parents(self, conversation_round, slots_5a, child, parent):
        with pytest.raises(ValidationError, match="Inschrijven voor deze ronde is gesloten"):
            _book(parent, child, slots_5a[0], conversation_round, now=conversation_round.closes_at)


class TestInvitations:
    def _invited(self, round_):
        return set(
            Notification.objects.filter(cause=f"planner-invite:{round_.pk}").values_list(
                "user__email", flat=True
            )
        )

    def test_siblings_are_invited_a_day_earlier_and_everyone_once(
        self,
        conversation_round,
        child,
        sibling,
        parent,
        divorced_parent,
        barred_child,
        barred_parent,
        step_parent,
        info_parent,
    ):
        only_child_parent = f.GuardianRelationFactory(
            pupil=f.PupilFactory(group=conversation_round.groups.first()),
            guardian__user__email="single@example.test",
        ).guardian
        services.invitations_send(now=SIBLINGS_OPEN - dt.timedelta(minutes=1))
        assert self._invited(conversation_round) == set()
        services.invitations_send(now=SIBLINGS_OPEN + dt.timedelta(minutes=5))
        assert self._invited(conversation_round) == {"parent@example.test", "divorced@example.test"}
        services.invitations_send(now=OPENS)
        services.invitations_send(now=OPENS + dt.timedelta(minutes=15))  # a second sweep: nobody twice
        assert self._invited(conversation_round) == {
            "parent@example.test",
            "divorced@example.test",
            only_child_parent.user.email,
        }
        assert Notification.objects.filter(user=parent.user).count() == 1
        note = Notification.objects.get(user=only_child_parent.user)
        assert note.title == "Rapportgesprek: plan uw gesprek"

    def test_invitations_wait_for_office_hours(self, conversation_round, child, parent):
        conversation_round.opens_at = dt.datetime(2027, 1, 23, 10, 0, tzinfo=AMSTERDAM)  # a Saturday
        conversation_round.save()
        assert services.invitations_send(now=dt.datetime(2027, 1, 23, 10, 5, tzinfo=AMSTERDAM)) == 0
        assert services.invitations_send(now=dt.datetime(2027, 1, 25, 8, 0, tzinfo=AMSTERDAM)) == 1


# --- booking -------------------------------------------------------------------------------------------


class TestJointBooking:
    def test_both_custodial_parents_share_one_booking(
        self, conversation_round, slots_5a, child, parent, divorced_parent, while_open
    ):
        booking = _book(parent, child, slots_5a[2], conversation_round)
        assert booking.guardian is None
        other = selectors.parent_round(viewer=divorced_parent.user, round_=conversation_round)
        assert other.children[0].booking == booking
        # Both get the confirmation (the other parent learns who booked what).
        assert set(
            Notification.objects.filter(cause__startswith="planner-booked:").values_list(
                "user__email", flat=True
            )
        ) == {"parent@example.test", "divorced@example.test"}
        with pytest.raises(services.AlreadyBooked, match="Noor heeft al een gesprek"):
            _book(divorced_parent, child, slots_5a[3], conversation_round)
        moved = services.booking_move(
            actor=divorced_parent.user, booking=booking, slot=slots_5a[4], now=WHILE_OPEN
        )
        assert moved.slot == slots_5a[4]
        assert list(BookingEvent.objects.values_list("action", flat=True)) == ["booked", "moved"]

    @pytest.mark.parametrize("who", ["step_parent", "info_parent", "barred_parent", "other_teacher"])
    def test_who_may_not_act_for_the_child_cannot_book_it(
        self, request, who, conversation_round, slots_5a, child, barred_child
    ):
        person = request.getfixturevalue(who)
        with pytest.raises(Http404):
            services.bookings_create(
                actor=person.user, round_=conversation_round, choices=[(child, slots_5a[0])], now=WHILE_OPEN
            )

    def test_a_parent_cancels_until_the_cutoff(self, conversation_round, slots_5a, child, parent, teacher):
        booking = _book(parent, child, slots_5a[0], conversation_round)
        late = slots_5a[0].starts_at - dt.timedelta(hours=23)
        with pytest.raises(ValidationError, match="kan niet meer online worden geannuleerd"):
            services.booking_cancel(actor=parent.user, booking=booking, now=late)
        services.booking_cancel(actor=parent.user, booking=booking, now=late - dt.timedelta(hours=2))
        assert not Booking.objects.exists()
        assert Notification.objects.filter(user=teacher.user, cause__startswith="planner-cancelled").exists()


class TestSeparateBookings:
    def test_parents_invited_apart_each_book_their_own(
        self, conversation_round, slots_5a, child, parent, divorced_parent, teacher, while_open
    ):
        services.separate_bookings_set(
            actor=teacher.user, round_=conversation_round, pupil=child, allowed=True
        )
        mine = _book(parent, child, slots_5a[0], conversation_round)
        theirs = _book(divorced_parent, child, slots_5a[5], conversation_round)
        assert mine.guardian == parent
        assert theirs.guardian == divorced_parent
        # Each sees only their own conversation, and only they are told about it.
        plan = selectors.parent_round(viewer=parent.user, round_=conversation_round)
        assert plan.children[0].booking == mine
        # The notification's cause names the booking's event (its own sequence, not the booking's).
        (booked,) = BookingEvent.objects.filter(booking_id_at_time=mine.pk, action=BookingEvent.Action.BOOKED)
        told = Notification.objects.filter(cause=f"planner-booked:{booked.pk}")
        assert list(told.values_list("user", flat=True)) == [parent.user.pk]
        with pytest.raises(Http404):
            selectors.booking_get_for(viewer=parent.user, pk=theirs.pk)
        with pytest.raises(services.AlreadyBooked):
            _book(parent, child, slots_5a[1], conversation_round)

    def test_separate_bookings_are_refused_while_a_joint_one_exists(
        self, conversation_round, slots_5a, child, parent, teacher, while_open
    ):
        _book(parent, child, slots_5a[0], conversation_round)
        with pytest.raises(ValidationError, match="al een gezamenlijke afspraak"):
            services.separate_bookings_set(
                actor=teacher.user, round_=conversation_round, pupil=child, allowed=True
            )


class TestBadInput:
    def test_someone_elses_child_is_not_found(
        self, client, conversation_round, slots_5a, slots_6b, child, parent, barred_child, while_open
    ):
        client.force_login(parent.user)
        response = client.post(
            reverse("conversations:round", args=[conversation_round.pk]),
            {f"slot_{barred_child.pk}": slots_6b[0].pk},
        )
        assert response.status_code == 404
        assert not Booking.objects.exists()

    def test_a_round_without_the_parents_children_is_not_found(
        self, client, conversation_round, barred_parent, barred_child
    ):
        client.force_login(barred_parent.user)  # barred by court order from the child in 6b
        response = client.get(reverse("conversations:round", args=[conversation_round.pk]))
        assert response.status_code == 404

    def test_a_slot_of_another_round_is_refused(
        self,
        client,
        conversation_round,
        slots_5a,
        school,
        group,
        teacher,
        director,
        child,
        parent,
        while_open,
    ):
        other = services.round_save(
            actor=director.user,
            groups=[group],
            round_=Round(
                school=school,
                kind=Round.Kind.PROGRESS,
                first_date=FIRST_DAY + dt.timedelta(days=7),
                last_date=FIRST_DAY + dt.timedelta(days=7),
            ),
        )
        foreign = services.availability_add(
            actor=teacher.user,
            round_=other,
            group=group,
            date=FIRST_DAY + dt.timedelta(days=7),
            starts=dt.time(13, 0),
            ends=dt.time(14, 0),
        ).slots.first()
        client.force_login(parent.user)
        response = client.post(
            reverse("conversations:round", args=[conversation_round.pk]), {f"slot_{child.pk}": foreign.pk}
        )
        assert response.status_code == 400
        assert "hoort niet bij de leerkracht van Noor in deze ronde" in response.content.decode()
        assert not Booking.objects.exists()

    def test_a_closed_round_says_so_on_the_page(self, client, conversation_round, slots_5a, child, parent):
        with time_machine.travel(conversation_round.closes_at, tick=False):
            client.force_login(parent.user)
            page = client.get(reverse("conversations:round", args=[conversation_round.pk]))
            response = client.post(
                reverse("conversations:round", args=[conversation_round.pk]),
                {f"slot_{child.pk}": slots_5a[0].pk},
            )
        assert "Inschrijven is gesloten" in page.content.decode()
        assert response.status_code == 400
        assert "Inschrijven voor deze ronde is gesloten" in response.content.decode()

    def test_a_double_submit_books_once_and_says_so(
        self, client, conversation_round, slots_5a, child, parent, while_open
    ):
        client.force_login(parent.user)
        url = reverse("conversations:round", args=[conversation_round.pk])
        first = client.post(url, {f"slot_{child.pk}": slots_5a[0].pk})
        second = client.post(url, {f"slot_{child.pk}": slots_5a[0].pk})
        assert first.status_code == 302
        assert second.status_code == 409
        assert "Noor heeft al een gesprek in deze ronde" in second.content.decode()
        assert Booking.objects.count() == 1

    def test_a_slot_taken_meanwhile_shows_the_free_times(
        self, client, conversation_round, slots_5a, child, parent, while_open
    ):
        rival = f.GuardianRelationFactory(pupil=f.PupilFactory(group=child.group)).guardian
        _book(rival, rival.pupils.get(), slots_5a[0], conversation_round)
        client.force_login(parent.user)
        response = client.post(
            reverse("conversations:round", args=[conversation_round.pk]), {f"slot_{child.pk}": slots_5a[0].pk}
        )
        body = response.content.decode()
        assert response.status_code == 409
        assert "iemand anders heeft net" in body
        assert f'value="{slots_5a[1].pk}"' in body
        assert f'value="{slots_5a[0].pk}"' not in body

    def test_a_refused_booking_sent_by_the_pages_script_gets_only_the_free_times_back(
        self, client, conversation_round, slots_5a, child, parent, while_open
    ):
        """static/js/planner.js sends HX-Request: a refusal answers with the fragment, not the page."""
        _taken_by_another_family(slots_5a[0], conversation_round, child.group)
        client.force_login(parent.user)
        response = _booked_by_script(client, conversation_round, child, slots_5a[0])
        body = response.content.decode()
        assert response.status_code == 409
        # Only this child's part (the script replaces it and puts the message on top).
        assert body.lstrip().startswith("<div data-planner-refused>")
        assert f'data-planner-child="{child.pk}"' in body
        assert "data-planner-book" not in body
        assert "<html" not in body
        assert "<nav" not in body
        assert "Helaas, iemand anders heeft net" in body
        assert "De tijden hieronder zijn nog vrij." in body
        assert [f'value="{s.pk}"' in body for s in slots_5a] == [False] + [True] * (len(slots_5a) - 1)

    def test_a_refusal_reads_the_same_few_things_however_big_the_round(
        self, client, conversation_round, slots_5a, slots_6b, child, parent, teacher, group, while_open
    ):
        """A refused child's part takes a fixed number of queries: more free times, more
        families and more groups in the round cost nothing more (the 08:00 rush is mostly
        refusals)."""
        _taken_by_another_family(slots_5a[0], conversation_round, child.group)
        client.force_login(parent.user)

        def refusal() -> int:
            with CaptureQueriesContext(connection) as queries:
                response = _booked_by_script(client, conversation_round, child, slots_5a[0])
            assert response.status_code == 409
            assert "data-planner-refused" in response.content.decode()
            return len(queries)

        small = refusal()
        # Who may book, the lock, and the child's part afresh; savepoints counted (REFUSAL_MAX).
        assert small <= REFUSAL_MAX
        services.availability_add(
            actor=teacher.user,
            round_=conversation_round,
            group=group,
            date=FIRST_DAY + dt.timedelta(days=1),
            starts=dt.time(8, 30),
            ends=dt.time(16, 0),
            location="Lokaal 5a",
        )
        for _ in range(5):
            f.GuardianRelationFactory(pupil=f.PupilFactory(group=group))
        assert refusal() == small

    def test_a_family_with_another_child_to_book_gets_the_whole_booking_part_back(
        self, client, conversation_round, slots_5a, slots_6b, child, sibling, parent
    ):
        """Its page proposes back-to-back times, which the refusal may have made stale: the
        script gets the booking part with fresh suggestions, none holding the time just taken."""
        _taken_by_another_family(slots_5a[0], conversation_round, child.group)
        with time_machine.travel(WHILE_OPEN, tick=False):
            client.force_login(parent.user)
            response = _booked_by_script(client, conversation_round, child, slots_5a[0])
        body = response.content.decode()
        assert response.status_code == 409
        assert body.lstrip().startswith('<div id="planner-book" data-planner-book>')
        assert "Aansluitende gesprekken" in body
        assert f"{child.pk}:{slots_5a[0].pk}" not in body
        assert f'data-planner-child="{child.pk}"' in body
        assert f'data-planner-child="{sibling.pk}"' in body

    def test_a_child_booked_meanwhile_by_the_other_parent_shows_that_booking(
        self, client, conversation_round, slots_5a, child, parent, divorced_parent, while_open
    ):
        """The other parent was quicker (a joint booking): the answer says so and shows the
        booking in the child's part, without free times to choose from."""
        _book(divorced_parent, child, slots_5a[3], conversation_round)
        client.force_login(parent.user)
        response = _booked_by_script(client, conversation_round, child, slots_5a[0])
        body = response.content.decode()
        assert response.status_code == 409
        assert "Noor heeft al een gesprek in deze ronde" in body
        assert "13:45" in body  # the fourth time: 13:00 + 3 × 15 minutes
        assert "De tijden hieronder zijn nog vrij." not in body
        assert not any(f'value="{s.pk}"' in body for s in slots_5a)

    def test_a_booking_sent_by_the_pages_script_is_told_where_to_go(
        self, client, conversation_round, slots_5a, child, parent, while_open
    ):
        client.force_login(parent.user)
        response = client.post(
            reverse("conversations:round", args=[conversation_round.pk]),
            {f"slot_{child.pk}": slots_5a[2].pk},
            headers={"HX-Request": "true"},
        )
        booking = Booking.objects.get()
        assert response["HX-Redirect"] == reverse("conversations:booking_detail", args=[booking.pk])
        page = client.get(response["HX-Redirect"]).content.decode()
        assert "Gepland:" in page  # the confirmation is shown once, on the booking's page

    def test_the_booking_page_shows_only_the_free_times_of_the_familys_groups(
        self, client, conversation_round, slots_5a, slots_6b, child, parent, while_open
    ):
        client.force_login(parent.user)
        body = client.get(reverse("conversations:round", args=[conversation_round.pk])).content.decode()
        assert all(f'value="{s.pk}"' in body for s in slots_5a)
        assert not any(f'value="{s.pk}"' in body for s in slots_6b)


# --- never double booked, under concurrency (PostgreSQL) -------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_never_double_book_a_slot_or_a_pupil(conversation_round, slots_5a, group):
    """24 families click at once for the same few slots; each family clicks twice (two slots)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL")
    families = [f.GuardianRelationFactory(pupil=f.PupilFactory(group=group)) for _ in range(12)]
    contested = slots_5a[:3]
    barrier = threading.Barrier(len(families) * 2)
    outcome: dict[str, list] = {"won": [], "taken": [], "already": [], "other": []}
    lock = threading.Lock()

    def attempt(relation, slot):
        try:
            barrier.wait(timeout=20)
            translation.activate("en")  # each thread has its own language; messages in English here
            booking = services.bookings_create(
                actor=relation.guardian.user,
                round_=conversation_round,
                choices=[(relation.pupil, slot)],
                now=WHILE_OPEN,
            )[0]
            key, value = "won", (booking.slot_id, booking.pupil_id)
        except services.SlotTaken as exc:
            key, value = "taken", exc.messages[0]
        except services.AlreadyBooked as exc:
            key, value = "already", exc.messages[0]
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            key, value = "other", repr(exc)
        finally:
            connections.close_all()
        with lock:
            outcome[key].append(value)

    threads = [
        threading.Thread(target=attempt, args=(rel, contested[(i + j) % 3]))
        for i, rel in enumerate(families)
        for j in (0, 1)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcome["other"] == []
    won_slots = [slot for slot, _pupil in outcome["won"]]
    won_pupils = [pupil for _slot, pupil in outcome["won"]]
    assert sorted(won_slots) == sorted(s.pk for s in contested)  # exactly one winner per slot
    assert len(set(won_pupils)) == len(won_pupils)  # nobody booked twice
    assert Booking.objects.count() == 3
    assert len(outcome["taken"]) + len(outcome["already"]) == len(threads) - 3
    assert all("Please choose another time" in message for message in outcome["taken"])


@pytest.mark.django_db(transaction=True)
def test_a_booking_rush_leaves_no_double_booking_and_refuses_every_loser_with_the_free_times(
    conversation_round, slots_5a, group
):
    """30 families open the page and book at the same moment, all for the first three times,
    through the page's script (each request its own database connection). Three win, one
    per time; every other family gets 409 with only its child's part: the free times."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL")
    from django.test import Client

    families = [f.GuardianRelationFactory(pupil=f.PupilFactory(group=group)) for _ in range(30)]
    contested = slots_5a[:3]
    url = reverse("conversations:round", args=[conversation_round.pk])
    traveller = time_machine.travel(WHILE_OPEN, tick=False)
    traveller.start()
    clients = []
    for relation in families:
        c = Client()
        c.force_login(relation.guardian.user)
        clients.append(c)
    barrier = threading.Barrier(len(families))
    answers: list[tuple[int, int, str, str]] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        try:
            slot = contested[i % len(contested)]
            barrier.wait(timeout=30)
            response = clients[i].post(
                url, {f"slot_{families[i].pupil.pk}": slot.pk}, headers={"HX-Request": "true"}
            )
            to = response.get("HX-Redirect", "")
            answer = (response.status_code, slot.pk, to, response.content.decode())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            answer = (0, 0, "", repr(exc))
        finally:
            connections.close_all()
        with lock:
            answers.append(answer)

    try:
        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(families))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        traveller.stop()

    assert len(answers) == len(families)
    assert sorted(status for status, *_rest in answers) == [200] * 3 + [409] * (len(families) - 3), [
        a[3][:300] for a in answers if a[0] not in (200, 409)
    ]
    winners = [slot for status, slot, _to, _body in answers if status == 200]
    assert sorted(winners) == sorted(s.pk for s in contested)  # one winner per time
    assert all(to.startswith("/oudergesprekken/afspraak/") for status, _s, to, _b in answers if status == 200)
    assert Booking.objects.count() == 3
    assert sorted(Booking.objects.values_list("slot_id", flat=True)) == sorted(s.pk for s in contested)
    for status, slot, _to, body in answers:
        if status == 409:
            assert body.lstrip().startswith("<div data-planner-refused>")
            assert "iemand anders heeft net" in body
            assert f'value="{slot}"' not in body  # the time just taken is not offered again
            assert all(f'value="{s.pk}"' in body for s in slots_5a[3:])


# --- families: back-to-back slots ---------------------------------------------------------------------


class TestSiblings:
    def test_the_page_proposes_back_to_back_slots_with_both_teachers(
        self, conversation_round, slots_5a, slots_6b, child, sibling, parent, while_open
    ):
        plan = selectors.parent_round(viewer=parent.user, round_=conversation_round)
        first = plan.suggestions[0]
        (p1, s1), (p2, s2) = first
        assert {p1, p2} == {child, sibling}
        assert s1.staff != s2.staff
        assert s1.ends_at <= s2.starts_at <= s1.ends_at + services.ADJACENT_WITHIN

    def test_a_family_books_both_children_in_one_step(
        self, client, conversation_round, slots_5a, slots_6b, child, sibling, parent
    ):
        with time_machine.travel(SIBLINGS_OPEN, tick=False):
            client.force_login(parent.user)
            run = f"{child.pk}:{slots_5a[0].pk},{sibling.pk}:{slots_6b[1].pk}"
            response = client.post(reverse("conversations:round", args=[conversation_round.pk]), {"run": run})
        assert response.status_code == 302
        assert set(Booking.objects.values_list("pupil_id", "slot_id")) == {
            (child.pk, slots_5a[0].pk),
            (sibling.pk, slots_6b[1].pk),
        }

    def test_one_step_is_all_or_nothing(
        self, conversation_round, slots_5a, slots_6b, child, sibling, parent, barred_child, other_group
    ):
        rival = f.GuardianRelationFactory(pupil=f.PupilFactory(group=other_group)).guardian
        _book(rival, rival.pupils.get(), slots_6b[1], conversation_round, now=OPENS)
        with pytest.raises(services.SlotTaken):
            services.bookings_create(
                actor=parent.user,
                round_=conversation_round,
                now=OPENS,
                choices=[(child, slots_5a[0]), (sibling, slots_6b[1])],
            )
        assert not Booking.objects.filter(pupil=child).exists()

    def test_the_director_proposes_adjacent_slots_for_families_that_did_not_book(
        self, conversation_round, slots_5a, slots_6b, child, sibling, parent, director, group
    ):
        single = f.GuardianRelationFactory(pupil=f.PupilFactory(group=group)).pupil
        proposed = {
            p.pupil: p.slot
            for p in services.proposals_for(
                actor=director.user, round_=conversation_round, now=conversation_round.closes_at
            )
        }
        assert set(proposed) == {child, sibling, single}
        a, b = sorted([proposed[child], proposed[sibling]], key=lambda s: s.starts_at)
        assert a.ends_at <= b.starts_at <= a.ends_at + services.ADJACENT_WITHIN
        booked, problems = services.proposals_confirm(
            actor=director.user,
            round_=conversation_round,
            pairs=list(proposed.items()),
            now=conversation_round.closes_at,
        )
        assert (booked, problems) == (3, [])
        assert Notification.objects.filter(user=parent.user, cause__startswith="planner-booked").count() == 2


# --- after booking ------------------------------------------------------------------------------------


class TestAfterBooking:
    def test_the_calendar_file_has_the_time_in_amsterdam(
        self, client, conversation_round, slots_5a, child, parent, while_open
    ):
        booking = _book(parent, child, slots_5a[0], conversation_round)
        client.force_login(parent.user)
        response = client.get(reverse("conversations:booking_ics", args=[booking.pk]))
        assert response["Content-Type"].startswith("text/calendar")
        event = Calendar.from_ical(response.content).walk("VEVENT")[0]
        assert event.decoded("dtstart") == at(FIRST_DAY, 13)
        assert "TZID=Europe/Amsterdam:20270209T130000" in response.content.decode()
        assert "Noor" in str(event["summary"])
        assert str(event["location"]) == "Lokaal 5a"

    def test_the_booking_is_in_the_parents_feed(
        self, conversation_round, slots_5a, child, parent, divorced_parent, teacher, while_open
    ):
        booking = _book(parent, child, slots_5a[0], conversation_round)
        for user in (parent.user, divorced_parent.user, teacher.user):
            events = selectors.bookings_for_feed(user, dt.date(2027, 1, 1), dt.date(2027, 3, 1))
            assert [str(e["uid"]) for e in events] == [f"conversation-{booking.pk}@klimop"]
        assert selectors.bookings_for_feed(parent.user, dt.date(2027, 3, 1)) == []

    def test_a_reminder_goes_out_the_day_before_once(
        self, conversation_round, slots_5a, child, parent, divorced_parent, while_open
    ):
        _book(parent, child, slots_5a[0], conversation_round)
        day_before = FIRST_DAY - dt.timedelta(days=1)
        assert services.reminders_send(now=at(day_before, 7, 30)) == 0
        assert services.reminders_send(now=at(day_before, 8, 0)) == 2
        assert services.reminders_send(now=at(day_before, 8, 15)) == 0
        assert (
            Notification.objects.get(user=parent.user, cause__startswith="planner-reminder").title
            == "Morgen: gesprek over Noor"
        )

    def test_teachers_hear_at_closing_who_did_not_book(
        self, conversation_round, slots_5a, child, parent, teacher, duo_teacher
    ):
        sent = services.closing_notices_send(now=conversation_round.closes_at)
        assert sent >= 2
        note = Notification.objects.get(user=teacher.user, cause__startswith="planner-closed")
        assert note.body == "Gezinnen zonder afspraak: 1."
        assert services.closing_notices_send(now=conversation_round.closes_at) == 0


class TestStaffPages:
    def test_the_day_schedule_lists_child_and_both_parents(
        self, client, conversation_round, slots_5a, child, parent, divorced_parent, teacher, while_open
    ):
        _book(parent, child, slots_5a[1], conversation_round)
        client.force_login(teacher.user)
        response = client.get(
            reverse("conversations:day", args=[conversation_round.pk, FIRST_DAY.isoformat()])
        )
        body = response.content.decode()
        assert "13:15" in body
        assert "Noor Testkind" in body
        assert parent.full_name in body
        assert divorced_parent.full_name in body
        assert "@media print" in body or "planner.css" in body

    def test_the_round_page_lists_who_has_not_booked_and_books_on_behalf(
        self, client, conversation_round, slots_5a, child, parent, teacher, while_open
    ):
        client.force_login(teacher.user)
        url = reverse("conversations:staff_round", args=[conversation_round.pk])
        assert "Noor Testkind" in client.get(url).content.decode()
        response = client.post(
            reverse("conversations:staff_book", args=[conversation_round.pk]),
            {"pupil": child.pk, "slot": slots_5a[3].pk},
        )
        assert response.status_code == 302
        booking = Booking.objects.get()
        assert booking.booked_by == teacher.user
        assert Notification.objects.filter(user=parent.user, cause__startswith="planner-booked").exists()

    def test_for_parents_invited_apart_the_teacher_picks_the_parent(
        self, client, conversation_round, slots_5a, child, parent, divorced_parent, teacher, while_open
    ):
        services.separate_bookings_set(
            actor=teacher.user, round_=conversation_round, pupil=child, allowed=True
        )
        client.force_login(teacher.user)
        page = client.get(reverse("conversations:staff_round", args=[conversation_round.pk])).content.decode()
        assert f'name="guardian" id="behalf-parent-{child.pk}"' in page
        assert f'<option value="{divorced_parent.pk}">' in page
        response = client.post(
            reverse("conversations:staff_book", args=[conversation_round.pk]),
            {"pupil": child.pk, "slot": slots_5a[2].pk, "guardian": divorced_parent.pk},
        )
        assert response.status_code == 302
        assert Booking.objects.get().guardian == divorced_parent

    def test_a_booked_slot_cannot_be_deleted_but_the_round_can(
        self, conversation_round, slots_5a, child, parent, while_open
    ):
        from django.db.models import RestrictedError

        _book(parent, child, slots_5a[0], conversation_round)
        with pytest.raises(RestrictedError):
            slots_5a[0].delete()
        conversation_round.delete()
        assert not Booking.objects.exists()

    def test_a_teacher_of_another_group_cannot_book_for_the_child(
        self, client, conversation_round, slots_5a, child, other_teacher
    ):
        client.force_login(other_teacher.user)
        response = client.post(
            reverse("conversations:staff_book", args=[conversation_round.pk]),
            {"pupil": child.pk, "slot": slots_5a[0].pk},
        )
        assert response.status_code == 404

    def test_the_round_page_takes_a_fixed_number_of_queries(
        self, client, conversation_round, slots_5a, teacher, group, while_open
    ):
        client.force_login(teacher.user)
        url = reverse("conversations:staff_round", args=[conversation_round.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        for _ in range(6):
            relation = f.GuardianRelationFactory(pupil=f.PupilFactory(group=group))
            _book(relation.guardian, relation.pupil, slots_5a[_], conversation_round)
        with CaptureQueriesContext(connection) as many:
            client.get(url)
        assert len(many) == len(few)


class TestDirectorAndCards:
    def test_the_director_creates_a_round_in_the_admin_with_the_schools_defaults(
        self, client, school, group, other_group, director
    ):
        from tests.browser import verified

        verified(director.user)
        client.force_login(director.user)
        response = client.post(
            reverse("admin:conversations_round_add"),
            {
                "kind": "report",
                "title": "",
                "groups": [group.pk, other_group.pk],
                "first_date": "2027-02-09",
                "last_date": "2027-02-11",
                "slot_minutes": 10,
                "gap_minutes": 5,
                "opens_at_0": "",
                "opens_at_1": "",
                "closes_at_0": "",
                "closes_at_1": "",
                "cancel_cutoff_hours": 24,
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        round_ = Round.objects.get()
        assert round_.school == school
        assert round_.opens_at == OPENS
        assert round_.child_attends_years == [5, 6, 7, 8]
        assert set(round_.groups.all()) == {group, other_group}

    def test_the_parent_card_offers_booking_while_open(
        self, rf, conversation_round, slots_5a, child, parent, while_open
    ):
        from django.template import Context, Template

        request = rf.get("/")
        request.user = parent.user
        html = Template('{% include "conversations/_parent_card.html" %}').render(
            Context({"request": request})
        )
        assert "Kies een tijd voor Noor" in html
        assert reverse("conversations:round", args=[conversation_round.pk]) in html

    def test_the_staff_card_shows_todays_conversations_and_who_did_not_book(
        self, rf, conversation_round, slots_5a, child, parent, teacher, group
    ):
        from django.template import Context, Template

        _book(parent, child, slots_5a[0], conversation_round)
        f.PupilFactory(group=group)
        request = rf.get("/")
        request.user = teacher.user
        with time_machine.travel(at(FIRST_DAY, 9), tick=False):
            html = Template('{% include "conversations/_staff_card.html" %}').render(
                Context({"request": request})
            )
        assert "13:00" in html and "Noor Testkind" in html  # noqa: PT018
        assert "1 van 8 gepland" in html
        assert "1 leerling niet ingepland" in html

    def test_an_english_speaking_parent_is_invited_in_english(self, conversation_round, child, parent):
        parent.user.language = "en"
        parent.user.save()
        services.invitations_send(now=OPENS)
        assert (
            Notification.objects.get(user=parent.user).title == "Report conversation: book your conversation"
        )

    def test_the_booking_page_takes_a_fixed_number_of_queries(
        self, client, conversation_round, slots_5a, slots_6b, child, sibling, parent, while_open
    ):
        client.force_login(parent.user)
        url = reverse("conversations:round", args=[conversation_round.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        services.availability_add(
            actor=slots_5a[0].staff.user,
            round_=conversation_round,
            group=child.group,
            date=FIRST_DAY + dt.timedelta(days=1),
            starts=dt.time(13, 0),
            ends=dt.time(16, 0),
        )
        with CaptureQueriesContext(connection) as many:
            client.get(url)
        assert len(many) == len(few)
