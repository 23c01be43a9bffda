"""Privacy preferences (AVG): consent per child, purpose, parent and school year."""

import datetime as dt
import json

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from klimop.notifications.models import Notification
from klimop.privacy import services as services
from klimop.privacy.models import ConsentDecision, ConsentEvent, ConsentPurpose, PrivacySettings
from klimop.privacy.selectors import effective_consent, pupils_without_consent
from tests import factories as f

AMS = dt.timezone(dt.timedelta(hours=2))  # CEST; the dates below are all in summer time
GROUP_PAGE = ConsentPurpose.GROUP_PAGE
IN_YEAR = dt.datetime(2026, 10, 6, 10, 0, tzinfo=AMS)  # a Tuesday in school year 2026/2027

pytestmark = pytest.mark.django_db


def _all_yes():
    return dict.fromkeys(ConsentPurpose.values, True)


@pytest.fixture
def next_year(school):
    return f.SchoolYearFactory(
        school=school, name="2027/2028", starts_on=dt.date(2027, 8, 30), ends_on=dt.date(2028, 7, 14)
    )


# --- the rule: every parent with gezag, silence is no ---------------------------------------


@time_machine.travel(IN_YEAR, tick=False)
def test_silence_is_no_consent(child, parent, divorced_parent):
    assert effective_consent(pupil=child, purpose=GROUP_PAGE) is False
    assert list(pupils_without_consent(group=child.group, purpose=GROUP_PAGE)) == [child]


@time_machine.travel(IN_YEAR, tick=False)
def test_one_parent_yes_and_the_other_silent_is_no(child, parent, divorced_parent):
    services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=True)
    assert effective_consent(pupil=child, purpose=GROUP_PAGE) is False


@time_machine.travel(IN_YEAR, tick=False)
def test_one_parent_yes_and_the_other_no_is_no(child, parent, divorced_parent):
    services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=True)
    services.consent_set(actor=divorced_parent.user, pupil=child, purpose=GROUP_PAGE, granted=False)
    assert effective_consent(pupil=child, purpose=GROUP_PAGE) is False


@time_machine.travel(IN_YEAR, tick=False)
def test_both_parents_yes_is_yes_for_that_purpose_only(child, parent, divorced_parent):
    for guardian in (parent, divorced_parent):
        services.consent_set(actor=guardian.user, pupil=child, purpose=GROUP_PAGE, granted=True)
    assert effective_consent(pupil=child, purpose=GROUP_PAGE) is True
    assert effective_consent(pupil=child, purpose=ConsentPurpose.WEBSITE) is False
    assert list(pupils_without_consent(group=child.group, purpose=GROUP_PAGE)) == []


@time_machine.travel(IN_YEAR, tick=False)
def test_a_pupil_without_a_custodial_parent_has_no_consent(child, step_parent, info_parent):
    assert effective_consent(pupil=child, purpose=GROUP_PAGE) is False


@time_machine.travel(IN_YEAR, tick=False)
def test_withdrawing_is_immediate_and_reaches_only_the_childs_teachers(
    child,
    parent,
    divorced_parent,
    teacher,
    duo_teacher,
    other_teacher,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        for guardian in (parent, divorced_parent):
            services.consent_set_many(actor=guardian.user, pupil=child, choices=_all_yes())
    Notification.objects.all().delete()  # the "now yes" change told them too; start clean

    with django_capture_on_commit_callbacks(execute=True):
        services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=False)

    assert effective_consent(pupil=child, purpose=GROUP_PAGE) is False
    notified = set(
        Notification.objects.filter(cause__startswith="consent-change:").values_list("user__email", flat=True)
    )
    assert notified == {teacher.user.email, duo_teacher.user.email}
    assert other_teacher.user.email not in notified
    note = Notification.objects.filter(user=teacher.user).get()
    assert child.full_name in note.title
    assert note.url == reverse("privacy:privacy_group", args=[child.group_id])


@time_machine.travel(IN_YEAR, tick=False)
def test_a_rolled_back_change_notifies_nobody(
    child, parent, divorced_parent, teacher, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=True)
                services.consent_set(
                    actor=divorced_parent.user, pupil=child, purpose=GROUP_PAGE, granted=True
                )
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == []
    assert not ConsentEvent.objects.exists()


