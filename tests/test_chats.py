"""Chats: who may reach whom, office-hours delivery, the answer clock, moderation, pages."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from communication.chats import selectors, services
from communication.chats.models import Conversation, Message, Participant
from communication.chats.views import POLL_OVERLAP
from klimop import media
from klimop.models import GuardianRelation, NonSchoolDay
from klimop.notifications.models import Notification
from klimop.worktime import AMSTERDAM
from tests import factories as f

# The teacher works Monday to Wednesday, the duo_teacher Thursday and Friday (conftest).
FRIDAY_EVENING = dt.datetime(2026, 10, 2, 20, 0, tzinfo=AMSTERDAM)
MONDAY_OPENING = dt.datetime(2026, 10, 5, 8, 0, tzinfo=AMSTERDAM)
MONDAY_EVENING = dt.datetime(2026, 10, 5, 20, 0, tzinfo=AMSTERDAM)
TUESDAY_MORNING = dt.datetime(2026, 10, 6, 10, 0, tzinfo=AMSTERDAM)
TUESDAY_OPENING = dt.datetime(2026, 10, 6, 8, 0, tzinfo=AMSTERDAM)
TUESDAY_CLOSING = dt.datetime(2026, 10, 6, 16, 30, tzinfo=AMSTERDAM)
THURSDAY_OPENING = dt.datetime(2026, 10, 8, 8, 0, tzinfo=AMSTERDAM)


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


def _start(parent, child, body="Mag Noor morgen eerder weg?"):
    return services.conversation_start_direct(actor=parent.user, pupil=child, body=body)


def _jpeg(name="foto.jpg"):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def _pdf(name="brief.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n", content_type="application/pdf")


# --- who may start and read what ---------------------------------------------------------------


class TestAccess:
    def test_a_parent_reaches_both_duo_teachers_of_the_childs_group(
        self, cast, parent, child, teacher, duo_teacher
    ):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = _start(parent, child)
        users = set(conversation.participants.values_list("user_id", flat=True))
        assert users == {parent.user_id, teacher.user_id, duo_teacher.user_id}
        assert conversation.kind == Conversation.Kind.DIRECT

    @pytest.mark.parametrize("who", ["step_parent", "info_parent", "barred_parent"])
    def test_step_info_and_barred_parents_cannot_start_a_chat(self, cast, request, who, child, barred_child):
        guardian = request.getfixturevalue(who)
        pupil = barred_child if who == "barred_parent" else child
        with time_machine.travel(TUESDAY_MORNING, tick=False), pytest.raises(PermissionDenied):
            services.conversation_start_direct(actor=guardian.user, pupil=pupil, body="Hallo")

    def test_a_parent_who_is_barred_later_can_no_longer_read_the_chat(self, cast, parent, child):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = _start(parent, child)
            GuardianRelation.objects.filter(guardian=parent).update(access=GuardianRelation.Access.BARRED)
            with pytest.raises(Http404):
                selectors.conversation_get_for(viewer=parent.user, pk=conversation.pk)
            with pytest.raises(PermissionDenied):
                services.message_send(actor=parent.user, conversation=conversation, body="Nog iets")

    def test_another_conversations_id_is_404(self, cast, parent, divorced_parent, child, other_teacher):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = _start(parent, child)
            for viewer in (divorced_parent.user, other_teacher.user):
                with pytest.raises(Http404):
                    selectors.conversation_get_for(viewer=viewer, pk=conversation.pk)
            with pytest.raises(Http404):
                selectors.conversation_get_for(viewer=parent.user, pk=conversation.pk + 999)

    def test_another_conversations_page_and_poll_are_404(self, client, cast, parent, divorced_parent, child):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = _start(parent, child)
            client.force_login(divorced_parent.user)
            for name in ("chat_detail", "chat_poll"):
                assert client.get(reverse(f"chats:{name}", args=[conversation.pk])).status_code == 404
            message = conversation.messages.get()
            assert client.get(reverse("chats:chat_attachment", args=[message.pk])).status_code == 404

    def test_staff_write_to_the_guardians_who_may_be_contacted(
        self, cast, teacher, child, parent, divorced_parent, step_parent, info_parent
    ):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            guardians = services.guardians_reachable_about(child)
            assert set(guardians) == {parent, divorced_parent}
            conversation = services.conversation_start_direct(
                actor=teacher.user,
                pupil=child,
                guardians=guardians,
                body="Even een vraag",
            )
            with pytest.raises(ValidationError):
                services.conversation_start_direct(actor=teacher.user, pupil=child, guardians=[step_parent])
        assert conversation.participants.count() == 3

    def test_a_teacher_cannot_start_about_a_child_of_another_group(self, cast, other_teacher, child, parent):
        with time_machine.travel(TUESDAY_MORNING, tick=False), pytest.raises(PermissionDenied):
            services.conversation_start_direct(actor=other_teacher.user, pupil=child, guardians=[parent])

    def test_the_director_may_start_about_any_child_of_the_school(self, cast, director, child, parent):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = services.conversation_start_direct(
                actor=director.user, pupil=child, guardians=[parent], body="Goedemorgen"
            )
        assert conversation.messages.count() == 1


# --- office hours and the answer clock ------------------------------------------------------------


class TestDelivery:
    def test_a_friday_evening_parent_message_is_visible_to_staff_at_once(
        self, cast, parent, child, teacher, duo_teacher
    ):
        with time_machine.travel(FRIDAY_EVENING, tick=False):
            conversation = _start(parent, child)
            message = conversation.messages.get()
            assert message.deliver_at == FRIDAY_EVENING
            assert [m.pk for m in selectors.messages_for(viewer=teacher.user, conversation=conversation)] == [
                message.pk
            ]
            assert [m.pk for m in selectors.open_parent_messages_for(viewer=teacher.user)] == [message.pk]
        # Two working days on the school calendar (duo: one of them works every day):
        # Monday and Tuesday, so by Tuesday's closing rather than Wednesday 08:00.
        assert message.needs_answer
        assert message.answer_by == TUESDAY_CLOSING
        notes = {n.user_id: n for n in Notification.objects.filter(cause=f"message:{message.pk}")}
        assert notes[teacher.user_id].deliver_at == MONDAY_OPENING
        assert notes[duo_teacher.user_id].deliver_at == THURSDAY_OPENING
        assert parent.user_id not in notes

    def test_the_parent_page_says_when_an_answer_can_be_expected(self, client, cast, parent, child):
        with time_machine.travel(FRIDAY_EVENING, tick=False):
            conversation = _start(parent, child)
            client.force_login(parent.user)
            page = client.get(reverse("chats:chat_detail", args=[conversation.pk]))
        text = page.content.decode()
        assert "dinsdag 6 oktober, 16:30" in text
        assert "Niet bedoeld voor gesprekken over gedrag of ontwikkeling" in text

    def test_a_teachers_message_at_20h_is_held_until_the_next_opening(self, cast, parent, child, teacher):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = _start(parent, child)
        with time_machine.travel(MONDAY_EVENING + dt.timedelta(days=1), tick=False):
            reply = services.message_send(actor=teacher.user, conversation=conversation, body="Dat is goed.")
            assert reply.deliver_at == dt.datetime(2026, 10, 7, 8, 0, tzinfo=AMSTERDAM)
            assert reply.pk not in [
                m.pk for m in selectors.messages_for(viewer=parent.user, conversation=conversation)
            ]
            assert reply.pk in [
                m.pk for m in selectors.messages_for(viewer=teacher.user, conversation=conversation)
            ]
            note = Notification.objects.get(user=parent.user, cause=f"message:{reply.pk}")
            assert note.deliver_at == reply.deliver_at
        with time_machine.travel(dt.datetime(2026, 10, 7, 8, 0, 1, tzinfo=AMSTERDAM), tick=False):
            assert reply.pk in [
                m.pk for m in selectors.messages_for(viewer=parent.user, conversation=conversation)
            ]
        assert conversation.messages.get(sender=parent.user).answered_at is not None

    def test_the_staff_page_says_when_a_message_will_be_delivered(self, client, cast, parent, child, teacher):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = _start(parent, child)
        with time_machine.travel(MONDAY_EVENING + dt.timedelta(days=1), tick=False):
            client.force_login(teacher.user)
            response = client.post(
                reverse("chats:chat_detail", args=[conversation.pk]),
                {"body": "Tot morgen"},
                follow=True,
            )
        assert "woensdag 7 oktober, 08:00" in response.content.decode()

    def test_a_holiday_is_not_working_time(self, cast, school, parent, child, teacher):
        NonSchoolDay.objects.create(school=school, date=dt.date(2026, 10, 5), kind="study", name="Studiedag")
        with time_machine.travel(FRIDAY_EVENING, tick=False):
            message = _start(parent, child).messages.get()
        assert message.answer_by == dt.datetime(2026, 10, 7, 16, 30, tzinfo=AMSTERDAM)
        note = Notification.objects.get(user=teacher.user, cause=f"message:{message.pk}")
        assert note.deliver_at == TUESDAY_OPENING

    def test_a_daylight_saving_weekend_keeps_08h_on_the_school_clock(self, cast, parent, child, teacher):
        # Summer time ends on Sunday 25 October 2026.
        with time_machine.travel(dt.datetime(2026, 10, 23, 20, 0, tzinfo=AMSTERDAM), tick=False):
            message = _start(parent, child).messages.get()
        note = Notification.objects.get(user=teacher.user, cause=f"message:{message.pk}")
        assert note.deliver_at == dt.datetime(2026, 10, 26, 7, 0, tzinfo=dt.UTC)
        assert message.answer_by == dt.datetime(2026, 10, 27, 15, 30, tzinfo=dt.UTC)

    def test_a_single_staff_recipient_answers_in_their_own_working_days(
        self, cast, school, parent, child, duo_teacher, teacher
    ):
        teacher.groups.clear()
        with time_machine.travel(FRIDAY_EVENING, tick=False):
            message = _start(parent, child).messages.get()
        # The duo works Thursday and Friday only: from Thursday's opening, by Friday's closing.
        assert message.answer_by == dt.datetime(2026, 10, 9, 16, 30, tzinfo=AMSTERDAM)

    def test_duo_teachers_with_a_gap_answer_in_the_days_either_of_them_works(
        self, cast, school, parent, child, teacher, duo_teacher
    ):
        """Monday/Tuesday and Thursday: nobody works on Wednesday or Friday, so they don't count."""
        _works_on(teacher, MON, TUE)
        _works_on(duo_teacher, THU)
        tuesday_evening = dt.datetime(2026, 10, 6, 20, 0, tzinfo=AMSTERDAM)
        with time_machine.travel(tuesday_evening, tick=False):
            message = _start(parent, child).messages.get()
        # Thursday and the next Monday are the two working days (the school calendar would
        # have said Thursday, counting a Wednesday nobody works).
        assert message.answer_by == dt.datetime(2026, 10, 12, 16, 30, tzinfo=AMSTERDAM)
        assert message.remind_at == dt.datetime(2026, 10, 12, 8, 0, tzinfo=AMSTERDAM)
        with time_machine.travel(dt.datetime(2026, 10, 9, 12, 0, tzinfo=AMSTERDAM), tick=False):
            assert services.answer_reminders_send() == 0  # Friday: no reminder on a day nobody works

    def test_a_staff_member_who_left_the_chat_no_longer_sets_its_working_days(
        self, cast, school, parent, child, teacher, duo_teacher
    ):
        _works_on(teacher, MON, TUE)
        _works_on(duo_teacher, WED, THU, FRI)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = _start(parent, child)
        Participant.objects.filter(conversation=conversation, user=duo_teacher.user).update(
            left_at=TUESDAY_MORNING
        )
        with time_machine.travel(dt.datetime(2026, 10, 6, 20, 0, tzinfo=AMSTERDAM), tick=False):
            message = services.message_send(
                actor=parent.user, conversation=conversation, body="Nog een vraag"
            )
        # Only the Monday/Tuesday teacher is left: next Monday and Tuesday.
        assert message.answer_by == dt.datetime(2026, 10, 13, 16, 30, tzinfo=AMSTERDAM)


