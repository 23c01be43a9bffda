"""Agenda: who plans what, who sees what, "bring this" notice, reminders, pages."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communication.agenda import selectors, services
from communication.agenda.models import Event
from communication.agenda.tasks import send_event_reminders
from klimop.models import NonSchoolDay
from klimop.notifications.models import Notification
from klimop.worktime import AMSTERDAM

pytestmark = pytest.mark.django_db


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMSTERDAM)


def add_christmas(school):
    days = [dt.date(2026, 12, d) for d in (21, 22, 23, 24, 28, 29, 30, 31)]
    rows = [
        NonSchoolDay(school=school, date=d, kind=NonSchoolDay.Kind.SCHOOL_HOLIDAY, name="Kerstvakantie")
        for d in days
    ]
    rows.append(
        NonSchoolDay(
            school=school,
            date=dt.date(2026, 12, 25),
            kind=NonSchoolDay.Kind.PUBLIC_HOLIDAY,
            name="Eerste Kerstdag",
        )
    )
    rows.append(
        NonSchoolDay(
            school=school,
            date=dt.date(2027, 1, 1),
            kind=NonSchoolDay.Kind.PUBLIC_HOLIDAY,
            name="Nieuwjaarsdag",
        )
    )
    NonSchoolDay.objects.bulk_create(rows)


def group_event(teacher, group, title="Schoolreis", day=dt.date(2026, 12, 10), **kw):
    return services.event_create(
        actor=teacher.user,
        group=group,
        title=title,
        kind=Event.Kind.TRIP,
        starts_at=at(day.year, day.month, day.day, 9),
        ends_at=at(day.year, day.month, day.day, 15),
        **kw,
    )


def school_event(director, title="Koffie-uurtje", day=dt.date(2026, 12, 11), **kw):
    return services.event_create(
        actor=director.user,
        title=title,
        kind=Event.Kind.COFFEE_HOUR,
        all_day=True,
        starts_on=day,
        **kw,
    )


# --- planning rights ------------------------------------------------------------------------


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_teacher_plans_for_own_group_and_director_for_school(teacher, group, director):
    event = group_event(teacher, group)
    assert event.school_id == group.school_id
    assert event.created_by == teacher
    assert event.starts_on == dt.date(2026, 12, 10)
    whole = school_event(director)
    assert whole.group is None
    assert whole.school_id == director.school_id


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_teacher_cannot_plan_for_another_group_or_the_whole_school(teacher, other_group):
    with pytest.raises(PermissionDenied):
        group_event(teacher, other_group)
    with pytest.raises(PermissionDenied):
        school_event(teacher)


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_parent_and_other_director_cannot_plan(parent, group, other_director):
    with pytest.raises(PermissionDenied):
        services.event_create(
            actor=parent.user, group=group, title="x", all_day=True, starts_on=dt.date(2026, 12, 1)
        )
    with pytest.raises(PermissionDenied):
        services.event_create(
            actor=other_director.user, group=group, title="x", all_day=True, starts_on=dt.date(2026, 12, 1)
        )


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_event_cannot_end_before_it_starts(teacher, group):
    with pytest.raises(ValidationError):
        services.event_create(
            actor=teacher.user,
            group=group,
            title="x",
            starts_at=at(2026, 12, 1, 10),
            ends_at=at(2026, 12, 1, 9),
        )
    with pytest.raises(ValidationError):
        services.event_create(
            actor=teacher.user,
            group=group,
            title="x",
            all_day=True,
            starts_on=dt.date(2026, 12, 2),
            ends_on=dt.date(2026, 12, 1),
        )


def test_database_refuses_end_before_start(school):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(
            school=school,
            title="x",
            all_day=True,
            starts_on=dt.date(2026, 12, 2),
            ends_on=dt.date(2026, 12, 1),
        )


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_only_planners_edit_and_delete(teacher, other_teacher, group, parent):
    event = group_event(teacher, group)
    with pytest.raises(PermissionDenied):
        services.event_update(actor=other_teacher.user, event=event, title="Changed")
    with pytest.raises(PermissionDenied):
        services.event_delete(actor=parent.user, event=event)
    services.event_update(
        actor=teacher.user,
        event=event,
        title="Changed",
        starts_at=at(2026, 12, 11, 9),
        ends_at=at(2026, 12, 11, 12),
    )
    event.refresh_from_db()
    assert event.title == "Changed"
    assert event.starts_on == dt.date(2026, 12, 11)
    services.event_delete(actor=teacher.user, event=event)
    assert not Event.objects.exists()


# --- who sees what ------------------------------------------------------------------------


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_parent_sees_own_group_and_school_events_and_holidays_only(
    parent,
    teacher,
    other_teacher,
    group,
    other_group,
    director,
    school,
    barred_child,
):
    add_christmas(school)
    mine = group_event(teacher, group, title="Schoolreis 5a")
    group_event(other_teacher, other_group, title="Toets 6b")
    whole = school_event(director)
    items = selectors.agenda_for(viewer=parent.user, start=dt.date(2026, 11, 1))
    titles = [i.title for i in items]
    assert "Toets 6b" not in titles
    assert {mine.title, whole.title, "Kerstvakantie"} <= set(titles)
    christmas = next(i for i in items if i.title == "Kerstvakantie")
    assert (christmas.starts_on, christmas.ends_on) == (dt.date(2026, 12, 21), dt.date(2027, 1, 1))


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_barred_and_step_parent_see_no_events_of_that_group(
    barred_parent,
    step_parent,
    other_teacher,
    other_group,
    teacher,
    group,
):
    group_event(other_teacher, other_group, title="Toets 6b")
    group_event(teacher, group, title="Schoolreis 5a")
    assert selectors.agenda_for(viewer=barred_parent.user) == []
    assert selectors.agenda_for(viewer=step_parent.user) == []


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_other_school_sees_nothing_and_detail_404s(client, other_director, teacher, group, director):
    event = group_event(teacher, group)
    school_event(director)
    assert selectors.agenda_for(viewer=other_director.user) == []
    client.force_login(other_director.user)
    assert client.get(reverse("agenda:event_detail", args=[event.pk])).status_code == 404


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_filter_by_child_group_ignores_groups_not_visible(
    client, parent, teacher, group, other_teacher, other_group
):
    group_event(teacher, group, title="Schoolreis 5a")
    group_event(other_teacher, other_group, title="Toets 6b")
    client.force_login(parent.user)
    html = client.get(reverse("agenda:agenda"), {"groep": other_group.pk}).content.decode()
    assert "Toets 6b" not in html
    assert "Schoolreis 5a" in html


# --- "bring this" notice ----------------------------------------------------------------


@time_machine.travel(at(2026, 11, 27, 10), tick=False)  # a Friday
def test_bring_request_for_monday_written_on_friday_needs_confirmation(teacher, group):
    monday = dt.date(2026, 11, 30)
    with pytest.raises(ValidationError) as error:
        group_event(teacher, group, title="Gymles", day=monday, bring="gymkleren")
    assert "confirm_short_notice" in error.value.message_dict
    event = group_event(
        teacher, group, title="Gymles", day=monday, bring="gymkleren", short_notice_confirmed=True
    )
    assert event.pk


@time_machine.travel(at(2026, 11, 27, 10), tick=False)  # a Friday
def test_bring_request_two_school_days_ahead_across_the_weekend_is_fine(teacher, group):
    tuesday = dt.date(2026, 12, 1)
    assert group_event(teacher, group, title="Knutselen", day=tuesday, bring="een lege doos").pk
    # Without a "bring" request there is nothing to warn about.
    assert group_event(teacher, group, title="Gym", day=dt.date(2026, 11, 30)).pk


@time_machine.travel(at(2026, 11, 27, 10), tick=False)
def test_bring_warning_in_the_form_requires_the_checkbox(client, teacher, group):
    client.force_login(teacher.user)
    data = {
        "group": group.pk,
        "title": "Gymles",
        "kind": "activity",
        "starts_on": "2026-11-30",
        "start_time": "09:00",
        "end_time": "10:00",
        "bring": "gymkleren",
        "remind_days_before": 14,
    }
    response = client.post(reverse("agenda:event_create"), data)
    assert response.status_code == 200
    assert not Event.objects.exists()
    assert 'name="confirm_short_notice"' in response.content.decode()
    response = client.post(reverse("agenda:event_create"), {**data, "confirm_short_notice": "on"})
    assert response.status_code == 302
    event = Event.objects.get()
    assert event.starts_at == at(2026, 11, 30, 9)


# --- reminders --------------------------------------------------------------------------


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_reminder_sent_once_to_parents_who_may_see_it(
    parent,
    divorced_parent,
    step_parent,
    barred_parent,
    teacher,
    group,
    other_teacher,
):
    event = group_event(teacher, group, day=dt.date(2026, 12, 7), important=True, remind_days_before=14)
    assert send_event_reminders() == 2
    assert send_event_reminders() == 0
    notes = Notification.objects.filter(cause=f"event-reminder:{event.pk}")
    assert {n.user for n in notes} == {parent.user, divorced_parent.user}


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_no_reminder_before_its_day_or_for_unimportant_events(parent, teacher, group):
    group_event(teacher, group, day=dt.date(2026, 12, 10), important=True, remind_days_before=14)
    group_event(teacher, group, day=dt.date(2026, 11, 25), title="Gewoon")
    assert send_event_reminders() == 0


# --- pages ------------------------------------------------------------------------------


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_list_page_groups_by_week(client, parent, teacher, group, director):
    group_event(teacher, group, title="Schoolreis 5a")
    school_event(director, title="Koffie-uurtje")
    client.force_login(parent.user)
    response = client.get(reverse("agenda:agenda"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Schoolreis 5a" in html
    assert "Koffie-uurtje" in html
    assert "Week 50" in html


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_month_view_query_count_does_not_grow(client, parent, teacher, group, director, school):
    add_christmas(school)
    group_event(teacher, group)
    client.force_login(parent.user)
    url = reverse("agenda:agenda_month", args=[2026, 12])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(15):
        group_event(teacher, group, title=f"Extra {n}", day=dt.date(2026, 12, 1 + n))
        school_event(director, title=f"School {n}", day=dt.date(2026, 12, 1 + n))
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert "Extra 14" in response.content.decode()
    assert len(many) == len(few)


def test_month_view_rejects_bad_months(client, parent):
    client.force_login(parent.user)
    assert client.get("/agenda/maand/2026/13/").status_code == 404


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_staff_edit_and_delete_pages(client, teacher, group, other_teacher):
    event = group_event(teacher, group)
    client.force_login(other_teacher.user)
    assert client.get(reverse("agenda:event_edit", args=[event.pk])).status_code == 404
    client.force_login(teacher.user)
    assert client.get(reverse("agenda:event_edit", args=[event.pk])).status_code == 200
    response = client.post(reverse("agenda:event_delete", args=[event.pk]))
    assert response.status_code == 302
    assert not Event.objects.exists()


def test_parent_cannot_open_create_form(client, parent):
    client.force_login(parent.user)
    assert client.get(reverse("agenda:event_create")).status_code == 403


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_teacher_edits_event_through_the_form(client, teacher, group):
    event = group_event(teacher, group)
    client.force_login(teacher.user)
    response = client.post(
        reverse("agenda:event_edit", args=[event.pk]),
        {
            "group": group.pk,
            "title": "Schoolreis (verplaatst)",
            "kind": "trip",
            "starts_on": "2026-12-11",
            "all_day": "on",
            "remind_days_before": 7,
        },
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.title == "Schoolreis (verplaatst)"
    assert event.all_day
    assert event.starts_at is None
    assert event.starts_on == dt.date(2026, 12, 11)


@time_machine.travel(at(2026, 11, 23, 10), tick=False)
def test_list_view_query_count_does_not_grow(client, parent, teacher, group, director):
    group_event(teacher, group)
    client.force_login(parent.user)
    url = reverse("agenda:agenda")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(10):
        group_event(teacher, group, title=f"Extra {n}", day=dt.date(2026, 12, 1 + n))
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
