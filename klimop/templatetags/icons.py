"""``{% icon "home" %}``: Klimop's inline line icons, one SVG each, built once.

Decorative (``aria-hidden``): the text next to an icon carries its meaning. A tag rather than an
``{% include %}`` with a chain of comparisons: the navigation alone shows some twenty icons on
every page. Registered as a template builtin (``TEMPLATES`` in the settings): no ``{% load %}``.
An unknown name renders an empty icon, as the include did.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

#: The drawing of each icon (the inside of its ``<svg>``), 24 × 24, stroked in the text colour.
PATHS = {
    "home": (
        '<path d="M3 10.5 12 3l9 7.5"/><path d="M5 9.5V20a1 1 0 0 0 1 1h4v-6h4v6h4a1 1 0 0 0 1-1V9.5"/>'
    ),
    "dashboard": (
        '<rect x="3" y="3" width="7.5" height="7.5" rx="2"/>'
        '<rect x="13.5" y="3" width="7.5" height="7.5" rx="2"/>'
        '<rect x="3" y="13.5" width="7.5" height="7.5" rx="2"/>'
        '<rect x="13.5" y="13.5" width="7.5" height="7.5" rx="2"/>'
    ),
    "settings": (
        '<circle cx="12" cy="12" r="3"/>'
        '<path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z"/>'  # noqa: E501
    ),
    "user": ('<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4 3.6-6.5 8-6.5s8 2.5 8 6.5"/>'),
    "logout": (
        '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/><path d="m16 17 5-5-5-5"/><path d="M21 12H9"/>'
    ),
    "key": (
        '<circle cx="8" cy="15" r="4.5"/>'
        '<path d="m11.2 11.8 8.8-8.8"/>'
        '<path d="m17 6 2.5 2.5"/>'
        '<path d="m14.5 8.5 2 2"/>'
    ),
    "shield": ('<path d="M12 21s8-3.5 8-10V5l-8-3-8 3v6c0 6.5 8 10 8 10z"/><path d="m9 11.5 2 2 4-4"/>'),
    "phone": (
        '<path d="M21 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 1.1 4.2 2 2 0 0 1 3.1 2h3a2 2 0 0 1 2 1.7c.1 1 .4 1.9.7 2.8a2 2 0 0 1-.5 2.1L7.1 9.8a16 16 0 0 0 6 6l1.2-1.2a2 2 0 0 1 2.1-.5c.9.3 1.8.6 2.8.7a2 2 0 0 1 1.7 2z"/>'  # noqa: E501
    ),
    "mail": ('<rect x="3" y="5" width="18" height="14" rx="2"/><path d="m3 7 9 6 9-6"/>'),
    "arrow-left": ('<path d="M19 12H5"/><path d="m12 19-7-7 7-7"/>'),
    "info": ('<circle cx="12" cy="12" r="9"/><path d="M12 16v-4.5"/><path d="M12 8h.01"/>'),
    "alert": (
        '<path d="M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z"/>'
        '<path d="M12 9v4"/>'
        '<path d="M12 17h.01"/>'
    ),
    "check": ('<circle cx="12" cy="12" r="9"/><path d="m8 12.5 2.7 2.7L16 10"/>'),
    "eye": ('<path d="M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z"/><circle cx="12" cy="12" r="3"/>'),
    "users": (
        '<circle cx="9" cy="8" r="3.5"/>'
        '<path d="M2.5 20c0-3.5 2.9-5.5 6.5-5.5s6.5 2 6.5 5.5"/>'
        '<path d="M16 4.7a3.5 3.5 0 0 1 0 6.6"/>'
        '<path d="M18 14.8c2.1.6 3.5 2.4 3.5 5.2"/>'
    ),
    "bell": ('<path d="M18 8a6 6 0 1 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/><path d="M13.7 21a2 2 0 0 1-3.4 0"/>'),
    "posts": (
        '<rect x="3" y="4" width="18" height="16" rx="2"/>'
        '<path d="M7 9h10"/>'
        '<path d="M7 13h10"/>'
        '<path d="M7 17h6"/>'
    ),
    "chat": (
        '<path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.6A8 8 0 1 1 21 12z"/>'
        '<path d="M8.5 11h7"/>'
        '<path d="M8.5 14.5h4"/>'
    ),
    "calendar": (
        '<rect x="3" y="5" width="18" height="16" rx="2"/>'
        '<path d="M16 3v4"/>'
        '<path d="M8 3v4"/>'
        '<path d="M3 10h18"/>'
    ),
    "file": (
        '<path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z"/>'
        '<path d="M14 3v5h5"/>'
        '<path d="M9 13h6"/>'
        '<path d="M9 17h4"/>'
    ),
    "plus": ('<path d="M12 5v14"/><path d="M5 12h14"/>'),
    "clock": ('<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>'),
    "camera": (
        '<path d="M4 8a2 2 0 0 1 2-2h1.5l1.5-2h6l1.5 2H18a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2z"/>'
        '<circle cx="12" cy="12.5" r="3.5"/>'
    ),
    "eye-off": (
        '<path d="M3 3l18 18"/>'
        '<path d="M10.6 6.1A10 10 0 0 1 12 6c6.4 0 10 6 10 6a17 17 0 0 1-3.1 3.8"/>'
        '<path d="M6.6 6.6C3.8 8.4 2 12 2 12s3.6 6 10 6c1.6 0 3-.4 4.3-1"/>'
        '<path d="M9.9 9.9a3 3 0 0 0 4.2 4.2"/>'
    ),
    "thermometer": (
        '<path d="M14 14.8V4.5a2.5 2.5 0 0 0-5 0v10.3a4.5 4.5 0 1 0 5 0z"/><path d="M11.5 9v8"/>'
    ),
    "stethoscope": (
        '<path d="M5 3v6a5 5 0 0 0 10 0V3"/>'
        '<path d="M10 14v2a5 5 0 0 0 10 0v-2"/>'
        '<circle cx="20" cy="12" r="2"/>'
    ),
    "printer": (
        '<path d="M6 9V3h12v6"/><rect x="3" y="9" width="18" height="8" rx="2"/><path d="M6 14h12v7H6z"/>'
    ),
    "suitcase": (
        '<rect x="3" y="7" width="18" height="13" rx="2"/>'
        '<path d="M9 7V5a2 2 0 0 1 2-2h2a2 2 0 0 1 2 2v2"/>'
        '<path d="M3 13h18"/>'
    ),
    "question": (
        '<circle cx="12" cy="12" r="9"/>'
        '<path d="M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .9-1 1.6v.6"/>'
        '<path d="M12 17h.01"/>'
    ),
    "heart": (
        '<path d="M20.8 4.6a5.5 5.5 0 0 0-7.8 0L12 5.7l-1-1.1a5.5 5.5 0 0 0-7.8 7.8l1 1L12 21l7.8-7.6 1-1a5.5 5.5 0 0 0 0-7.8z"/>'  # noqa: E501
    ),
    # Safari's share button (a box with an arrow out of it), for "add to home screen".
    "share": (
        '<path d="M12 3v12"/><path d="m8 7 4-4 4 4"/>'
        '<path d="M8 10H6a1 1 0 0 0-1 1v9a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-9a1 1 0 0 0-1-1h-2"/>'
    ),
    "chevron-left": ('<path d="m15 18-6-6 6-6"/>'),
    "chevron-right": ('<path d="m9 18 6-6-6-6"/>'),
    "x": ('<path d="M18 6 6 18"/><path d="m6 6 12 12"/>'),
    "list": (
        '<path d="M8 6h13"/>'
        '<path d="M8 12h13"/>'
        '<path d="M8 18h13"/>'
        '<path d="M3 6h.01"/>'
        '<path d="M3 12h.01"/>'
        '<path d="M3 18h.01"/>'
    ),
}

_SVG = (
    '<svg class="icon icon--{}" viewBox="0 0 24 24" width="24" height="24" fill="none" '
    'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
    'aria-hidden="true" focusable="false">{}</svg>'
)
_BUILT: dict[str, SafeString] = {}


@register.simple_tag
def icon(name: str) -> SafeString:
    """The icon ``name`` as inline SVG markup."""
    name = str(name or "")
    if (built := _BUILT.get(name)) is None:
        built = format_html(_SVG, name, mark_safe(PATHS.get(name, "")))  # noqa: S308 - our own paths
        if name in PATHS:
            _BUILT[name] = built
    return built
