"""The privacy part of the demo school (``manage.py demo_school``, orchestrated by ``demo/``).

Photo consent as the parents gave it on the consent page in the first weeks of the school year:
most families decided, mostly yes for the group page and seldom for social media; a few later
withdrew their yes for the website; the divorced login's parents chose differently, so the
stricter choice holds. The forms of one evening reach ``consent_set_bulk`` together, at that
moment (``time_machine``), so the decisions and their history are the services' own rows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import time_machine

from klimop import worktime
from klimop.models import Pupil, School, User

from . import services
from .models import ConsentDecision, ConsentEvent, ConsentPurpose

#: Purpose -> share of deciding families who say yes (group page mostly, social media seldom).
YES_SHARE = {
    ConsentPurpose.GROUP_PAGE: 0.94,
    ConsentPurpose.WEBSITE: 0.6,
    ConsentPurpose.SOCIAL_MEDIA: 0.35,
    ConsentPurpose.SCHOOL_GUIDE: 0.8,
    ConsentPurpose.NEWSLETTER: 0.85,
    ConsentPurpose.VIDEO: 0.55,
}
#: Families with an account who have filled in the consent form; the rest stay silent.
DECIDED_SHARE = 0.9
#: Of those, families who first said yes to the website and later withdrew it.
WITHDRAWN_SHARE = 0.05
#: Each family answers on one of the evenings of the first three weeks...
ANSWER_DAYS = 21
#: ...a withdrawal comes this much later.
WITHDRAWN_AFTER = dt.timedelta(days=12)
#: The divorced login's family: the parents differ, so the stricter choice holds.
DIFFERING_CHOICES: tuple[dict[str, bool], ...] = (
    dict.fromkeys(ConsentPurpose.values, True),  # the demo login
    {
        **dict.fromkeys(ConsentPurpose.values, True),  # the ex
        ConsentPurpose.GROUP_PAGE: False,
        ConsentPurpose.SOCIAL_MEDIA: False,
    },
)


@dataclass(frozen=True)
class Family:
    """What consent needs to know of a family of the plan."""

    #: Its parents with gezag and full access who have an account, in the plan's order.
    deciders: Sequence[User]
    children: Sequence[Pupil]
    #: False for a demo login's family that has not decided yet (ouder@'s: no consent).
    may_decide: bool = True
    #: The divorced login's family, whose parents choose differently.
    differing: bool = False


def _evening(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(19, 30), tzinfo=worktime.AMSTERDAM)


def consent_create(
    *,
    families: Iterable[Family],
    first: dt.date,
    today: dt.date,
    not_after: dt.datetime,
    rng: random.Random,
) -> None:
    """The consent forms of the families from ``first`` on, each on the evening it was sent;
    a withdrawal at the latest at 07:00 on ``today``, and never after ``not_after`` (the
    demo's moment, never ahead of the real clock)."""
    span = max((today - dt.timedelta(days=1) - first).days, 0)
    morning = min(dt.datetime.combine(today, dt.time(7), tzinfo=worktime.AMSTERDAM), not_after)
    forms: dict[dt.datetime, list[services.ConsentForm]] = defaultdict(list)
    for family in families:
        decided = rng.random() < DECIDED_SHARE
        choices: dict[str, bool] = {purpose: rng.random() < share for purpose, share in YES_SHARE.items()}
        withdrawn = choices[ConsentPurpose.WEBSITE] and rng.random() < WITHDRAWN_SHARE
        day = first + dt.timedelta(days=rng.randint(0, min(span, ANSWER_DAYS - 1)))
        if family.differing:
            chosen = list(zip(family.deciders, DIFFERING_CHOICES, strict=True))
        elif decided and family.may_decide:
            chosen = [(parent, choices) for parent in family.deciders]
        else:
            continue
        at = _evening(day)
        for parent, choice in chosen:
            for child in family.children:
                forms[at].append(services.ConsentForm(parent=parent, pupil=child, choices=choice))
                if withdrawn and choice[ConsentPurpose.WEBSITE]:
                    later = min(at + WITHDRAWN_AFTER, morning)
                    forms[later].append(
                        services.ConsentForm(
                            parent=parent, pupil=child, choices={ConsentPurpose.WEBSITE: False}
                        )
                    )
    for at in sorted(forms):
        with time_machine.travel(at, tick=False):
            services.consent_set_bulk(actor=None, forms=forms[at])


def summary(school: School) -> dict[str, object]:
    decisions = ConsentDecision.objects.filter(pupil__school=school)
    decided = decisions.values("pupil").distinct().count()
    pupils = Pupil.objects.filter(school=school).count()
    history = ConsentEvent.objects.filter(pupil__school=school).count()
    return {
        "consent decisions": (
            f"{decisions.count()} for {decided} of {pupils} pupils "
            f"({pupils - decided} not decided: no consent), {history} history rows"
        )
    }
