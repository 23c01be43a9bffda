"""The fictional demo school, Basisschool De Klimroos: who is in it, and the order it is built in.

Everything here is invented. Names are combined at random (with a fixed seed, so
every run builds the same people) from lists of common Dutch first names and
surnames; e-mail addresses use the reserved domain ``klimop.example`` (RFC 2606)
and phone numbers the unallocated 06-9 range. Nothing comes from the schools'
agreements of real schools that Klimop's settings were drawn from: demo data must be
fictional.

This module orchestrates: the plan (who is in which family and group, who has an account,
which are the demo logins) in pure Python, the moments (the school was set up and the families
invited ten days before the school year; the demo's "now" is the build date before school),
the order, and each part's random seed. Every app writes its own part, in a ``demo.py`` of its
own, through the services its users use:

- ``klimop.demo``: the school, calendar, groups, staff, pupils, families and accounts;
- ``klimop.privacy.demo``: photo consent, decided in the first weeks;
- ``communication.posts.demo``: posts of the last three school weeks, with photos, and who
  read them; ``communication.agenda.demo``: the coming two months' events and this morning's
  reminders; ``communication.chats.demo``: the per-child chats and a few conversations;
- ``absences.demo``: today's absences, a follow-up task, leave; ``conversations.demo``: a
  round of report conversations open for booking; ``quality.demo``: an autumn survey.

Things in the past happen at their moment: each part travels in time (``time_machine``)
around the service call, so timestamps, office hours and notifications are the services' own.
What the services queue for after the commit (e-mails, tasks) belongs to that past and is
dropped (``_history``); every notification they made counts as e-mailed when it was due
(``notification_emails_mark_sent``), so ``make run`` mails nobody the past. Nothing happens
after the moment of building: a report, read or invitation whose time of day is still to come
is made a few minutes before it, or left for later (``DemoSchool.not_after_build``). Same date
and moment, same school.

Used by ``manage.py demo_school``; the parts run as the system or as the people of the plan.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from absences import demo as absences_demo
from communication.agenda import demo as agenda_demo
from communication.chats import demo as chats_demo
from communication.posts import demo as posts_demo
from conversations import demo as conversations_demo
from klimop import access, services, worktime
from klimop import demo as directory_demo
from klimop.models import GuardianRelation, Pupil, School, StaffMember, User
from klimop.notifications.models import Notification
from klimop.notifications.services import notification_emails_mark_sent
from klimop.privacy import demo as privacy_demo
from quality import demo as quality_demo

Kind = GuardianRelation.Kind
Access = GuardianRelation.Access
Role = StaffMember.Role

SLUG = "klimroos"
NAME = "Basisschool De Klimroos"
REGION = "midden"
DOMAIN = "klimop.example"
#: Guardian.external_id is unique across schools, so the demo's ids carry a prefix.
GUARDIAN_ID_PREFIX = "klimroos-"
#: Fixed, so the demo is the same people on every machine and every run.
SEED = 20260831

GROUP_NAMES = [f"{year}{letter}" for year in range(1, 9) for letter in "ab"]
#: Pupils per group, 400 in all; shuffled over the groups with the seed.
GROUP_SIZES = [24, 25, 26, 25, 23, 27, 25, 25, 26, 24, 25, 25, 24, 26, 25, 25]

MON, TUE, WED, THU, FRI = range(5)
ALL_WEEK = (MON, TUE, WED, THU, FRI)
#: Groups taught by two part-time teachers, and who works when. The first pair
#: (5a) are the demo logins leerkracht@ and duo@; together each pair covers the week.
DUO_GROUPS = {
    "5a": ((MON, TUE, WED), (WED, THU, FRI)),
    "1b": ((MON, TUE), (WED, THU, FRI)),
    "2a": ((MON, TUE, WED), (THU, FRI)),
    "4b": ((MON, TUE, FRI), (WED, THU)),
    "6b": ((MON, TUE, WED, THU), (THU, FRI)),
    "8a": ((MON, THU, FRI), (TUE, WED)),
}
WEEKDAY_NAMES = ("ma", "di", "wo", "do", "vr")

# Demo logins: the e-mail addresses are part of the README and the tests.
LOGIN_PARENT = f"ouder@{DOMAIN}"
LOGIN_DIVORCED = f"gescheiden@{DOMAIN}"
LOGIN_STEP = f"stiefouder@{DOMAIN}"
LOGIN_BARRED = f"verbod@{DOMAIN}"
LOGIN_TEACHER = f"leerkracht@{DOMAIN}"
LOGIN_DUO = f"duo@{DOMAIN}"
LOGIN_DIRECTOR = f"directeur@{DOMAIN}"
LOGIN_OFFICE = f"administratie@{DOMAIN}"
#: e-mail -> what the login shows off, in the order the command prints them.
LOGIN_ROLES = {
    LOGIN_PARENT: "parent with gezag, two children",
    LOGIN_DIVORCED: "divorced parent, both gezag",
    LOGIN_STEP: "step-parent, no consent",
    LOGIN_BARRED: "parent barred by court order",
    LOGIN_TEACHER: "teacher (duo)",
    LOGIN_DUO: "duo-teacher",
    LOGIN_DIRECTOR: "director",
    LOGIN_OFFICE: "office",
}
LOGINS = tuple(LOGIN_ROLES)

# --- name lists (common Dutch names; none taken from the seed documents) ----------------

CHILD_GIRLS = (
    "Emma",
    "Julia",
    "Mila",
    "Tess",
    "Sophie",
    "Zoë",
    "Sara",
    "Nora",
    "Yara",
    "Eva",
    "Liv",
    "Lotte",
    "Evi",
    "Anna",
    "Saar",
    "Lieke",
    "Fenna",
    "Maud",
    "Fleur",
    "Isa",
    "Lina",
    "Elin",
    "Roos",
    "Olivia",
    "Nina",
    "Jasmijn",
    "Sofie",
    "Lisa",
    "Esmee",
    "Femke",
    "Ivy",
    "Luna",
    "Floor",
    "Jet",
    "Puck",
    "Vera",
    "Linde",
    "Lynn",
    "Amber",
    "Isabel",
    "Fien",
    "Loïs",
    "Hanna",
    "Ella",
    "Mirthe",
    "Feline",
    "Elise",
    "Juul",
    "Bo",
    "Nova",
    "Mia",
    "Lara",
    "Amira",
    "Aya",
    "Yasmina",
    "Ilse",
    "Merel",
    "Noa",
    "Rosalie",
    "Hannah",
)
CHILD_BOYS = (
    "Noah",
    "Sem",
    "Liam",
    "Lucas",
    "Daan",
    "Finn",
    "Levi",
    "Luuk",
    "Mees",
    "James",
    "Milan",
    "Sam",
    "Noud",
    "Bram",
    "Luca",
    "Jesse",
    "Thomas",
    "Max",
    "Thijs",
    "Adam",
    "Ties",
    "Jens",
    "Siem",
    "Tijn",
    "Gijs",
    "Ruben",
    "Lars",
    "Jurre",
    "Olivier",
    "Stijn",
    "Teun",
    "Hugo",
    "Boaz",
    "Floris",
    "Mats",
    "Tom",
    "Julian",
    "Vince",
    "Otis",
    "Guus",
    "Jack",
    "Cas",
    "Jip",
    "Hidde",
    "Job",
    "Joep",
    "Quinn",
    "Sepp",
    "Pepijn",
    "Tygo",
    "Owen",
    "Mohammed",
    "Yusuf",
    "Ibrahim",
    "Ayoub",
    "Rayan",
    "Wout",
    "Dex",
    "Morris",
    "Benjamin",
)
ADULT_WOMEN = (
    "Anouk",
    "Laura",
    "Linda",
    "Sanne",
    "Marieke",
    "Kim",
    "Iris",
    "Esther",
    "Marloes",
    "Eline",
    "Judith",
    "Petra",
    "Sandra",
    "Nicole",
    "Chantal",
    "Monique",
    "Wendy",
    "Mariska",
    "Anne",
    "Manon",
    "Renée",
    "Suzanne",
    "Karin",
    "Miriam",
    "Ingrid",
    "Jolanda",
    "Saskia",
    "Maaike",
    "Naomi",
    "Nadia",
    "Fatima",
    "Samira",
    "Leonie",
    "Kirsten",
    "Evelien",
    "Joyce",
    "Daniëlle",
    "Willemijn",
    "Hanneke",
    "Charlotte",
    "Annemiek",
    "Marjolein",
    "Yvonne",
    "Sabine",
    "Astrid",
    "Elif",
    "Priya",
    "Jessica",
    "Debora",
    "Nathalie",
)
ADULT_MEN = (
    "Jeroen",
    "Mark",
    "Bas",
    "Martijn",
    "Dennis",
    "Sander",
    "Rob",
    "Tim",
    "Erik",
    "Jasper",
    "Niels",
    "Joost",
    "Maarten",
    "Ruud",
    "Pieter",
    "Wouter",
    "Michiel",
    "Stefan",
    "Rick",
    "Kevin",
    "Patrick",
    "Vincent",
    "Arjan",
    "Bart",
    "Koen",
    "Remco",
    "Frank",
    "Paul",
    "Marco",
    "Edwin",
    "Ronald",
    "Robin",
    "Gerben",
    "Hans",
    "Youssef",
    "Mustafa",
    "Mehmet",
    "Hamza",
    "Ivo",
    "Erwin",
    "Jorrit",
    "Tjeerd",
    "Sjoerd",
    "Roel",
    "Dirk",
    "Laurens",
    "Emre",
    "Rachid",
    "Gijsbert",
    "Arno",
)
SURNAMES = (
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Janssen",
    "Visser",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smeets",
    "de Graaf",
    "van der Meer",
    "van der Linden",
    "Kok",
    "Jacobs",
    "de Haan",
    "Vermeulen",
    "van den Heuvel",
    "van der Veen",
    "van den Broek",
    "de Bruijn",
    "de Bruin",
    "van der Heijden",
    "Schouten",
    "van Beek",
    "Willems",
    "van Vliet",
    "van de Ven",
    "Hoekstra",
    "Maas",
    "Verhoeven",
    "Koster",
    "van Dam",
    "van der Wal",
    "Prins",
    "Blom",
    "Huisman",
    "Peeters",
    "de Jonge",
    "Kuipers",
    "van Veen",
    "Post",
    "Kuiper",
    "Veenstra",
    "Kramer",
    "van den Brink",
    "Scholten",
    "van Wijk",
    "Postma",
    "Martens",
    "Vink",
    "de Ridder",
    "Jonker",
    "van Doorn",
    "Bosch",
    "Verbeek",
    "Wolters",
    "Timmermans",
    "Hermans",
    "Evers",
    "Gerritsen",
    "Koning",
    "van Rijn",
    "Lammers",
    "Hofman",
    "Sluiter",
    "Brink",
    "Wijnands",
    "Bosman",
    "Zwart",
    "Groen",
    "van Loon",
    "Koopman",
    "Boersma",
    "Hoogendoorn",
    "Franken",
    "Molenaar",
    "Biesheuvel",
    "Terpstra",
    "Akkerman",
    "Bruins",
    "Damen",
    "Nijhuis",
    "Oosterhout",
    "Rietveld",
    "Schipper",
    "Tromp",
    "Verschoor",
    "Westerveld",
    "Zijlstra",
    "Yılmaz",
    "Kaya",
    "El Amrani",
    "Bouzid",
    "Demir",
    "Öztürk",
    "Nguyen",
    "Pinas",
    "Tahiri",
    "Ramdin",
    "Şahin",
    "Benali",
)


# --- the plan ---------------------------------------------------------------------------


@dataclass
class _Person:
    first_name: str
    last_name: str
    email: str = ""
    phone: str = ""


@dataclass
class _GuardianPlan:
    person: _Person
    kind: str
    access: str
    external_id: str = ""
    login: str | None = None  # demo login e-mail (then person.email == login)
    active: bool = False  # accepted the invitation: has an account (password unknown to the demo)


@dataclass
class _ChildPlan:
    first_name: str
    last_name: str
    birth_fraction: float  # where in the year group's birth cohort
    group: str = ""
    external_id: str = ""


@dataclass
class _Family:
    label: str
    guardians: list[_GuardianPlan]
    child_surname: str = ""
    children: list[_ChildPlan] = field(default_factory=list)
    fixed_groups: tuple[str, ...] = ()


@dataclass
class _StaffPlan:
    person: _Person
    role: str
    title: str
    groups: tuple[str, ...]
    weekdays: tuple[int, ...]
    external_id: str = ""
    login: bool = False


@dataclass
class _Plan:
    families: list[_Family]
    staff: list[_StaffPlan]
    group_sizes: dict[str, int]

    @property
    def user_emails(self) -> set[str]:
        """Every address the demo gives an account: staff, the demo logins, active parents."""
        emails = {s.person.email for s in self.staff}
        emails |= {g.person.email for f in self.families for g in f.guardians if g.login or g.active}
        return emails

    def family_of(self, login: str) -> _Family:
        return next(f for f in self.families if any(g.login == login for g in f.guardians))


def _ascii(text: str) -> str:
    text = text.replace("ı", "i")  # Turkish dotless i has no NFKD decomposition
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


class _Names:
    """Draws names, unique e-mail addresses and phone numbers from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.emails: set[str] = set(LOGINS)
        # 10^7 numbers in the 06-9 range; sampled without replacement so none repeats.
        self._phones = iter(rng.sample(range(10**7), 2000))

    def surname(self) -> str:
        return self.rng.choice(SURNAMES)

    def adult(self, *, woman: bool, last_name: str | None = None) -> _Person:
        first = self.rng.choice(ADULT_WOMEN if woman else ADULT_MEN)
        return _Person(first, last_name or self.surname())

    def child(self, last_name: str) -> _ChildPlan:
        first = self.rng.choice(CHILD_GIRLS if self.rng.random() < 0.5 else CHILD_BOYS)
        return _ChildPlan(first, last_name, birth_fraction=self.rng.random())

    def email(self, local: str) -> str:
        candidate, n = f"{local}@{DOMAIN}", 2
        while candidate in self.emails:
            candidate, n = f"{local}{n}@{DOMAIN}", n + 1
        self.emails.add(candidate)
        return candidate

    def contact(self, person: _Person) -> None:
        person.email = self.email(f"{_ascii(person.first_name)}.{_ascii(person.last_name)}")
        person.phone = f"06-9{next(self._phones):07d}"


