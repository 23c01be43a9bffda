"""The people on the pages (klimop/templatetags/people.py): avatars with initials."""

import pytest
from django.template import engines

AVATAR = engines["django"].from_string(
    "{% avatar first_name=first_name last_name=last_name seed=seed size=size %}"
)


@pytest.mark.parametrize(
    ("first_name", "last_name", "seed", "size", "expected"),
    [
        # The last word of the surname: "van den Berg" gives B.
        (
            "Sanne",
            "van den Berg",
            1234,
            "sm",
            '<span class="avatar avatar--4 avatar--sm" aria-hidden="true">SB</span>',
        ),
        ("sanne", "", 7, "", '<span class="avatar avatar--7" aria-hidden="true">S</span>'),
        # Without a number to pick a colour: the first colour.
        (
            "",
            "Kastelein",
            None,
            "lg",
            '<span class="avatar avatar--0 avatar--lg" aria-hidden="true">K</span>',
        ),
        ("Ö<b>", "de <Vries>", 0, "", '<span class="avatar avatar--0" aria-hidden="true">Ö&lt;</span>'),
    ],
)
def test_an_avatar_shows_the_initials_in_a_colour_of_its_own(first_name, last_name, seed, size, expected):
    html = AVATAR.render({"first_name": first_name, "last_name": last_name, "seed": seed, "size": size})
    assert html == expected + "\n"
