"""The quality card: the school's own communication agreements, measured (docs/agreements.md).

Five evaluation points from schools' quality cards (kwaliteitskaarten), each against the
school's target (``QualityTargets``) over a period — the last four weeks, this school year
so far, or the previous school year:

1. parent satisfaction: the share of survey answers 4–5 (the seeds: "minimaal 90%");
2. parents active: guardians with access who logged in during the period;
3. post rhythm: per group, atmosphere posts per *school* week against the quota;
4. answer times: parent messages answered before their answer-by time, the median
   answer time in working hours, how many were escalated;
5. sick reports before the cutoff: the share of parents' reports not marked late.

Reads only. ``quality_card_for`` checks access itself (director and office of the school)
and takes a fixed number of queries, whatever the number of groups, messages or reports;
the arithmetic lives in small pure helpers below it, tested on their own.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from klimop import access, worktime
from klimop import selectors as directory
from klimop.models import Group, GuardianRelation, School, SchoolYear, User

from .models import QualityTargets, Survey, SurveyParticipation, SurveyResponse

#: A survey's results (share, scores, comments) are shown from this many answers on:
#: with one or two answers a director who knows who answered would know what they said.
MIN_RESPONSES_SHOWN = 3
SATISFIED_FROM = 4


# --- periods -----------------------------------------------------------------------------------


class PeriodKey:
    WEEKS = "4-weken"
    YEAR = "schooljaar"
    PREVIOUS = "vorig-schooljaar"


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    starts_on: dt.date
    ends_on: dt.date  # inclusive
    today: dt.date
    school_year: SchoolYear | None = None

    @property
    def start(self) -> dt.datetime:
        return _midnight(self.starts_on)

    @property
    def end(self) -> dt.datetime:
        """The exclusive end: midnight after the last day."""
        return _midnight(self.ends_on + dt.timedelta(days=1))

    @property
    def is_past(self) -> bool:
        return self.ends_on < self.today


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=worktime.AMSTERDAM)


def current_year(years: Sequence[SchoolYear], today: dt.date) -> SchoolYear | None:
    """The school year running today; in the summer the last one that started; else the first."""
    started = [y for y in years if y.starts_on <= today]
    if started:
        return max(started, key=lambda y: y.starts_on)
    return min(years, key=lambda y: y.starts_on, default=None)


def period_options(years: Sequence[SchoolYear], today: dt.date) -> list[Period]:
    """The periods a director can choose: this school year so far (when there is one), the
    last four weeks (four whole weeks and this week so far), the previous school year."""
    monday = today - dt.timedelta(days=today.weekday())
    options = []
    year = current_year(years, today)
    if year is not None and year.starts_on <= today:
        options.append(
            Period(
                PeriodKey.YEAR,
                str(_("This school year")),
                year.starts_on,
                min(today, year.ends_on),
                today,
                year,
            )
        )
    options.append(
        Period(
            PeriodKey.WEEKS,
            str(_("Last 4 weeks")),
            monday - dt.timedelta(weeks=4),
            today,
            today,
            year if year and year.starts_on <= monday else None,
        )
    )
    if year is not None:
        before = [y for y in years if y.starts_on < year.starts_on]
        if before:
            prev = max(before, key=lambda y: y.starts_on)
            options.append(
                Period(
                    PeriodKey.PREVIOUS,
                    str(_("Previous school year (%(name)s)") % {"name": prev.name}),
                    prev.starts_on,
                    min(prev.ends_on, today),
                    today,
                    prev,
                )
            )
    return options


def choose_period(options: Sequence[Period], key: str | None) -> Period:
    """The period asked for, else this school year, else the first option."""
    by_key = {p.key: p for p in options}
    return by_key.get(key or "") or by_key.get(PeriodKey.YEAR) or options[0]


# --- pure helpers ------------------------------------------------------------------------------


def percent(part: int, whole: int) -> float | None:
    return None if not whole else 100 * part / whole


def school_weeks(
    cal: worktime.WorkCalendar, starts_on: dt.date, ends_on: dt.date, today: dt.date
) -> list[dt.date]:
    """The Mondays of the weeks that count for the post rhythm: weeks that are over by
    ``today`` and have at least one school day between ``starts_on`` and ``ends_on``.

    A week without school days (a holiday) asks for no post; the running week only counts
    once it is over, so a teacher who posts on Thursday is not "below target" on Tuesday.
    """
    monday = starts_on - dt.timedelta(days=starts_on.weekday())
    weeks = []
    while monday <= ends_on and monday + dt.timedelta(days=7) <= today:
        days = (monday + dt.timedelta(days=i) for i in range(7))
        if any(starts_on <= d <= ends_on and worktime.is_working_day(cal, d) for d in days):
            weeks.append(monday)
        monday += dt.timedelta(days=7)
    return weeks


def week_of(moment: dt.datetime) -> dt.date:
    """The Monday of the school-clock week of ``moment`` (``worktime.week_bounds``)."""
    return worktime.week_bounds(moment)[0].date()


def format_duration(value: dt.timedelta | None) -> str:
    """3 h 5 min of working time ("3 u 5 min" in Dutch); under an hour only minutes."""
    if value is None:
        return "–"
    minutes = round(value.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return str(_("%(m)s min") % {"m": minutes})
    if not minutes:
        return str(pgettext_lazy("working time", "%(h)s h") % {"h": hours})
    return str(pgettext_lazy("working time", "%(h)s h %(m)s min") % {"h": hours, "m": minutes})


@dataclass(frozen=True)
class AnswerRow:
    """One parent message that needed an answer (the fields ``answer_stats`` reads)."""

    conversation_id: int
    created_at: dt.datetime
    answer_by: dt.datetime
    answered_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    escalated_at: dt.datetime | None


@dataclass
class AnswerStats:
    """Answer times of a set of parent messages. ``pending``: still within their time,
    counted neither way; a message past its time without an answer counts as late."""

    messages: int = 0
    on_time: int = 0
    late: int = 0
    pending: int = 0
    escalated: int = 0
    acknowledged: int = 0
    median: dt.timedelta | None = None

    @property
    def decided(self) -> int:
        return self.on_time + self.late

    @property
    def share(self) -> float | None:
        return percent(self.on_time, self.decided)

    @property
    def median_display(self) -> str:
        return format_duration(self.median)


def answer_stats(rows: Iterable[AnswerRow], cal: worktime.WorkCalendar, now: dt.datetime) -> AnswerStats:
    stats = AnswerStats()
    durations = []
    for row in rows:
        stats.messages += 1
        stats.escalated += row.escalated_at is not None
        stats.acknowledged += row.acknowledged_at is not None
        if row.answered_at is not None:
            if row.answered_at <= row.answer_by:
                stats.on_time += 1
            else:
                stats.late += 1
            durations.append(worktime.working_time_between(cal, row.created_at, row.answered_at))
        elif row.answer_by < now:
            stats.late += 1
        else:
            stats.pending += 1
    if durations:
        stats.median = statistics.median_low(durations)
    return stats


# --- the card ----------------------------------------------------------------------------------


class State:
    ON = "on"
    BELOW = "below"
    NONE = "none"


@dataclass
class Figure:
    key: str
    title: str
    value: float | None  # a percentage, or None when there is nothing to measure
    target: int
    summary: str = ""  # "41 of 45 answers"
    note: str = ""

    @property
    def state(self) -> str:
        if self.value is None:
            return State.NONE
        return State.ON if self.value >= self.target else State.BELOW

    @property
    def display(self) -> str:
        return "–" if self.value is None else f"{self.value:.0f}%"

    @property
    def bar(self) -> int:
        return 0 if self.value is None else max(0, min(100, round(self.value)))


@dataclass
class GroupRow:
    """Per group: parents, posts and sick reports (each figure reads its own columns)."""

    group_id: int
    name: str
    year: int
    in_period: bool = False  # the group's school year overlaps the period (post rhythm)
    year_starts_on: dt.date = dt.date.min
    year_ends_on: dt.date = dt.date.max
    guardians: int = 0  # guardians with access to a pupil of the group
    active: int = 0  # of them, who logged in during the period
    posts: int = 0
    weeks: int = 0
    weeks_met: int = 0
    reports: int = 0
    reports_on_time: int = 0

    @property
    def active_share(self) -> float | None:
        return percent(self.active, self.guardians)

    @property
    def weeks_share(self) -> float | None:
        return percent(self.weeks_met, self.weeks)

    @property
    def posts_per_week(self) -> float | None:
        return None if not self.weeks else self.posts / self.weeks

    @property
    def reports_share(self) -> float | None:
        return percent(self.reports_on_time, self.reports)


@dataclass
class SurveySummary:
    survey: Survey
    responses: int
    satisfied: int

    @property
    def shown(self) -> bool:
        return self.responses >= MIN_RESPONSES_SHOWN

    @property
    def share(self) -> float | None:
        return percent(self.satisfied, self.responses) if self.shown else None


@dataclass
class TeacherRow:
    user_id: int
    name: str
    stats: AnswerStats


@dataclass
class QualityCard:
    school: School
    period: Period
    periods: list[Period]
    targets: QualityTargets
    quota: int
    figures: list[Figure]
    groups: list[GroupRow]
    surveys: list[SurveySummary]
    answers: AnswerStats
    teachers: list[TeacherRow]
    phone_reports: int
    guardians_with_account: int

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)

    @property
    def post_groups(self) -> list[GroupRow]:
        return [g for g in self.groups if g.in_period]

    @property
    def report_groups(self) -> list[GroupRow]:
        return [g for g in self.groups if g.reports]

    @property
    def parent_groups(self) -> list[GroupRow]:
        return [g for g in self.groups if g.guardians]


def targets_for(school: School) -> QualityTargets:
    """The school's targets; an unsaved default when none were set yet (always one query)."""
    return QualityTargets.objects.filter(school=school).first() or QualityTargets(school=school)


