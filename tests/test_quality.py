"""The quality card: five figures against their targets, and the survey.

One scene, made with the services a school uses, over the last four weeks before
Wednesday 25 November 2026 (the autumn holiday of 26–30 October is in it):

- posts: group 5a's teacher posts in the weeks of 2 and 9 November, not of 16 November;
  group 6b posts nothing → 2 of 6 group weeks on quota;
- answers: a message answered after 3 working hours, one answered late, one never
  answered (escalated), one still within its time → 1 of 3 in time, median 3 h;
- sick reports: 5a one on time and one late, 6b one on time, plus one by phone
  (not counted) → 2 of 3 on time;
- parents: 4 with access, 3 with an account, 2 logged in during the period → 50%;
- survey: answers 5, 4 and 2 → 2 of 3 satisfied (67%).
"""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from absences.models import AbsenceReport
from absences.services import absence_reports_create
from communication.chats.services import answer_escalations_send, conversation_start_direct, message_send
from communication.posts.models import Post
from communication.posts.services import post_create
from klimop import worktime
from klimop.models import NonSchoolDay, User
from quality import selectors as quality
from quality import services
from quality.models import QualityTargets, Survey, SurveyParticipation, SurveyResponse
from tests import factories as f

pytestmark = pytest.mark.django_db

AMS = worktime.AMSTERDAM
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=AMS)  # a Wednesday
WEEKS = quality.PeriodKey.WEEKS


def at(day: str, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=AMS)


# --- the scene -------------------------------------------------------------------------------------


@pytest.fixture
def second_child(other_group):
    return f.PupilFactory(group=other_group, first_name="Jip", last_name="Testkind")


@pytest.fixture
def second_parent(second_child):
    return f.GuardianRelationFactory(pupil=second_child, guardian__user__email="second@example.test").guardian


@pytest.fixture
def scene(
    school,
    group,
    other_group,
    teacher,
    duo_teacher,
    other_teacher,
    director,
    office,
    child,
    parent,
    divorced_parent,
    second_child,
    second_parent,
):
    # A parent of 6b without an account yet; a barred parent who does not count at all.
    f.GuardianRelationFactory(
        pupil=second_child,
        guardian__user=None,
        guardian__first_name="Lieke",
        guardian__last_name="Zonderaccount",
        guardian__email="",
    )
    f.GuardianRelationFactory(
        pupil=second_child, guardian__user__email="barred@example.test", access="barred"
    )
    for day in range(26, 31):
        NonSchoolDay.objects.create(
            school=school,
            date=dt.date(2026, 10, day),
            kind=NonSchoolDay.Kind.SCHOOL_HOLIDAY,
            name="Herfstvakantie",
        )
    from django.test import Client

    def login(user, when):
        with time_machine.travel(when, tick=False):
            Client().force_login(user)

    login(divorced_parent.user, at("2026-09-15", 20))  # before the period
    login(parent.user, at("2026-11-20", 19))
    login(second_parent.user, at("2026-11-24", 7))

    def post(author, when, kind=Post.Kind.ATMOSPHERE, to=group):
        with time_machine.travel(when, tick=False):
            return post_create(
                actor=author.user, title="Deze week", body="<p>Wat een week!</p>", kind=kind, group=to
            )

    post(teacher, at("2026-11-03", 10))
    post(teacher, at("2026-11-10", 10))
    post(duo_teacher, at("2026-11-12", 10))
    post(teacher, at("2026-11-17", 10), kind=Post.Kind.FUNCTIONAL)  # outside the quota
    post(other_teacher, at("2026-11-24", 10), to=other_group)  # the running week: not yet counted

    def ask(guardian, when, body="Mag Noor morgen eerder weg?"):
        with time_machine.travel(when, tick=False):
            return conversation_start_direct(actor=guardian.user, pupil=child, body=body)

    def answer(conversation, when):
        with time_machine.travel(when, tick=False):
            message_send(actor=teacher.user, conversation=conversation, body="Dat is goed.")

    quick = ask(parent, at("2026-11-02", 10))
    answer(quick, at("2026-11-02", 13))  # 3 working hours
    slow = ask(parent, at("2026-11-09", 10))
    answer(slow, at("2026-11-16", 10))  # after its answer-by time
    ask(divorced_parent, at("2026-11-10", 9))  # never answered
    ask(divorced_parent, at("2026-11-25", 9))  # still within its time
    answer_escalations_send(now=NOW)

    def report(actor, pupil, day, when, channel=AbsenceReport.Channel.PORTAL):
        with time_machine.travel(when, tick=False):
            absence_reports_create(
                actor=actor.user,
                pupils=[pupil],
                kind="sick",
                starts_on=dt.date.fromisoformat(day),
                ends_on=dt.date.fromisoformat(day),
                channel=channel,
                caller="Moeder" if channel == "phone" else "",
            )

    report(parent, child, "2026-11-03", at("2026-11-03", 7, 50))
    report(parent, child, "2026-11-11", at("2026-11-11", 9))  # late
    report(second_parent, second_child, "2026-11-12", at("2026-11-12", 8))
    report(other_teacher, second_child, "2026-11-19", at("2026-11-19", 8, 45), channel="phone")

    with time_machine.travel(at("2026-11-16", 8), tick=False):
        survey = services.survey_open(
            actor=director.user,
            school=school,
            title="Peiling najaar",
            opens_at=at("2026-11-16", 8),
            closes_at=at("2026-12-04", 17),
        )
    with time_machine.travel(at("2026-11-18", 20), tick=False):
        services.survey_respond(actor=parent.user, survey=survey, score=5)
        services.survey_respond(
            actor=divorced_parent.user, survey=survey, score=4, comment="Fijn dat de juf snel antwoordt."
        )
        services.survey_respond(
            actor=second_parent.user, survey=survey, score=2, comment="Graag meer foto's van de groep."
        )
    return {"survey": survey}


