"""Photo consent's notifications (klimop.notifications.messages): rendered in the reader's language."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from klimop.notifications.messages import register_message

from .models import ConsentPurpose


def _purpose(code: str) -> str:
    try:
        return str(ConsentPurpose(code).label)
    except ValueError:
        return code


def _changed_body(params: dict) -> str:
    if params["refused"]:
        purposes = ", ".join(_purpose(code) for code in params["refused"])
        return _("Must not be recognisable for: %(purposes)s.") % {"purposes": purposes}
    return _("Consent has been given for every purpose.")


register_message(
    "consent.changed",
    title=gettext_lazy("Photo consent of %(name)s changed"),
    body=_changed_body,
    example={"name": "Sam de Vries", "refused": [ConsentPurpose.values[0]]},
)
register_message(
    "consent.renewal",
    title=gettext_lazy("Please check the photo consent for %(name)s"),
    body=gettext_lazy(
        "A new school year has started. The school asks you to confirm or change "
        "your choices about photos and video of your child."
    ),
    example={"name": "Sam"},
)