def _guardian(
    person: _Person, kind: str = Kind.PARENT_WITH_AUTHORITY, access: str = Access.FULL
) -> _GuardianPlan:
    return _GuardianPlan(person=person, kind=kind, access=access)


def _family(names: _Names, label: str) -> _Family:
    """The adults of one family of the given shape; the children are added later."""
    rng = names.rng
    if label == "single":
        parent = names.adult(woman=rng.random() < 0.8)
        # Half the children carry the absent parent's surname.
        child_name = parent.last_name if rng.random() < 0.5 else names.surname()
        return _Family(label, [_guardian(parent)], child_surname=child_name)
    if label == "foster":
        # Foster parents (pleegouders) are carers with the access the school records.
        carers = [names.adult(woman=True), names.adult(woman=False)]
        guardians = [_guardian(p, Kind.CARER, Access.FULL) for p in carers]
        return _Family(label, guardians, child_surname=names.surname())
    same_sex = label == "two_parents" and rng.random() < 0.04
    mother = names.adult(woman=True)
    other = names.adult(woman=same_sex)
    child_surname = other.last_name if rng.random() < 0.85 else mother.last_name
    guardians = [_guardian(mother), _guardian(other)]
    if label == "no_authority":
        # Only the mother has gezag; the father has the information right on request.
        guardians[1].kind, guardians[1].access = Kind.PARENT_WITHOUT_AUTHORITY, Access.ON_REQUEST
    elif label == "barred":
        # A court order bars contact: this parent sees nothing of the child.
        guardians[1].kind, guardians[1].access = Kind.PARENT_WITHOUT_AUTHORITY, Access.BARRED
    elif label in ("divorced_step", "divorced_step_consent"):
        # The ex-partner's new partner; sees the child only if both custodial parents agreed.
        access = Access.FULL if label == "divorced_step_consent" else Access.NONE
        new_partner = names.adult(woman=rng.random() < 0.5)
        guardians.append(_guardian(new_partner, Kind.STEP_PARENT, access))
    return _Family(label, guardians, child_surname=child_surname)