def card_for(user, key=WEEKS):
    with time_machine.travel(NOW, tick=False):
        return quality.quality_card_for(viewer=user, period_key=key)


# --- pure helpers ----------------------------------------------------------------------------------


def _years(*spans):
    return [f.SchoolYearFactory.build(name=n, starts_on=s, ends_on=e) for n, s, e in spans]


def test_periods_are_this_school_year_the_last_four_weeks_and_the_previous_year():
    years = _years(
        ("2025/2026", dt.date(2025, 8, 25), dt.date(2026, 7, 10)),
        ("2026/2027", dt.date(2026, 8, 31), dt.date(2027, 7, 16)),
    )
    options = quality.period_options(years, dt.date(2026, 11, 25))
    assert [p.key for p in options] == [quality.PeriodKey.YEAR, WEEKS, quality.PeriodKey.PREVIOUS]
    year, weeks, previous = options
    assert (year.starts_on, year.ends_on) == (dt.date(2026, 8, 31), dt.date(2026, 11, 25))
    assert (weeks.starts_on, weeks.ends_on) == (dt.date(2026, 10, 26), dt.date(2026, 11, 25))
    assert (previous.starts_on, previous.ends_on, previous.is_past) == (
        dt.date(2025, 8, 25),
        dt.date(2026, 7, 10),
        True,
    )
    assert quality.choose_period(options, None) is year
    assert quality.choose_period(options, "nonsense") is year


def test_without_a_previous_year_there_is_no_previous_period():
    years = _years(("2026/2027", dt.date(2026, 8, 31), dt.date(2027, 7, 16)))
    keys = [p.key for p in quality.period_options(years, dt.date(2026, 11, 25))]
    assert keys == [quality.PeriodKey.YEAR, WEEKS]


def test_school_weeks_skip_holidays_and_the_running_week():
    holiday = frozenset(dt.date(2026, 10, d) for d in range(26, 31))
    cal = worktime.WorkCalendar(closed_dates=holiday, terms=((dt.date(2026, 8, 31), dt.date(2027, 7, 16)),))
    weeks = quality.school_weeks(cal, dt.date(2026, 10, 19), dt.date(2026, 11, 25), dt.date(2026, 11, 25))
    assert weeks == [dt.date(2026, 10, 19), dt.date(2026, 11, 2), dt.date(2026, 11, 9), dt.date(2026, 11, 16)]