@pytest.mark.parametrize("who", ["info_parent", "step_parent"])
def test_parents_without_gezag_and_full_access_cannot_decide(request, who, child, parent):
    guardian = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.consent_set(actor=guardian.user, pupil=child, purpose=GROUP_PAGE, granted=True)


def test_a_barred_parent_cannot_decide(barred_parent, barred_child):
    with pytest.raises(PermissionDenied):
        services.consent_set(actor=barred_parent.user, pupil=barred_child, purpose=GROUP_PAGE, granted=True)


@pytest.mark.parametrize("who", ["info_parent", "step_parent", "barred_parent"])
def test_non_deciding_parents_get_404_on_the_consent_form(request, client, who, child, barred_child):
    guardian = request.getfixturevalue(who)
    pupil = barred_child if who == "barred_parent" else child
    client.force_login(guardian.user)
    response = client.post(
        reverse("privacy:privacy_child_update", args=[pupil.pk]), {f"child-{pupil.pk}-group_page": "on"}
    )
    assert response.status_code == 404
    assert not ConsentDecision.objects.exists()


def test_a_parent_cannot_decide_for_someone_elses_child(client, parent, barred_child, barred_parent):
    client.force_login(parent.user)
    response = client.post(
        reverse("privacy:privacy_child_update", args=[barred_child.pk]),
        {f"child-{barred_child.pk}-group_page": "on"},
    )
    assert response.status_code == 404
    missing = client.post(reverse("privacy:privacy_child_update", args=[999_999]), {})
    assert missing.status_code == 404
    assert not ConsentDecision.objects.exists()


@time_machine.travel(IN_YEAR, tick=False)
def test_every_change_leaves_a_history_row_with_its_actor(child, parent, divorced_parent):
    services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=True)
    services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=True)  # same
    services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=False)

    events = list(ConsentEvent.objects.order_by("pk"))
    assert [(e.old_granted, e.new_granted) for e in events] == [(None, True), (True, False)]
    assert {e.actor for e in events} == {parent.user}
    assert {e.guardian for e in events} == {parent}
    assert all(e.at == IN_YEAR for e in events)
    assert ConsentDecision.objects.get().granted is False


# --- renewal each school year -------------------------------------------------------------


def _both_say_yes(child, *guardians):
    with time_machine.travel(IN_YEAR, tick=False):
        for guardian in guardians:
            services.consent_set(actor=guardian.user, pupil=child, purpose=GROUP_PAGE, granted=True)


def test_with_renewal_last_years_yes_counts_within_the_grace_period(
    child, parent, divorced_parent, next_year
):
    _both_say_yes(child, parent, divorced_parent)
    within = dt.datetime(2027, 9, 20, 10, 0, tzinfo=AMS)  # 21 days after the start; grace 30
    assert effective_consent(pupil=child, purpose=GROUP_PAGE, on=within) is True


def test_with_renewal_last_years_yes_stops_counting_after_the_grace_period(
    child, parent, divorced_parent, next_year
):
    _both_say_yes(child, parent, divorced_parent)
    after = dt.datetime(2027, 9, 29, 10, 0, tzinfo=AMS)  # 30 days after 30 August
    assert effective_consent(pupil=child, purpose=GROUP_PAGE, on=after) is False


def test_the_grace_period_is_the_schools_setting(child, parent, divorced_parent, next_year, school):
    _both_say_yes(child, parent, divorced_parent)
    PrivacySettings.objects.create(school=school, grace_days=7)
    assert (
        effective_consent(pupil=child, purpose=GROUP_PAGE, on=dt.datetime(2027, 9, 5, 10, 0, tzinfo=AMS))
        is True
    )
    assert (
        effective_consent(pupil=child, purpose=GROUP_PAGE, on=dt.datetime(2027, 9, 6, 10, 0, tzinfo=AMS))
        is False
    )


