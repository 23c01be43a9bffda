"""Template tags for people on the pages (a builtin: no ``{% load %}`` needed).

``{% avatar first_name=… last_name=… seed=… size=… %}`` is a person's initials in a coloured
circle, on every page (the account menu) and once per row in lists of pupils: an included template
with five filters took some 200 Python calls per avatar; the tag, a few dozen.

``{% weekdays staff %}`` is the list of the days a staff member works, shown in each person chip
(includes/person.html): on a parent's home six times, once per teacher of each child. As an
included template of five translated, conditional items it took some 1,100 Python calls per
chip; written here, a few dozen. It keeps no state: every call translates in the language active
for the page.
"""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop

register = template.Library()

#: (StaffMember field, the day's name, its abbreviation), Monday to Friday; translated per call.
DAYS = (
    ("works_monday", gettext_noop("Monday"), gettext_noop("Mon")),
    ("works_tuesday", gettext_noop("Tuesday"), gettext_noop("Tue")),
    ("works_wednesday", gettext_noop("Wednesday"), gettext_noop("Wed")),
    ("works_thursday", gettext_noop("Thursday"), gettext_noop("Thu")),
    ("works_friday", gettext_noop("Friday"), gettext_noop("Fri")),
)


@register.simple_tag
def weekdays(staff) -> SafeString:
    """The weekdays ``staff`` works (duo teachers share a group): days off are struck through
    (``weekday--off``) and announced as such to screen readers."""
    off = f'<span class="sr-only"> ({escape(gettext("not working"))})</span>'
    items = "".join(
        f'<li class="weekday weekday--{"on" if works else "off"}">'
        f'<abbr title="{escape(gettext(name))}">{escape(gettext(short))}</abbr>{"" if works else off}</li>'
        for field, name, short in DAYS
        for works in (bool(getattr(staff, field)),)
    )
    return mark_safe(  # noqa: S308 - every text in it is escaped above
        f'<ul class="weekdays" aria-label="{escape(gettext("Working days"))}">{items}</ul>'
    )


@register.simple_tag
def avatar(*, first_name="", last_name="", seed=None, size="") -> SafeString:
    """Initials in a coloured circle: "Sanne van den Berg" gives "SB" (the last word of the
    surname). ``seed`` (a number) picks one of ten stable colours by its last digit; ``size`` is
    "xs", "sm", "lg" or empty. Hidden from screen readers: the name is always written beside it.
    The markup ends with a line break, as the included template it replaces did."""
    try:
        colour = ("%d" % seed)[-1:] or "0"  # noqa: UP031 - the template's stringformat:"d"
    except (TypeError, ValueError):
        colour = "0"
    surname = str(last_name or "").split()
    initials = (str(first_name or "")[:1] + (surname[-1][:1] if surname else "")).upper()
    sized = f" avatar--{escape(size)}" if size else ""
    return mark_safe(  # noqa: S308 - the initials and the size are escaped
        f'<span class="avatar avatar--{colour}{sized}" aria-hidden="true">{escape(initials)}</span>\n'
    )
