"""Forms of the chat pages: write a message, start a conversation."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from klimop.media import MAX_ATTACHMENT_BYTES
from klimop.text import StripBidiMixin

from .services import MAX_BODY_CHARS


class MessageForm(StripBidiMixin, forms.Form):
    body = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Write a message…")}),
    )
    attachment = forms.FileField(
        label=_("Attachment (PDF or photo)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/*"}),
    )

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload and upload.size > MAX_ATTACHMENT_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB. Please choose a smaller file."),
                params={"mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
                code="too_large",
            )
        return upload

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("attachment") and not self.errors:
            raise forms.ValidationError(_("Write a message first."))
        return data


class StartForm(StripBidiMixin, forms.Form):
    pupil = forms.ModelChoiceField(label=_("About which child?"), queryset=None, empty_label=None)
    body = forms.CharField(
        label=_("Message"),
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, pupils, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pupil"].queryset = pupils
        self.fields["pupil"].label_from_instance = lambda p: (
            f"{p.full_name} ({p.group.name})" if p.group_id else p.full_name
        )


class GroupStartForm(StripBidiMixin, forms.Form):
    group = forms.ModelChoiceField(label=_("Which group's parents?"), queryset=None, empty_label=None)
    title = forms.CharField(label=_("Subject"), max_length=140)
    body = forms.CharField(
        label=_("Message"),
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups
        self.fields["group"].label_from_instance = lambda g: f"{g.name} ({g.school_year.name})"


class ParentStartForm(StripBidiMixin, forms.Form):
    """Choose another parent by name (and the group you share); ids are checked again."""

    other = forms.ChoiceField(label=_("To which parent?"))
    body = forms.CharField(
        label=_("Message"),
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, pairs, **kwargs):
        super().__init__(*args, **kwargs)
        self.pairs = {f"{user.pk}-{group.pk}": (user, group) for user, group in pairs}
        self.fields["other"].choices = [
            (key, f"{user.get_full_name()} · {group.name}") for key, (user, group) in self.pairs.items()
        ]

    def clean_other(self):
        return self.pairs[self.cleaned_data["other"]]