def test_without_renewal_last_years_yes_keeps_counting(child, parent, divorced_parent, next_year, school):
    PrivacySettings.objects.create(school=school, renew_consent_each_year=False)
    _both_say_yes(child, parent, divorced_parent)
    assert (
        effective_consent(pupil=child, purpose=GROUP_PAGE, on=dt.datetime(2028, 3, 1, 10, 0, tzinfo=AMS))
        is True
    )


def test_a_new_decision_in_the_new_year_replaces_last_years_at_once(
    child, parent, divorced_parent, next_year
):
    _both_say_yes(child, parent, divorced_parent)
    with time_machine.travel(dt.datetime(2027, 9, 1, 10, 0, tzinfo=AMS), tick=False):
        services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=False)
        assert effective_consent(pupil=child, purpose=GROUP_PAGE) is False
    assert ConsentDecision.objects.filter(school_year=next_year).count() == 1


SUMMER = dt.datetime(2027, 7, 28, 21, 30, tzinfo=AMS)  # between 2026/2027 and 2027/2028


def test_a_choice_made_in_the_summer_holiday_is_for_the_coming_school_year(
    child, parent, divorced_parent, next_year
):
    with time_machine.travel(SUMMER, tick=False):
        for guardian in (parent, divorced_parent):
            services.consent_set(actor=guardian.user, pupil=child, purpose=GROUP_PAGE, granted=True)
        assert effective_consent(pupil=child, purpose=GROUP_PAGE) is True
    assert set(ConsentDecision.objects.values_list("school_year", flat=True)) == {next_year.pk}
    # It does not lapse with last year's choices after the grace period of the new year.
    late_autumn = dt.datetime(2027, 10, 12, 10, 0, tzinfo=AMS)
    assert effective_consent(pupil=child, purpose=GROUP_PAGE, on=late_autumn) is True


def test_in_the_summer_last_years_choices_count_until_a_new_one_is_made(
    child, parent, divorced_parent, next_year
):
    _both_say_yes(child, parent, divorced_parent)
    assert effective_consent(pupil=child, purpose=GROUP_PAGE, on=SUMMER) is True
    with time_machine.travel(SUMMER, tick=False):
        services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=False)
        assert effective_consent(pupil=child, purpose=GROUP_PAGE) is False
    # The "no" of the summer is this year's: it still holds on the first day of school.
    assert (
        effective_consent(pupil=child, purpose=GROUP_PAGE, on=dt.datetime(2027, 8, 30, 9, 0, tzinfo=AMS))
        is False
    )


def test_parents_who_chose_in_the_summer_are_not_asked_again_when_school_starts(
    child, parent, divorced_parent, next_year, django_capture_on_commit_callbacks
):
    with time_machine.travel(SUMMER, tick=False):
        services.consent_set_many(actor=parent.user, pupil=child, choices=_all_yes())
    first_week = dt.datetime(2027, 8, 31, 10, 0, tzinfo=AMS)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.consent_renewal_sweep(now=first_week) == 1
    asked = Notification.objects.filter(cause__startswith=f"consent-renewal:{next_year.pk}:")
    assert list(asked.values_list("user__email", flat=True)) == [divorced_parent.user.email]


def test_without_a_coming_year_entered_a_summer_choice_is_kept_for_the_last_year(
    child, parent, divorced_parent
):
    with time_machine.travel(SUMMER, tick=False):
        services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=True)
    assert ConsentDecision.objects.get().school_year == child.group.school_year


def test_the_renewal_sweep_asks_each_deciding_parent_once_even_when_run_twice(
    child,
    parent,
    divorced_parent,
    info_parent,
    step_parent,
    next_year,
    django_capture_on_commit_callbacks,
):
    _both_say_yes(child, parent, divorced_parent)
    first_week = dt.datetime(2027, 8, 31, 10, 0, tzinfo=AMS)  # Tuesday, office hours
    with django_capture_on_commit_callbacks(execute=True):
        assert services.consent_renewal_sweep(now=first_week) == 2
        assert services.consent_renewal_sweep(now=first_week + dt.timedelta(hours=1)) == 0

    asked = Notification.objects.filter(cause=f"consent-renewal:{next_year.pk}:{child.pk}")
    assert sorted(asked.values_list("user__email", flat=True)) == sorted(
        [parent.user.email, divorced_parent.user.email]
    )


