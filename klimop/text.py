"""User text at the trust boundary: invisible bidirectional controls are removed.

Unicode's explicit direction controls (embeddings, overrides, isolates) and the
direction marks are invisible, yet they reorder what is shown around them: a file
named ``foto<U+202E>gpj.exe`` reads as ``fotoexe.jpg``, a name or a message can show
text in another order than it was typed ("Trojan Source", CVE-2021-42574). Klimop has
no use for them: every name, file name and free text a user enters loses them, in the
forms (``StripBidiMixin``) and again where services store names.
"""

from __future__ import annotations

import html as html_lib
import re

import nh3
from django.utils.datastructures import MultiValueDict
from django.utils.html import escape, linebreaks, urlize

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


# --- formatted text of posts and messages ---------------------------------------------------

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a"}
LINK_REL = "noopener noreferrer nofollow"
# Pasted or formatted HTML (or an attack) is sanitised as HTML; anything else is plain text,
# so a parent-facing "<3" or "a < b" stays as written.
_LOOKS_LIKE_HTML = re.compile(
    r"<\s*/?\s*(p|br|strong|em|b|i|u|ul|ol|li|a|div|span|h[1-6]|script|style|img|iframe|svg|"
    r"object|embed|form|input|table|video|audio|link|meta|base)\b",
    re.IGNORECASE,
)


def sanitize_body(text: str) -> str:
    """The stored HTML of a post: a small set of tags; links open in a new tab, safely.

    Plain text (no tags) becomes paragraphs with clickable links. Whatever the input,
    nh3 (ammonia) removes scripts, event handlers, styles and unsafe URL schemes, and
    invisible bidirectional controls go too (``klimop.text.strip_bidi``).
    """
    text = strip_bidi(text or "").strip()
    if not _LOOKS_LIKE_HTML.search(text):
        text = linebreaks(urlize(escape(text), nofollow=False, autoescape=False))
    return nh3.clean(
        text,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
    ).strip()


_SIMPLE_HTML = re.compile(r"^(?:\s|</?p>|<br>|<a [^>]*>|</a>|[^<])*$")
_AUTOLINK = re.compile(r'<a href="([^"]+)"[^>]*>\1</a>')


def body_for_editing(html: str) -> str:
    """The stored HTML back as plain text for the form, when it is just paragraphs and links.

    Richer HTML (lists, bold) is returned as it is, so an edit keeps the formatting.
    """
    plain = _AUTOLINK.sub(r"\1", html or "")
    if not _SIMPLE_HTML.match(plain) or "<a " in plain:
        return html
    plain = re.sub(r"</p>\s*<p>", "\n\n", plain)
    plain = plain.replace("<br>", "\n").replace("<p>", "").replace("</p>", "")
    return html_lib.unescape(plain).strip()