def test_answer_stats_count_an_unanswered_message_past_its_time_as_late_and_a_fresh_one_not_at_all():
    cal = worktime.WorkCalendar()
    mon = at("2026-11-02", 10)
    rows = [
        quality.AnswerRow(1, mon, at("2026-11-04", 16, 30), at("2026-11-02", 11), None, None),
        quality.AnswerRow(2, mon, at("2026-11-04", 16, 30), at("2026-11-05", 9), None, None),
        quality.AnswerRow(3, mon, at("2026-11-04", 16, 30), None, at("2026-11-02", 12), at("2026-11-09", 8)),
        quality.AnswerRow(4, at("2026-11-05", 10), at("2026-11-09", 16, 30), None, None, None),
    ]
    stats = quality.answer_stats(rows, cal, now=at("2026-11-05", 12))
    assert (stats.on_time, stats.late, stats.pending, stats.escalated, stats.acknowledged) == (1, 2, 1, 1, 1)
    assert stats.share == pytest.approx(100 / 3)
    assert stats.median == dt.timedelta(hours=1)  # the lower middle of 1 h and 24 h
    assert quality.format_duration(dt.timedelta(hours=3, minutes=5)) == "3 u 5 min"
    assert quality.format_duration(dt.timedelta(hours=3)) == "3 u"
    assert quality.format_duration(dt.timedelta(minutes=40)) == "40 min"


def test_a_figure_is_on_target_from_its_target_up_and_without_data_neither():
    assert quality.Figure("x", "x", 90.0, 90).state == quality.State.ON
    assert quality.Figure("x", "x", 89.9, 90).state == quality.State.BELOW
    assert quality.Figure("x", "x", None, 90).state == quality.State.NONE


# --- the five figures ---------------------------------------------------------------------------


def test_post_rhythm_counts_atmosphere_posts_per_school_week_per_group(scene, director, group, other_group):
    card = card_for(director.user)
    figure = card.figure("posts")
    assert figure.value == pytest.approx(100 * 2 / 6)
    assert figure.state == quality.State.BELOW
    rows = {row.name: row for row in card.post_groups}
    assert (rows["5a"].posts, rows["5a"].weeks, rows["5a"].weeks_met) == (3, 3, 2)
    assert rows["5a"].posts_per_week == 1
    assert (rows["6b"].posts, rows["6b"].weeks, rows["6b"].weeks_met) == (0, 3, 0)


def test_a_quota_of_two_posts_a_week_is_met_only_by_two(scene, school, director):
    school.atmosphere_posts_per_week = 2
    school.save()
    # A new request loads the director afresh (their staff records are kept per request).
    viewer = User.objects.get(pk=director.user_id)
    rows = {row.name: row for row in card_for(viewer).post_groups}
    assert rows["5a"].weeks_met == 1  # only the week of 9 November had two


def test_answer_times_share_in_time_median_in_working_hours_and_escalations(scene, director, teacher):
    card = card_for(director.user)
    stats = card.answers
    assert (stats.messages, stats.on_time, stats.late, stats.pending, stats.escalated) == (4, 1, 2, 1, 1)
    assert stats.median == dt.timedelta(hours=3)
    figure = card.figure("answers")
    assert figure.value == pytest.approx(100 / 3)
    assert figure.state == quality.State.BELOW
    per_teacher = {t.user_id: t.stats for t in card.teachers}
    assert per_teacher[teacher.user_id].on_time == 1
    assert per_teacher[teacher.user_id].escalated == 1


def test_sick_reports_before_the_cutoff_per_group_and_phone_reports_apart(scene, director):
    card = card_for(director.user)
    figure = card.figure("sick")
    assert figure.value == pytest.approx(100 * 2 / 3)
    assert card.phone_reports == 1
    rows = {row.name: row for row in card.report_groups}
    assert (rows["5a"].reports, rows["5a"].reports_on_time) == (2, 1)
    assert (rows["6b"].reports, rows["6b"].reports_on_time) == (1, 1)


def test_withdrawn_sick_reports_do_not_count(scene, director):
    AbsenceReport.objects.filter(reported_late=True).update(cancelled_at=NOW)
    assert card_for(director.user).figure("sick").value == 100


def test_parents_active_are_those_with_access_who_logged_in_during_the_period(scene, director):
    card = card_for(director.user)
    figure = card.figure("active")
    assert figure.value == 50  # 2 of 4: the barred parent does not count
    assert card.guardians_with_account == 3
    rows = {row.name: row for row in card.parent_groups}
    assert (rows["5a"].guardians, rows["5a"].active) == (2, 1)
    assert (rows["6b"].guardians, rows["6b"].active) == (2, 1)
    # Over the whole school year the September login counts too.
    assert card_for(director.user, quality.PeriodKey.YEAR).figure("active").value == 75


