"""The post form: audience, kind, text, schedule, photos and PDFs, and the consent check."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from klimop.bounds import BoundedDatesMixin
from klimop.text import StripBidiMixin

from .models import Post


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django docs, "Uploading multiple files")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


SCHOOL = "school"


class PostForm(StripBidiMixin, BoundedDatesMixin, forms.Form):
    dates_ahead = ("publish_at",)

    audience = forms.ChoiceField(label=_("For"))
    kind = forms.ChoiceField(label=_("Kind of post"), choices=Post.Kind.choices, widget=forms.RadioSelect)
    title = forms.CharField(label=_("Title"), max_length=140)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("An empty line starts a new paragraph; web addresses become links."),
    )
    publish_at = forms.DateTimeField(
        label=_("Publish later (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty to publish now (or at the start of your next working time)."),
    )
    photos = MultipleFileField(
        label=_("Photos"),
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("JPEG, PNG or WebP, at most 15 MB each. Location and camera data are removed."),
    )
    attachments = MultipleFileField(
        label=_("PDF files"),
        widget=MultipleFileInput(attrs={"accept": "application/pdf"}),
        help_text=_("At most 10 MB each."),
    )
    consent_confirmed = forms.BooleanField(
        label=_("I have checked the photos: the pupils listed are not recognisable."),
        required=False,
    )

    def __init__(self, *args, groups=(), may_post_to_school=False, editing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = {str(g.pk): g for g in groups}
        choices = [(str(g.pk), str(g)) for g in groups]
        if may_post_to_school:
            choices.insert(0, (SCHOOL, _("The whole school")))
        self.fields["audience"].choices = choices
        if len(choices) == 1:
            self.fields["audience"].initial = choices[0][0]
        self.editing = editing
        self.bound_dates(
            editing.school_id if editing is not None else next((g.school_id for g in groups), None)
        )
        if editing is not None:
            del self.fields["audience"]
            self.fields["remove_photos"] = forms.ModelMultipleChoiceField(
                label=_("Remove photos"),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                queryset=editing.photos.all(),
            )
            self.fields["remove_attachments"] = forms.ModelMultipleChoiceField(
                label=_("Remove files"),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                queryset=editing.attachments.all(),
            )

    def selected_group(self):
        if self.editing is not None:
            return self.editing.group
        return self.groups.get(self.cleaned_data.get("audience"))
