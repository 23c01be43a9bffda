"""Writes of the quality card: the director opens and closes a survey, a parent answers it.

The answer is stored as two rows that nothing links (``quality.models``): the participation
(who, once — the database refuses a second) and the anonymous response (what).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from klimop import access
from klimop.models import School, User

from . import selectors as read
from .models import SCORE_MAX, SCORE_MIN, Survey, SurveyParticipation, SurveyResponse

MAX_COMMENT_CHARS = 1000


def survey_open(
    *,
    actor: User,
    school: School,
    title: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    question: str = "",
) -> Survey:
    """Open a satisfaction survey for the school's parents from ``opens_at`` to ``closes_at``.

    Preconditions: the actor manages the school (``access.is_school_manager``), else
    ``PermissionDenied``; a title, and a closing after the opening, else ``ValidationError``.
    """
    if not access.is_school_manager(actor, school):
        raise PermissionDenied
    survey = Survey(
        school=school, title=(title or "").strip(), opens_at=opens_at, closes_at=closes_at, created_by=actor
    )
    if question.strip():
        survey.question = question.strip()
    survey.full_clean()
    survey.save()
    return survey


def survey_close(*, actor: User, survey: Survey, now: dt.datetime | None = None) -> Survey:
    """Close an open survey now (a survey that has not opened yet closes at its opening).

    Preconditions: the actor manages the survey's school, else ``PermissionDenied``.
    A survey that is already closed is left as it is.
    """
    if not access.is_school_manager(actor, survey.school):
        raise PermissionDenied
    now = now or timezone.now()
    if survey.closes_at <= now:
        return survey
    # The constraint wants closes_at > opens_at: a survey not yet open closes one second in.
    survey.closes_at = max(now, survey.opens_at + dt.timedelta(seconds=1))
    survey.save(update_fields=["closes_at"])
    return survey


def survey_respond(
    *, actor: User, survey: Survey, score: int, comment: str = "", now: dt.datetime | None = None
) -> SurveyResponse:
    """A parent answers an open survey of their child's school, once.

    Preconditions: the actor is a guardian with access to a current pupil of the survey's
    school, else ``Http404`` (the survey is not theirs); the survey is open, a score from
    1 to 5 and a comment under ``MAX_COMMENT_CHARS`` characters, else ``ValidationError``;
    a second answer raises ``ValidationError`` — the unique constraint decides, also when
    two tabs submit at once. Side effects: none (nobody is notified of an answer).
    """
    if not read.may_answer_survey(actor, survey):
        raise Http404
    now = now or timezone.now()
    if not survey.is_open_at(now):
        raise ValidationError(_("This survey is closed."))
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not SCORE_MIN <= score <= SCORE_MAX:
        raise ValidationError({"score": _("Please choose a score from 1 to 5.")})
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise ValidationError(
            {"comment": _("Please keep the comment under %(n)s characters.") % {"n": MAX_COMMENT_CHARS}}
        )
    try:
        with transaction.atomic():
            SurveyParticipation.objects.create(survey=survey, user=actor)
            response = SurveyResponse(survey=survey, score=score, comment=comment)
            response.full_clean(validate_constraints=False)
            response.save(force_insert=True)
    except IntegrityError:
        raise ValidationError(_("You have already answered this survey.")) from None
    return response


@dataclass(frozen=True)
class SurveyAnswer:
    """One parent's answer, as the survey form sends it."""

    parent: User
    score: int
    comment: str = ""


def survey_answers_record(*, actor: User | None, survey: Survey, answers: Iterable[SurveyAnswer]) -> int:
    """System only: many parents' answers to an open survey at once, now; returns how many.

    ``survey_respond`` for a batch (the demo school's autumn survey): every answer is checked
    as that checks it (a parent of the school, ``PermissionDenied``; the survey open, a score
    from 1 to 5, a comment within the limit, one answer per parent, ``ValidationError``) before
    any is written, then all are written at once, or none. The responses stay anonymous: they
    are written in another order than the participations. Any actor is refused.
    """
    if actor is not None:
        raise PermissionDenied
    answers = list(answers)
    now = timezone.now()
    if not survey.is_open_at(now):
        raise ValidationError(_("This survey is closed."))
    parents = [answer.parent.pk for answer in answers]
    eligible = set(
        read.eligible_relations(survey.school_id)
        .filter(guardian__user__in=parents)
        .values_list("guardian__user_id", flat=True)
    )
    if set(parents) - eligible:
        raise PermissionDenied
    answered = SurveyParticipation.objects.filter(survey=survey, user__in=parents).exists()
    if answered or len(set(parents)) < len(parents):
        raise ValidationError(_("You have already answered this survey."))
    responses = []
    for answer in answers:
        try:
            score = int(answer.score)
        except (TypeError, ValueError):
            score = 0
        if not SCORE_MIN <= score <= SCORE_MAX:
            raise ValidationError({"score": _("Please choose a score from 1 to 5.")})
        response = SurveyResponse(survey=survey, score=score, comment=(answer.comment or "").strip())
        response.full_clean(exclude=["survey"], validate_unique=False, validate_constraints=False)
        responses.append(response)
    random.SystemRandom().shuffle(responses)
    with transaction.atomic():
        SurveyParticipation.objects.bulk_create(
            SurveyParticipation(survey=survey, user_id=pk) for pk in parents
        )
        SurveyResponse.objects.bulk_create(responses)
    return len(responses)