MON, TUE, WED, THU, FRI = range(5)


def _works_on(staff, *weekdays):
    for day, field in enumerate(staff.WEEKDAY_FIELDS):
        setattr(staff, field, day in weekdays)
    staff.save()


class TestAnswerClock:
    def _message(self, parent, child):
        with time_machine.travel(FRIDAY_EVENING, tick=False):
            return _start(parent, child).messages.get()

    def test_the_reminder_is_sent_once_even_when_the_task_runs_twice(
        self, cast, parent, child, teacher, duo_teacher
    ):
        message = self._message(parent, child)
        assert message.remind_at == TUESDAY_OPENING
        with time_machine.travel(TUESDAY_OPENING - dt.timedelta(minutes=1), tick=False):
            assert services.answer_reminders_send() == 0
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            assert services.answer_reminders_send() == 2
            assert services.answer_reminders_send() == 0
        assert Notification.objects.filter(cause=f"answer-reminder:{message.pk}").count() == 2

    def test_the_acknowledgement_stops_the_reminder_but_not_the_escalation(
        self, cast, parent, child, teacher, director
    ):
        message = self._message(parent, child)
        with time_machine.travel(MONDAY_OPENING, tick=False):
            services.message_acknowledge(actor=teacher.user, message=message)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            assert services.answer_reminders_send() == 0
        message.refresh_from_db()
        assert message.acknowledged_by == teacher.user
        assert Notification.objects.filter(user=parent.user, cause=f"message-ack:{message.pk}").exists()
        with time_machine.travel(dt.datetime(2026, 10, 9, 17, 0, tzinfo=AMSTERDAM), tick=False):
            assert services.answer_escalations_send() == 1
            assert services.answer_escalations_send() == 0
        assert Notification.objects.get(cause=f"answer-escalation:{message.pk}").user == director.user

    def test_an_answer_stops_reminder_and_escalation(self, cast, parent, child, teacher, director):
        message = self._message(parent, child)
        with time_machine.travel(MONDAY_OPENING, tick=False):
            services.message_send(actor=teacher.user, conversation=message.conversation, body="Komt goed")
        with time_machine.travel(dt.datetime(2026, 10, 20, 12, 0, tzinfo=AMSTERDAM), tick=False):
            assert services.answer_reminders_send() == 0
            assert services.answer_escalations_send() == 0
        assert selectors.open_parent_messages_for(viewer=teacher.user) == []

    def test_a_parent_cannot_acknowledge(self, cast, parent, child):
        message = self._message(parent, child)
        with pytest.raises(PermissionDenied):
            services.message_acknowledge(actor=parent.user, message=message)

    def test_the_tasks_call_the_sweeps(self, cast, parent, child, teacher):
        from communication.chats import tasks

        message = self._message(parent, child)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            assert tasks.send_answer_reminders() >= 1
            assert tasks.send_answer_escalations() == 0
        assert Message.objects.get(pk=message.pk).reminded_at is not None