# How many families of each shape besides the plain two-parent ones. "divorced"
# families have two households: both parents keep gezag, each has their own
# e-mail address and phone (the directory stores no home address).
FAMILY_SHAPES = {
    "single": 75,
    "divorced": 12,
    "divorced_step": 3,
    "divorced_step_consent": 1,
    "no_authority": 3,
    "barred": 1,
    "foster": 1,
}
#: Families with children in several groups (besides ouder@'s two): count per size.
SIBLING_FAMILIES = {2: 21, 3: 8}


def _plan() -> _Plan:
    """The whole demo school as plain data. Same result on every call."""
    rng = random.Random(SEED)
    names = _Names(rng)

    sizes = GROUP_SIZES[:]
    rng.shuffle(sizes)
    group_sizes = dict(zip(GROUP_NAMES, sizes, strict=True))
    pupils_total = sum(sizes)

    # The demo logins' families come first, with fixed groups.
    ouder = _family(names, "two_parents")
    ouder.guardians[0].login = LOGIN_PARENT
    ouder.fixed_groups = ("5a", "2b")
    gescheiden = _family(names, "divorced_step")
    gescheiden.guardians[0].login = LOGIN_DIVORCED  # the ex is guardians[1]
    gescheiden.guardians[2].login = LOGIN_STEP  # the ex's new partner, no consent
    gescheiden.fixed_groups = ("6a",)
    verbod = _family(names, "barred")
    verbod.guardians[1].login = LOGIN_BARRED
    verbod.fixed_groups = ("4a",)
    demo_families = [ouder, gescheiden, verbod]

    extra_children = sum((size - 1) * n for size, n in SIBLING_FAMILIES.items()) + 1
    family_count = pupils_total - extra_children
    shapes = [label for label, n in FAMILY_SHAPES.items() for _ in range(n)]
    shapes += ["two_parents"] * (family_count - len(demo_families) - len(shapes))
    rng.shuffle(shapes)
    others = [_family(names, label) for label in shapes]

    # Children: the size of each family, then their groups.
    sizes_left = [size for size, n in SIBLING_FAMILIES.items() for _ in range(n)]
    sibling_families = rng.sample(others, len(sizes_left))
    capacity = dict(group_sizes)
    for family in demo_families:
        for group in family.fixed_groups:
            family.children.append(names.child(family.child_surname))
            family.children[-1].group = group
            capacity[group] -= 1
    for family, size in zip(sibling_families, sizes_left, strict=True):
        for year in sorted(rng.sample(range(1, 9), size), reverse=True):
            free = [g for g in (f"{year}a", f"{year}b") if capacity[g] > 0]
            child = names.child(family.child_surname)
            child.group = rng.choice(free)
            capacity[child.group] -= 1
            family.children.append(child)
    slots = [group for group, free in capacity.items() for _ in range(free)]
    rng.shuffle(slots)
    singles = [f for f in others if not f.children]
    assert len(slots) == len(singles), "group sizes and family sizes must add up"
    for family, group in zip(singles, slots, strict=True):
        child = names.child(family.child_surname)
        child.group = group
        family.children.append(child)

    families = demo_families + others
    pupil_n = guardian_n = 0
    for family in families:
        for guardian in family.guardians:
            guardian_n += 1
            guardian.external_id = f"{GUARDIAN_ID_PREFIX}O{guardian_n:04d}"
            names.contact(guardian.person)
            if guardian.login:
                names.emails.discard(guardian.person.email)
                guardian.person.email = guardian.login
        for child in family.children:
            pupil_n += 1
            child.external_id = f"L{pupil_n:04d}"

    _choose_active_accounts(families, gescheiden)
    return _Plan(families=families, staff=_staff_plan(names), group_sizes=group_sizes)