def managed_school(viewer) -> School:
    """The school whose card the viewer may see (director or office), else PermissionDenied."""
    staff = access.staff_member_of(viewer)
    if staff is None or not access.is_school_manager(viewer, staff.school):
        raise PermissionDenied
    return staff.school


def quality_card_for(
    *, viewer, school: School | None = None, period_key: str | None = None, now: dt.datetime | None = None
) -> QualityCard:
    """The quality card of ``school`` (default: the viewer's) over the chosen period.

    Preconditions: the viewer is the school's director or office
    (``access.is_school_manager``), else ``PermissionDenied``. A fixed number of queries.
    """
    school = school or managed_school(viewer)
    if not access.is_school_manager(viewer, school):
        raise PermissionDenied
    now = now or timezone.now()
    today = now.astimezone(worktime.AMSTERDAM).date()
    years = list(SchoolYear.objects.filter(school=school))
    periods = period_options(years, today)
    period = choose_period(periods, period_key)
    cal = directory.school_calendar(school)
    targets = targets_for(school)
    quota = school.atmosphere_posts_per_week
    groups = _group_rows(school, period)

    satisfaction, surveys = _satisfaction(school, period, targets)
    active, with_account = _active_parents(school, period, targets, groups)
    posts = _post_rhythm(school, period, targets, groups, cal, quota, now)
    answers_figure, answers, teachers = _answer_times(school, period, targets, cal, now)
    reports, phone = _sick_reports(school, period, targets, groups)
    rows = sorted(groups.values(), key=lambda g: (g.year, g.name))
    return QualityCard(
        school=school,
        period=period,
        periods=periods,
        targets=targets,
        quota=quota,
        figures=[satisfaction, active, posts, answers_figure, reports],
        groups=rows,
        surveys=surveys,
        answers=answers,
        teachers=teachers,
        phone_reports=phone,
        guardians_with_account=with_account,
    )


