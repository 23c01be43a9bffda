"""One conversation per subject, and an inbox that shows what needs attention.

- Starting a chat about a child continues the one already going (the per-child chat first,
  else the direct chat with the same people), also when the form is sent twice at once.
- The inbox: unread first, then waiting for the viewer's answer, then the rest by their latest
  message; conversations without messages left out; a parent's by child.
- Staff find any child's chat (the empty per-child ones too) by a child's or a parent's name,
  never outside their own scope, in a fixed few queries whatever the school's size.
"""

import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from communication.chats import selectors, services
from communication.chats.models import Conversation, Message
from klimop.models import StaffMember
from klimop.worktime import AMSTERDAM
from tests import factories as f

# The teacher works Monday to Wednesday, the duo_teacher Thursday and Friday (conftest).
MONDAY_OPENING = dt.datetime(2026, 10, 5, 8, 0, tzinfo=AMSTERDAM)
MINUTE = dt.timedelta(minutes=1)


def _at(moment):
    return time_machine.travel(moment, tick=False)


def _kid(group, first, last, parent_first, parent_last):
    """A child in ``group`` with one custodial parent (with a login), both named."""
    relation = f.GuardianRelationFactory(
        pupil=f.PupilFactory(group=group, first_name=first, last_name=last),
        guardian__user__first_name=parent_first,
        guardian__user__last_name=parent_last,
    )
    return relation.pupil, relation.guardian


def _child_chat(pupil) -> Conversation:
    return Conversation.objects.get(kind=Conversation.Kind.CHILD, pupil=pupil)


# --- one conversation per subject -------------------------------------------------------------


