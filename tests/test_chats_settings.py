"""Chats, the school's choices and the pages around them: what parents may start, what the
acknowledgement stops, the start pages for group and parent-to-parent chats, the hourly sync of the
per-child chats, the dashboard's open messages and the navigation's unread badge."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from communication.chats import services, tasks
from communication.chats.models import ChatSettings, Conversation
from klimop.models import GuardianRelation
from klimop.notifications.models import Notification
from klimop.worktime import AMSTERDAM
from tests import factories as f

FRIDAY_EVENING = dt.datetime(2026, 10, 2, 20, 0, tzinfo=AMSTERDAM)
MONDAY_OPENING = dt.datetime(2026, 10, 5, 8, 0, tzinfo=AMSTERDAM)
TUESDAY_MORNING = dt.datetime(2026, 10, 6, 10, 0, tzinfo=AMSTERDAM)
NEXT_FRIDAY_EVENING = dt.datetime(2026, 10, 9, 17, 0, tzinfo=AMSTERDAM)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(
    teacher,
    duo_teacher,
    other_teacher,
    director,
    parent,
    divorced_parent,
    step_parent,
    info_parent,
    barred_parent,
    child,
    barred_child,
):
    return None


@pytest.fixture
def neighbour(group):
    """Another parent with gezag of a child in group 5a, with an account."""
    return f.GuardianRelationFactory(
        pupil=f.PupilFactory(group=group),
        guardian__user__email="buur@example.test",
        guardian__phone="06-99887766",
        kind=GuardianRelation.Kind.PARENT_WITH_AUTHORITY,
        access=GuardianRelation.Access.FULL,
    ).guardian


def _without_account_menu(html: str) -> str:
    return re.sub(r'<details class="account-menu.*?</details>', "", html, flags=re.S)


def _parent_message(parent, child):
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        return services.conversation_start_direct(
            actor=parent.user, pupil=child, body="Mag Noor eerder weg?"
        ).messages.get()


class TestWhatParentsMayStart:
    def test_a_school_can_keep_parents_from_starting_chats_with_teachers(
        self, client, cast, school, parent, child
    ):
        ChatSettings.objects.create(school=school, parents_may_start_chats=False)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            with pytest.raises(PermissionDenied):
                services.conversation_start_direct(actor=parent.user, pupil=child, body="Hallo")
            client.force_login(parent.user)
            inbox = client.get(reverse("chats:chat_inbox")).content.decode()
            page = client.get(reverse("chats:chat_start")).content.decode()
        assert f'href="{reverse("chats:chat_start")}"' not in inbox
        assert "U kunt geen gesprek beginnen" in page

    def test_a_school_can_turn_off_chats_between_parents(
        self, client, cast, school, parent, group, neighbour
    ):
        ChatSettings.objects.create(school=school, parent_to_parent_chats=False)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            with pytest.raises(PermissionDenied):
                services.conversation_start_parents(actor=parent.user, other=neighbour.user, group=group)
            client.force_login(parent.user)
            page = client.get(reverse("chats:chat_start_parent")).content.decode()
        assert neighbour.user.get_full_name() not in page
        assert not Conversation.objects.filter(kind="parents").exists()


class TestWhatTheAcknowledgementStops:
    def test_by_default_it_stops_the_reminder_only(self, cast, school, parent, child, teacher, director):
        assert not ChatSettings.objects.filter(school=school).exists()
        assert ChatSettings(school=school).acknowledgement_stops == ChatSettings.AcknowledgementStops.REMINDER
        message = _parent_message(parent, child)
        with time_machine.travel(MONDAY_OPENING, tick=False):
            services.message_acknowledge(actor=teacher.user, message=message)
        with time_machine.travel(NEXT_FRIDAY_EVENING, tick=False):
            assert services.answer_reminders_send() == 0
            assert services.answer_escalations_send() == 1

    def test_a_school_can_let_it_stop_the_escalation_too(
        self, cast, school, parent, child, teacher, director
    ):
        ChatSettings.objects.create(school=school, acknowledgement_stops="both")
        message = _parent_message(parent, child)
        with time_machine.travel(MONDAY_OPENING, tick=False):
            services.message_acknowledge(actor=teacher.user, message=message)
        with time_machine.travel(NEXT_FRIDAY_EVENING, tick=False):
            assert services.answer_reminders_send() == 0
            assert services.answer_escalations_send() == 0
        assert not Notification.objects.filter(user=director.user).exists()

    def test_a_school_can_let_only_an_answer_stop_the_clock(
        self, cast, school, parent, child, teacher, duo_teacher
    ):
        ChatSettings.objects.create(school=school, acknowledgement_stops="nothing")
        message = _parent_message(parent, child)
        with time_machine.travel(MONDAY_OPENING, tick=False):
            services.message_acknowledge(actor=teacher.user, message=message)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            assert services.answer_reminders_send() == 2
        assert Notification.objects.filter(cause=f"answer-reminder:{message.pk}", user=teacher.user).exists()


class TestStartPages:
    def test_a_teacher_writes_to_the_parents_of_her_group(
        self, client, cast, teacher, group, other_group, parent, divorced_parent
    ):
        client.force_login(teacher.user)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            page = client.get(reverse("chats:chat_start_group")).content.decode()
            assert group.name in page
            assert str(other_group) not in page  # "groep 6b": the bare "6b" can occur in the CSRF token
            response = client.post(
                reverse("chats:chat_start_group"),
                {"group": group.pk, "title": "Schoolreis", "body": "Wie kan er meerijden?"},
            )
        conversation = Conversation.objects.get(kind="group")
        assert response.url == reverse("chats:chat_detail", args=[conversation.pk])
        assert conversation.title == "Schoolreis"
        assert {parent.user_id, divorced_parent.user_id} <= set(
            conversation.participants.values_list("user_id", flat=True)
        )

    def test_a_teacher_cannot_address_another_group_by_id(self, client, cast, teacher, other_group):
        client.force_login(teacher.user)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            response = client.post(
                reverse("chats:chat_start_group"),
                {"group": other_group.pk, "title": "x", "body": "y"},
            )
        assert response.status_code == 400
        assert "Selecteer een geldige keuze" in response.content.decode()
        assert not Conversation.objects.exists()

    def test_parents_do_not_get_the_group_page(self, client, cast, parent):
        client.force_login(parent.user)
        assert client.get(reverse("chats:chat_start_group")).status_code == 404

    def test_a_parent_writes_to_another_parent_by_name_only(
        self, client, cast, parent, group, neighbour, barred_parent
    ):
        client.force_login(parent.user)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            page = _without_account_menu(client.get(reverse("chats:chat_start_parent")).content.decode())
            assert neighbour.user.get_full_name() in page
            assert neighbour.email not in page
            assert neighbour.phone not in page
            assert barred_parent.user.get_full_name() not in page
            response = client.post(
                reverse("chats:chat_start_parent"),
                {"other": f"{neighbour.user_id}-{group.pk}", "body": "Zullen we samen fietsen?"},
            )
        conversation = Conversation.objects.get(kind="parents")
        assert response.url == reverse("chats:chat_detail", args=[conversation.pk])
        assert set(conversation.participants.values_list("user_id", flat=True)) == {
            parent.user_id,
            neighbour.user_id,
        }

    def test_a_parent_outside_the_shared_groups_cannot_be_chosen_by_id(
        self, client, cast, parent, group, barred_parent
    ):
        client.force_login(parent.user)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            response = client.post(
                reverse("chats:chat_start_parent"),
                {"other": f"{barred_parent.user_id}-{group.pk}", "body": "Hallo"},
            )
        assert response.status_code == 400
        assert not Conversation.objects.exists()

    def test_the_inbox_offers_what_each_user_may_start(self, client, cast, parent, teacher, neighbour):
        client.force_login(parent.user)
        parent_inbox = client.get(reverse("chats:chat_inbox")).content.decode()
        client.force_login(teacher.user)
        teacher_inbox = client.get(reverse("chats:chat_inbox")).content.decode()
        assert reverse("chats:chat_start_parent") in parent_inbox
        assert reverse("chats:chat_start_group") not in parent_inbox
        assert reverse("chats:chat_start_group") in teacher_inbox
        assert reverse("chats:chat_start_parent") not in teacher_inbox


class TestHourlySync:
    def test_the_task_makes_the_chats_of_the_year_in_progress(self, cast, school_year, child, barred_child):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            result = tasks.sync_child_conversations()
            again = tasks.sync_child_conversations()
        assert result["created"] == 2
        assert again["created"] == again["joined"] == again["left"] == 0
        assert Conversation.objects.filter(kind="child").count() == 2

    def test_next_years_chats_appear_in_the_week_before_it_starts(self, cast, school):
        next_year = f.SchoolYearFactory(
            school=school, name="2027/2028", starts_on=dt.date(2027, 8, 30), ends_on=dt.date(2028, 7, 14)
        )
        pupil = f.PupilFactory(group=f.GroupFactory(school=school, school_year=next_year, year=3))
        services.child_conversations_sync_all(today=dt.date(2027, 8, 1))
        assert not Conversation.objects.filter(kind="child", pupil=pupil).exists()
        services.child_conversations_sync_all(today=dt.date(2027, 8, 24))
        assert Conversation.objects.filter(kind="child", pupil=pupil).exists()


class TestDashboardAndNavigation:
    def test_the_teachers_dashboard_lists_parents_waiting_for_an_answer(
        self, client, cast, parent, child, teacher
    ):
        message = _parent_message(parent, child)
        client.force_login(teacher.user)
        with time_machine.travel(MONDAY_OPENING, tick=False):
            page = client.get(reverse("staff_dashboard")).content.decode()
        assert "Ouders wachten op antwoord" in page
        assert f"#m{message.pk}" in page
        assert "Mag Noor eerder weg?" in page

    def test_the_navigation_badge_counts_unread_conversations_and_follows_reading(
        self,
        client,
        cast,
        parent,
        child,
        teacher,
    ):
        message = _parent_message(parent, child)
        client.force_login(teacher.user)
        with time_machine.travel(MONDAY_OPENING, tick=False):
            page = client.get(reverse("staff_dashboard")).content.decode()
            assert '<span class="nav-count" data-unread-chats>1</span>' in page
            assert client.get(reverse("chats:unread_counts")).json()["chats"] == 1
            client.get(reverse("chats:chat_detail", args=[message.conversation_id]))
            assert client.get(reverse("chats:unread_counts")).json()["chats"] == 0
            page = client.get(reverse("staff_dashboard")).content.decode()
        assert '<span class="nav-count" data-unread-chats hidden>0</span>' in page

    def test_the_poll_tells_the_page_the_new_unread_count(self, client, cast, parent, child, teacher):
        message = _parent_message(parent, child)
        client.force_login(teacher.user)
        with time_machine.travel(MONDAY_OPENING, tick=False):
            response = client.get(
                reverse("chats:chat_poll", args=[message.conversation_id]),
                {"since": (FRIDAY_EVENING - dt.timedelta(minutes=1)).isoformat()},
            )
        assert response["X-Unread-Chats"] == "0"
        assert "Mag Noor eerder weg?" in response.content.decode()

    def test_the_counts_need_a_login(self, client):
        response = client.get(reverse("chats:unread_counts"))
        assert response.status_code == 302


class TestConversationPage:
    def test_staff_see_by_when_to_answer_and_when_it_is_overdue(self, client, cast, parent, child, teacher):
        message = _parent_message(parent, child)
        url = reverse("chats:chat_detail", args=[message.conversation_id])
        client.force_login(teacher.user)
        with time_machine.travel(MONDAY_OPENING, tick=False):
            page = client.get(url).content.decode()
        assert "Antwoord vóór di 6 okt 16:30" in page
        assert "nodig de ouders uit voor een gesprek" in page
        with time_machine.travel(NEXT_FRIDAY_EVENING, tick=False):
            assert "Antwoord was verwacht vóór di 6 okt 16:30" in client.get(url).content.decode()
        client.force_login(parent.user)
        with time_machine.travel(MONDAY_OPENING, tick=False):
            parent_page = client.get(url).content.decode()
        assert "Antwoord vóór" not in parent_page
        assert "plan een gesprek of bel de school" in parent_page
