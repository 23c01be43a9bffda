"""The quality card's part of the demo school (``manage.py demo_school``, orchestrated by ``demo/``).

An autumn satisfaction survey, opened by the director five weeks ago and closed two weeks ago
(``survey_open``), answered anonymously by 180 parents while it was open, about nine in ten
satisfied (``survey_answers_record``, the bulk twin of ``survey_respond``; ``time_machine``).
The other figures of the card (answer times, reach, logins, consent) come from the other parts.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

import time_machine

from klimop.models import School, User

from . import services
from .models import Survey, SurveyResponse

COMMENTS = (
    "Fijn dat ziekmelden nu via de telefoon kan, ook vroeg in de ochtend.",
    "De foto's van de groep worden erg gewaardeerd thuis!",
    "Soms duurt een antwoord van de leerkracht wat lang, verder prima.",
    "Graag eerder de data van de oudergesprekken doorgeven.",
)
RESPONDENTS = 180


def survey_create(
    *, school: School, director: User, parents: Sequence[User], rng: random.Random, moment: dt.datetime
) -> None:
    """The survey, answered by up to 180 of ``parents`` (those who signed in lately)."""
    opens, closes = moment - dt.timedelta(days=35), moment - dt.timedelta(days=14)
    with time_machine.travel(opens, tick=False):
        survey = services.survey_open(
            actor=director,
            school=school,
            title="Oudertevredenheid najaar",
            opens_at=opens,
            closes_at=closes,
            question="Hoe tevreden bent u over de communicatie tussen school en ouders?",
        )
    answered = rng.sample(list(parents), k=min(len(parents), RESPONDENTS))
    scores = rng.choices((5, 4, 3, 2, 1), weights=(52, 39, 6, 2, 1), k=len(answered))
    comments = {rng.randrange(len(answered)): text for text in COMMENTS}
    with time_machine.travel(opens + dt.timedelta(days=3), tick=False):
        services.survey_answers_record(
            actor=None,
            survey=survey,
            answers=[
                services.SurveyAnswer(parent=parent, score=score, comment=comments.get(n, ""))
                for n, (parent, score) in enumerate(zip(answered, scores, strict=True))
            ],
        )


def summary(school: School) -> dict[str, object]:
    parents = User.objects.filter(guardian__relations__pupil__school=school).distinct()
    surveys = Survey.objects.filter(school=school)
    answers = SurveyResponse.objects.filter(survey__school=school)
    return {
        "quality card": (
            f"{parents.filter(last_login__isnull=False).count()} parents logged in before, "
            f"{surveys.count()} survey(s) with {answers.count()} answers"
        )
    }