def test_the_renewal_sweep_waits_for_office_hours(child, parent, next_year):
    evening = dt.datetime(2027, 8, 31, 20, 0, tzinfo=AMS)
    assert services.consent_renewal_sweep(now=evening) == 0
    assert not Notification.objects.exists()


def test_the_renewal_sweep_skips_schools_that_do_not_renew(child, parent, next_year, school):
    PrivacySettings.objects.create(school=school, renew_consent_each_year=False)
    assert services.consent_renewal_sweep(now=dt.datetime(2027, 8, 31, 10, 0, tzinfo=AMS)) == 0


def test_the_renewal_task_runs_through_celery(child, parent, next_year):
    from klimop.privacy.tasks import consent_renewal_sweep

    with time_machine.travel(dt.datetime(2027, 8, 31, 10, 0, tzinfo=AMS), tick=False):
        assert consent_renewal_sweep.delay().get() == 1


# --- pages --------------------------------------------------------------------------------


@time_machine.travel(IN_YEAR, tick=False)
def test_parent_saves_choices_with_a_normal_form_post(client, child, parent, divorced_parent):
    client.force_login(parent.user)
    page = client.get(reverse("privacy:privacy_home"))
    assert page.status_code == 200
    assert child.full_name in page.text
    response = client.post(
        reverse("privacy:privacy_child_update", args=[child.pk]),
        {f"child-{child.pk}-group_page": "on", f"child-{child.pk}-video": "on"},
    )
    assert response.status_code == 302
    mine = dict(ConsentDecision.objects.filter(guardian=parent).values_list("purpose", "granted"))
    assert mine == {**dict.fromkeys(ConsentPurpose.values, False), "group_page": True, "video": True}
    # The other parent has not said yes: the parent sees that the stricter choice applies.
    page = client.get(reverse("privacy:privacy_home"))
    assert "De strengste keuze geldt" in page.text
    assert divorced_parent.full_name not in page.text


@time_machine.travel(IN_YEAR, tick=False)
def test_withdraw_all_removes_every_consent(client, child, parent, divorced_parent):
    for guardian in (parent, divorced_parent):
        services.consent_set_many(actor=guardian.user, pupil=child, choices=_all_yes())
    client.force_login(parent.user)
    response = client.post(reverse("privacy:privacy_withdraw_all"))
    assert response.status_code == 302
    assert not any(effective_consent(pupil=child, purpose=p) for p in ConsentPurpose.values)


def test_info_parent_sees_an_explanation_instead_of_switches(client, info_parent, child):
    client.force_login(info_parent.user)
    page = client.get(reverse("privacy:privacy_home"))
    assert page.status_code == 200
    assert child.full_name not in page.text
    assert client.post(reverse("privacy:privacy_withdraw_all")).status_code == 404


@time_machine.travel(IN_YEAR, tick=False)
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("teacher", 200),
        ("duo_teacher", 200),
        ("director", 200),
        ("office", 200),
        ("other_teacher", 404),
        ("parent", 404),
        ("other_director", 404),
    ],
)
def test_who_sees_the_group_consent_page(request, client, who, status, group, child):
    person = request.getfixturevalue(who)
    client.force_login(person.user)
    assert client.get(reverse("privacy:privacy_group", args=[group.pk])).status_code == status


@time_machine.travel(IN_YEAR, tick=False)
def test_teacher_page_marks_pupils_without_group_page_consent(client, teacher, group, child, parent):
    allowed = f.PupilFactory(group=group, first_name="Mila", last_name="Welkind")
    guardian = f.GuardianRelationFactory(pupil=allowed).guardian
    services.consent_set(actor=guardian.user, pupil=allowed, purpose=GROUP_PAGE, granted=True)
    client.force_login(teacher.user)
    page = client.get(reverse("privacy:privacy_group", args=[group.pk]))
    rows = {p.pupil.pk: p for p in page.context["pupils"]}
    assert rows[allowed.pk].effective[GROUP_PAGE] is True
    assert [p.pupil for p in page.context["not_recognisable"]] == [child]
    assert "Niet herkenbaar" in page.text