# --- bad input ----------------------------------------------------------------------------------------


class TestInput:
    def test_script_in_a_message_is_stripped(self, cast, parent, child):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            body = 'Hoi <script>alert("x")</script><b onclick="x()">daar</b>'
            conversation = _start(parent, child, body=body)
        body = conversation.messages.get().body
        assert "script" not in body
        assert "alert" not in body
        assert "onclick" not in body
        assert "daar" in body

    def test_an_empty_message_is_refused(self, cast, parent, child):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = _start(parent, child)
            with pytest.raises(ValidationError):
                services.message_send(actor=parent.user, conversation=conversation, body="   ")

    def test_an_oversize_attachment_is_refused_with_a_message(self, client, cast, parent, child, monkeypatch):
        monkeypatch.setattr(media, "MAX_ATTACHMENT_BYTES", 10)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = _start(parent, child)
            with pytest.raises(ValidationError) as exc:
                services.message_send(
                    actor=parent.user, conversation=conversation, body="", attachment=_pdf()
                )
            assert "MB" in str(exc.value)
            monkeypatch.setattr("communication.chats.forms.MAX_ATTACHMENT_BYTES", 10)
            client.force_login(parent.user)
            response = client.post(
                reverse("chats:chat_detail", args=[conversation.pk]),
                {"body": "", "attachment": _pdf()},
            )
        assert response.status_code == 400
        assert "groter dan" in response.content.decode() or "larger than" in response.content.decode()
        assert conversation.messages.count() == 1

    def test_a_pdf_and_a_photo_are_stored_and_served_to_participants_only(
        self, client, cast, parent, child, teacher, divorced_parent
    ):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = _start(parent, child)
            pdf = services.message_send(
                actor=parent.user, conversation=conversation, body="", attachment=_pdf()
            )
            photo = services.message_send(
                actor=parent.user, conversation=conversation, body="Kijk", attachment=_jpeg()
            )
            assert pdf.attachment_kind == "pdf"
            assert photo.attachment_kind == "image"
            client.force_login(teacher.user)
            assert client.get(reverse("chats:chat_attachment", args=[photo.pk])).status_code == 200
            client.force_login(divorced_parent.user)
            assert client.get(reverse("chats:chat_attachment", args=[pdf.pk])).status_code == 404

    def test_a_file_that_is_neither_pdf_nor_image_is_refused(self, cast, parent, child):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = _start(parent, child)
            with pytest.raises(ValidationError):
                services.message_send(
                    actor=parent.user,
                    conversation=conversation,
                    body="",
                    attachment=SimpleUploadedFile("x.jpg", b"not an image"),
                )