def test_satisfaction_is_the_share_of_answers_4_or_5_of_the_latest_survey(scene, director):
    figure = card_for(director.user).figure("satisfaction")
    assert figure.value == pytest.approx(100 * 2 / 3)
    assert figure.target == 90
    assert figure.state == quality.State.BELOW


def test_the_schools_own_targets_decide_on_or_below(scene, school, director):
    QualityTargets.objects.create(school=school, satisfied_percent=60, sick_reports_on_time_percent=60)
    card = card_for(director.user)
    assert card.figure("satisfaction").state == quality.State.ON
    assert card.figure("sick").state == quality.State.ON


def test_with_fewer_than_three_answers_the_survey_shows_no_share(school, director, parent):
    with time_machine.travel(NOW, tick=False):
        survey = services.survey_open(
            actor=director.user,
            school=school,
            title="Peiling",
            opens_at=NOW,
            closes_at=NOW + dt.timedelta(days=7),
        )
        services.survey_respond(actor=parent.user, survey=survey, score=1, comment="Slecht")
        results = quality.survey_results_for(viewer=director.user, pk=survey.pk)
    assert results.responses == 1
    assert results.share is None
    assert results.comments == []
    assert results.distribution == []
    assert card_for(director.user).figure("satisfaction").state == quality.State.NONE


def test_the_previous_school_year_has_no_login_figure(scene, school, director):
    f.SchoolYearFactory(
        school=school, name="2025/2026", starts_on=dt.date(2025, 8, 25), ends_on=dt.date(2026, 7, 10)
    )
    card = card_for(director.user, quality.PeriodKey.PREVIOUS)
    assert card.period.is_past
    assert card.figure("active").state == quality.State.NONE
    assert card.figure("posts").value is None  # no group of that year here


# --- access ------------------------------------------------------------------------------------------


def test_a_teacher_and_a_parent_may_not_see_the_card(scene, teacher, parent):
    for user in (teacher.user, parent.user):
        with pytest.raises(PermissionDenied):
            card_for(user)


def test_another_schools_director_sees_neither_this_card_nor_its_survey(scene, school, other_director):
    with pytest.raises(PermissionDenied):
        quality.quality_card_for(viewer=other_director.user, school=school)
    with pytest.raises(Http404):
        quality.survey_results_for(viewer=other_director.user, pk=scene["survey"].pk)


def test_pages_answer_403_and_404_to_those_who_may_not_see_them(
    client, scene, teacher, other_director, office
):
    results = reverse("quality:survey_results", args=[scene["survey"].pk])
    client.force_login(teacher.user)
    assert client.get(reverse("quality:card")).status_code == 403
    assert client.get(results).status_code == 404
    client.force_login(other_director.user)
    assert client.get(reverse("quality:card")).status_code == 200  # their own school's card
    assert client.get(results).status_code == 404
    client.force_login(office.user)
    with time_machine.travel(NOW, tick=False):
        assert client.get(reverse("quality:card")).status_code == 200
        assert client.get(results).status_code == 200


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(reverse("quality:card"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- anonymity ------------------------------------------------------------------------------------


def test_the_results_never_show_who_answered(client, scene, director, parent, divorced_parent, second_parent):
    client.force_login(director.user)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("quality:survey_results", args=[scene["survey"].pk])).content.decode()
        card = client.get(reverse("quality:card"), {"periode": WEEKS}).content.decode()
        export = client.get(reverse("quality:card"), {"periode": WEEKS, "format": "csv"}).content.decode()
    assert "Graag meer foto&#x27;s van de groep." in page
    assert "Fijn dat de juf snel antwoordt." in page
    for guardian in (parent, divorced_parent, second_parent):
        for text in (page, card, export):
            assert guardian.user.get_full_name() not in text
            assert guardian.user.email not in text


def test_a_response_is_stored_without_its_respondent(scene):
    assert {f.name for f in SurveyResponse._meta.get_fields()} == {"id", "survey", "score", "comment"}
    assert SurveyParticipation.objects.filter(survey=scene["survey"]).count() == 3
    assert SurveyResponse.objects.filter(survey=scene["survey"]).count() == 3


# --- bad input ------------------------------------------------------------------------------------


@pytest.fixture
def open_survey(school, director):
    with time_machine.travel(NOW, tick=False):
        return services.survey_open(
            actor=director.user,
            school=school,
            title="Peiling",
            opens_at=NOW - dt.timedelta(days=1),
            closes_at=NOW + dt.timedelta(days=7),
        )


@time_machine.travel(NOW, tick=False)
def test_a_parent_answers_once(open_survey, parent):
    services.survey_respond(actor=parent.user, survey=open_survey, score=4)
    with pytest.raises(ValidationError, match="al ingevuld"):
        services.survey_respond(actor=parent.user, survey=open_survey, score=5)
    assert SurveyResponse.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_the_database_refuses_a_second_participation(open_survey, parent):
    SurveyParticipation.objects.create(survey=open_survey, user=parent.user)
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyParticipation.objects.create(survey=open_survey, user=parent.user)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("score", [0, 6, -1, "vijf", None])
def test_an_answer_outside_1_to_5_is_refused(open_survey, parent, score):
    with pytest.raises(ValidationError):
        services.survey_respond(actor=parent.user, survey=open_survey, score=score)
    assert not SurveyParticipation.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_database_refuses_a_score_outside_1_to_5(open_survey):
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponse.objects.create(survey=open_survey, score=7)


def test_a_closed_or_not_yet_open_survey_takes_no_answers(open_survey, parent, director):
    later = NOW + dt.timedelta(days=8)
    with time_machine.travel(later, tick=False), pytest.raises(ValidationError, match="gesloten"):
        services.survey_respond(actor=parent.user, survey=open_survey, score=4)
    with time_machine.travel(NOW - dt.timedelta(days=2), tick=False), pytest.raises(ValidationError):
        services.survey_respond(actor=parent.user, survey=open_survey, score=4)
    with time_machine.travel(NOW, tick=False):
        services.survey_close(actor=director.user, survey=open_survey)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False), pytest.raises(ValidationError):
        services.survey_respond(actor=parent.user, survey=open_survey, score=4)


