"""The fictional demo school, Basisschool De Klimroos: people, groups, calendar and logins.

Everything here is invented. Names are combined at random (with a fixed seed, so
every run builds the same people) from lists of common Dutch first names and
surnames; e-mail addresses use the reserved domain ``klimop.example`` (RFC 2606)
and phone numbers the unallocated 06-9 range. Nothing comes from the schools'
agreements of real schools that Klimop's settings were drawn from: demo data must be
fictional.

The plan (who is in which family and group) is built in pure Python first and
written afterwards with ``bulk_create``, so the people take a fraction of a second.

Then the school comes alive (``_school_life_create``): most families are active
(accounts with verified addresses, passwords unknown to the demo), decided about
photo consent, and read some of the posts of the last three school weeks; the agenda
holds the coming two months. Posts, photos, events and notifications go through the
real services; consent and reads are bulk rows shaped exactly as the services write
them. Every random choice uses its own seeded generator, so a rebuild for the same
date is identical. Dates of birth, the calendar, posts and events follow ``--date``.

On the build day (or the last school day before it) children are reported sick, one
late and one for a doctor's visit; a 5a pupil's fourth day of sickness has given
leerkracht@ a follow-up task; ouder@'s leave request awaits the director, another
family's was granted weeks ago. Report conversations for the whole school are two weeks
ahead, open for booking on the build day (ouder@, with two children in the round, a day
earlier) and partly booked by other sibling families. These go through the absences
and planner services too; every notification the services make is marked e-mailed.

Used by ``manage.py demo_school``; the functions run as the system (``actor=None``).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from PIL import Image, ImageDraw

from absences import services as absence_services
from absences.models import AbsenceReport, FollowUp, LeaveRequest
from communication.agenda import services as agenda_services
from communication.agenda.models import Event
from communication.chats import services as chat_services
from communication.chats.models import Conversation, Message, Participant
from communication.posts import services as post_services
from communication.posts.models import Post, PostAttachment, PostPhoto, PostRead
from conversations import selectors as planner_selectors
from conversations import services as planner_services
from conversations.models import Availability, Booking, BookingEvent, Round, Slot
from klimop import access, media, services, worktime
from klimop import selectors as directory
from klimop.access import ACT_ACCESS, VIEW_ACCESS
from klimop.models import (
    Group,
    Guardian,
    GuardianRelation,
    NonSchoolDay,
    Pupil,
    School,
    SchoolYear,
    StaffMember,
    User,
)
from klimop.notifications.models import Notification
from klimop.privacy.models import ConsentDecision, ConsentEvent, ConsentPurpose
from quality.models import Survey, SurveyParticipation, SurveyResponse

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


def _school_day_on_or_after(day: dt.date, weekday: int, taken: set[dt.date]) -> dt.date:
    while day.weekday() != weekday or day in taken:
        day += dt.timedelta(days=1)
    return day


# --- writing ----------------------------------------------------------------------------


def demo_school_get() -> School | None:
    return School.objects.filter(slug=SLUG).first()


def demo_school_delete() -> dict[str, int]:
    """Delete the demo school, its guardians and every login the demo created.

    Also removes leftovers of an earlier demo whose school was deleted by hand
    (guardians with the demo's ids, users with the demo's addresses), so that a
    new build never trips over them. Trusts its caller (the management command).
    """
    plan_emails = _plan().user_emails
    with transaction.atomic():
        school = demo_school_get()
        user_q = Q(email__in=plan_emails) | Q(guardian__external_id__startswith=GUARDIAN_ID_PREFIX)
        if school is not None:
            user_q |= Q(staff_members__school=school)
        user_ids = list(User.objects.filter(user_q).values_list("pk", flat=True).distinct())
        # The posts' photos and files go with their rows, after commit (like post_delete).
        files = [
            n
            for pair in PostPhoto.objects.filter(post__school__slug=SLUG).values_list("image", "thumbnail")
            for n in pair
        ]
        files += PostAttachment.objects.filter(post__school__slug=SLUG).values_list("file", flat=True)
        transaction.on_commit(lambda: media.delete_files(files))
        deleted = School.objects.filter(slug=SLUG).delete()[1]
        guardians = Guardian.objects.filter(external_id__startswith=GUARDIAN_ID_PREFIX).delete()[1]
        users = User.objects.filter(pk__in=user_ids).delete()[1]
    return {
        "schools": deleted.get("klimop.School", 0),
        "pupils": deleted.get("klimop.Pupil", 0),
        "guardians": guardians.get("klimop.Guardian", 0),
        "users": users.get("klimop.User", 0),
    }


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
        plan = _plan()
        school = services.school_create(
            actor=None,
            name=NAME,
            slug=SLUG,
            region=REGION,
            phone="030-0000000",
            email=f"info@{DOMAIN}",
            address="Klimroosweg 1, Voorbeeldstad",
        )
        start_year = school_year_start_for(region=REGION, today=today)
        year = services.school_year_create(actor=None, school=school, start_year=start_year)
        _study_days_create(school=school, year=year)
        groups = _groups_create(school=school, year=year)
        # Hashing is deliberately slow (PBKDF2): hash the published demo password once
        # and share the hash between the demo logins.
        demo_hash = make_password(settings.KLIMOP_DEMO_PASSWORD)
        _staff_create(school=school, plan=plan, groups=groups, demo_hash=demo_hash)
        _families_create(school=school, year=year, plan=plan, groups=groups, demo_hash=demo_hash, today=today)
        _school_life_create(school=school, year=year, plan=plan, today=today)
    return school, True


def _study_days_create(*, school: School, year: SchoolYear) -> None:
    """Two study days of the school's own: a Wednesday in autumn, a Friday in spring."""
    taken = set(NonSchoolDay.objects.filter(school=school).values_list("date", flat=True))
    autumn = _school_day_on_or_after(year.starts_on + dt.timedelta(weeks=6), WED, taken)
    spring = _school_day_on_or_after(year.starts_on + dt.timedelta(weeks=27), FRI, taken)
    NonSchoolDay.objects.bulk_create(
        [
            NonSchoolDay(school=school, date=autumn, kind=NonSchoolDay.Kind.STUDY_DAY, name="Studiedag team"),
            NonSchoolDay(
                school=school,
                date=spring,
                kind=NonSchoolDay.Kind.STUDY_DAY,
                name="Studiedag schoolontwikkeling",
            ),
        ]
    )


def _groups_create(*, school: School, year: SchoolYear) -> dict[str, Group]:
    Group.objects.bulk_create(
        Group(school=school, school_year=year, external_id=f"G-{name}", year=int(name[0]), name=name)
        for name in GROUP_NAMES
    )
    return {g.name: g for g in Group.objects.filter(school_year=year)}


def _demo_users_create(people: list[tuple[_Person, bool]], demo_hash: str) -> dict[str, int]:
    """Users for ``(person, is_demo_login)``: the demo logins get the demo password and a
    verified primary e-mail address (allauth's mandatory verification); others cannot log in.
    """
    User.objects.bulk_create(
        User(
            email=person.email,
            first_name=person.first_name,
            last_name=person.last_name,
            language=User.Language.DUTCH,
            password=demo_hash if login else make_password(None),
        )
        for person, login in people
    )
    by_email = dict(User.objects.filter(email__in=[p.email for p, _ in people]).values_list("email", "pk"))
    EmailAddress.objects.bulk_create(
        EmailAddress(user_id=by_email[person.email], email=person.email, verified=True, primary=True)
        for person, login in people
        if login
    )
    return by_email


