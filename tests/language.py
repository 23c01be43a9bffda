"""What the language tests read on a page: the text a person reads or hears, the interface words
of the other language in it, and a walk through the admin one page of each shape.

Used by tests/test_language_time.py (portal pages in English) and tests/test_demo_school.py
(the director's admin of the demo school in Dutch, on the demo that module builds once).
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from klimop.models import User


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Interface words that are English and not Dutch. Words both languages use (filter, status,
#: model, link, home, week, school, start, video, april, september…) are not in it.
TYPICAL_ENGLISH = _words(
    """
    the and or with without from for to this that these those your you are not has have by at on
    please here there which when who what select choose chosen available add change delete remove
    save search clear hide view edit history action actions created updated changed deleted added
    true false none yes no all any other unknown language logout password welcome error errors
    field required result results total selected settings user users pupil pupils guardian
    guardians child children parent parents teacher teachers staff group groups year years day
    days weeks date time today yesterday tomorrow now name first last report reports absence
    absences leave request requests round rounds survey surveys consent event events notification
    notifications message messages invited invitation signed sick granted refused withdrawn
    submitted pending answer answers reason booking bookings monday tuesday wednesday thursday
    friday saturday sunday mon tue wed thu fri sat sun january february march june july august
    october mar oct
"""
)
#: Interface words that are Dutch and not English (not "de", "van", "het": they are in names).
TYPICAL_DUTCH = _words(
    """
    een en voor met niet naar bij zijn wordt geen alle nog ook uw je jouw deze dit dat uit tot om
    als maar wel heeft hebben kunt opslaan annuleren terug wijzigen verwijderen toevoegen versturen
    uitloggen inloggen wachtwoord instellingen meldingen berichten bericht afwezigheid verlof ziek
    vandaag morgen gisteren maandag dinsdag woensdag donderdag vrijdag zaterdag zondag ma di wo vr
    za januari februari maart mei juni juli augustus oktober leerling leerlingen ouder ouders
    leerkracht leerkrachten groepen kinderen schooljaar toestemming gesprek gesprekken
"""
)
#: Words of the other language that are right where they are, each with its reason.
ALLOWED = {
    "Klimop": "the product's name",
    "csv": "a file format",
    "EN": "the language switch (NL | EN)",
}

_EMAIL_OR_URL = re.compile(r"\S+@\S+|https?://\S+")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


_NOT_READ = ("script", "style", "template", "code")


class _VisibleText(HTMLParser):
    """The text a person reads or hears: text nodes outside scripts and styles, and the
    title, alt, placeholder and aria-label attributes and the labels of input buttons.
    Text in ``<code>`` is left out: it is a file or column name that has to be typed exactly
    as shown (``pupils.csv``, ``date_of_birth``), in every language."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in _NOT_READ:
            self._hidden += 1
        attributes = dict(attrs)
        for name in ("title", "alt", "placeholder", "aria-label"):
            if attributes.get(name):
                self.parts.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.parts.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in _NOT_READ:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.parts


def foreign_words(html: str, words: frozenset[str], data: set[str]) -> set[str]:
    """Which of ``words`` the page shows, outside ``data`` (names from the database)."""
    found = set()
    for part in visible_text(html):
        part = _EMAIL_OR_URL.sub(" ", part)
        for word in _WORD.findall(part):
            if word.lower() in words and word not in data and word not in ALLOWED:
                found.add(f"{word} (in {part[:80]!r})")
    return found


def _shape(path: str) -> tuple[str, frozenset[str]]:
    """/admin/klimop/pupil/7/change/ and …/8/change/ are one page; a list is one page per filter."""
    url = urlsplit(path)
    keys = {k for k, _v in parse_qsl(url.query, keep_blank_values=True)} - {"o", "p", "_changelist_filters"}
    return re.sub(r"\d+", "N", url.path), frozenset(keys)


#: Not visited: logging out, the script catalogue (tested on its own), and a school year's delete
#: page, which lists the year's every group, pupil and record (12 s; other delete pages show the
#: same template).
_NOT_WALKED = ("/admin/logout/", "/admin/jsi18n/")
_NOT_WALKED_SHAPES = {"/admin/klimop/schoolyear/N/delete/"}
_HEAVY_LISTS = ("/admin/klimop/schoolyear/",)
_LIST = re.compile(r"^/admin/\w+/\w+/$")


def walk_admin(client, limit: int = 300) -> dict[str, str]:
    """Every admin page reachable by links from the index, one of each shape, a list with at
    most one filter set at a time; returns path -> HTML."""
    pages: dict[str, str] = {}
    seen_shapes: set[tuple[str, frozenset[str]]] = set()
    queue = deque(["/admin/"])
    while queue and len(pages) < limit:
        path = queue.popleft()
        shape = _shape(path)
        if shape in seen_shapes or len(shape[1]) > 1 or path.startswith(_NOT_WALKED):
            continue
        if shape[0] in _NOT_WALKED_SHAPES or (shape[1] and not _LIST.match(shape[0])):
            continue  # filters only on a list: the export page with a filter is the export page
        seen_shapes.add(shape)
        response = client.get(path)
        if response.status_code == 302:
            queue.appendleft(urljoin(path, response["Location"]))
            continue
        # A link the director may not follow (a login in "recent actions") is refused: no page.
        if response.status_code != 200 or "text/html" not in response["Content-Type"] or response.streaming:
            continue
        html = response.content.decode()
        pages[path] = html
        for link in re.findall(r'href="([^"#]+)"', html):
            url = urlsplit(urljoin(path, link.replace("&amp;", "&")))
            if url.netloc in ("", "testserver") and url.path.startswith("/admin/"):
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return pages


def delete_selected_confirmations(client, pages: dict[str, str]) -> dict[str, str]:
    """The confirmation page of the "delete selected" action on each list that has it, for its
    first row (nothing is deleted: the confirmation is not sent)."""
    confirmations = {}
    for path, html in pages.items():
        first = re.search(r'name="_selected_action" value="(\d+)"', html)
        if "?" in path or path.startswith(_HEAVY_LISTS) or not first or 'value="delete_selected"' not in html:
            continue
        response = client.post(path, {"action": "delete_selected", "_selected_action": [first.group(1)]})
        assert response.status_code == 200, path
        confirmations[f"{path}delete_selected"] = response.content.decode()
    return confirmations


def _names_in_the_demo() -> set[str]:
    """Every word of a person's, school's or group's name: data, whatever language it looks like."""
    from klimop.models import Group, Guardian, Pupil, School

    names: set[str] = set()
    for model, fields in (
        (User, ("first_name", "last_name")),
        (Guardian, ("first_name", "last_name")),
        (Pupil, ("first_name", "last_name")),
        (School, ("name",)),
        (Group, ("name",)),
    ):
        for row in model.objects.values_list(*fields):
            for value in row:
                names.update(_WORD.findall(value or ""))
    return names