#: Share of the other families whose parents accepted the invitation and have an account.
ACTIVE_FAMILY_SHARE = 0.85


def _choose_active_accounts(families: list[_Family], divorced: _Family) -> None:
    """Most families are invited and active, so posts have readers and consent has deciders.

    A generator of its own keeps the people above unchanged. Only guardians who see the
    child get an account; the demo logins' own families keep their other parents without
    one ("not invited yet"), except the divorced login's ex, who decided about consent.
    """
    rng = random.Random(SEED + 1)
    for family in families:
        active = rng.random() < ACTIVE_FAMILY_SHARE
        if any(g.login for g in family.guardians):
            continue
        for guardian in family.guardians:
            guardian.active = active and guardian.access == Access.FULL
    divorced.guardians[1].active = True


def _staff_plan(names: _Names) -> list[_StaffPlan]:
    """30 staff: 22 group teachers (6 duos), IB-er, director, office and five others."""
    rng = names.rng
    staff: list[_StaffPlan] = []

    def add(
        role: str, title: str, groups: tuple[str, ...], weekdays: tuple[int, ...], login: str | None = None
    ) -> _StaffPlan:
        person = names.adult(woman=rng.random() < 0.8)
        if login:
            person.email = login
        else:
            initial = _ascii(person.first_name)[0]
            person.email = names.email(f"{initial}.{_ascii(person.last_name)}")
        member = _StaffPlan(person, role, title, groups, weekdays, login=bool(login))
        staff.append(member)
        return member

    for group in GROUP_NAMES:
        if group in DUO_GROUPS:
            first, second = DUO_GROUPS[group]
            is_demo = group == "5a"
            add(
                Role.TEACHER, f"leerkracht {group} (duo)", (group,), first, LOGIN_TEACHER if is_demo else None
            )
            add(Role.TEACHER, f"leerkracht {group} (duo)", (group,), second, LOGIN_DUO if is_demo else None)
        else:
            add(Role.TEACHER, f"leerkracht {group}", (group,), ALL_WEEK)
    add(Role.DIRECTOR, "directeur", (), ALL_WEEK, LOGIN_DIRECTOR)
    add(Role.OFFICE, "administratie", (), ALL_WEEK, LOGIN_OFFICE)
    add(Role.CARE_COORDINATOR, "intern begeleider", (), (MON, TUE, THU))
    upper = tuple(g for g in GROUP_NAMES if int(g[0]) >= 3)
    add(Role.TEACHER, "vakleerkracht gym", upper, (MON, TUE, THU, FRI))
    add(Role.TEACHER, "vakleerkracht muziek", tuple(g for g in upper if int(g[0]) >= 5), (WED,))
    add(
        Role.TEACHER,
        "onderwijsassistent",
        tuple(g for g in GROUP_NAMES if g[0] in "12"),
        (MON, TUE, WED, THU),
    )
    add(
        Role.TEACHER,
        "onderwijsassistent",
        tuple(g for g in GROUP_NAMES if g[0] in "34"),
        (TUE, WED, THU, FRI),
    )
    add(Role.TEACHER, "leerkracht plusklas", tuple(g for g in GROUP_NAMES if int(g[0]) >= 6), (THU,))
    for n, member in enumerate(staff, start=1):
        member.external_id = f"M{n:02d}"
    return staff