class TestContinue:
    def test_a_parent_continues_the_per_child_chat_with_the_first_message_in_it(
        self, school_year, teacher, duo_teacher, parent, divorced_parent, child
    ):
        with _at(MONDAY_OPENING):
            services.child_conversations_sync(school_year=school_year)
            conversation, started = services.conversation_start_or_continue(
                actor=parent.user, pupil=child, body="Mag Noor om 14:00 weg?"
            )
        assert conversation == _child_chat(child)
        assert started is False
        assert Conversation.objects.count() == 1  # no new thread next to the per-child chat
        message = conversation.messages.get()
        assert message.body == "<p>Mag Noor om 14:00 weg?</p>"
        assert message.needs_answer  # the answer clock runs as in any chat with the teachers

    def test_without_a_per_child_chat_the_direct_chat_with_the_same_teachers_is_continued(
        self, teacher, duo_teacher, parent, child
    ):
        with _at(MONDAY_OPENING):
            first = services.conversation_start_direct(actor=parent.user, pupil=child, body="Eerste vraag")
        with _at(MONDAY_OPENING + MINUTE):
            again, started = services.conversation_start_or_continue(
                actor=parent.user, pupil=child, body="Tweede vraag"
            )
        assert (again, started) == (first, False)
        assert list(first.messages.values_list("body", flat=True)) == [
            "<p>Eerste vraag</p>",
            "<p>Tweede vraag</p>",
        ]

    def test_a_teacher_continues_the_per_child_chat_and_the_director_their_own_direct_chat(
        self, school_year, teacher, duo_teacher, director, parent, divorced_parent, child
    ):
        guardians = services.guardians_reachable_about(child)
        with _at(MONDAY_OPENING):
            services.child_conversations_sync(school_year=school_year)
            by_teacher, teacher_started = services.conversation_start_or_continue(
                actor=teacher.user, pupil=child, guardians=guardians, body="Gym morgen buiten"
            )
            by_director, director_started = services.conversation_start_or_continue(
                actor=director.user, pupil=child, guardians=guardians, body="Even bellen?"
            )
            again, started_again = services.conversation_start_or_continue(
                actor=director.user, pupil=child, guardians=guardians, body="Of morgen?"
            )
        assert by_teacher == _child_chat(child)
        assert not teacher_started
        # The director is not in the per-child chat: a chat of their own, continued the second time.
        assert by_director.kind == Conversation.Kind.DIRECT
        assert director_started
        assert (again, started_again) == (by_director, False)
        assert by_director.messages.count() == 2

    def test_another_parent_or_a_closed_chat_is_not_continued(
        self, teacher, duo_teacher, parent, divorced_parent, child
    ):
        with _at(MONDAY_OPENING):
            mine = services.conversation_start_direct(actor=parent.user, pupil=child, body="Vraag")
            # The other parent is not in this chat: theirs is a chat of their own.
            theirs = services.conversation_start_direct(actor=divorced_parent.user, pupil=child, body="Vraag")
            assert theirs != mine
            Conversation.objects.filter(pk=mine.pk).update(closed_at=MONDAY_OPENING)
            fresh = services.conversation_start_direct(actor=parent.user, pupil=child, body="Nog een")
        assert fresh not in (mine, theirs)

    def test_another_schools_child_is_refused_and_nothing_is_made(
        self, teacher, parent, child, other_group_elsewhere
    ):
        elsewhere = f.GuardianRelationFactory(pupil=f.PupilFactory(group=other_group_elsewhere)).pupil
        with _at(MONDAY_OPENING):
            for actor, guardians in (
                (teacher.user, services.guardians_reachable_about(elsewhere)),
                (parent.user, ()),
            ):
                with pytest.raises(PermissionDenied):
                    services.conversation_start_or_continue(
                        actor=actor, pupil=elsewhere, guardians=guardians, body="Hallo"
                    )
        assert not Conversation.objects.exists()
        assert not Message.objects.exists()

    def test_the_start_page_lands_in_the_chat_already_going_and_says_so(
        self, client, school_year, teacher, duo_teacher, parent, child
    ):
        with _at(MONDAY_OPENING):
            services.child_conversations_sync(school_year=school_year)
            client.force_login(parent.user)
            response = client.post(
                reverse("chats:chat_start"), {"pupil": child.pk, "body": "Noor heeft een tandartsafspraak"}
            )
            chat = _child_chat(child)
            assert response.url == reverse("chats:chat_detail", args=[chat.pk])
            page = client.get(response.url).content.decode()
        assert "Er loopt al een gesprek over Noor; uw bericht staat hieronder." in page
        assert "Noor heeft een tandartsafspraak" in page
        assert Conversation.objects.count() == 1

    def test_a_teachers_start_page_lands_in_the_per_child_chat_too(
        self, client, school_year, teacher, duo_teacher, parent, divorced_parent, child
    ):
        with _at(MONDAY_OPENING):
            services.child_conversations_sync(school_year=school_year)
            client.force_login(teacher.user)
            response = client.post(reverse("chats:chat_start"), {"pupil": child.pk, "body": "Gym is buiten"})
            chat = _child_chat(child)
            assert response.url == reverse("chats:chat_detail", args=[chat.pk])
            page = client.get(response.url).content.decode()
        assert "Er loopt al een gesprek over Noor" in page
        assert chat.messages.get().sender == teacher.user
        assert Conversation.objects.count() == 1

    def test_the_start_page_says_nothing_about_continuing_a_new_conversation(
        self, client, teacher, duo_teacher, parent, child
    ):
        with _at(MONDAY_OPENING):
            client.force_login(parent.user)
            response = client.post(reverse("chats:chat_start"), {"pupil": child.pk, "body": "Hallo"})
            page = client.get(response.url).content.decode()
        assert "loopt al" not in page


@pytest.mark.django_db(transaction=True)
def test_two_quick_submits_make_one_conversation_with_both_messages(teacher, duo_teacher, parent, child):
    """The form sent twice at the same moment (a double tap, two tabs): each request its own
    database connection. The pupil's row lock makes the second wait and continue the first."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL")
    barrier = threading.Barrier(4)
    outcome: list[str] = []
    lock = threading.Lock()

    def submit(i: int) -> None:
        try:
            barrier.wait(timeout=20)
            translation.activate("en")
            services.conversation_start_direct(actor=parent.user, pupil=child, body=f"Vraag {i}")
            result = "ok"
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            result = repr(exc)
        finally:
            connections.close_all()
        with lock:
            outcome.append(result)

    # One frozen clock for all four threads (time_machine patches the whole process).
    with _at(MONDAY_OPENING):
        threads = [threading.Thread(target=submit, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert outcome == ["ok"] * 4
    conversation = Conversation.objects.get()
    assert sorted(conversation.messages.values_list("body", flat=True)) == [
        f"<p>Vraag {i}</p>" for i in range(4)
    ]


# --- the inbox: attention first, empty ones out, a parent's by child ----------------------------


@pytest.fixture
def classroom(school_year, group, teacher, duo_teacher, parent, child):
    """Group 5a with four more children, each with a parent, and everyone's per-child chat."""
    kids = {
        name: _kid(group, name, last, parent_first, parent_last)
        for name, last, parent_first, parent_last in [
            ("Sam", "Quelling", "Fleur", "Ambergen"),
            ("Lotte", "Ypenburg", "Bram", "Zwanenveld"),
            ("Mees", "Ulvenhout", "Anouk", "Quelling"),
            ("Jip", "Ommeren", "Roel", "Xanten"),
        ]
    }
    with _at(MONDAY_OPENING - dt.timedelta(days=3)):
        services.child_conversations_sync(school_year=school_year)
    return kids


