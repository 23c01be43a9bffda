"""The parent's survey answer: a score from 1 to 5 and an optional comment."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from klimop.text import StripBidiMixin

from .services import MAX_COMMENT_CHARS

SCORE_LABELS = {
    1: _("Very dissatisfied"),
    2: _("Dissatisfied"),
    3: _("Neutral"),
    4: _("Satisfied"),
    5: _("Very satisfied"),
}


class SurveyAnswerForm(StripBidiMixin, forms.Form):
    score = forms.TypedChoiceField(
        label=_("Your answer"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=[(score, f"{score} · {label}") for score, label in SCORE_LABELS.items()],
        error_messages={
            "required": _("Please choose a score from 1 to 5."),
            "invalid_choice": _("Please choose a score from 1 to 5."),
        },
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=MAX_COMMENT_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Anonymous: the school sees your comment without your name. Please do not "
            "write names of children or other parents."
        ),
    )


#: The scale as (score, label) pairs, highest last, for the answer form's radio buttons.
SCALE = list(SCORE_LABELS.items())


def answer_form_for(survey, data=None) -> SurveyAnswerForm:
    """The form with ids of its own, so several surveys can share a page."""
    return SurveyAnswerForm(data, auto_id=f"id_survey{survey.pk}_%s")
