"""Include tags for pages other apps own: the staff dashboard and the parent's home.

``{% include "absences/_staff_today.html" %}`` (and the two others) need only ``request``
in the context: each calls its documented context function in ``absences.selectors``.
"""

from django import template

from .. import selectors

register = template.Library()


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


@register.inclusion_tag("absences/_staff_today_card.html", takes_context=True)
def absences_staff_today(context):
    user = _user(context)
    return selectors.dashboard_context(user) if user is not None else {"show": False}


@register.inclusion_tag("absences/_parent_card_body.html", takes_context=True)
def absences_parent_card(context):
    user = _user(context)
    return selectors.parent_card_context(user) if user is not None else {"show": False}


@register.inclusion_tag("absences/_director_leave_card.html", takes_context=True)
def absences_director_leave(context):
    user = _user(context)
    return selectors.director_leave_context(user) if user is not None else {"show": False}


@register.simple_tag
def hours(value) -> str:
    """1.50 → "1,5"; 6.00 → "6" (the language's decimal separator)."""
    from django.utils.formats import number_format

    if value is None:
        return ""
    value = float(value)
    return number_format(value, decimal_pos=0 if value == int(value) else 1)