def _rows(viewer, **kwargs):
    return [(c.title, c.attention) for c in selectors.conversations_for(viewer=viewer, **kwargs)]


class TestAttentionFirst:
    def test_a_teacher_sees_unread_then_waiting_by_answer_by_then_the_rest_and_no_empty_chats(
        self, classroom, teacher, parent, child
    ):
        sam, sams_parent = classroom["Sam"]
        lotte, lottes_parent = classroom["Lotte"]
        mees, mees_parent = classroom["Mees"]
        t = MONDAY_OPENING
        with _at(t):  # answered: the rest
            services.message_send(actor=mees_parent.user, conversation=_child_chat(mees), body="Vraag")
        with _at(t + MINUTE):
            services.message_send(actor=teacher.user, conversation=_child_chat(mees), body="Antwoord")
            services.conversation_mark_read(actor=teacher.user, conversation=_child_chat(mees))
        with _at(t + 2 * MINUTE):  # read but not answered: waiting
            services.message_send(actor=sams_parent.user, conversation=_child_chat(sam), body="Vraag")
            services.conversation_mark_read(actor=teacher.user, conversation=_child_chat(sam))
        with _at(t + dt.timedelta(days=1)):  # a later question, also read: waiting, more time left
            services.message_send(actor=lottes_parent.user, conversation=_child_chat(lotte), body="Vraag")
            services.conversation_mark_read(actor=teacher.user, conversation=_child_chat(lotte))
        with _at(t + dt.timedelta(days=1, minutes=5)):  # not read yet: first
            services.message_send(actor=parent.user, conversation=_child_chat(child), body="Vraag")
            rows = _rows(teacher.user)
            with_empty = _rows(teacher.user, include_empty=True)
        assert rows == [
            (child.full_name, 0),
            (sam.full_name, 1),  # answer by earlier than Lotte's
            (lotte.full_name, 1),
            (mees.full_name, 2),
        ]
        assert len(with_empty) == 5  # Jip's chat has no message: only on demand
        assert with_empty[-1] == (classroom["Jip"][0].full_name, 2)

    def test_a_parent_sees_unread_then_the_chats_where_the_other_side_wrote_last(
        self, school_year, group, teacher, duo_teacher, parent, child
    ):
        sibling = f.PupilFactory(group=group, first_name="Bo", last_name="Testkind")
        f.GuardianRelationFactory(pupil=sibling, guardian=parent)
        with _at(MONDAY_OPENING - dt.timedelta(days=3)):
            services.child_conversations_sync(school_year=school_year)
            talk = services.conversation_start_group(
                actor=teacher.user, group=group, title="Kerstdiner", body="Wie helpt?"
            )
            services.conversation_mark_read(actor=parent.user, conversation=talk)
        with _at(MONDAY_OPENING):
            services.message_send(actor=parent.user, conversation=_child_chat(child), body="Vraag")
            services.message_send(actor=parent.user, conversation=_child_chat(sibling), body="Vraag")
        with _at(MONDAY_OPENING + MINUTE):
            services.message_send(
                actor=teacher.user, conversation=_child_chat(sibling), body="Wilt u bellen?"
            )
            services.conversation_mark_read(actor=parent.user, conversation=_child_chat(sibling))
        with _at(MONDAY_OPENING + 2 * MINUTE):
            services.message_send(actor=teacher.user, conversation=talk, body="Nog twee ouders nodig")
            rows = _rows(parent.user)
            sections = selectors.inbox_sections(
                viewer=parent.user, conversations=selectors.conversations_for(viewer=parent.user)
            )
        assert rows == [("Kerstdiner", 0), (sibling.full_name, 1), (child.full_name, 2)]
        # By child, the school's section after them unless it needs attention more (it does).
        assert [
            (s.pupil.first_name if s.pupil else None, [c.title for c in s.conversations]) for s in sections
        ] == [
            (None, ["Kerstdiner"]),
            ("Bo", [sibling.full_name]),
            ("Noor", [child.full_name]),
        ]

    def test_a_parents_children_each_have_a_heading_also_without_messages(
        self, client, school_year, group, teacher, duo_teacher, parent, child
    ):
        sibling = f.PupilFactory(group=group, first_name="Bo", last_name="Testkind")
        f.GuardianRelationFactory(pupil=sibling, guardian=parent)
        with _at(MONDAY_OPENING):
            services.child_conversations_sync(school_year=school_year)
            services.message_send(actor=parent.user, conversation=_child_chat(child), body="Vraag over Noor")
            client.force_login(parent.user)
            page = client.get(reverse("chats:chat_inbox")).content.decode()
        assert page.index(">Bo <") < page.index(">Noor <")  # by name: nothing unread for the parent
        assert "Nog geen berichten over Bo." in page
        assert f"{reverse('chats:chat_start')}?pupil={sibling.pk}" in page
        assert "Vraag over Noor" in page
        assert page.count('class="chat-row card') == 1  # Bo's empty per-child chat is not a row

    def test_a_group_chat_started_at_night_reaches_the_parents_inbox_with_its_message_in_the_morning(
        self, client, group, teacher, parent, child
    ):
        """Not only its first message waits for the teacher's working time: the conversation
        itself (its title) does not show in a parent's inbox before that message does."""
        monday_night = MONDAY_OPENING.replace(hour=21)
        with _at(monday_night):
            conversation = services.conversation_start_group(
                actor=teacher.user, group=group, title="Schoolreis naar de dierentuin", body="Wie rijdt mee?"
            )
            client.force_login(parent.user)
            night = client.get(reverse("chats:chat_inbox")).content.decode()
            assert conversation not in selectors.conversations_for(viewer=parent.user)
            assert selectors.unread_conversation_count(viewer=parent.user) == 0
        assert "Schoolreis" not in night
        with _at(MONDAY_OPENING + dt.timedelta(days=1, minutes=1)):
            morning = client.get(reverse("chats:chat_inbox")).content.decode()
            assert selectors.unread_conversation_count(viewer=parent.user) == 1
        assert "Schoolreis naar de dierentuin" in morning
        assert "Wie rijdt mee?" in morning