def _staff_create(*, school: School, plan: _Plan, groups: dict[str, Group], demo_hash: str) -> None:
    users = _demo_users_create([(s.person, s.login) for s in plan.staff], demo_hash)
    # Directors and the office work in the Django admin as well as on the staff dashboard.
    managers = [users[s.person.email] for s in plan.staff if s.role in (Role.DIRECTOR, Role.OFFICE)]
    User.objects.filter(pk__in=managers).update(is_staff=True)
    StaffMember.objects.bulk_create(
        StaffMember(
            user_id=users[s.person.email],
            school=school,
            external_id=s.external_id,
            role=s.role,
            **{f: day in s.weekdays for day, f in enumerate(StaffMember.WEEKDAY_FIELDS)},
        )
        for s in plan.staff
    )
    members = dict(StaffMember.objects.filter(school=school).values_list("external_id", "pk"))
    through = StaffMember.groups.through
    through.objects.bulk_create(
        through(staffmember_id=members[s.external_id], group_id=groups[name].pk)
        for s in plan.staff
        for name in s.groups
    )


def _families_create(
    *,
    school: School,
    year: SchoolYear,
    plan: _Plan,
    groups: dict[str, Group],
    demo_hash: str,
    today: dt.date,
) -> None:
    guardians = [g for f in plan.families for g in f.guardians]
    users = _demo_users_create(
        [(g.person, bool(g.login)) for g in guardians if g.login or g.active], demo_hash
    )
    # Active parents were invited before the school year and followed the link, which
    # verified their address; the demo does not know (or set) their passwords.
    invited_at = dt.datetime.combine(
        min(year.starts_on, today) - dt.timedelta(days=10), dt.time(10), tzinfo=worktime.AMSTERDAM
    )
    User.objects.filter(pk__in=[users[g.person.email] for g in guardians if g.login or g.active]).update(
        invited_at=invited_at
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(user_id=users[g.person.email], email=g.person.email, verified=True, primary=True)
        for g in guardians
        if g.active
    )
    # Everyone else is "not invited yet": a guardian without a login.
    Guardian.objects.bulk_create(
        Guardian(
            user_id=users.get(g.person.email),
            external_id=g.external_id,
            first_name=g.person.first_name,
            last_name=g.person.last_name,
            email=g.person.email,
            phone=g.person.phone,
        )
        for g in guardians
    )
    Pupil.objects.bulk_create(
        Pupil(
            school=school,
            group=groups[c.group],
            external_id=c.external_id,
            first_name=c.first_name,
            last_name=c.last_name,
            date_of_birth=_birth_date(int(c.group[0]), c.birth_fraction, year.starts_on),
        )
        for f in plan.families
        for c in f.children
    )
    guardian_ids = dict(
        Guardian.objects.filter(external_id__startswith=GUARDIAN_ID_PREFIX).values_list("external_id", "pk")
    )
    pupil_ids = dict(Pupil.objects.filter(school=school).values_list("external_id", "pk"))
    GuardianRelation.objects.bulk_create(
        GuardianRelation(
            pupil_id=pupil_ids[c.external_id],
            guardian_id=guardian_ids[g.external_id],
            kind=g.kind,
            access=g.access,
        )
        for f in plan.families
        for c in f.children
        for g in f.guardians
    )


# --- school life: consent, posts, agenda, notifications ------------------------------------
#
# Written through the real services wherever one decision or one post is at stake (posts,
# photos, events, notifications), so every rule applies: who may post where, sanitising,
# the photo pipeline with its consent confirmation, "bring this" notice, at most one
# notification per cause. Where a service would mean hundreds of round trips (consent of
# 400 children, reads of 650 families) the rows are written in bulk, exactly as the
# service would have written them.

#: Purpose -> share of deciding families who say yes (group page mostly, social media seldom).
CONSENT_YES_SHARE = {
    ConsentPurpose.GROUP_PAGE: 0.94,
    ConsentPurpose.WEBSITE: 0.6,
    ConsentPurpose.SOCIAL_MEDIA: 0.35,
    ConsentPurpose.SCHOOL_GUIDE: 0.8,
    ConsentPurpose.NEWSLETTER: 0.85,
    ConsentPurpose.VIDEO: 0.55,
}
#: Families with an account who have filled in the consent form; the rest stay silent.
CONSENT_DECIDED_SHARE = 0.9
#: Of those, families who first said yes to the website and later withdrew it.
CONSENT_WITHDRAWN_SHARE = 0.05
#: The divorced login's family: the parents differ, so the stricter choice holds.
DIFFERING_CHOICES = (
    dict.fromkeys(ConsentPurpose.values, True),  # gescheiden@
    {
        **dict.fromkeys(ConsentPurpose.values, True),  # the ex
        ConsentPurpose.GROUP_PAGE: False,
        ConsentPurpose.SOCIAL_MEDIA: False,
    },
)
#: Posts look back this many school days.
POST_HISTORY_SCHOOL_DAYS = 15
#: Agenda events are planned this far ahead.
AGENDA_HORIZON = dt.timedelta(days=60)

DUTCH_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def _season_walk(day: dt.date) -> tuple[str, str]:
    season = {12: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 2, 7: 2, 8: 2}.get(day.month, 3)
    name = ("Winterwandeling", "Lentewandeling", "Zomerwandeling", "Herfstwandeling")[season]
    things = (
        "kale takken, sporen in de modder en een bevroren plas",
        "de eerste knoppen, eendjes en heel veel madeliefjes",
        "vlinders, bramen en een mierenhoop",
        "eikels, kastanjes, paddenstoelen en bladeren in alle kleuren",
    )[season]
    return (
        f"{name} in het bos",
        f"Vanochtend liepen we met de hele groep door het bos. We vonden {things}. "
        "In de klas hebben we alles gesorteerd en een natuurtafel gemaakt. "
        "Op de foto's ziet u een paar van onze vondsten.",
    )


