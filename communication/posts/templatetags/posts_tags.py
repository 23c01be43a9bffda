"""``{% post_rhythm %}``: the atmosphere-post rhythm card for the staff dashboard."""

from django import template

from ..selectors import rhythm_for

register = template.Library()


@register.inclusion_tag("posts/_rhythm_card.html", takes_context=True)
def post_rhythm(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"rows": rhythm_for(viewer=user) if user is not None else []}