def _group_rows(school: School, period: Period) -> dict[int, GroupRow]:
    """The groups of the school years from the period on (pupils point at their current group)."""
    groups = Group.objects.filter(school=school, school_year__ends_on__gte=period.starts_on).values_list(
        "pk", "name", "year", "school_year__starts_on", "school_year__ends_on"
    )
    return {
        pk: GroupRow(
            group_id=pk,
            name=name,
            year=year,
            in_period=starts_on <= period.ends_on,
            year_starts_on=starts_on,
            year_ends_on=ends_on,
        )
        for pk, name, year, starts_on, ends_on in groups
    }


def _satisfaction(school, period, targets) -> tuple[Figure, list[SurveySummary]]:
    """The latest survey that ran in the period is the figure; earlier ones are the history."""
    surveys = (
        Survey.objects.filter(school=school, opens_at__lt=period.end, closes_at__gt=period.start)
        .annotate(
            n=Count("responses"), satisfied=Count("responses", filter=Q(responses__score__gte=SATISFIED_FROM))
        )
        .order_by("-opens_at")
    )
    summaries = [SurveySummary(survey=s, responses=s.n, satisfied=s.satisfied) for s in surveys]
    figure = Figure("satisfaction", str(_("Parent satisfaction")), None, targets.satisfied_percent)
    if not summaries:
        figure.note = str(_("No survey in this period. Open one under Administration."))
    else:
        latest = summaries[0]
        figure.value = latest.share
        if latest.shown:
            figure.summary = str(
                _("%(n)s of %(total)s answers 4 or 5 (%(title)s)")
                % {"n": latest.satisfied, "total": latest.responses, "title": latest.survey.title}
            )
        else:
            figure.note = str(
                _("%(title)s: results show from %(min)s answers on (%(n)s so far).")
                % {"title": latest.survey.title, "min": MIN_RESPONSES_SHOWN, "n": latest.responses}
            )
    return figure, summaries


