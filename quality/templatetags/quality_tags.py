"""Include tags for pages other modules own: the parent's home and the staff dashboard.

``{% include "klimop/_survey_card.html" %}`` and ``{% include "quality/_dashboard_card.html" %}``
need only ``request`` in the context; each renders nothing for a user it is not meant for.
"""

from django import template
from django.core.exceptions import PermissionDenied

from klimop import access
from quality import selectors as quality
from quality.forms import SCALE, answer_form_for

register = template.Library()


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


@register.inclusion_tag("quality/_survey_card_body.html", takes_context=True)
def quality_survey_card(context):
    """A parent's open, unanswered surveys (two queries; none for staff who are not parents)."""
    user = _user(context)
    if user is None or not access.is_guardian(user):
        return {"surveys": []}
    surveys = quality.surveys_open_for(viewer=user)
    return {"surveys": [(s, answer_form_for(s)) for s in surveys], "scale": SCALE}


@register.inclusion_tag("quality/_dashboard_card_body.html", takes_context=True)
def quality_dashboard_card(context):
    """The director's and office's headline figures for this school year so far."""
    user = _user(context)
    if user is None or not access.is_school_manager(user):
        return {"card": None}
    try:
        return {"card": quality.quality_card_for(viewer=user)}
    except PermissionDenied:
        return {"card": None}