# --- dates ------------------------------------------------------------------------------


def school_year_start_for(*, region: str, today: dt.date) -> int:
    """The start year of the school year containing ``today``; in the summer, the coming one."""
    _, last_day = services.school_year_bounds(region=region, start_year=today.year - 1)
    return today.year - 1 if today <= last_day else today.year


def _birth_date(year_group: int, fraction: float, starts_on: dt.date) -> dt.date:
    """A date of birth for the year group: children born Oct–Sep share a cohort.

    Group 3 in the year starting August 2026 was born Oct 2019 – Sep 2020, and so on;
    group 1 only holds children who are four when the year starts.
    """
    first = dt.date(starts_on.year - year_group - 4, 10, 1)
    last = dt.date(starts_on.year - year_group - 3, 9, 30)
    if year_group == 1:
        last = min(last, starts_on.replace(year=starts_on.year - 4))
    return first + dt.timedelta(days=int(fraction * (last - first).days))


# --- building -----------------------------------------------------------------------------


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=worktime.AMSTERDAM)


def demo_school_get() -> School | None:
    return School.objects.filter(slug=SLUG).first()


@contextmanager
def _history() -> Iterator[None]:
    """The demo's past: what the services queue for after the commit while writing it (the
    invitations, e-mails of notifications, the teachers' consent notices) happened back then.

    It is dropped from the transaction's on-commit list instead of being sent now, to hundreds
    of fictional parents. Work queued before (``--reset``'s deletion of old photo files) stays.
    """
    connection = transaction.get_connection()
    start = len(connection.run_on_commit)
    try:
        yield
    finally:
        del connection.run_on_commit[start:]