# --- staff search -------------------------------------------------------------------------------


class TestSearch:
    def _found(self, viewer, q):
        hits, _more = selectors.children_found(viewer=viewer, q=q)
        return [h.pupil.first_name for h in hits]

    def test_finds_by_first_name_last_name_and_parent_name(self, classroom, teacher):
        assert self._found(teacher.user, "sam") == ["Sam"]
        assert self._found(teacher.user, "ypenburg") == ["Lotte"]
        assert self._found(teacher.user, "zwanenveld") == ["Lotte"]  # Lotte's parent
        assert self._found(teacher.user, "Fleur") == ["Sam"]
        # A child's last name and a parent's last name alike; every word must match.
        assert self._found(teacher.user, "quelling") == ["Mees", "Sam"]
        assert self._found(teacher.user, "quelling anouk") == ["Mees"]
        assert self._found(teacher.user, "nobody") == []
        assert len(self._found(teacher.user, "")) == 5  # all children in the teacher's group

    def test_the_hit_carries_the_empty_per_child_chat_and_the_parents(self, classroom, teacher):
        sam, sams_parent = classroom["Sam"]
        [hit], more = selectors.children_found(viewer=teacher.user, q="Sam")
        assert not more
        assert hit.parents == [sams_parent.full_name]
        assert [c.pk for c in hit.conversations] == [_child_chat(sam).pk]
        assert hit.conversations[0].last_at is None

    def test_never_outside_the_viewers_scope(
        self, classroom, other_teacher, director, parent, other_director, other_group_elsewhere
    ):
        f.PupilFactory(group=other_group_elsewhere, first_name="Sam", last_name="Elders")
        assert self._found(other_teacher.user, "Sam") == []  # 6b's teacher: not 5a's children
        assert self._found(parent.user, "Sam") == []  # parents do not search the school
        assert self._found(director.user, "Sam") == ["Sam"]  # the whole school, this school only
        assert self._found(other_director.user, "Sam") == ["Sam"]
        [hit], _ = selectors.children_found(viewer=other_director.user, q="Sam")
        assert hit.pupil.last_name == "Elders"
        assert hit.conversations == []

    def test_a_care_coordinator_finds_any_child_and_may_start_where_no_chat_is_theirs(
        self, client, classroom, school
    ):
        ib = f.StaffMemberFactory(school=school, role=StaffMember.Role.CARE_COORDINATOR)
        client.force_login(ib.user)
        with _at(MONDAY_OPENING):
            page = client.get(reverse("chats:chat_inbox"), {"q": "Jip"}).content.decode()
        jip_start = f"{reverse('chats:chat_start')}?pupil={classroom['Jip'][0].pk}"
        assert jip_start in page  # not in the per-child chat: starts their own
        assert "Gesprek beginnen" in page


