"""factory-boy factories for the directory. Fictional people only."""

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from klimop.models import (
    Group,
    Guardian,
    GuardianRelation,
    OfficeHours,
    Pupil,
    School,
    SchoolYear,
    StaffMember,
    User,
)

# None contains "Noor" or "Sem", the fixed pupils of conftest, or another entry.
FIRST_NAMES = (
    "Puck",
    "Dion",
    "Floor",
    "Jelte",
    "Marit",
    "Ruben",
    "Sanne",
    "Wessel",
    "Ilse",
    "Teun",
    "Femke",
    "Joris",
    "Lotte",
    "Gijs",
    "Maaike",
    "Stijn",
    "Wietske",
)
LAST_NAMES = (
    "Versluijs",
    "Heriponda",
    "Kastelein",
    "Wolterbeek",
    "Brouwershaven",
    "Zonneveldt",
    "Ekelmans",
    "Tuinstra",
    "Oudehand",
    "Rijkeboer",
    "Valkenhorst",
    "Molengraaf",
    "Sterkenburgh",
    "Dijkhuizer",
    "Lindeboom",
    "Verwoerdt",
    "Haverkamp",
    "Blankestijn",
    "Kortenhoeve",
)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    # Names come from fixed lists, not Faker: a random "d'Heripon" would be
    # HTML-escaped on the page and make a name-on-the-page assertion flaky.
    first_name = factory.Sequence(lambda n: FIRST_NAMES[n % len(FIRST_NAMES)])
    last_name = factory.Sequence(lambda n: LAST_NAMES[n % len(LAST_NAMES)])
    password = factory.django.Password("test-password-123")


class SchoolFactory(DjangoModelFactory):
    class Meta:
        model = School
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Basisschool De Test {n}")
    slug = factory.Sequence(lambda n: f"test-{n}")
    phone = "010-0000000"

    @factory.post_generation
    def office_hours(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            OfficeHours.objects.bulk_create(
                OfficeHours(school=obj, weekday=d, opens=dt.time(8), closes=dt.time(16, 30)) for d in range(5)
            )


class SchoolYearFactory(DjangoModelFactory):
    class Meta:
        model = SchoolYear

    school = factory.SubFactory(SchoolFactory)
    name = "2026/2027"
    starts_on = dt.date(2026, 8, 31)
    ends_on = dt.date(2027, 7, 16)


class GroupFactory(DjangoModelFactory):
    class Meta:
        model = Group

    school_year = factory.SubFactory(SchoolYearFactory)
    school = factory.SelfAttribute("school_year.school")
    year = 5
    name = factory.Sequence(lambda n: f"5-{n}")
    external_id = factory.Sequence(lambda n: f"G{n}")


class PupilFactory(DjangoModelFactory):
    class Meta:
        model = Pupil

    group = factory.SubFactory(GroupFactory)
    school = factory.SelfAttribute("group.school")
    external_id = factory.Sequence(lambda n: f"P{n}")
    # Names come from fixed lists, not Faker: a random "d'Heripon" would be
    # HTML-escaped on the page and make a name-on-the-page assertion flaky.
    first_name = factory.Sequence(lambda n: FIRST_NAMES[n % len(FIRST_NAMES)])
    last_name = factory.Sequence(lambda n: LAST_NAMES[n % len(LAST_NAMES)])
    date_of_birth = dt.date(2017, 3, 1)


class GuardianFactory(DjangoModelFactory):
    class Meta:
        model = Guardian

    user = factory.SubFactory(UserFactory)
    external_id = factory.Sequence(lambda n: f"O{n}")
    first_name = factory.SelfAttribute("user.first_name")
    last_name = factory.SelfAttribute("user.last_name")
    email = factory.SelfAttribute("user.email")
    phone = factory.Sequence(lambda n: f"06-000{n:05d}")


class GuardianRelationFactory(DjangoModelFactory):
    class Meta:
        model = GuardianRelation

    pupil = factory.SubFactory(PupilFactory)
    guardian = factory.SubFactory(GuardianFactory)
    kind = GuardianRelation.Kind.PARENT_WITH_AUTHORITY
    access = GuardianRelation.Access.FULL


class StaffMemberFactory(DjangoModelFactory):
    class Meta:
        model = StaffMember
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    school = factory.SubFactory(SchoolFactory)
    external_id = factory.Sequence(lambda n: f"S{n}")
    role = StaffMember.Role.TEACHER

    @factory.post_generation
    def groups(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            obj.groups.set(extracted)


def families(group: Group, count: int, prefix: str = "ouder") -> list[User]:
    """``count`` pupils in ``group``, each with one parent who has a login and full access:
    a school's worth in a few inserts (the fault tests' fan-outs). The users' ids follow the
    numbering, so e-mails of one fan-out go out in this order."""
    users = User.objects.bulk_create(
        User(email=f"{prefix}{i:03d}@example.test", first_name="Ouder", last_name=f"{i:03d}")
        for i in range(count)
    )
    pupils = Pupil.objects.bulk_create(
        Pupil(
            school=group.school,
            group=group,
            external_id=f"{prefix}-kind-{i:03d}",
            first_name="Kind",
            last_name=f"{i:03d}",
        )
        for i in range(count)
    )
    guardians = Guardian.objects.bulk_create(
        Guardian(
            user=user,
            external_id=f"{prefix}-{i:03d}",
            first_name="Ouder",
            last_name=f"{i:03d}",
            email=user.email,
        )
        for i, user in enumerate(users)
    )
    GuardianRelation.objects.bulk_create(
        GuardianRelation(
            pupil=pupil,
            guardian=guardian,
            kind=GuardianRelation.Kind.PARENT_WITH_AUTHORITY,
            access=GuardianRelation.Access.FULL,
        )
        for pupil, guardian in zip(pupils, guardians, strict=True)
    )
    return users