# --- group conversations, parents among themselves, moderation -----------------------------------------


class TestGroupConversations:
    def test_a_teacher_starts_a_group_conversation_with_the_parents_who_may_act(
        self,
        cast,
        teacher,
        group,
        parent,
        divorced_parent,
        step_parent,
        info_parent,
    ):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = services.conversation_start_group(
                actor=teacher.user, group=group, title="Schoolreis", body="Wie rijdt er mee?"
            )
        users = set(conversation.participants.values_list("user_id", flat=True))
        assert users == {teacher.user_id, parent.user_id, divorced_parent.user_id}

    def test_parents_cannot_start_group_conversations_or_share_photos_there(
        self, cast, teacher, group, parent
    ):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            with pytest.raises(PermissionDenied):
                services.conversation_start_group(actor=parent.user, group=group, title="x")
            conversation = services.conversation_start_group(actor=teacher.user, group=group, title="Uitje")
            with pytest.raises(ValidationError):
                services.message_send(
                    actor=parent.user, conversation=conversation, body="", attachment=_jpeg()
                )

    def test_staff_remove_a_message_and_parents_leave(self, cast, teacher, group, parent):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = services.conversation_start_group(actor=teacher.user, group=group, title="Uitje")
            message = services.message_send(actor=parent.user, conversation=conversation, body="Oeps")
            assert not message.needs_answer
            with pytest.raises(PermissionDenied):
                services.message_remove(actor=parent.user, message=message)
            services.message_remove(actor=teacher.user, message=message)
            assert Message.objects.get(pk=message.pk).removed_by == teacher.user
            services.conversation_leave(actor=parent.user, conversation=conversation)
            with pytest.raises(Http404):
                selectors.conversation_get_for(viewer=parent.user, pk=conversation.pk)
            with pytest.raises(PermissionDenied):
                services.conversation_leave(actor=teacher.user, conversation=conversation)

    def test_parents_chat_within_a_shared_group_without_contact_details(self, client, cast, parent, group):
        other = f.GuardianRelationFactory(
            pupil=f.PupilFactory(group=group),
            guardian__user__email="buur@example.test",
            kind=GuardianRelation.Kind.PARENT_WITH_AUTHORITY,
            access=GuardianRelation.Access.FULL,
        ).guardian
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = services.conversation_start_parents(
                actor=parent.user, other=other.user, group=group, body="Samen fietsen?"
            )
            assert conversation.messages.get().needs_answer is False
            client.force_login(other.user)
            page = client.get(reverse("chats:chat_detail", args=[conversation.pk])).content.decode()
        import re

        page = re.sub(r'<details class="account-menu.*?</details>', "", page, flags=re.S)
        assert parent.user.email not in page, page[page.index(parent.user.email) - 300 :][:600]
        assert parent.user.get_full_name() in page

    def test_parents_without_a_shared_group_cannot_chat(self, cast, parent, barred_parent, group):
        with time_machine.travel(TUESDAY_MORNING, tick=False), pytest.raises(PermissionDenied):
            services.conversation_start_parents(actor=parent.user, other=barred_parent.user, group=group)