def _pupils_with_two_parents(group, n):
    for _ in range(n):
        pupil = f.PupilFactory(group=group)
        for _ in range(2):
            guardian = f.GuardianRelationFactory(pupil=pupil).guardian
            services.consent_set_many(actor=guardian.user, pupil=pupil, choices=_all_yes())


@time_machine.travel(IN_YEAR, tick=False)
def test_teacher_page_query_count_does_not_grow_with_pupils(client, teacher, group):
    client.force_login(teacher.user)
    url = reverse("privacy:privacy_group", args=[group.pk])
    _pupils_with_two_parents(group, 2)
    client.get(url)  # warm caches (sessions, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _pupils_with_two_parents(group, 8)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


@time_machine.travel(IN_YEAR, tick=False)
def test_office_exports_only_their_own_schools_groups_as_csv(
    client, office, group, other_group, child, parent, other_group_elsewhere
):
    f.PupilFactory(group=other_group_elsewhere, first_name="Elders", last_name="Kind")
    services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=True)
    client.force_login(office.user)
    page = client.get(reverse("privacy:privacy_overview"))
    assert page.status_code == 200
    assert [row["group"] for row in page.context["groups"]] == [group, other_group]

    response = client.get(reverse("privacy:privacy_overview"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("Groep;Leerling;")
    # The only custodial parent said yes for the group page: that is consent.
    assert f"5a;{child.full_name};ja;nee;nee;nee;nee;nee" in lines
    assert "Elders" not in body
    assert other_group_elsewhere.school.name not in body


@pytest.mark.parametrize("who", ["teacher", "parent", "other_teacher"])
def test_only_director_and_office_see_the_overview(request, client, who, child):
    client.force_login(request.getfixturevalue(who).user)
    assert client.get(reverse("privacy:privacy_overview")).status_code == 404


@time_machine.travel(IN_YEAR, tick=False)
def test_parent_downloads_their_own_data_as_json(client, child, parent, divorced_parent):
    services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=True)
    services.consent_set(actor=divorced_parent.user, pupil=child, purpose=GROUP_PAGE, granted=False)
    client.force_login(parent.user)
    response = client.get(reverse("privacy:privacy_my_data"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="mijn-gegevens.json"'
    data = json.loads(response.content)
    assert data["guardian"]["email"] == parent.email
    assert data["relations"] == [
        {"child": child.full_name, "group": "5a", "relation": "parent", "access": "full"}
    ]
    assert [(e["purpose"], e["after"], e["by_me"]) for e in data["consent_history"]] == [
        ("group_page", True, True)
    ]  # not the other parent's choices
    assert divorced_parent.email not in response.text


def test_staff_without_guardian_record_get_404_for_the_data_export(client, teacher):
    client.force_login(teacher.user)
    assert client.get(reverse("privacy:privacy_my_data")).status_code == 404


def test_logged_out_visitors_are_sent_to_login(client, group):
    for url in (
        reverse("privacy:privacy_home"),
        reverse("privacy:privacy_group", args=[group.pk]),
        reverse("privacy:privacy_overview"),
        reverse("privacy:privacy_my_data"),
    ):
        assert client.get(url).status_code == 302


# --- admin --------------------------------------------------------------------------------


@time_machine.travel(IN_YEAR, tick=False)
def test_consent_history_in_the_admin_is_read_only_and_scoped_to_the_school(
    client, office, other_director, child, parent
):
    services.consent_set(actor=parent.user, pupil=child, purpose=GROUP_PAGE, granted=True)
    event = ConsentEvent.objects.get()
    changelist = reverse("admin:privacy_consentevent_changelist")

    client.force_login(office.user)
    assert child.full_name in client.get(changelist).text
    assert client.get(reverse("admin:privacy_consentevent_change", args=[event.pk])).status_code == 200
    assert client.get(reverse("admin:privacy_consentevent_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:privacy_consentevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert ConsentEvent.objects.exists()

    client.force_login(other_director.user)
    assert child.full_name not in client.get(changelist).text
    assert client.get(
        reverse("admin:privacy_consentdecision_change", args=[ConsentDecision.objects.get().pk])
    ).status_code in (302, 403, 404)


def test_office_sets_the_grace_period_on_their_schools_page_in_the_admin(client, office, school):
    """Every setting of a school is on its one page: the feature's settings are inlines there."""
    client.force_login(office.user)
    change = reverse("admin:klimop_school_change", args=[school.pk])
    page = client.get(change)
    data = {}
    form = page.context["adminform"].form
    for name, field in form.fields.items():
        value = form[name].value()
        if not field.disabled and value is not None and value is not False:
            data[name] = value
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data[f"{formset.prefix}-TOTAL_FORMS"] = len(formset.forms)
        data[f"{formset.prefix}-INITIAL_FORMS"] = formset.initial_form_count()
        for sub in formset.forms:
            for name in sub.fields:
                value = sub[name].value()
                if value is not None and value is not False:  # weekday 0 is Monday, not empty
                    data[sub.add_prefix(name)] = value
        if formset.model is PrivacySettings:
            data[formset.forms[0].add_prefix("grace_days")] = 14
    response = client.post(change, data)
    assert response.status_code == 302, response.context and [
        f.errors for i in response.context["inline_admin_formsets"] for f in i.formset.forms
    ]
    assert PrivacySettings.objects.get(school=school).grace_days == 14


# --- many forms at once (the demo school's history) ---------------------------------------------


@time_machine.travel(IN_YEAR, tick=False)
def test_many_forms_at_once_write_what_one_form_at_a_time_writes(
    child, parent, divorced_parent, group, teacher, django_capture_on_commit_callbacks
):
    others = [f.GuardianRelationFactory(pupil=f.PupilFactory(group=group)) for _ in range(4)]
    choices = {GROUP_PAGE: True, ConsentPurpose.WEBSITE: False}
    forms = [
        services.ConsentForm(parent=parent.user, pupil=child, choices=choices),
        services.ConsentForm(parent=divorced_parent.user, pupil=child, choices={GROUP_PAGE: True}),
        *(services.ConsentForm(parent=r.guardian.user, pupil=r.pupil, choices=choices) for r in others),
    ]
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        events = services.consent_set_bulk(actor=None, forms=forms)
    assert len(queries) < 25
    assert len(events) == ConsentEvent.objects.count() == 11
    assert ConsentDecision.objects.count() == 11
    decision = ConsentDecision.objects.get(guardian=parent, purpose=GROUP_PAGE)
    assert (decision.granted, decision.decided_at, decision.decided_by) == (True, IN_YEAR, parent.user)
    event = ConsentEvent.objects.get(guardian=divorced_parent)
    assert (event.old_granted, event.new_granted, event.actor, event.at) == (
        None,
        True,
        divorced_parent.user,
        IN_YEAR,
    )
    assert effective_consent(pupil=child, purpose=GROUP_PAGE) is True
    # Each child's teachers heard once that the child's consent changed.
    assert Notification.objects.filter(user=teacher.user, cause__startswith="consent-change:").count() == 5
    # The same choice again is no change; a new one is, with the old value in its history row.
    again = services.consent_set_bulk(
        actor=None,
        forms=[services.ConsentForm(parent=parent.user, pupil=child, choices={**choices, GROUP_PAGE: False})],
    )
    assert [(e.purpose, e.old_granted, e.new_granted) for e in again] == [(GROUP_PAGE, True, False)]


@time_machine.travel(IN_YEAR, tick=False)
def test_a_form_nobody_may_send_records_none_of_the_forms(child, parent, step_parent, director):
    forms = [
        services.ConsentForm(parent=parent.user, pupil=child, choices={GROUP_PAGE: True}),
        services.ConsentForm(parent=step_parent.user, pupil=child, choices={GROUP_PAGE: True}),
    ]
    with pytest.raises(PermissionDenied):
        services.consent_set_bulk(actor=None, forms=forms)
    with pytest.raises(PermissionDenied):
        services.consent_set_bulk(actor=director.user, forms=forms[:1])
    with pytest.raises(ValidationError):
        services.consent_set_bulk(actor=None, forms=[forms[0], forms[0]])
    assert not ConsentEvent.objects.exists()