@time_machine.travel(NOW, tick=False)
def test_only_parents_of_the_school_may_answer(open_survey, teacher, barred_parent, other_school):
    elsewhere = f.GuardianRelationFactory(
        pupil=f.PupilFactory(group=f.GroupFactory(school_year=f.SchoolYearFactory(school=other_school)))
    ).guardian
    for user in (teacher.user, barred_parent.user, elsewhere.user):
        with pytest.raises(Http404):
            services.survey_respond(actor=user, survey=open_survey, score=5)


@time_machine.travel(NOW, tick=False)
def test_only_a_manager_of_the_school_opens_or_closes_a_survey(school, teacher, other_director, open_survey):
    with pytest.raises(PermissionDenied):
        services.survey_open(
            actor=teacher.user, school=school, title="x", opens_at=NOW, closes_at=NOW + dt.timedelta(days=1)
        )
    with pytest.raises(PermissionDenied):
        services.survey_close(actor=other_director.user, survey=open_survey)
    with pytest.raises(ValidationError):
        services.survey_open(
            actor=open_survey.created_by,
            school=school,
            title="x",
            opens_at=NOW,
            closes_at=NOW - dt.timedelta(days=1),
        )


# --- the parent's pages ---------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_parent_answers_on_the_survey_page_and_not_twice(client, open_survey, parent):
    url = reverse("quality:survey_answer", args=[open_survey.pk])
    client.force_login(parent.user)
    page = client.get(url).content.decode()
    assert open_survey.question in page
    assert 'name="score"' in page
    response = client.post(url, {"score": "6", "comment": ""})
    assert response.status_code == 400
    assert "1 tot en met 5" in response.content.decode()
    response = client.post(url, {"score": "4", "comment": "Prima"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    response = client.post(url, {"score": "5"}, follow=True)
    assert "al ingevuld" in response.content.decode()
    assert list(SurveyResponse.objects.values_list("score", "comment")) == [(4, "Prima")]


def _render(template: str, user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return Template(template).render(Context({"request": request}))


@time_machine.travel(NOW, tick=False)
def test_the_home_card_asks_until_the_parent_answered(open_survey, parent, teacher):
    include = '{% include "klimop/_survey_card.html" %}'
    assert "Peiling" in _render(include, parent.user)
    assert _render(include, teacher.user).strip() == ""
    services.survey_respond(actor=parent.user, survey=open_survey, score=5)
    assert "Peiling" not in _render(include, parent.user)


def test_the_dashboard_card_shows_the_figures_to_the_director_only(scene, director, teacher):
    include = '{% include "quality/_dashboard_card.html" %}'
    with time_machine.travel(NOW, tick=False):
        html = _render(include, director.user)
        assert "Kwaliteitskaart" in html
        assert "Tevredenheid ouders" in html
        assert "Onder doel" in html
        assert "Kwaliteitskaart" not in _render(include, teacher.user)


# --- export ---------------------------------------------------------------------------------------


def test_the_csv_export_has_every_figure_and_the_groups(client, scene, director):
    client.force_login(director.user)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("quality:card"), {"periode": WEEKS, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    figures = {row[0]: row for row in rows[2:7]}
    assert figures["Postritme"][2:5] == ["33,3", "90", "onder doel"]
    assert figures["Ziekmeldingen op tijd"][2] == "66,7"
    assert ["Postritme", "5a", "66,7", "90", "", "3 berichten in 3 schoolweken"] in rows


# --- queries --------------------------------------------------------------------------------------


def _count_queries(user) -> int:
    with CaptureQueriesContext(connection) as queries:
        card_for(user)
    return len(queries)


def test_the_card_takes_a_fixed_number_of_queries_whatever_the_number_of_groups(
    scene, school, school_year, director
):
    before = _count_queries(director.user)
    for name in ("7a", "8a", "8b"):
        group = f.GroupFactory(school_year=school_year, name=name, year=int(name[0]))
        staff = f.StaffMemberFactory(school=school, groups=[group])
        pupil = f.PupilFactory(group=group)
        guardian = f.GuardianRelationFactory(pupil=pupil).guardian
        with time_machine.travel(at("2026-11-10", 10), tick=False):
            post_create(actor=staff.user, title="Hallo", body="<p>Hallo</p>", group=group)
            conversation = conversation_start_direct(actor=guardian.user, pupil=pupil, body="Vraag")
        with time_machine.travel(at("2026-11-10", 11), tick=False):
            message_send(actor=staff.user, conversation=conversation, body="Antwoord")
        with time_machine.travel(at("2026-11-12", 8), tick=False):
            absence_reports_create(
                actor=guardian.user,
                pupils=[pupil],
                kind="sick",
                starts_on=dt.date(2026, 11, 12),
                ends_on=dt.date(2026, 11, 12),
            )
    after = _count_queries(director.user)
    assert after == before
    # The parents-active figure counts in the database, per group and for the school (two
    # aggregates) rather than reading every guardian relation of the school.
    assert before == 11


def test_the_card_page_takes_a_fixed_number_of_queries(client, scene, school_year, director):
    client.force_login(director.user)
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as first:
        assert client.get(reverse("quality:card")).status_code == 200
    f.GroupFactory(school_year=school_year, name="7a", year=7)
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as second:
        assert client.get(reverse("quality:card")).status_code == 200
    assert len(first) == len(second)


# --- admin ----------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_director_opens_and_closes_a_survey_in_the_admin(client, school, director):
    client.force_login(director.user)
    response = client.post(
        reverse("admin:quality_survey_add"),
        {
            "title": "Peiling voorjaar",
            "question": "Hoe tevreden bent u?",
            "opens_at_0": "25-11-2026",
            "opens_at_1": "08:00",
            "closes_at_0": "04-12-2026",
            "closes_at_1": "17:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    survey = Survey.objects.get()
    assert (survey.school, survey.created_by) == (school, director.user)
    client.post(
        reverse("admin:quality_survey_changelist"), {"action": "close_now", "_selected_action": [survey.pk]}
    )
    survey.refresh_from_db()
    assert survey.closes_at == NOW
    assert client.get(reverse("admin:quality_survey_changelist")).status_code == 200


# --- in a real browser ----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not __import__("tests.browser").browser.HAS_CHROMIUM,
    reason="Debian's Chromium is not installed (apt-get install chromium)",
)
def test_the_director_reads_the_quality_card_on_desktop_and_phone(
    browser, live_server, scene, director, parent
):
    from playwright.sync_api import expect

    from tests.browser import DESKTOP, PHONE, log_in, shot, verified

    verified(director.user)
    with time_machine.travel(NOW, tick=True):
        page = browser.new_page(viewport=DESKTOP)
        log_in(page, live_server, director.user)
        page.goto(f"{live_server.url}{reverse('quality:card')}")
        expect(page.get_by_role("heading", name="Kwaliteitskaart communicatie met ouders")).to_be_visible()
        figures = page.locator(".q-figure")
        expect(figures).to_have_count(5)
        expect(page.locator(".q-figure--below").first).to_contain_text("Onder doel")
        shot(page, "quality-card-year-desktop")
        page.get_by_role("link", name="Laatste 4 weken").click()
        page.wait_for_load_state()
        expect(page.locator("#posts")).to_contain_text("2 van 6 groepsweken")
        page.locator("#answers .q-drill > summary").click()
        expect(page.locator("#answers .q-drill table")).to_be_visible()
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "quality-card-weeks-desktop")
        page.get_by_role("link", name="Peiling najaar").click()
        page.wait_for_load_state()
        expect(page.locator(".q-comments li")).to_have_count(2)
        shot(page, "quality-survey-results-desktop")

        phone = browser.new_page(viewport=PHONE)
        log_in(phone, live_server, director.user)
        phone.goto(f"{live_server.url}{reverse('quality:card')}?periode={WEEKS}")
        expect(phone.locator(".q-figure")).to_have_count(5)
        shot(phone, "quality-card-weeks-phone")
        phone.goto(f"{live_server.url}{reverse('quality:survey_results', args=[scene['survey'].pk])}")
        shot(phone, "quality-survey-results-phone")

        # A parent answers a new survey on the phone, once.
        survey = services.survey_open(
            actor=director.user,
            school=director.school,
            title="Peiling december",
            opens_at=NOW - dt.timedelta(hours=1),
            closes_at=NOW + dt.timedelta(days=9),
        )
        parent_page = browser.new_page(viewport=PHONE)
        log_in(parent_page, live_server, verified(parent.user))
        parent_page.goto(f"{live_server.url}{reverse('quality:survey_answer', args=[survey.pk])}")
        parent_page.locator(".q-scale__option").nth(3).click()
        parent_page.get_by_label("Toelichting (niet verplicht)").fill("Fijne school!")
        shot(parent_page, "quality-survey-answer-phone")
        parent_page.get_by_role("button", name="Anoniem versturen").click()
        parent_page.wait_for_load_state()
        expect(parent_page.locator(".messages")).to_contain_text("anoniem opgeslagen")
        assert list(SurveyResponse.objects.filter(survey=survey).values_list("score", flat=True)) == [4]


# --- many answers at once (the demo school's survey) ---------------------------------------


@time_machine.travel(NOW, tick=False)
def test_many_answers_at_once_are_checked_like_one_and_stay_anonymous(
    open_survey, parent, divorced_parent, teacher, barred_parent
):
    answers = [
        services.SurveyAnswer(parent=parent.user, score=5, comment=" Fijn! "),
        services.SurveyAnswer(parent=divorced_parent.user, score=3),
    ]
    for refused in (
        [*answers, services.SurveyAnswer(parent=teacher.user, score=4)],  # not a parent
        [*answers, services.SurveyAnswer(parent=barred_parent.user, score=4)],  # no access
    ):
        with pytest.raises(PermissionDenied):
            services.survey_answers_record(actor=None, survey=open_survey, answers=refused)
    with pytest.raises(ValidationError):
        services.survey_answers_record(actor=None, survey=open_survey, answers=[*answers, answers[0]])
    with pytest.raises(ValidationError):
        services.survey_answers_record(
            actor=None, survey=open_survey, answers=[services.SurveyAnswer(parent=parent.user, score=6)]
        )
    with pytest.raises(PermissionDenied):
        services.survey_answers_record(actor=parent.user, survey=open_survey, answers=answers)
    assert not SurveyParticipation.objects.exists()
    assert services.survey_answers_record(actor=None, survey=open_survey, answers=answers) == 2
    assert set(SurveyResponse.objects.values_list("score", "comment")) == {(5, "Fijn!"), (3, "")}
    assert set(SurveyParticipation.objects.values_list("user", flat=True)) == {
        parent.user_id,
        divorced_parent.user_id,
    }
    with pytest.raises(ValidationError, match="al ingevuld"):
        services.survey_answers_record(actor=None, survey=open_survey, answers=answers[:1])
    with time_machine.travel(NOW + dt.timedelta(days=8), tick=False), pytest.raises(ValidationError):
        services.survey_answers_record(actor=None, survey=open_survey, answers=answers)
