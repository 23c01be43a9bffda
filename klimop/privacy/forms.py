"""The parent's consent form: one switch per purpose for one child."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ConsentPurpose

#: What each purpose means, in the words a parent needs to decide.
EXPLANATIONS = {
    ConsentPurpose.GROUP_PAGE: _(
        "Photos of class activities on the closed group page in Klimop. Only the parents of "
        "the group and the school's staff can see them."
    ),
    ConsentPurpose.WEBSITE: _("Photos on the school's public website. Anyone on the internet can see them."),
    ConsentPurpose.SOCIAL_MEDIA: _(
        "Photos on the school's social media accounts, such as Facebook or Instagram. "
        "These are public and can be shared further."
    ),
    ConsentPurpose.SCHOOL_GUIDE: _(
        "Photos in the school guide (printed and online) that introduces the school to new parents."
    ),
    ConsentPurpose.NEWSLETTER: _("Photos in the newsletter that is sent to all families of the school."),
    ConsentPurpose.VIDEO: _(
        "Video recordings in which your child can be recognised, such as a class performance "
        "shared with the parents."
    ),
}


class ConsentForm(forms.Form):
    """Checked = consent given. An unchecked switch is a "no" (silence is no consent)."""

    def __init__(self, *args, initial_choices: dict[str, bool | None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        initial_choices = initial_choices or {}
        for purpose in ConsentPurpose:
            self.fields[purpose.value] = forms.BooleanField(
                label=purpose.label,
                required=False,
                initial=bool(initial_choices.get(purpose.value)),
                help_text=EXPLANATIONS[purpose],
            )

    def choices(self) -> dict[str, bool]:
        return {p: bool(self.cleaned_data.get(p)) for p in ConsentPurpose.values}
