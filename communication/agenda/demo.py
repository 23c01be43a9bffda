"""The agenda's part of the demo school (``manage.py demo_school``, orchestrated by ``demo/``).

School and group events in the coming two months, planned through ``event_create`` by the
director and the teachers at the demo's moment; and the reminder sweep as it ran that morning
(``event_reminders_send``): the 5a trip, within its fourteen days, reminds its parents.
"""

from __future__ import annotations

import datetime as dt

import time_machine

from klimop import worktime
from klimop.demo import DemoSchool
from klimop.models import School, User

from . import services
from .models import Event

#: Events are planned this far ahead.
HORIZON = dt.timedelta(days=60)
MON, TUE, WED, THU, FRI = range(5)


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=worktime.AMSTERDAM)


def events_create(*, demo: DemoSchool, director: User, today: dt.date, moment: dt.datetime) -> None:
    """School and group events in the coming two months, planned at ``moment`` through
    ``event_create``."""
    horizon = today + HORIZON
    closed, groups = demo.closed, demo.groups

    def school_day(after: int, weekday: int | None = None) -> dt.date:
        day, left = today, after
        while left > 0 or (weekday is not None and day.weekday() != weekday):
            day += dt.timedelta(days=1)
            if day.weekday() < 5 and day not in closed:
                left -= 1
        return day

    def plan(
        actor: User,
        title: str,
        kind: str,
        day: dt.date,
        start: tuple[int, int],
        end: tuple[int, int],
        **extra,
    ) -> None:
        if not today < day <= horizon:
            return
        # The dates follow --date, not the clock: the short-notice check (which counts
        # from now) is confirmed, as a teacher would after reading the warning.
        with time_machine.travel(moment, tick=False):
            services.event_create(
                actor=actor,
                title=title,
                kind=kind,
                starts_at=_local(day, *start),
                ends_at=_local(day, *end),
                short_notice_confirmed=True,
                **extra,
            )

    kinds = Event.Kind
    coffee = "Na het brengen staat de koffie klaar. Kom kennismaken met andere ouders en de directie."
    plan(
        director,
        "Koffie-uurtje",
        kinds.COFFEE_HOUR,
        school_day(3, FRI),
        (8, 30),
        (9, 30),
        location="Aula",
        description=coffee,
    )
    plan(
        director,
        "Koffie-uurtje",
        kinds.COFFEE_HOUR,
        school_day(23, FRI),
        (8, 30),
        (9, 30),
        location="Aula",
        description=coffee,
    )
    plan(
        director,
        "MR-vergadering",
        kinds.MR_MEETING,
        school_day(10, TUE),
        (19, 30),
        (21, 30),
        location="Teamkamer",
        description="De vergadering van de medezeggenschapsraad is "
        "openbaar. De agenda en de notulen liggen bij de administratie.",
    )
    for year in (today.year, today.year + 1):
        sint = dt.date(year, 12, 5)
        while sint.weekday() >= 5 or sint in closed:
            sint -= dt.timedelta(days=1)
        plan(
            director,
            "Sinterklaasviering",
            kinds.ACTIVITY,
            sint,
            (8, 30),
            (12, 0),
            description="Sinterklaas komt op bezoek! De kinderen mogen verkleed komen. "
            "Om 12.00 uur zijn alle kinderen vrij.",
        )
        holiday = min(
            (d for d in closed if dt.date(year, 12, 15) <= d <= dt.date(year + 1, 1, 2)),
            default=dt.date(year, 12, 24),
        )
        party = holiday - dt.timedelta(days=1)
        while party.weekday() != THU or party in closed:
            party -= dt.timedelta(days=1)
        plan(
            director,
            "Kerstviering",
            kinds.ACTIVITY,
            party,
            (17, 0),
            (19, 0),
            location="Alle lokalen",
            bring="Een bord, bestek en een beker voor het kerstdiner",
            description="We beginnen met een kerstdiner in de klas en sluiten af met een "
            "samenzangmoment op het plein. Ouders zijn vanaf 18.30 uur welkom.",
        )

    def teacher(group: str) -> User:
        return demo.teachers[group][0][0]

    plan(
        teacher("6a"),
        "Toets topografie: provincies",
        kinds.TEST,
        school_day(6),
        (9, 0),
        (10, 0),
        group=groups["6a"],
        description="De oefenkaart zit in de map. Oefenen kan ook met het spel 'Topo-kwartet' uit de klas.",
    )
    plan(
        teacher("5a"),
        "Excursie naar het Natuurmuseum",
        kinds.TRIP,
        school_day(8),
        (8, 45),
        (14, 30),
        group=groups["5a"],
        location="Natuurmuseum Voorbeeldstad",
        bring="Lunchpakket, drinken en een regenjas",
        important=True,
        description="We gaan met de bus. We zoeken nog drie ouders die mee willen als begeleider.",
    )
    plan(
        teacher("2b"),
        "Ouderavond: spelend leren",
        kinds.PARENT_EVENING,
        school_day(12, TUE),
        (19, 0),
        (20, 30),
        group=groups["2b"],
        location="Lokaal 2b",
        description="Hoe leren kleuters lezen en rekenen door te spelen? We laten het u zien "
        "in de klas. Koffie en thee staan klaar.",
    )
    plan(
        teacher("1a"),
        "Pyjamaontbijt",
        kinds.ACTIVITY,
        school_day(4),
        (8, 30),
        (10, 0),
        group=groups["1a"],
        bring="Pyjama, knuffel en een bord met beker",
    )
    plan(
        teacher("8b"),
        "Open les op het voortgezet onderwijs",
        kinds.TRIP,
        school_day(15, WED),
        (9, 0),
        (12, 0),
        group=groups["8b"],
        location="Voorbeeldcollege",
        bring="Fiets en een pen",
    )


def reminders_send(*, moment: dt.datetime) -> None:
    """The reminder sweep, as it ran at the demo's moment."""
    with time_machine.travel(moment, tick=False):
        services.event_reminders_send()


def summary(school: School) -> dict[str, object]:
    return {"agenda events": Event.objects.filter(school=school).count()}