# (kind, title, text, lowest year group, highest year group)
_A, _F = Post.Kind.ATMOSPHERE, Post.Kind.FUNCTIONAL
POST_CATALOGUE = (
    (
        _A,
        "Rekenen met blokjes",
        "Deze week bouwden we torens van tien blokjes en telden we "
        "hoeveel we er samen hadden. Wie bouwt thuis de hoogste toren?",
        1,
        3,
    ),
    (
        _A,
        "Voorlezen in de leeshoek",
        "Elke ochtend lezen we samen een prentenboek. Deze week "
        "was 'Rupsje Nooitgenoeg' favoriet: vraag thuis maar eens hoe het afliep!",
        1,
        3,
    ),
    (
        _A,
        "Proefjes met water",
        "Wat drijft en wat zinkt? We probeerden het uit met een kurk, "
        "een knikker en een appel. De appel verraste iedereen.",
        2,
        5,
    ),
    (
        _A,
        "Ons project over de ruimte",
        "We werken aan een project over de planeten. In de klas "
        "hangt nu een zonnestelsel van papier-maché, gemaakt door de hele groep.",
        3,
        6,
    ),
    (
        _A,
        "Gymles: apenkooien",
        "Klimmen, zwaaien en rennen zonder de grond te raken: "
        "apenkooien blijft het favoriete spel. Moe maar voldaan gingen we naar huis.",
        3,
        8,
    ),
    (
        _A,
        "Een eigen gedicht",
        "Iedereen schreef deze week een gedicht. Ze hangen op de gang; "
        "kom gerust kijken bij het brengen of halen.",
        4,
        8,
    ),
    (
        _A,
        "Spreekbeurten",
        "De eerste spreekbeurten zijn gehouden: over honden, voetbal en "
        "vulkanen. Wat een goede voorbereiding, knap gedaan!",
        5,
        8,
    ),
    (
        _A,
        "Debat in de klas",
        "Moet de schooldag later beginnen? We debatteerden in twee "
        "teams, met argumenten, tegenargumenten en een stemming. Het werd 14 tegen 11.",
        7,
        8,
    ),
    (
        _F,
        "Neem donderdag gymkleding mee",
        "Donderdag hebben we gym in de sporthal. Wilt u "
        "zorgen dat uw kind gymkleding en gymschoenen met lichte zolen meeneemt?",
        3,
        8,
    ),
    (
        _F,
        "Huiswerk: tafels oefenen",
        "Deze weken oefenen we de tafels van 6, 7 en 8. Tien "
        "minuten per dag thuis oefenen helpt enorm, bijvoorbeeld in de auto of aan tafel.",
        4,
        5,
    ),
    (
        _F,
        "Huiswerk voor de topotoets",
        "Volgende week is de toets topografie over de "
        "provincies en hun hoofdsteden. De oefenkaart zit in de map van uw kind.",
        6,
        8,
    ),
    (
        _F,
        "Uitstapje naar de kinderboerderij",
        "Vrijdag lopen we naar de kinderboerderij. We "
        "zoeken nog twee ouders die mee willen lopen; laat het de leerkracht even weten.",
        1,
        3,
    ),
    (
        _F,
        "Bibliotheekboeken terugbrengen",
        "Wilt u thuis even zoeken naar boeken van de "
        "schoolbibliotheek? Vrijdag brengen we ze terug en lenen we nieuwe.",
        2,
        6,
    ),
    (
        _F,
        "Woensdag fruitdag",
        "Op woensdag is het fruitdag: geef uw kind een stuk fruit en "
        "een beker water mee. Snoep en koek blijven die dag thuis.",
        1,
        4,
    ),
)
#: The photo post (by leerkracht@ in 5a) and the other fixed posts of ouder@'s groups.
PHOTO_GROUP = "5a"
FIXED_POSTS = {
    "5a": (
        (
            _F,
            "Excursie naar het Natuurmuseum",
            "Binnenkort gaan we met de groep naar het "
            "Natuurmuseum. In de agenda staat wat uw kind mee moet nemen. We vertrekken om "
            "8.45 uur en zijn rond 14.30 uur terug.",
            5,
            5,
        ),
        (
            _F,
            "Neem donderdag gymkleding mee",
            "Donderdag hebben we gym in de sporthal. Wilt "
            "u zorgen dat uw kind gymkleding en gymschoenen met lichte zolen meeneemt?",
            5,
            5,
        ),
    ),
    "6a": (POST_CATALOGUE[10], POST_CATALOGUE[6]),
}
NEWSLETTER_BODY = (
    "<p>Beste ouders en verzorgers,</p>"
    "<p>Wat een mooie weken hebben we achter de rug. Een paar dingen op een rij:</p>"
    "<ul><li>Het koffie-uurtje is weer begonnen: na het brengen staat de koffie klaar.</li>"
    "<li>De medezeggenschapsraad zoekt een nieuwe ouder. Interesse? Mail de directie.</li>"
    "<li>Kijk in de agenda voor de feesten en de studiedag; dan zijn de kinderen vrij.</li>"
    "<li>Gevonden voorwerpen liggen tot het einde van de maand bij de ingang.</li></ul>"
    "<p>Met vriendelijke groet,<br>namens het team van De Klimroos</p>"
)


@dataclass
class _Life:
    """What the posts and notifications step needs to know about the people."""

    users: dict[str, User]  # by e-mail: staff and demo logins
    teachers: dict[str, list[tuple[User, tuple[int, ...]]]]  # group -> class teachers
    director: User


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=worktime.AMSTERDAM)


def _school_life_create(*, school: School, year: SchoolYear, plan: _Plan, today: dt.date) -> None:
    emails = [s.person.email for s in plan.staff] + list(LOGINS)
    users = {u.email: u for u in User.objects.filter(email__in=emails)}
    teachers: dict[str, list] = defaultdict(list)
    for s in plan.staff:
        if s.role == Role.TEACHER and len(s.groups) == 1:
            teachers[s.groups[0]].append((users[s.person.email], s.weekdays))
    life = _Life(users=users, teachers=teachers, director=users[LOGIN_DIRECTOR])
    groups = {g.name: g for g in Group.objects.filter(school=school)}
    closed = set(NonSchoolDay.objects.filter(school=school).values_list("date", flat=True))
    # The demo's clock: the build date before school, never ahead of the real clock (a post
    # "in the past" must be visible now, since visibility is decided by publish_at alone).
    moment = min(timezone.now(), _local(today, 7, 30))
    _consent_create(school=school, year=year, plan=plan, today=today)
    posts = _posts_create(school=school, groups=groups, life=life, closed=closed, moment=moment)
    _agenda_create(school=school, groups=groups, life=life, closed=closed, today=today)
    _reads_and_notifications_create(school=school, posts=posts, groups=groups, life=life, moment=moment)
    _chats_create(school=school, year=year, groups=groups, life=life, closed=closed, moment=moment)
    cal = directory.school_calendar(school)
    _absences_create(school=school, plan=plan, groups=groups, life=life, cal=cal, moment=moment, today=today)
    _planner_create(school=school, plan=plan, groups=groups, life=life, cal=cal, moment=moment, today=today)
    _quality_history_create(school=school, life=life, moment=moment)


# --- quality card: logins and a closed satisfaction survey ------------------------------------

SURVEY_COMMENTS = (
    "Fijn dat ziekmelden nu via de telefoon kan, ook vroeg in de ochtend.",
    "De foto's van de groep worden erg gewaardeerd thuis!",
    "Soms duurt een antwoord van de leerkracht wat lang, verder prima.",
    "Graag eerder de data van de oudergesprekken doorgeven.",
)