class TestInboxPage:
    def test_the_teachers_inbox_lists_the_waiting_chat_and_finds_an_empty_one_on_demand(
        self, client, classroom, teacher, parent, child
    ):
        sam = classroom["Sam"][0]
        with _at(MONDAY_OPENING):
            services.message_send(
                actor=parent.user, conversation=_child_chat(child), body="Mag Noor eerder weg?"
            )
            client.force_login(teacher.user)
            page = client.get(reverse("chats:chat_inbox")).content.decode()
            found = client.get(reverse("chats:chat_inbox"), {"q": "  Sam\u202e "}).content.decode()
        assert "Vraagt uw aandacht" in page
        assert "Wacht op uw antwoord" in page
        assert "Mag Noor eerder weg?" in page
        assert "Nog geen berichten" not in page  # the empty per-child chats are left out
        assert page.count('class="chat-row card') == 1
        assert "Gesprek over een kind beginnen of zoeken" in page
        assert "1 kind gevonden bij “Sam”" in found
        assert reverse("chats:chat_detail", args=[_child_chat(sam).pk]) in found
        assert "nog geen berichten" in found

    def test_a_search_without_a_match_says_so_and_keeps_what_was_typed(self, client, classroom, teacher):
        client.force_login(teacher.user)
        page = client.get(reverse("chats:chat_inbox"), {"q": "Zzyzx"}).content.decode()
        assert "Geen kind gevonden bij “Zzyzx”" in page
        assert 'value="Zzyzx"' in page

    def test_a_parent_gets_no_search_even_when_asking_for_one(self, client, classroom, parent):
        client.force_login(parent.user)
        page = client.get(reverse("chats:chat_inbox"), {"q": "Sam"}).content.decode()
        assert "kind gevonden" not in page
        assert "Quelling" not in page

    def test_the_inbox_and_the_search_take_the_same_queries_for_five_children_and_fifty(
        self, client, django_assert_max_num_queries, classroom, school_year, group, teacher, parent, child
    ):
        client.force_login(teacher.user)
        url = reverse("chats:chat_inbox")

        def count(params) -> int:
            client.get(url, params)  # warm
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, params).status_code == 200
            return len(queries)

        with _at(MONDAY_OPENING):
            services.message_send(actor=parent.user, conversation=_child_chat(child), body="Vraag")
            small = (count({}), count({"q": ""}), count({"q": "Quelling"}))
            for i in range(45):
                pupil, guardian = _kid(group, f"Kind{i}", "Quelling", "Ouder", f"Nummer{i}")
            services.child_conversations_sync(school_year=school_year)
            for pupil in list(group.pupils.all())[:20]:
                chat = _child_chat(pupil)
                writer = chat.participants.filter(is_staff=False).first()
                if writer is not None:
                    services.message_send(actor=writer.user, conversation=chat, body="Vraag")
            large = (count({}), count({"q": ""}), count({"q": "Quelling"}))
            with django_assert_max_num_queries(12):
                client.get(url, {"q": "Quelling"})
        assert small == large, (small, large)