# --- per-child chats -----------------------------------------------------------------------------------


class TestChildConversations:
    def test_sync_creates_one_chat_per_child_with_custodial_parents_and_teachers(
        self,
        cast,
        school_year,
        child,
        parent,
        divorced_parent,
        teacher,
        duo_teacher,
        barred_child,
        barred_parent,
        other_teacher,
    ):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            first = services.child_conversations_sync(school_year=school_year)
            second = services.child_conversations_sync(school_year=school_year)
        assert first["created"] == 2
        assert second == {"created": 0, "joined": 0, "left": 0, "closed": 0}
        chat = Conversation.objects.get(kind="child", pupil=child)
        assert set(chat.participants.values_list("user_id", flat=True)) == {
            parent.user_id,
            divorced_parent.user_id,
            teacher.user_id,
            duo_teacher.user_id,
        }
        barred_chat = Conversation.objects.get(kind="child", pupil=barred_child)
        assert set(barred_chat.participants.values_list("user_id", flat=True)) == {other_teacher.user_id}

    def test_a_schools_first_sync_takes_the_same_queries_for_ten_children_as_for_two(
        self, cast, school_year, group, django_assert_max_num_queries
    ):
        with time_machine.travel(TUESDAY_MORNING, tick=False), CaptureQueriesContext(connection) as few:
            services.child_conversations_sync(school_year=school_year)
        Conversation.objects.all().delete()
        for _ in range(8):
            f.GuardianRelationFactory(pupil=f.PupilFactory(group=group))
        with time_machine.travel(TUESDAY_MORNING, tick=False), django_assert_max_num_queries(len(few)):
            result = services.child_conversations_sync(school_year=school_year)
        assert result["created"] == Conversation.objects.filter(kind="child").count() == 10

    def test_sync_follows_the_directory_and_closes_chats_of_pupils_who_left(
        self,
        cast,
        school_year,
        child,
        parent,
        divorced_parent,
        teacher,
    ):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            services.child_conversations_sync(school_year=school_year)
            GuardianRelation.objects.filter(guardian=divorced_parent).update(
                access=GuardianRelation.Access.BARRED
            )
            result = services.child_conversations_sync(school_year=school_year)
            assert result["left"] == 1
            chat = Conversation.objects.get(kind="child", pupil=child)
            assert Participant.objects.get(conversation=chat, user=divorced_parent.user).left_at is not None
            services.message_send(actor=parent.user, conversation=chat, body="Voor het archief")
            child.left_on = dt.date(2026, 10, 5)
            child.save()
            assert services.child_conversations_sync(school_year=school_year)["closed"] == 1
            chat.refresh_from_db()
            assert chat.closed_at is not None
            # Closed: still readable by the parent, but read-only.
            assert selectors.conversation_get_for(viewer=parent.user, pk=chat.pk)
            with pytest.raises(PermissionDenied):
                services.message_send(actor=parent.user, conversation=chat, body="Nog één ding")


# --- inbox, unread counts, queries -------------------------------------------------------------------------