def demo_school_delete() -> dict[str, int]:
    """Delete the demo school, its guardians and every login the demo created.

    Also removes leftovers of an earlier demo whose school was deleted by hand
    (guardians with the demo's ids, users with the demo's addresses), so that a
    new build never trips over them. Trusts its caller (the management command).
    """
    with transaction.atomic():
        school = demo_school_get()
        if school is not None:
            posts_demo.delete(school=school)  # with their photo files, after commit
        return directory_demo.delete(
            slug=SLUG, guardian_prefix=GUARDIAN_ID_PREFIX, emails=_plan().user_emails
        )


def demo_school_create(*, today: dt.date) -> tuple[School, bool]:
    """Build the demo school for the school year containing ``today``.

    Idempotent: if the school exists nothing is changed and ``(school, False)`` is
    returned. Leftover demo logins or guardians without their school are removed
    first. All in one transaction.
    """
    with transaction.atomic():
        existing = demo_school_get()
        if existing is not None:
            return existing, False
        demo_school_delete()
        with _history():
            school = _build(plan=_plan(), today=today)
    return school, True


def _build(*, plan: _Plan, today: dt.date) -> School:
    start_year = school_year_start_for(region=REGION, today=today)
    starts_on, _ends_on = services.school_year_bounds(region=REGION, start_year=start_year)
    # The office set the school up and invited the families ten days before the school year.
    setup = _local(min(starts_on, today) - dt.timedelta(days=10), 10)
    # The demo's clock: the build date before school, never ahead of the real clock (a post
    # "in the past" must be visible now, since visibility is decided by publish_at alone).
    # Later events of the day (sick reports, reads, the planner's invitations) are kept at or
    # before ``built_at`` by the parts themselves (``DemoSchool.not_after_build``).
    built_at = timezone.now()
    moment = min(built_at, _local(today, 7, 30))

    school, year = directory_demo.school_create(
        name=NAME,
        slug=SLUG,
        region=REGION,
        start_year=start_year,
        at=setup,
        phone="030-0000000",
        email=f"info@{DOMAIN}",
        address="Klimroosweg 1, Voorbeeldstad",
    )
    directory_demo.people_create(
        school=school,
        year=year,
        groups=GROUP_NAMES,
        staff=[
            directory_demo.StaffRow(
                s.external_id,
                s.person.email,
                s.person.first_name,
                s.person.last_name,
                s.role,
                s.groups,
                s.weekdays,
            )
            for s in plan.staff
        ],
        pupils=[
            services.PupilRow(
                c.external_id,
                c.first_name,
                c.last_name,
                c.group,
                _birth_date(int(c.group[0]), c.birth_fraction, year.starts_on),
            )
            for f in plan.families
            for c in f.children
        ],
        guardians=[
            services.GuardianRow(
                g.external_id,
                g.person.first_name,
                g.person.last_name,
                c.external_id,
                g.kind,
                g.access,
                email=g.person.email,
                phone=g.person.phone,
            )
            for f in plan.families
            for c in f.children
            for g in f.guardians
        ],
        at=setup,
    )
    directory_demo.accounts_create(
        school=school,
        office=LOGIN_OFFICE,
        guardians=[g.external_id for f in plan.families for g in f.guardians if g.login or g.active],
        staff=[s.person.email for s in plan.staff if s.login],
        demo_logins=LOGINS,
        password=settings.KLIMOP_DEMO_PASSWORD,
        at=setup,
    )
    demo = directory_demo.demo_school(school, LOGINS, built_at=built_at)
    director, office = demo.users[LOGIN_DIRECTOR], demo.users[LOGIN_OFFICE]
    parent, teacher = demo.users[LOGIN_PARENT], demo.users[LOGIN_TEACHER]
    people = People.of(plan, school)

    # The hourly sync made the per-child chats right after the import.
    chats_demo.child_conversations_create(demo=demo, at=setup + dt.timedelta(hours=1))
    privacy_demo.consent_create(
        families=people.consent_families(plan),
        first=min(year.starts_on, today) - dt.timedelta(days=7),
        today=today,
        not_after=moment,
        rng=random.Random(SEED + 3),
    )
    posts = posts_demo.posts_create(
        demo=demo,
        director=director,
        moment=moment,
        rng=random.Random(SEED + 4),
        photo_seed=SEED + 10,
        newest_on_last_day=plan.family_of(LOGIN_PARENT).fixed_groups[1],
    )
    agenda_demo.events_create(demo=demo, director=director, today=today, moment=moment)
    posts_demo.reads_create(
        school=school,
        posts=posts,
        moment=moment,
        rng=random.Random(SEED + 5),
        parent=parent,
        unread_groups=plan.family_of(LOGIN_PARENT).fixed_groups,
        logins=[demo.users[email] for email in (LOGIN_PARENT, LOGIN_DIVORCED, LOGIN_STEP, LOGIN_BARRED)],
    )
    agenda_demo.reminders_send(moment=moment)
    chats_demo.conversations_create(
        demo=demo, teacher=teacher, parent=parent, others=set(LOGINS), moment=moment
    )
    absences_demo.absences_create(
        demo=demo,
        logins=LOGINS,
        parent=parent,
        office=office,
        director=director,
        moment=moment,
        today=today,
        rng=random.Random(SEED + 7),
    )
    conversations_demo.round_create(
        demo=demo,
        director=director,
        groups=GROUP_NAMES,
        sibling_bookers=people.sibling_bookers(plan),
        moment=moment,
        today=today,
        rng=random.Random(SEED + 8),
    )
    rng = random.Random(SEED + 12)
    recent = directory_demo.logins_create(school=school, exclude=LOGINS, rng=rng, moment=moment)
    quality_demo.survey_create(school=school, director=director, parents=recent, rng=rng, moment=moment)

    # Every notification the services made was e-mailed when it was due: none is mailed again.
    # One due after the build (a teacher's, held until their working time) goes out then.
    notification_emails_mark_sent(
        actor=None,
        users=User.objects.filter(
            Q(staff_members__school=school) | Q(guardian__relations__pupil__school=school)
        ),
        due_by=built_at,
    )
    return school


