"""User text at the trust boundary: invisible bidirectional controls are removed.

Unicode's explicit direction controls (embeddings, overrides, isolates) and the
direction marks are invisible, yet they reorder what is shown around them: a file
named ``foto<U+202E>gpj.exe`` reads as ``fotoexe.jpg``, a name or a message can show
text in another order than it was typed ("Trojan Source", CVE-2021-42574). Klimop has
no use for them: every name, file name and free text a user enters loses them, in the
forms (``StripBidiMixin``) and again where services store names.
"""

from __future__ import annotations

from django.utils.datastructures import MultiValueDict

#: LRE RLE PDF LRO RLO (U+202A–U+202E), LRI RLI FSI PDI (U+2066–U+2069), LRM RLM, ALM.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_DELETE = dict.fromkeys(map(ord, BIDI_CONTROLS))


def strip_bidi(text):
    """``text`` without bidirectional control characters; anything not a string as it is."""
    if not isinstance(text, str):
        return text
    return text.translate(_DELETE)


def _stripped_data(data):
    if isinstance(data, MultiValueDict):  # QueryDict included; the copy is mutable
        clean = data.copy()
        for key in clean:
            clean.setlist(key, [strip_bidi(value) for value in data.getlist(key)])
        return clean
    return {
        key: [strip_bidi(v) for v in value] if isinstance(value, list | tuple) else strip_bidi(value)
        for key, value in data.items()
    }


def _uploads(files):
    if isinstance(files, MultiValueDict):
        return [upload for key in files for upload in files.getlist(key)]
    return [
        upload
        for value in files.values()
        for upload in (value if isinstance(value, list | tuple) else [value])
    ]


class StripBidiMixin:
    """For a ``forms.Form``: every submitted text value and uploaded file name loses its
    bidirectional controls before the fields clean it, so validation, the stored value
    and a form shown again with errors all see the same, visible text.

    Put it first: ``class PostForm(StripBidiMixin, forms.Form)``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            return
        self.data = _stripped_data(self.data)
        for upload in _uploads(self.files):
            name = getattr(upload, "name", None)
            if isinstance(name, str) and strip_bidi(name) != name:
                upload.name = strip_bidi(name)