class TestInbox:
    def test_unread_counts_count_delivered_messages_of_others_since_last_read(
        self, cast, parent, child, teacher
    ):
        with time_machine.travel(MONDAY_OPENING, tick=False):
            conversation = _start(parent, child)
            services.message_send(actor=parent.user, conversation=conversation, body="En nog iets")
            [row] = selectors.conversations_for(viewer=teacher.user)
            assert row.unread == 2
            assert selectors.unread_conversation_count(viewer=teacher.user) == 1
            assert selectors.conversations_for(viewer=parent.user)[0].unread == 0
            services.conversation_mark_read(actor=teacher.user, conversation=conversation)
        with time_machine.travel(MONDAY_OPENING + dt.timedelta(minutes=5), tick=False):
            assert selectors.conversations_for(viewer=teacher.user)[0].unread == 0
            services.message_send(actor=teacher.user, conversation=conversation, body="Prima")
            assert selectors.conversations_for(viewer=parent.user)[0].unread == 1
            assert selectors.unread_conversation_count(viewer=teacher.user) == 0

    def test_read_receipts_name_who_has_read(self, cast, parent, child, teacher):
        with time_machine.travel(MONDAY_OPENING, tick=False):
            conversation = _start(parent, child)
        with time_machine.travel(MONDAY_OPENING + dt.timedelta(minutes=1), tick=False):
            services.conversation_mark_read(actor=teacher.user, conversation=conversation)
        message = conversation.messages.get()
        readers = selectors.read_by(message, selectors.participants_of(conversation), MONDAY_OPENING)
        assert [p.user_id for p in readers] == [teacher.user_id]

    def test_a_teacher_reading_at_midnight_shows_as_read_from_her_next_opening(
        self, client, cast, parent, child, teacher, duo_teacher
    ):
        """The parent neither learns that the teacher reads at midnight nor loses the answer-by line."""
        with time_machine.travel(MONDAY_EVENING, tick=False):
            conversation = _start(parent, child)
        midnight = dt.datetime(2026, 10, 5, 23, 50, tzinfo=AMSTERDAM)
        with time_machine.travel(midnight, tick=False):
            client.force_login(teacher.user)
            assert client.get(reverse("chats:chat_detail", args=[conversation.pk])).status_code == 200
            # Her own unread count is cleared at once.
            assert selectors.conversations_for(viewer=teacher.user)[0].unread == 0
            client.force_login(parent.user)
            page = client.get(reverse("chats:chat_detail", args=[conversation.pk])).content.decode()
            assert "gelezen door" not in page
            assert "U kunt een antwoord verwachten" in page
        with time_machine.travel(TUESDAY_OPENING, tick=False):
            page = client.get(reverse("chats:chat_detail", args=[conversation.pk])).content.decode()
            assert "gelezen door" in page
            assert "U kunt een antwoord verwachten" in page  # read is not answered

    def test_a_reply_held_until_the_morning_keeps_the_parents_answer_by_line_until_it_arrives(
        self, client, cast, parent, child, teacher
    ):
        with time_machine.travel(MONDAY_EVENING, tick=False):
            conversation = _start(parent, child)
        night = dt.datetime(2026, 10, 5, 22, 0, tzinfo=AMSTERDAM)
        with time_machine.travel(night, tick=False):
            services.message_send(
                actor=teacher.user, conversation=conversation, body="Ik kijk er morgen naar."
            )
            client.force_login(parent.user)
            page = client.get(reverse("chats:chat_detail", args=[conversation.pk])).content.decode()
            assert "U kunt een antwoord verwachten" in page
        with time_machine.travel(TUESDAY_OPENING + dt.timedelta(minutes=1), tick=False):
            page = client.get(reverse("chats:chat_detail", args=[conversation.pk])).content.decode()
            assert "Ik kijk er morgen naar." in page
            assert "U kunt een antwoord verwachten" not in page

    def test_an_acknowledgement_at_night_reaches_the_parent_at_the_next_opening(
        self, client, cast, parent, child, teacher
    ):
        with time_machine.travel(MONDAY_EVENING, tick=False):
            conversation = _start(parent, child)
            message = conversation.messages.get()
        with time_machine.travel(dt.datetime(2026, 10, 5, 23, 0, tzinfo=AMSTERDAM), tick=False):
            services.message_acknowledge(actor=teacher.user, message=message)
            note = Notification.objects.get(user=parent.user, cause=f"message-ack:{message.pk}")
            assert note.deliver_at == TUESDAY_OPENING
            client.force_login(parent.user)
            page = client.get(reverse("chats:chat_detail", args=[conversation.pk])).content.decode()
            assert "U kunt een antwoord verwachten" in page
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            page = client.get(reverse("chats:chat_detail", args=[conversation.pk])).content.decode()
            assert "U kunt een antwoord verwachten" not in page
            assert "heeft dit gelezen en komt erop terug" in page

    def test_an_earlier_read_stays_shown_when_the_teacher_reads_again_at_night(
        self, cast, parent, child, teacher
    ):
        with time_machine.travel(MONDAY_OPENING, tick=False):
            conversation = _start(parent, child)
        with time_machine.travel(MONDAY_OPENING + dt.timedelta(minutes=1), tick=False):
            services.conversation_mark_read(actor=teacher.user, conversation=conversation)
        first = conversation.messages.get()
        with time_machine.travel(MONDAY_EVENING, tick=False):
            second = services.message_send(actor=parent.user, conversation=conversation, body="En nog iets")
        with time_machine.travel(MONDAY_EVENING + dt.timedelta(hours=2), tick=False):
            services.conversation_mark_read(actor=teacher.user, conversation=conversation)
            participants = selectors.participants_of(conversation)
            now = MONDAY_EVENING + dt.timedelta(hours=2)
            assert [p.user_id for p in selectors.read_by(first, participants, now)] == [teacher.user_id]
            assert selectors.read_by(second, participants, now) == []
        participants = selectors.participants_of(conversation)
        assert [p.user_id for p in selectors.read_by(second, participants, TUESDAY_OPENING)] == [
            teacher.user_id
        ]

    def test_the_inbox_needs_the_same_number_of_queries_for_more_conversations(
        self, client, cast, parent, child, teacher, group
    ):
        client.force_login(teacher.user)
        with time_machine.travel(MONDAY_OPENING, tick=False):
            _start(parent, child)
            with CaptureQueriesContext(connection) as few:
                assert client.get(reverse("chats:chat_inbox")).status_code == 200
            for _ in range(4):  # a chat about each of four more children
                relation = f.GuardianRelationFactory(pupil=f.PupilFactory(group=group))
                _start(relation.guardian, relation.pupil, body="Nog een vraag")
            with CaptureQueriesContext(connection) as many:
                page = client.get(reverse("chats:chat_inbox"))
        assert page.status_code == 200
        assert len(many) == len(few)
        assert page.content.decode().count("Wacht op uw antwoord") == 5

    def test_polling_returns_what_became_visible_since_the_last_poll(
        self, client, cast, parent, child, teacher
    ):
        with time_machine.travel(MONDAY_EVENING, tick=False):
            conversation = _start(parent, child)
            first = conversation.messages.get()
            held = services.message_send(
                actor=teacher.user, conversation=conversation, body="Morgen <b>meer</b>"
            )
        with time_machine.travel(MONDAY_EVENING + dt.timedelta(minutes=2), tick=False):
            client.force_login(parent.user)
            page = client.get(reverse("chats:chat_detail", args=[conversation.pk]))
            since = page.context["since"]
            assert f'id="m{held.pk}"' not in page.content.decode()
        with time_machine.travel(TUESDAY_OPENING + dt.timedelta(seconds=5), tick=False):
            response = client.get(reverse("chats:chat_poll", args=[conversation.pk]), {"since": since})
        html = response.content.decode()
        # The held message was written before the page loaded, but delivered after it.
        assert f'id="m{held.pk}"' in html
        assert f'id="m{first.pk}"' not in html
        assert dt.datetime.fromisoformat(response["X-Since"]) == (
            TUESDAY_OPENING + dt.timedelta(seconds=5) - POLL_OVERLAP
        )

    def test_a_message_committed_after_a_poll_read_is_shown_by_the_next_poll(
        self, client, cast, parent, child, teacher
    ):
        """A message is stamped when it is written and seen once its transaction commits: a
        poll that read in between must not move the next ``since`` past it."""
        with time_machine.travel(TUESDAY_MORNING - dt.timedelta(minutes=5), tick=False):
            conversation = _start(parent, child)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            client.force_login(parent.user)
            since = client.get(reverse("chats:chat_detail", args=[conversation.pk])).context["since"]
        poll_at = TUESDAY_MORNING + dt.timedelta(seconds=10)
        with time_machine.travel(poll_at, tick=False):
            response = client.get(reverse("chats:chat_poll", args=[conversation.pk]), {"since": since})
        assert response.status_code == 204
        # The teacher's answer, stamped a second before that poll, committed just after it.
        with time_machine.travel(poll_at - dt.timedelta(seconds=1), tick=False):
            late = services.message_send(actor=teacher.user, conversation=conversation, body="Prima!")
        with time_machine.travel(poll_at + dt.timedelta(seconds=10), tick=False):
            response = client.get(
                reverse("chats:chat_poll", args=[conversation.pk]), {"since": response["X-Since"]}
            )
        assert response.status_code == 200
        assert f'id="m{late.pk}"' in response.content.decode()

    def test_a_poll_with_nothing_new_answers_no_content_from_a_fixed_few_queries(
        self, client, cast, parent, child, teacher
    ):
        def empty_poll(conversation, since):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse("chats:chat_poll", args=[conversation.pk]), {"since": since})
            assert response.status_code == 204
            assert response.content == b""
            assert dt.datetime.fromisoformat(response["X-Since"]) == TUESDAY_MORNING - POLL_OVERLAP
            return len(queries)

        with time_machine.travel(MONDAY_OPENING, tick=False):
            conversation = _start(parent, child)
        client.force_login(parent.user)
        since = (MONDAY_OPENING + dt.timedelta(minutes=1)).isoformat()
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            few = empty_poll(conversation, since)
        # Many more messages before ``since`` and many more conversations cost nothing more.
        with time_machine.travel(MONDAY_OPENING, tick=False):
            for n in range(15):
                services.message_send(actor=parent.user, conversation=conversation, body=f"Vraag {n}")
            for _ in range(5):
                _start(parent, child, body="Nog een gesprek")
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            assert empty_poll(conversation, since) == few
        # Session, user, and the one "may read it, and anything new?" query.
        assert few == 3

    def test_a_held_message_is_news_only_from_its_delivery_on(self, client, cast, parent, child, teacher):
        with time_machine.travel(MONDAY_EVENING, tick=False):
            conversation = _start(parent, child)
            held = services.message_send(actor=teacher.user, conversation=conversation, body="Tot morgen")
        client.force_login(parent.user)
        since = (MONDAY_EVENING + dt.timedelta(minutes=1)).isoformat()
        with time_machine.travel(TUESDAY_OPENING - dt.timedelta(seconds=1), tick=False):
            assert (
                client.get(reverse("chats:chat_poll", args=[conversation.pk]), {"since": since}).status_code
                == 204
            )
        with time_machine.travel(TUESDAY_OPENING + dt.timedelta(seconds=1), tick=False):
            response = client.get(reverse("chats:chat_poll", args=[conversation.pk]), {"since": since})
        assert response.status_code == 200
        assert f'id="m{held.pk}"' in response.content.decode()

    def test_start_page_sends_a_parent_to_the_new_conversation(self, client, cast, parent, child):
        client.force_login(parent.user)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            assert client.get(reverse("chats:chat_start")).status_code == 200
            response = client.post(reverse("chats:chat_start"), {"pupil": child.pk, "body": "Hallo"})
        conversation = Conversation.objects.get()
        assert response.url == reverse("chats:chat_detail", args=[conversation.pk])

    def test_a_barred_parent_cannot_start_through_the_page(self, client, cast, barred_parent, barred_child):
        client.force_login(barred_parent.user)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            response = client.post(reverse("chats:chat_start"), {"pupil": barred_child.pk, "body": "x"})
        assert response.status_code in (200, 404)
        assert not Conversation.objects.exists()

    def test_acknowledge_button_works_for_staff(self, client, cast, parent, child, teacher):
        with time_machine.travel(MONDAY_OPENING, tick=False):
            message = _start(parent, child).messages.get()
            client.force_login(teacher.user)
            page = client.get(reverse("chats:chat_detail", args=[message.conversation_id]))
            assert reverse("chats:chat_acknowledge", args=[message.pk]) in page.content.decode()
            client.post(reverse("chats:chat_acknowledge", args=[message.pk]))
        assert Message.objects.get(pk=message.pk).acknowledged_at == MONDAY_OPENING