@dataclass
class People:
    """The plan's people as they are in the database: accounts by address, pupils by id."""

    users: dict[str, User] = field(default_factory=dict)
    pupils: dict[str, Pupil] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: _Plan, school: School) -> People:
        return cls(
            users={u.email: u for u in User.objects.filter(email__in=plan.user_emails)},
            pupils={p.external_id: p for p in Pupil.objects.filter(school=school).select_related("school")},
        )

    def consent_families(self, plan: _Plan) -> list[privacy_demo.Family]:
        """Who decides about photo consent: the parents with gezag and full access who have an
        account; ouder@'s family has not decided yet, gescheiden@'s parents differ."""
        divorced = plan.family_of(LOGIN_DIVORCED)
        return [
            privacy_demo.Family(
                deciders=[
                    self.users[g.person.email]
                    for g in family.guardians
                    if g.kind == Kind.PARENT_WITH_AUTHORITY
                    and g.access == Access.FULL
                    and (g.login or g.active)
                ],
                children=[self.pupils[c.external_id] for c in family.children],
                may_decide=family.guardians[0].login is None,
                differing=family is divorced,
            )
            for family in plan.families
        ]

    def sibling_bookers(self, plan: _Plan) -> list[User]:
        """A parent with an account of each family with children in several groups, but no demo
        login: who may have used the siblings' head start in the planner."""
        return [
            self.users[next(g.person.email for g in f.guardians if g.active)]
            for f in plan.families
            if len(f.children) > 1
            and not any(g.login for g in f.guardians)
            and any(g.active for g in f.guardians)
        ]