def _active_parents(school, period, targets, groups) -> tuple[Figure, int]:
    """Guardians with access to a pupil of the school, and who of them logged in."""
    relations = GuardianRelation.objects.filter(
        pupil__school=school,
        access__in=access.VIEW_ACCESS,
    ).filter(Q(pupil__left_on__isnull=True) | Q(pupil__left_on__gte=period.starts_on))
    account = Q(guardian__user__isnull=False, guardian__user__is_active=True)
    logged_in = account & Q(
        guardian__user__last_login__gte=period.start, guardian__user__last_login__lt=period.end
    )
    # Counted by the database, per group and for the school (a guardian of two groups counts
    # once in the school's figure): a school's relations are a thousand or more rows.
    per_group = (
        relations.order_by()
        .values("pupil__group_id")
        .annotate(
            guardians=Count("guardian_id", distinct=True),
            active=Count("guardian_id", distinct=True, filter=logged_in),
        )
    )
    for row in per_group:
        group = groups.get(row["pupil__group_id"])
        if group is not None:
            group.guardians, group.active = row["guardians"], row["active"]
    totals = relations.aggregate(
        everyone=Count("guardian_id", distinct=True),
        with_account=Count("guardian_id", distinct=True, filter=account),
        active=Count("guardian_id", distinct=True, filter=logged_in),
    )
    everyone, with_account, active = totals["everyone"], totals["with_account"], totals["active"]
    figure = Figure(
        "active",
        str(_("Parents active")),
        percent(active, everyone),
        targets.active_parents_percent,
    )
    figure.summary = str(
        _("%(n)s of %(total)s parents logged in; %(accounts)s have an account")
        % {"n": active, "total": everyone, "accounts": with_account}
    )
    if period.is_past:
        # Only the latest login is kept: a parent active then who logged in since looks inactive.
        figure.value = None
        figure.summary = ""
        figure.note = str(_("Not measurable afterwards: Klimop keeps only each parent's latest login."))
        for group in groups.values():
            group.active = group.guardians = 0
    elif not everyone:
        figure.note = str(_("No parents with access yet."))
    return figure, with_account


def _post_rhythm(school, period, targets, groups, cal, quota, now) -> Figure:
    from communication.posts.models import Post

    posts = Post.objects.filter(
        school=school,
        group__isnull=False,
        kind=Post.Kind.ATMOSPHERE,
        publish_at__gte=period.start,
        publish_at__lt=min(period.end, now),
    ).values_list("group_id", "publish_at")
    per_week: dict[tuple[int, dt.date], int] = defaultdict(int)
    for group_id, publish_at in posts:
        per_week[(group_id, week_of(publish_at))] += 1
    weeks = school_weeks(cal, period.starts_on, period.ends_on, period.today)
    total = met = 0
    for group in groups.values():
        if not group.in_period:
            continue
        for monday in weeks:
            if not (group.year_starts_on <= monday + dt.timedelta(days=6) and monday <= group.year_ends_on):
                continue  # a week outside the group's own school year
            count = per_week.get((group.group_id, monday), 0)
            group.weeks += 1
            group.posts += count
            group.weeks_met += count >= quota
        total += group.weeks
        met += group.weeks_met
    figure = Figure("posts", str(_("Post rhythm")), percent(met, total), targets.post_weeks_percent)
    figure.summary = str(
        _("%(met)s of %(total)s group weeks with at least %(quota)s atmosphere post(s)")
        % {"met": met, "total": total, "quota": quota}
    )
    if not total:
        figure.summary = ""
        figure.note = str(_("No school week has ended in this period yet."))
    return figure


