"""Include tags for pages other apps own: the staff dashboard and the parent's home.

``{% include "conversations/_staff_card.html" %}`` and ``{% include
"conversations/_parent_card.html" %}`` need only ``request`` in the context: each calls its
documented context function in ``conversations.selectors``.
"""

from django import template

from .. import selectors

register = template.Library()


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


@register.inclusion_tag("conversations/_staff_card_body.html", takes_context=True)
def planner_staff_card(context):
    user = _user(context)
    return selectors.staff_card_context(user) if user is not None else {"show": False}


@register.inclusion_tag("conversations/_parent_card_body.html", takes_context=True)
def planner_parent_card(context):
    user = _user(context)
    return selectors.parent_card_context(user) if user is not None else {"show": False}