# --- reliability and privacy -----------------------------------------------------------------------------


class TestReliability:
    def test_with_the_broker_down_the_message_is_saved_and_the_sweep_sends_its_email(
        self,
        cast,
        parent,
        child,
        teacher,
        monkeypatch,
        mailoutbox,
        django_capture_on_commit_callbacks,
    ):
        from klimop.notifications import services as notification_services
        from klimop.notifications import tasks as notification_tasks

        def broker_down(*args, **kwargs):
            raise ConnectionError("broker down")

        monkeypatch.setattr(notification_tasks.send_due_notification_emails, "apply_async", broker_down)
        with time_machine.travel(FRIDAY_EVENING, tick=False):
            with django_capture_on_commit_callbacks(execute=True):
                conversation = _start(parent, child)
            message = conversation.messages.get()
            assert Notification.objects.filter(cause=f"message:{message.pk}").count() == 2
            assert mailoutbox == []
            # Friday evening: the teacher's e-mail is not due before their working time.
            assert notification_services.send_due_emails() == 0
        with time_machine.travel(MONDAY_OPENING, tick=False):
            assert notification_services.send_due_emails() == 1
            assert notification_services.send_due_emails() == 0
        assert [m.to for m in mailoutbox] == [[teacher.user.email]]


class TestExport:
    def test_a_guardian_exports_their_own_messages_only(
        self, client, cast, parent, divorced_parent, child, teacher
    ):
        with time_machine.travel(MONDAY_OPENING, tick=False):
            conversation = _start(parent, child, body="Mijn eigen vraag")
            services.message_send(actor=teacher.user, conversation=conversation, body="Antwoord van school")
            _start(divorced_parent, child, body="Vraag van de andere ouder")
            client.force_login(parent.user)
            response = client.get(reverse("chats:chat_export"))
        data = response.json()
        assert response["Content-Disposition"].startswith("attachment")
        assert [m["text"] for m in data["messages"]] == ["Mijn eigen vraag"]
        assert data["messages"][0]["conversation"] == child.full_name


class TestConversationPage:
    def test_the_conversation_page_needs_the_same_number_of_queries_for_more_messages(
        self,
        client,
        cast,
        parent,
        child,
        teacher,
    ):
        with time_machine.travel(MONDAY_OPENING, tick=False):
            conversation = _start(parent, child)
            client.force_login(teacher.user)
            url = reverse("chats:chat_detail", args=[conversation.pk])
            with CaptureQueriesContext(connection) as few:
                client.get(url)
            for i in range(5):
                services.message_send(actor=parent.user, conversation=conversation, body=f"Nog {i}")
                services.message_send(actor=teacher.user, conversation=conversation, body=f"Ja {i}")
            with CaptureQueriesContext(connection) as many:
                page = client.get(url)
        assert page.status_code == 200
        assert len(many) == len(few)