# --- reporting --------------------------------------------------------------------------


@dataclass
class LoginRow:
    role: str
    email: str
    details: str


def _weekdays(member: StaffMember) -> str:
    days = sorted(member.working_weekdays)
    if days == list(ALL_WEEK):
        return "ma–vr"
    return ", ".join(WEEKDAY_NAMES[d] for d in days)


def demo_logins() -> list[LoginRow]:
    """The demo logins as they are in the database now, described from their records."""
    users = {u.email: u for u in User.objects.filter(email__in=LOGINS)}
    rows = []
    for email in LOGINS:
        user = users.get(email)
        if user is None:
            rows.append(LoginRow("(missing)", email, "run demo_school --reset"))
            continue
        guardian = next(iter(access.guardian_records_of(user)), None)
        staff = access.staff_member_of(user)
        if staff is not None:
            groups = ", ".join(g.name for g in staff.groups.order_by("name"))
            details = f"{user.get_full_name()}; {_weekdays(staff)}"
            if groups:
                details = f"{details}; groep {groups}"
            rows.append(LoginRow(LOGIN_ROLES[email], email, details))
        elif guardian is not None:
            relations = guardian.relations.select_related("pupil__group").order_by("pupil__group__name")
            children = ", ".join(
                f"{r.pupil.first_name} ({r.pupil.group.name if r.pupil.group else '-'}, "
                f"{r.kind}, access {r.access})"
                for r in relations
            )
            rows.append(LoginRow(LOGIN_ROLES[email], email, f"{guardian.full_name}: {children}"))
    return rows


def demo_summary(school: School) -> dict[str, object]:
    """What the command prints after building: each part's own lines, in this order."""
    parts = {
        **directory_demo.summary(school),
        **posts_demo.summary(school),
        **agenda_demo.summary(school),
        **privacy_demo.summary(school),
        **quality_demo.summary(school),
        **chats_demo.summary(school),
        **absences_demo.summary(school),
        **conversations_demo.summary(school),
    }
    parts["notifications"] = (
        Notification.objects.filter(user__guardian__relations__pupil__school=school).distinct().count()
    )
    return parts