def _answer_times(school, period, targets, cal, now) -> tuple[Figure, AnswerStats, list[TeacherRow]]:
    from communication.chats.models import Message, Participant

    messages = Message.objects.filter(
        conversation__school=school,
        needs_answer=True,
        removed_at__isnull=True,
        created_at__gte=period.start,
        created_at__lt=period.end,
    ).values_list(
        "conversation_id", "created_at", "answer_by", "answered_at", "acknowledged_at", "escalated_at"
    )
    # answer_by is always set with needs_answer (communication.chats.services), which the
    # model's nullable column cannot tell the type checker.
    rows = [AnswerRow(*values) for values in messages]  # type: ignore[arg-type]
    stats = answer_stats(rows, cal, now)
    # Per teacher: the messages of the conversations they took part in when the message came.
    staff = Participant.objects.filter(
        conversation_id__in={r.conversation_id for r in rows},
        is_staff=True,
    ).values_list("conversation_id", "user_id", "left_at", "user__first_name", "user__last_name")
    members: dict[int, list[tuple[int, dt.datetime | None]]] = defaultdict(list)
    names: dict[int, str] = {}
    for conversation_id, user_id, left_at, first, last in staff:
        members[conversation_id].append((user_id, left_at))
        names[user_id] = f"{first} {last}".strip() or str(_("Unknown person"))
    by_teacher: dict[int, list[AnswerRow]] = defaultdict(list)
    for row in rows:
        for user_id, left_at in members[row.conversation_id]:
            if left_at is None or left_at > row.created_at:
                by_teacher[user_id].append(row)
    teachers = sorted(
        (
            TeacherRow(user_id=u, name=names[u], stats=answer_stats(r, cal, now))
            for u, r in by_teacher.items()
        ),
        key=lambda t: t.name,
    )
    figure = Figure("answers", str(_("Answer times")), stats.share, targets.answered_in_time_percent)
    if stats.decided:
        figure.summary = str(
            _("%(n)s of %(total)s parent messages answered in time; median %(median)s of working time")
            % {"n": stats.on_time, "total": stats.decided, "median": stats.median_display}
        )
    else:
        figure.note = str(_("No parent message whose answer time has passed in this period."))
    return figure, stats, teachers


def _sick_reports(school, period, targets, groups) -> tuple[Figure, int]:
    """Parents' sick reports in Klimop. Reports taken by phone are counted apart: the office
    records them when it gets to them, so their time says nothing about the call."""
    from absences.models import AbsenceReport

    reports = AbsenceReport.objects.filter(
        school=school,
        kind=AbsenceReport.Kind.SICK,
        cancelled_at__isnull=True,
        starts_on__gte=period.starts_on,
        starts_on__lte=period.ends_on,
        channel__in=(AbsenceReport.Channel.PORTAL, AbsenceReport.Channel.PHONE),
    ).values_list("pupil__group_id", "channel", "reported_late")
    total = on_time = phone = 0
    for group_id, channel, late in reports:
        if channel == AbsenceReport.Channel.PHONE:
            phone += 1
            continue
        total += 1
        on_time += not late
        group = groups.get(group_id)
        if group is not None:
            group.reports += 1
            group.reports_on_time += not late
    figure = Figure(
        "sick", str(_("Sick reports on time")), percent(on_time, total), targets.sick_reports_on_time_percent
    )
    if total:
        figure.summary = str(
            _("%(n)s of %(total)s sick reports before %(cutoff)s")
            % {"n": on_time, "total": total, "cutoff": school.sick_report_cutoff.strftime("%H:%M")}
        )
    else:
        figure.note = str(_("No sick reports in Klimop in this period."))
    return figure, phone