def _quality_history_create(*, school: School, life: _Life, moment: dt.datetime) -> None:
    """What the quality card measures beyond the other steps: most parents with an account
    logged in during the last weeks, and an autumn survey (closed) with anonymous answers,
    about nine in ten satisfied. The demo logins keep ``last_login`` empty until they log in.
    """
    rng = random.Random(SEED + 12)
    parents = list(
        User.objects.filter(guardian__relations__pupil__school=school, is_active=True)
        .exclude(email__in=list(LOGINS))
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    recent = [pk for pk in parents if rng.random() < 0.86]
    logins = [
        User(pk=pk, last_login=moment - dt.timedelta(days=rng.randint(0, 25), minutes=rng.randint(0, 900)))
        for pk in recent
    ]
    User.objects.bulk_update(logins, ["last_login"], batch_size=500)

    opens = moment - dt.timedelta(days=35)
    survey = Survey.objects.create(
        school=school,
        title="Oudertevredenheid najaar",
        opens_at=opens,
        closes_at=moment - dt.timedelta(days=14),
        created_by=life.director,
        question="Hoe tevreden bent u over de communicatie tussen school en ouders?",
    )
    answered = rng.sample(recent, k=min(len(recent), 180))
    SurveyParticipation.objects.bulk_create(SurveyParticipation(survey=survey, user_id=pk) for pk in answered)
    scores = rng.choices((5, 4, 3, 2, 1), weights=(52, 39, 6, 2, 1), k=len(answered))
    comments = {rng.randrange(len(answered)): text for text in SURVEY_COMMENTS}
    SurveyResponse.objects.bulk_create(
        SurveyResponse(survey=survey, score=score, comment=comments.get(n, ""))
        for n, score in enumerate(scores)
    )


# --- chats ----------------------------------------------------------------------------------


def _chats_create(
    *,
    school: School,
    year: SchoolYear,
    groups: dict[str, Group],
    life: _Life,
    closed: set[dt.date],
    moment: dt.datetime,
) -> None:
    """A few conversations in group 5a, written through ``message_send`` at past moments.

    The per-child chats exist for every pupil (the hourly sync's work). ouder@ asked
    leerkracht@ something two school days ago and got an answer the next morning; a
    group conversation about the Christmas dinner has a reply; another parent's
    question of last evening is still open, so leerkracht@'s dashboard lists a parent
    waiting for an answer. Old messages count as read and their notifications as sent.
    """
    chat_services.child_conversations_sync(school_year=year)
    days = _school_days_before(moment, closed, 3)  # newest first
    group = groups[PHOTO_GROUP]
    teacher = life.users[LOGIN_TEACHER]
    parent = life.users[LOGIN_PARENT]
    pupil = Pupil.objects.filter(group=group, guardian_relations__guardian__user=parent).first()
    neighbour = (
        User.objects.filter(
            guardian__relations__pupil__group=group,
            is_active=True,
            guardian__relations__access=GuardianRelation.Access.FULL,
        )
        .exclude(email__in=list(LOGINS))
        .order_by("pk")
        .first()
    )
    if pupil is None or neighbour is None or len(days) < 2:
        return
    old = []

    direct = Conversation.objects.create(
        kind=Conversation.Kind.DIRECT, school=school, pupil=pupil, created_by=parent, title=pupil.full_name
    )
    teachers = [u for u, _weekdays in life.teachers[PHOTO_GROUP]]
    Participant.objects.bulk_create(
        [Participant(conversation=direct, user=parent)]
        + [Participant(conversation=direct, user=u, is_staff=True) for u in teachers]
    )
    asked = _local(days[1], 19, 42)
    old.append(
        chat_services.message_send(
            actor=parent,
            conversation=direct,
            at=asked,
            body=f"Goedenavond, {pupil.first_name} heeft donderdag om 10:30 een afspraak bij de "
            "orthodontist. Mag ik haar om 10:10 bij het hek ophalen?",
        )
    )
    answerer = _author_on(life, PHOTO_GROUP, days[0])
    old.append(
        chat_services.message_send(
            actor=answerer,
            conversation=direct,
            at=_local(days[0], 8, 12),
            body=f"Goedemorgen! Dat is goed, ik zorg dat {pupil.first_name} om 10:10 klaarstaat met "
            "jas en tas.",
        )
    )

    talk = chat_services.conversation_start_group(
        actor=teacher, group=group, title="Kerstdiner: wie helpt er mee?"
    )
    old.append(
        chat_services.message_send(
            actor=teacher,
            conversation=talk,
            at=_local(days[1], 13, 5),
            body="Beste ouders, voor het kerstdiner zoeken we nog vier ouders die willen helpen met "
            "opbouwen (16:30) en opruimen (19:30). Laat het hier weten!",
        )
    )
    old.append(
        chat_services.message_send(
            actor=neighbour, conversation=talk, at=_local(days[1], 18, 20), body="Ik help graag met opbouwen."
        )
    )

    question = Conversation.objects.create(
        kind=Conversation.Kind.DIRECT,
        school=school,
        created_by=neighbour,
        pupil=Pupil.objects.filter(group=group, guardian_relations__guardian__user=neighbour).first(),
        title="",
    )
    question.title = question.pupil.full_name if question.pupil else group.name
    question.save(update_fields=["title"])
    Participant.objects.bulk_create(
        [Participant(conversation=question, user=neighbour)]
        + [Participant(conversation=question, user=u, is_staff=True) for u in teachers]
    )
    open_question = chat_services.message_send(
        actor=neighbour,
        conversation=question,
        at=moment - dt.timedelta(hours=14),
        body="Goedemorgen, is de gymles morgen binnen of buiten? Dan weet ik welke schoenen mee moeten.",
    )

    # History: the old messages have been read and their notifications sent.
    for conversation in (direct, talk, question):
        first = conversation.messages.order_by("created_at").first()
        Conversation.objects.filter(pk=conversation.pk).update(created_at=first.created_at)
        Participant.objects.filter(conversation=conversation).update(joined_at=first.created_at)
    read_at = max(m.deliver_at for m in old) + dt.timedelta(minutes=30)
    Participant.objects.filter(conversation__in=[direct, talk]).update(
        last_read_at=read_at, receipt_at=read_at
    )
    for message in old:
        Notification.objects.filter(cause=f"message:{message.pk}").update(
            created_at=message.deliver_at,
            deliver_at=message.deliver_at,
            read_at=message.deliver_at + dt.timedelta(minutes=30),
            email_status=Notification.EmailStatus.SENT,
            emailed_at=message.deliver_at,
        )
    # The open question was announced when it came in; its notifications are still unread.
    Notification.objects.filter(cause=f"message:{open_question.pk}").update(
        created_at=open_question.created_at,
        email_status=Notification.EmailStatus.SENT,
        emailed_at=F("deliver_at"),
    )


# --- absences and leave ---------------------------------------------------------------------
#
# Written through ``absences.services`` at the moments the parents, the office and the
# director acted (``now=``), so every rule applies: who may report for whom, school days,
# clashes, the cutoff that makes a report late, the Leerplichtwet checks of leave. The
# notifications those services make are dated back and marked e-mailed (``_as_sent``).

_SICK, _APPOINTMENT = AbsenceReport.Kind.SICK, AbsenceReport.Kind.APPOINTMENT
_PORTAL, _PHONE = AbsenceReport.Channel.PORTAL, AbsenceReport.Channel.PHONE
#: The absences of the demo's day: group, kind, channel, reported (calendar days before,
#: hour, minute), appointment times, only that day, note. A parent reports in the portal; the
#: phone call goes to the office. The 5a report comes after the cutoff (08:20): late.
ABSENCES_TODAY = (
    ("1a", _SICK, _PORTAL, (1, 20, 48), None, False, "Koorts sinds vanmiddag, blijft morgen thuis."),
    ("3b", _SICK, _PORTAL, (0, 7, 12), None, False, ""),
    (
        "5a",
        _SICK,
        _PORTAL,
        (0, 8, 41),
        None,
        False,
        "Sorry voor de late melding: vanochtend pas buikpijn gekregen.",
    ),
    (
        "6b",
        _APPOINTMENT,
        _PORTAL,
        (1, 19, 35),
        ((10, 30), (11, 45)),
        False,
        "Controle bij de huisarts, daarna weer naar school.",
    ),
    ("7a", _SICK, _PHONE, (0, 8, 3), None, False, "Buikgriep."),
    ("8b", _SICK, _PORTAL, (0, 7, 46), None, True, "Flink verkouden; morgen hopelijk weer op school."),
)
#: A pupil of leerkracht@'s group, sick for three school days: the follow-up task is due.
FOLLOW_UP_GROUP = "5a"
#: The group of the child whose extra vacation (art. 13a) was granted weeks ago and starts today.
LEAVE_GROUP = "4b"
VACATION_REASON = (
    "Mijn partner werkt in de kassenteelt. In alle schoolvakanties is het daar "
    "hoogseizoen, dus samen op vakantie kan alleen buiten de vakanties."
)
VACATION_EXPLANATION = "De werkgeversverklaring heb ik op papier afgegeven bij de administratie."
VACATION_DECISION = (
    "Verleend op grond van artikel 13a van de Leerplichtwet: de werkgeversverklaring "
    "(op papier ontvangen) laat zien dat een vakantie in de schoolvakanties niet "
    "mogelijk is. Dit is het enige extra vakantieverlof voor dit schooljaar."
)
WEDDING_REASON = (
    "Bruiloft van mijn broer. De ceremonie is 's ochtends vroeg en ver weg; we vertrekken "
    "de avond ervoor en zijn de maandag weer op school."
)


def _school_days_from(
    cal: worktime.WorkCalendar, day: dt.date, n: int, step: int = 1, horizon: int = 60
) -> list[dt.date]:
    """Up to ``n`` school days from ``day`` on (inclusive), forward (``step`` 1) or back (-1)."""
    days: list[dt.date] = []
    for _ in range(horizon):
        if len(days) == n:
            break
        if worktime.is_working_day(cal, day):
            days.append(day)
        day += dt.timedelta(days=step)
    return days


def _as_sent(
    notes, at: dt.datetime, cal: worktime.WorkCalendar, *, read_at: dt.datetime | None = None
) -> None:
    """Date the notifications a service just made back to ``at``, delivered and e-mailed.

    Parents get them at once, staff at their next working moment, as ``notify`` decides;
    ``notify`` counts from the real clock, the demo from its own.
    """
    ids = list(notes.values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids).update(
        created_at=at,
        deliver_at=at,
        emailed_at=at,
        read_at=read_at,
        email_status=Notification.EmailStatus.SENT,
    )
    for note in (
        Notification.objects.filter(pk__in=ids, user__staff_members__isnull=False)
        .distinct()
        .prefetch_related("user__staff_members")
    ):
        try:
            deliver = worktime.next_opening(
                cal.for_weekdays(note.user.staff_members.all()[0].working_weekdays), at
            )
        except worktime.NoWorkingTime:
            continue
        if deliver != at:
            Notification.objects.filter(pk=note.pk).update(
                deliver_at=deliver, emailed_at=deliver, read_at=read_at and max(read_at, deliver)
            )


def _absences_create(
    *,
    school: School,
    plan: _Plan,
    groups: dict[str, Group],
    life: _Life,
    cal: worktime.WorkCalendar,
    moment: dt.datetime,
    today: dt.date,
) -> None:
    """The demo's school day (the build date, or the last school day before it): sick reports
    and a doctor's visit in six groups, one of them late; a 5a pupil in their fourth school
    day of sickness, whose follow-up task the sweep made yesterday; leave for ouder@'s children
    awaiting the director, and another family's extra vacation, granted weeks ago, from today.

    Children of the demo logins' families are left out (ouder@'s pending leave aside), so
    the logins' own pages stay as the other parts of the demo describe them.
    """
    found = _school_days_from(cal, today, 1, step=-1, horizon=10)
    if not found:
        return  # the summer holidays: the school year has not begun
    day = found[0]
    rng = random.Random(SEED + 7)
    logins = set(
        Pupil.objects.filter(school=school, guardian_relations__guardian__user__email__in=LOGINS).values_list(
            "pk", flat=True
        )
    )
    by_group: dict[str, list[Pupil]] = defaultdict(list)
    for pupil in (
        Pupil.objects.filter(school=school)
        .exclude(pk__in=logins)
        .select_related("school", "group")
        .order_by("external_id")
    ):
        by_group[pupil.group.name].append(pupil)
    # Who reports for a child: its first guardian with an account who may act for it.
    reporters: dict[int, int] = {}
    for pupil_id, user_id in (
        GuardianRelation.objects.filter(
            pupil__school=school, access__in=ACT_ACCESS, guardian__user__is_active=True
        )
        .order_by("guardian__external_id")
        .values_list("pupil_id", "guardian__user_id")
    ):
        reporters.setdefault(pupil_id, user_id)
    taken: set[int] = set()

    def pick(group: str, *, with_account: bool = True) -> tuple[Pupil, User | None]:
        pupil = rng.choice(
            [p for p in by_group[group] if p.pk not in taken and (p.pk in reporters or not with_account)]
        )
        taken.add(pupil.pk)
        reporter = User.objects.get(pk=reporters[pupil.pk]) if pupil.pk in reporters else None
        return pupil, reporter

    _leave_granted_create(life=life, cal=cal, day=day, moment=moment, pick=pick)

    # Sick since three school days ago: yesterday was the third, the sweep made the task.
    before = _school_days_from(cal, day - dt.timedelta(days=1), 3, step=-1)
    if len(before) == 3:
        pupil, parent = pick(FOLLOW_UP_GROUP)
        absence_services.absence_reports_create(
            actor=parent,
            pupils=[pupil],
            kind=_SICK,
            starts_on=before[-1],
            note="Griep met hoge koorts.",
            now=_local(before[-1], 7, 35),
        )
        absence_services.follow_ups_create_due(now=worktime.opening_of(cal, before[0]))
        for follow_up in FollowUp.objects.filter(school=school):
            _as_sent(
                Notification.objects.filter(cause=f"absence-follow-up:{follow_up.pk}"),
                follow_up.created_at,
                cal,
            )

    _leave_pending_create(life=life, cal=cal, day=day, before=before)

    for group, kind, channel, (days_before, hour, minute), times, one_day, note in ABSENCES_TODAY:
        pupil, parent = pick(group, with_account=channel == _PORTAL)
        extra: dict[str, object] = {}
        if times:
            extra.update(from_time=dt.time(*times[0]), until_time=dt.time(*times[1]))
        actor = parent
        if channel == _PHONE:
            actor = life.users[LOGIN_OFFICE]
            caller = (
                GuardianRelation.objects.filter(pupil=pupil, access__in=ACT_ACCESS)
                .select_related("guardian")
                .order_by("guardian__external_id")
                .first()
            )
            extra["caller"] = caller.guardian.full_name if caller else ""
        absence_services.absence_reports_create(
            actor=actor,
            pupils=[pupil],
            kind=kind,
            starts_on=day,
            ends_on=day if one_day else None,
            channel=channel,
            note=note,
            now=_local(day - dt.timedelta(days=days_before), hour, minute),
            **extra,
        )


def _leave_granted_create(
    *, life: _Life, cal: worktime.WorkCalendar, day: dt.date, moment: dt.datetime, pick
) -> None:
    """Extra vacation (art. 13a) for a 4b child from the demo's day on, five school days,
    requested nine weeks ahead and granted by the director three days later.

    Skipped where the Leerplichtwet would refuse it (the first two school weeks).
    """
    pupil, parent = pick(LEAVE_GROUP)
    days = _school_days_from(cal, day, 5)
    submitted = max(
        _local(day - dt.timedelta(weeks=9), 20, 30), parent.invited_at + dt.timedelta(days=1, hours=10)
    )
    decided = _local((submitted + dt.timedelta(days=3)).date(), 10, 15)
    kind = LeaveRequest.Kind.EXTRA_VACATION
    check = absence_services.leave_request_check(
        actor=parent,
        pupils=[pupil],
        kind=kind,
        starts_on=days[0],
        ends_on=days[-1],
        has_statement=False,
        now=submitted,
    )
    if check.errors or decided >= moment:
        return
    leave = absence_services.leave_request_create(
        actor=parent,
        pupils=[pupil],
        kind=kind,
        starts_on=days[0],
        ends_on=days[-1],
        reason=VACATION_REASON,
        explanation=VACATION_EXPLANATION,
        now=submitted,
    )
    _as_sent(Notification.objects.filter(cause=f"leave-request:{leave.pk}"), submitted, cal, read_at=decided)
    absence_services.leave_decide(
        actor=life.director,
        leave_request=leave,
        decision=LeaveRequest.Status.GRANTED,
        reasons=VACATION_DECISION,
        now=decided,
    )
    _as_sent(
        Notification.objects.filter(cause=f"leave-decision:{leave.pk}"),
        decided,
        cal,
        read_at=decided + dt.timedelta(hours=7),
    )


def _leave_pending_create(
    *, life: _Life, cal: worktime.WorkCalendar, day: dt.date, before: list[dt.date]
) -> None:
    """ouder@ asked leave for both children for a family wedding on a Friday about five weeks
    ahead (important circumstances, one school day), two evenings ago: the director has
    been notified and has not decided yet."""
    parent = life.users[LOGIN_PARENT]
    children = list(access.pupils_actable_by(parent).select_related("school").order_by("external_id"))
    fridays = [d for d in _school_days_from(cal, day + dt.timedelta(days=33), 10) if d.weekday() == FRI]
    submitted = _local(before[1] if len(before) > 1 else day - dt.timedelta(days=2), 21, 10)
    if not fridays or not children:
        return
    kind = LeaveRequest.Kind.IMPORTANT
    check = absence_services.leave_request_check(
        actor=parent,
        pupils=children,
        kind=kind,
        starts_on=fridays[0],
        ends_on=fridays[0],
        has_statement=False,
        now=submitted,
    )
    if check.errors:
        return
    leave = absence_services.leave_request_create(
        actor=parent,
        pupils=children,
        kind=kind,
        starts_on=fridays[0],
        ends_on=fridays[0],
        reason=WEDDING_REASON,
        now=submitted,
    )
    _as_sent(Notification.objects.filter(cause=f"leave-request:{leave.pk}"), submitted, cal)


# --- conversation planner ---------------------------------------------------------------------

#: The round's name; the children of the school's ``child_attends_years`` (5–8) join in.
PLANNER_TITLE = "Rapportgesprekken"
#: Every class teacher's time on each of the two conversation days.
PLANNER_HOURS = (dt.time(13, 0), dt.time(16, 30))
#: Families with children in several groups who used their head start and booked already.
PLANNER_EARLY_FAMILIES = 4


def _conversation_days(
    cal: worktime.WorkCalendar, today: dt.date, opens_days_before: int
) -> tuple[dt.date, dt.date] | None:
    """Two school days close together, the first ``opens_days_before`` days after ``today``
    (booking opens today) or up to two days sooner (it opened just before); failing that,
    later (it opens within days). None near the end of the school year."""
    offsets = [opens_days_before - n for n in range(3)] + [opens_days_before + n for n in range(1, 15)]
    for offset in offsets:
        first = today + dt.timedelta(days=offset)
        if offset < 1 or not worktime.is_working_day(cal, first):
            continue
        following = _school_days_from(cal, first + dt.timedelta(days=1), 1, horizon=4)
        if following:
            return first, following[0]
    return None


def _planner_create(
    *,
    school: School,
    plan: _Plan,
    groups: dict[str, Group],
    life: _Life,
    cal: worktime.WorkCalendar,
    moment: dt.datetime,
    today: dt.date,
) -> None:
    """A round of report conversations about two weeks ahead, through ``conversations.services``.

    All sixteen groups take part (children of groups 5–8 join, the school's setting), so
    ouder@, with children in 5a and 2b, has the siblings' head start: booking opens on the
    build day at 08:00 (``planner_opens_days_before``; around a weekend or holiday a day or
    two sooner or, failing that, within days) and a day earlier for them, so they can book
    right away. Each class teacher has 13:00–16:30 on both days; four other
    sibling families booked back to back in their head start. Everyone who may book was
    invited when booking opened for them (the invitation sweep), marked e-mailed.
    """
    days = _conversation_days(
        cal, today, planner_services.planner_settings_for(school).planner_opens_days_before
    )
    if days is None:
        return
    round_ = planner_services.round_save(
        actor=life.director,
        groups=[groups[name] for name in GROUP_NAMES],
        round_=Round(
            school=school, kind=Round.Kind.REPORT, title=PLANNER_TITLE, first_date=days[0], last_date=days[1]
        ),
    )
    for name in GROUP_NAMES:
        for day in days:
            planner_services.availability_add(
                actor=_author_on(life, name, day),
                round_=round_,
                group=groups[name],
                date=day,
                starts=PLANNER_HOURS[0],
                ends=PLANNER_HOURS[1],
                location=f"Lokaal {name}",
            )
    planned = min(moment, round_.opens_at) - dt.timedelta(days=7)
    Round.objects.filter(pk=round_.pk).update(created_at=planned)
    Availability.objects.filter(round=round_).update(created_at=planned + dt.timedelta(days=2))

    rng = random.Random(SEED + 8)
    early = round_.opens_at - planner_services.head_start(round_)
    if early < moment:
        families = [
            f
            for f in plan.families
            if len(f.children) > 1
            and not any(g.login for g in f.guardians)
            and any(g.active for g in f.guardians)
        ]
        chosen = rng.sample(families, min(PLANNER_EARLY_FAMILIES, len(families)))
        times = sorted(
            min(
                early + dt.timedelta(hours=rng.randint(1, 12), minutes=rng.randint(0, 59)),
                moment - dt.timedelta(minutes=5),
            )
            for _ in chosen
        )
        for family, at in zip(chosen, times, strict=True):
            booker = User.objects.get(email=next(g.person.email for g in family.guardians if g.active))
            view = planner_selectors.parent_round(viewer=booker, round_=round_, now=at)
            choices = (
                rng.choice(view.suggestions)
                if view.suggestions
                else [(c.pupil, c.days[0][1][0]) for c in view.unbooked if c.days]
            )
            made = [
                b.pk
                for b in planner_services.bookings_create(
                    actor=booker, round_=round_, choices=choices, now=at
                )
            ]
            Booking.objects.filter(pk__in=made).update(created_at=at, updated_at=at)
            events = BookingEvent.objects.filter(booking_id_at_time__in=made)
            events.update(at=at)
            for event_id in events.values_list("pk", flat=True):
                _as_sent(
                    Notification.objects.filter(cause=f"planner-booked:{event_id}"),
                    at,
                    cal,
                    read_at=at + dt.timedelta(minutes=1),
                )

    # The invitation sweep, as it ran when booking opened for the siblings and for everyone.
    cause, seen = f"planner-invite:{round_.pk}", set()
    for at in sorted({worktime.next_opening(cal, early), worktime.next_opening(cal, round_.opens_at)}):
        planner_services.invitations_send(now=at)
        new = set(Notification.objects.filter(cause=cause).exclude(pk__in=seen).values_list("pk", flat=True))
        _as_sent(Notification.objects.filter(pk__in=new), at, cal)
        seen |= new


# --- consent --------------------------------------------------------------------------------


def _consent_create(*, school: School, year: SchoolYear, plan: _Plan, today: dt.date) -> None:
    """Consent decisions in bulk, with the one history row per change that
    ``privacy_services.consent_set_many`` writes (old → new, by the parent, at that time).

    Deciders are the parents with gezag and full access who have an account; a family that
    has not decided (ouder@'s, some others) is silent, which counts as no consent.
    """
    rng = random.Random(SEED + 3)
    pupil_ids = dict(Pupil.objects.filter(school=school).values_list("external_id", "pk"))
    guardian_ids = dict(
        Guardian.objects.filter(external_id__startswith=GUARDIAN_ID_PREFIX).values_list("external_id", "pk")
    )
    user_ids = dict(User.objects.filter(guardian__isnull=False).values_list("email", "pk"))
    first = min(year.starts_on, today) - dt.timedelta(days=7)
    span = max((today - dt.timedelta(days=1) - first).days, 0)
    differing = plan.family_of(LOGIN_DIVORCED)
    decisions, events = [], []
    for family in plan.families:
        deciders = [
            g
            for g in family.guardians
            if g.kind == Kind.PARENT_WITH_AUTHORITY and g.access == Access.FULL and (g.login or g.active)
        ]
        decided = rng.random() < CONSENT_DECIDED_SHARE
        choices = {p: rng.random() < share for p, share in CONSENT_YES_SHARE.items()}
        withdrawn = choices[ConsentPurpose.WEBSITE] and rng.random() < CONSENT_WITHDRAWN_SHARE
        day = first + dt.timedelta(days=rng.randint(0, span))
        if family is differing:
            per_guardian = dict(zip((g.external_id for g in deciders), DIFFERING_CHOICES, strict=True))
        elif decided and family.guardians[0].login is None:
            per_guardian = {g.external_id: choices for g in deciders}
        else:
            continue
        for n, guardian in enumerate(deciders):
            at = _local(day, 19 + n, rng.randint(0, 59))
            user_id = user_ids[guardian.person.email]
            for child in family.children:
                for purpose, granted in per_guardian[guardian.external_id].items():
                    common = {
                        "pupil_id": pupil_ids[child.external_id],
                        "guardian_id": guardian_ids[guardian.external_id],
                        "purpose": purpose,
                        "school_year": year,
                    }
                    if withdrawn and purpose == ConsentPurpose.WEBSITE:
                        later = min(at + dt.timedelta(days=12), _local(today, 7))
                        events.append(
                            ConsentEvent(
                                **common, old_granted=None, new_granted=True, actor_id=user_id, at=at
                            )
                        )
                        events.append(
                            ConsentEvent(
                                **common, old_granted=True, new_granted=False, actor_id=user_id, at=later
                            )
                        )
                        decisions.append(
                            ConsentDecision(**common, granted=False, decided_at=later, decided_by_id=user_id)
                        )
                        continue
                    events.append(
                        ConsentEvent(**common, old_granted=None, new_granted=granted, actor_id=user_id, at=at)
                    )
                    decisions.append(
                        ConsentDecision(**common, granted=granted, decided_at=at, decided_by_id=user_id)
                    )
    ConsentDecision.objects.bulk_create(decisions, batch_size=1000)
    ConsentEvent.objects.bulk_create(events, batch_size=1000)


# --- posts ----------------------------------------------------------------------------------


def _school_days_before(moment: dt.datetime, closed: set[dt.date], n: int) -> list[dt.date]:
    """The last ``n`` weekdays without a day off before ``moment``'s date, newest first."""
    days, day = [], moment.astimezone(worktime.AMSTERDAM).date()
    while len(days) < n:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            days.append(day)
    return days


def _demo_photo(n: int) -> SimpleUploadedFile:
    """A colourful picture of a walk in the woods, drawn in memory: no people, no files.

    It carries a camera EXIF block on purpose, as a phone photo would, so the demo shows
    (and the tests check) that the photo pipeline strips it.
    """
    rng = random.Random(SEED + 10 + n)
    w, h = 960, 720
    sky, ground = ((120, 185, 235), (250, 222, 170)) if n == 0 else ((250, 205, 140), (160, 105, 60))
    img = Image.composite(
        Image.new("RGB", (w, h), ground),
        Image.new("RGB", (w, h), sky),
        Image.linear_gradient("L").resize((w, h)),
    )
    draw = ImageDraw.Draw(img)
    leaf_colours = [(214, 90, 40), (236, 160, 40), (190, 50, 40), (150, 160, 50), (240, 200, 60)]
    if n == 0:
        draw.ellipse((w - 210, 50, w - 90, 170), fill=(255, 220, 90))
        draw.ellipse((-200, h * 0.55, w * 0.7, h * 1.4), fill=(110, 150, 70))
        draw.ellipse((w * 0.4, h * 0.6, w * 1.3, h * 1.5), fill=(90, 130, 60))
        for i in range(7):
            x, base = 60 + i * 135 + rng.randint(-20, 20), h * 0.75 + rng.randint(-30, 30)
            draw.rectangle((x - 10, base - 120, x + 10, base), fill=(110, 70, 40))
            colour = rng.choice(leaf_colours)
            draw.polygon([(x - 70, base - 100), (x + 70, base - 100), (x, base - 300)], fill=colour)
    else:
        for _ in range(40):
            x, y, r = rng.randint(0, w), rng.randint(0, h), rng.randint(25, 70)
            draw.ellipse((x - r, y - r // 2, x + r, y + r // 2), fill=rng.choice(leaf_colours))
            draw.line((x - r, y, x + r, y), fill=(100, 60, 30), width=3)
        for _ in range(12):
            x, y = rng.randint(40, w - 40), rng.randint(40, h - 40)
            draw.ellipse((x - 22, y - 28, x + 22, y + 20), fill=(150, 95, 45))
            draw.chord((x - 24, y - 34, x + 24, y - 4), 180, 360, fill=(95, 65, 35))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Klimop", "Demo camera"  # Make, Model
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=88, exif=exif)
    return SimpleUploadedFile(f"wandeling-{n + 1}.jpg", out.getvalue(), content_type="image/jpeg")


def _author_on(life: _Life, group: str, day: dt.date) -> User:
    """The group's class teacher who works that weekday (duo groups share the week)."""
    for user, weekdays in life.teachers[group]:
        if day.weekday() in weekdays:
            return user
    return life.teachers[group][0][0]


def _posts_create(
    *, school: School, groups: dict[str, Group], life: _Life, closed: set[dt.date], moment: dt.datetime
) -> list[Post]:
    """2–4 posts per group and a newsletter, on school days of the last three weeks.

    Each goes through ``post_create`` (permissions, sanitising, photo pipeline), which
    publishes at the author's *current* working time. The demo needs history, so the
    publication and writing times are then set to the past school day planned for the
    post, and the post is marked notified: parents "were told" back then, and the publish
    sweep must not announce 45 old posts to 650 families when ``make run`` starts.
    """
    rng = random.Random(SEED + 4)
    days = _school_days_before(moment, closed, POST_HISTORY_SCHOOL_DAYS)
    planned: list[tuple[dt.datetime, dict]] = []
    for name, group in groups.items():
        fixed = list(FIXED_POSTS.get(name, ()))
        fixed_titles = {f[1] for f in fixed}
        eligible = [p for p in POST_CATALOGUE if p[3] <= group.year <= p[4] and p[1] not in fixed_titles]
        count = rng.randint(2, 4)
        atmosphere = [p for p in eligible if p[0] == _A]
        functional = [p for p in eligible if p[0] == _F]
        chosen = fixed[:count]
        if not any(p[0] == _A for p in chosen):
            chosen.append(rng.choice(atmosphere))
        if not any(p[0] == _F for p in chosen):
            chosen.append(rng.choice(functional))
        rest = [p for p in eligible if p not in chosen]
        chosen += rng.sample(rest, max(0, count - len(chosen)))
        photo_day = None
        if name == PHOTO_GROUP:
            # The newest post of 5a: the walk with photos, on leerkracht@'s last working day.
            photo_day = next(d for d in days if d.weekday() in life.teachers[name][0][1])
            title, text = _season_walk(photo_day)
            chosen.insert(0, (_A, title, text, 5, 5))
        older = [d for d in days[1:] if photo_day is None or d < photo_day]
        post_days = sorted(rng.sample(older, len(chosen) - bool(photo_day)), reverse=True)
        if photo_day is not None:
            post_days.insert(0, photo_day)
        elif name == "2b":
            post_days[0] = days[0]
        for n, ((kind, title, text, *_years), day) in enumerate(zip(chosen, post_days, strict=True)):
            author = _author_on(life, name, day)
            at = _local(day, rng.randint(8, 15), rng.randint(0, 59))
            planned.append(
                (
                    at,
                    {
                        "actor": author,
                        "group": group,
                        "kind": kind,
                        "title": title,
                        "body": text,
                        "photos": n == 0 and photo_day is not None,
                    },
                )
            )
    newsletter_day = days[min(4, len(days) - 1)]
    month = DUTCH_MONTHS[newsletter_day.month - 1]
    planned.append(
        (
            _local(newsletter_day, 12, 15),
            {
                "actor": life.director,
                "school": school,
                "kind": Post.Kind.NEWSLETTER,
                "title": f"Nieuwsbrief {month}",
                "body": NEWSLETTER_BODY,
            },
        )
    )
    planned.sort(key=lambda item: item[0])  # older posts get lower ids, as in real life

    posts = []
    for at, fields in planned:
        photos = [_demo_photo(0), _demo_photo(1)] if fields.pop("photos", False) else ()
        post = post_services.post_create(**fields, photos=photos, consent_confirmed=bool(photos))
        post.publish_at = post.created_at = at
        post.held_for_office_hours = False
        post.notified_at = at + dt.timedelta(minutes=1)
        if post.consent_confirmed_at is not None:
            post.consent_confirmed_at = at
        posts.append(post)
    Post.objects.bulk_update(
        posts, ["publish_at", "created_at", "held_for_office_hours", "notified_at", "consent_confirmed_at"]
    )
    return posts


# --- agenda ---------------------------------------------------------------------------------


def _agenda_create(
    *, school: School, groups: dict[str, Group], life: _Life, closed: set[dt.date], today: dt.date
) -> None:
    """School and group events in the coming two months, through ``event_create``."""
    horizon = today + AGENDA_HORIZON

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
        agenda_services.event_create(
            actor=actor,
            title=title,
            kind=kind,
            starts_at=_local(day, *start),
            ends_at=_local(day, *end),
            short_notice_confirmed=True,
            **extra,
        )

    director, kinds = life.director, Event.Kind
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
        return life.teachers[group][0][0]

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


# --- reads and notifications ----------------------------------------------------------------


def _reads_and_notifications_create(
    *, school: School, posts: list[Post], groups: dict[str, Group], life: _Life, moment: dt.datetime
) -> None:
    """Who read which post (bulk), and the notifications ouder@ has not looked at yet.

    Older posts have more readers. ouder@ read everything except the newest post of each
    of their children's groups; those two, and the school trip's reminder, are the
    notifications the bell counts. They come from the real services (the publish
    notification and the reminder sweep), which also notify the other parents; all are
    marked e-mailed, so ``make run`` does not mail them again.
    """
    rng = random.Random(SEED + 5)
    readers_of_group: dict[int | None, list[int]] = defaultdict(list)
    for group_id, user_id in (
        GuardianRelation.objects.filter(
            pupil__school=school,
            access__in=VIEW_ACCESS,
            guardian__user__isnull=False,
        )
        .values_list("pupil__group_id", "guardian__user_id")
        .order_by("guardian__user_id")
        .distinct()
    ):
        readers_of_group[group_id].append(user_id)
    everyone = sorted({u for users in readers_of_group.values() for u in users})
    parent = life.users[LOGIN_PARENT]
    newest: dict[int, Post] = {}
    for post in posts:
        if post.group_id and post.group_id in {groups["5a"].pk, groups["2b"].pk}:
            newest[post.group_id] = max(newest.get(post.group_id, post), post, key=lambda p: p.publish_at)
    unread = {p.pk for p in newest.values()}

    reads: list[PostRead] = []
    for post in posts:
        audience = readers_of_group[post.group_id] if post.group_id else everyone
        age_days = (moment - post.publish_at).days
        share = min(0.9, 0.35 + 0.05 * age_days)
        readers = {u for u in audience if u != parent.pk and rng.random() < share}
        if parent.pk in audience and post.pk not in unread:
            readers.add(parent.pk)
        reads += [PostRead(post=post, user_id=u) for u in sorted(readers)]
    PostRead.objects.bulk_create(reads, batch_size=1000)
    for post in posts:
        # read_at is auto_now_add: put the reads back after publication, in the past.
        PostRead.objects.filter(post=post).update(
            read_at=min(post.publish_at + dt.timedelta(hours=3), moment)
        )

    # The notifications of ouder@'s two unread posts, as the publish task made them.
    for post in newest.values():
        Post.objects.filter(pk=post.pk).update(notified_at=None)
        at = post.publish_at + dt.timedelta(minutes=1)
        post_services.post_notify_published(post_id=post.pk, now=at)
        notes = Notification.objects.filter(cause=f"post:{post.pk}")
        notes.update(created_at=at, deliver_at=at, email_status=Notification.EmailStatus.SENT, emailed_at=at)
        notes.filter(user__post_reads__post=post).update(read_at=min(at + dt.timedelta(hours=3), moment))
    # The reminder sweep, as if it ran this morning: the 5a trip is within its 14 days.
    agenda_services.event_reminders_send(now=moment)
    reminders = [
        f"event-reminder:{pk}" for pk in Event.objects.filter(school=school).values_list("pk", flat=True)
    ]
    Notification.objects.filter(cause__in=reminders).update(
        email_status=Notification.EmailStatus.SENT, emailed_at=moment
    )


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
    year = school.school_years.order_by("-starts_on").first()
    pupils = Pupil.objects.filter(school=school)
    return {
        "school": f"{school.name} ({school.slug}, regio {school.region})",
        "school year": (f"{year.name}: {year.starts_on:%d-%m-%Y} – {year.ends_on:%d-%m-%Y}" if year else "-"),
        "days without school": NonSchoolDay.objects.filter(school=school).count(),
        "study days": NonSchoolDay.objects.filter(school=school, kind=NonSchoolDay.Kind.STUDY_DAY).count(),
        "groups": Group.objects.filter(school=school).count(),
        "pupils": pupils.count(),
        "guardians": Guardian.objects.filter(pupils__school=school).distinct().count(),
        "guardian relations": GuardianRelation.objects.filter(pupil__school=school).count(),
        "staff": StaffMember.objects.filter(school=school).count(),
        "parent accounts": User.objects.filter(guardian__relations__pupil__school=school).distinct().count(),
        "posts": _posts_line(school),
        "post reads": PostRead.objects.filter(post__school=school).count(),
        "agenda events": Event.objects.filter(school=school).count(),
        "consent decisions": _consent_line(school),
        "quality card": _quality_line(school),
        "conversations": _chats_line(school),
        "absences": _absences_line(school),
        "leave requests": _leave_line(school),
        "planner": _planner_line(school),
        "notifications": Notification.objects.filter(user__guardian__relations__pupil__school=school)
        .distinct()
        .count(),
    }


def _posts_line(school: School) -> str:
    posts = Post.objects.filter(school=school)
    photos = PostPhoto.objects.filter(post__school=school).count()
    return (
        f"{posts.count()} in {posts.exclude(group=None).values('group').distinct().count()} groups, "
        f"{posts.filter(group=None).count()} school-wide, {photos} photos"
    )


def _consent_line(school: School) -> str:
    decisions = ConsentDecision.objects.filter(pupil__school=school)
    decided = decisions.values("pupil").distinct().count()
    pupils = Pupil.objects.filter(school=school).count()
    history = ConsentEvent.objects.filter(pupil__school=school).count()
    return (
        f"{decisions.count()} for {decided} of {pupils} pupils "
        f"({pupils - decided} not decided: no consent), {history} history rows"
    )


def _chats_line(school: School) -> str:
    chats = Conversation.objects.filter(school=school)
    return (
        f"{chats.filter(kind=Conversation.Kind.CHILD).count()} per-child chats, "
        f"{chats.exclude(kind=Conversation.Kind.CHILD).count()} other, "
        f"{Message.objects.filter(conversation__school=school).count()} messages"
    )


def _absences_line(school: School) -> str:
    reports = AbsenceReport.objects.filter(school=school)
    groups = reports.values("pupil__group").distinct().count()
    late = reports.filter(reported_late=True).count()
    tasks = FollowUp.objects.filter(school=school, done_at__isnull=True).count()
    return (
        f"{reports.count()} reports in {groups} groups ({late} reported late), "
        f"{tasks} open follow-up task{'' if tasks == 1 else 's'}"
    )


def _leave_line(school: School) -> str:
    requests = LeaveRequest.objects.filter(school=school)
    waiting = requests.filter(status=LeaveRequest.Status.SUBMITTED).count()
    granted = requests.filter(status=LeaveRequest.Status.GRANTED).count()
    return f"{requests.count()}: {waiting} awaiting the director, {granted} granted"


def _planner_line(school: School) -> str:
    rounds = Round.objects.filter(school=school)
    first = rounds.order_by("first_date").first()
    if first is None:
        return "0 rounds"
    slots = Slot.objects.filter(round__school=school).count()
    booked = Booking.objects.filter(round__school=school).count()
    opens = first.opens_at.astimezone(worktime.AMSTERDAM)
    return (
        f"{rounds.count()} round ({first.name}, {first.groups.count()} groups, "
        f"{first.first_date:%d-%m} and {first.last_date:%d-%m-%Y}): {slots} slots, "
        f"{booked} booked; booking opens {opens:%d-%m-%Y %H:%M}, "
        f"siblings {planner_services.head_start(first).days} day(s) earlier"
    )


def _quality_line(school: School) -> str:
    parents = User.objects.filter(guardian__relations__pupil__school=school).distinct()
    surveys = Survey.objects.filter(school=school)
    answers = SurveyResponse.objects.filter(survey__school=school)
    return (
        f"{parents.filter(last_login__isnull=False).count()} parents logged in before, "
        f"{surveys.count()} survey(s) with {answers.count()} answers"
    )