# --- a survey's results (director) -----------------------------------------------------------


@dataclass
class SurveyResults:
    survey: Survey
    responses: int
    satisfied: int
    distribution: list[tuple[int, int, int]]  # (score, count, percent)
    comments: list[str]
    eligible: int
    target: int

    @property
    def shown(self) -> bool:
        return self.responses >= MIN_RESPONSES_SHOWN

    @property
    def share(self) -> float | None:
        return percent(self.satisfied, self.responses) if self.shown else None

    @property
    def response_rate(self) -> float | None:
        return percent(self.responses, self.eligible)

    @property
    def state(self) -> str:
        share = self.share
        if share is None:
            return State.NONE
        return State.ON if share >= self.target else State.BELOW


def survey_results_for(*, viewer, pk: int) -> SurveyResults:
    """A survey's counts, the share satisfied, the scores and the comments — never who.

    404 for a survey that is missing or of a school the viewer does not manage. Comments
    come in the order of their random keys, not of their answering.
    """
    survey = Survey.objects.select_related("school").filter(pk=pk).first()
    if survey is None or not access.is_school_manager(viewer, survey.school):
        raise Http404
    scores = dict(
        SurveyResponse.objects.filter(survey=survey)
        .values_list("score")
        .annotate(n=Count("id"))
        .values_list("score", "n")
    )
    total = sum(scores.values())
    shown = total >= MIN_RESPONSES_SHOWN
    distribution = (
        [
            (s, scores.get(s, 0), round(100 * scores.get(s, 0) / total) if total else 0)
            for s in range(5, 0, -1)
        ]
        if shown
        else []
    )
    comments = (
        list(
            SurveyResponse.objects.filter(survey=survey)
            .exclude(comment="")
            .order_by("id")
            .values_list("comment", flat=True)
        )
        if shown
        else []
    )
    relations = eligible_relations(survey.school)
    eligible = User.objects.filter(is_active=True, guardian__relations__in=relations).distinct().count()
    return SurveyResults(
        survey=survey,
        responses=total,
        satisfied=sum(n for s, n in scores.items() if s >= SATISFIED_FROM),
        distribution=distribution,
        comments=comments,
        eligible=eligible,
        target=targets_for(survey.school).satisfied_percent,
    )


# --- the parent's side -------------------------------------------------------------------------


def eligible_relations(school: School | int):
    """The relations that make a parent one of the school's parents for its surveys."""
    school_id = school if isinstance(school, int) else school.pk
    return GuardianRelation.objects.filter(
        pupil__school_id=school_id,
        pupil__left_on__isnull=True,
        access__in=access.VIEW_ACCESS,
    )


def may_answer_survey(user, survey: Survey) -> bool:
    """A parent with an account and access to a current pupil of the survey's school."""
    if not access.is_guardian(user):
        return False
    return eligible_relations(survey.school_id).filter(guardian__user=user).exists()


def surveys_open_for(*, viewer, now: dt.datetime | None = None) -> list[Survey]:
    """The open surveys of the viewer's children's schools that they have not answered yet."""
    if not access.is_guardian(viewer):
        return []
    now = now or timezone.now()
    schools = _eligible_relations_of(viewer).values("pupil__school_id")
    return list(
        Survey.objects.filter(school_id__in=schools, opens_at__lte=now, closes_at__gt=now)
        .exclude(pk__in=SurveyParticipation.objects.filter(user=viewer).values("survey_id"))
        .select_related("school")
        .order_by("closes_at")
    )


def _eligible_relations_of(user):
    return GuardianRelation.objects.filter(
        guardian__user=user,
        pupil__left_on__isnull=True,
        access__in=access.VIEW_ACCESS,
    )


def survey_get_for_parent(*, viewer, pk: int) -> Survey:
    """A survey the viewer may answer (open or not), or 404 for missing and not-yours alike."""
    survey = Survey.objects.select_related("school").filter(pk=pk).first()
    if survey is None or not may_answer_survey(viewer, survey):
        raise Http404
    return survey


def has_answered(user, survey: Survey) -> bool:
    return SurveyParticipation.objects.filter(survey=survey, user=user).exists()
