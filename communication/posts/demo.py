"""The posts' part of the demo school (``manage.py demo_school``, orchestrated by ``demo/``).

Two to four posts per group and a newsletter on the school days of the last three weeks, and
who read them. Each post is written through ``post_create`` at the moment it was written
(``time_machine``): who may post where, sanitising, the photo pipeline with its consent
confirmation and office hours all apply. A minute later the publish task announces it
(``post_notify_published``), as the worker would have. The readers of each post are recorded
together (``post_reads_record``) three hours after publication; the demo logins who read a
post also read its notification then (``notification_mark_read``), so ouder@'s bell counts
only the newest post of each of their children's groups; about one reader in eight of an
atmosphere post says thank you (``post_thank``). Built in the summer holidays, the
posts of those weeks wait for the school year (office hours): announced and read from then on.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import defaultdict
from collections.abc import Collection

import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from klimop import worktime
from klimop.access import VIEW_ACCESS
from klimop.demo import DemoSchool
from klimop.models import GuardianRelation, School, User
from klimop.notifications.models import Notification
from klimop.notifications.services import notification_mark_read

from . import services
from .models import Post, PostPhoto, PostRead, PostThanks

#: Posts look back this many school days.
HISTORY_SCHOOL_DAYS = 15

DUTCH_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def _season_walk(day: dt.date) -> tuple[str, str]:
    season = {12: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 2, 7: 2, 8: 2}.get(day.month, 3)
    name = ("Winterwandeling", "Lentewandeling", "Zomerwandeling", "Herfstwandeling")[season]
    things = (
        "kale takken, sporen in de modder en een bevroren plas",
        "de eerste knoppen, eendjes en heel veel madeliefjes",
        "vlinders, bramen en een mierenhoop",
        "eikels, kastanjes, paddenstoelen en bladeren in alle kleuren",
    )[season]
    return (
        f"{name} in het bos",
        f"Vanochtend liepen we met de hele groep door het bos. We vonden {things}. "
        "In de klas hebben we alles gesorteerd en een natuurtafel gemaakt. "
        "Op de foto's ziet u een paar van onze vondsten.",
    )


# (kind, title, text, lowest year group, highest year group)
_A, _F = Post.Kind.ATMOSPHERE, Post.Kind.FUNCTIONAL
POST_CATALOGUE = (
    (
        _A,
        "Rekenen met blokjes",
        "Deze week bouwden we torens van tien blokjes en telden we "
        "hoeveel we er samen hadden. Wie bouwt thuis de hoogste toren?",
        1,
        3,
    ),
    (
        _A,
        "Voorlezen in de leeshoek",
        "Elke ochtend lezen we samen een prentenboek. Deze week "
        "was 'Rupsje Nooitgenoeg' favoriet: vraag thuis maar eens hoe het afliep!",
        1,
        3,
    ),
    (
        _A,
        "Proefjes met water",
        "Wat drijft en wat zinkt? We probeerden het uit met een kurk, "
        "een knikker en een appel. De appel verraste iedereen.",
        2,
        5,
    ),
    (
        _A,
        "Ons project over de ruimte",
        "We werken aan een project over de planeten. In de klas "
        "hangt nu een zonnestelsel van papier-maché, gemaakt door de hele groep.",
        3,
        6,
    ),
    (
        _A,
        "Gymles: apenkooien",
        "Klimmen, zwaaien en rennen zonder de grond te raken: "
        "apenkooien blijft het favoriete spel. Moe maar voldaan gingen we naar huis.",
        3,
        8,
    ),
    (
        _A,
        "Een eigen gedicht",
        "Iedereen schreef deze week een gedicht. Ze hangen op de gang; "
        "kom gerust kijken bij het brengen of halen.",
        4,
        8,
    ),
    (
        _A,
        "Spreekbeurten",
        "De eerste spreekbeurten zijn gehouden: over honden, voetbal en "
        "vulkanen. Wat een goede voorbereiding, knap gedaan!",
        5,
        8,
    ),
    (
        _A,
        "Debat in de klas",
        "Moet de schooldag later beginnen? We debatteerden in twee "
        "teams, met argumenten, tegenargumenten en een stemming. Het werd 14 tegen 11.",
        7,
        8,
    ),
    (
        _F,
        "Neem donderdag gymkleding mee",
        "Donderdag hebben we gym in de sporthal. Wilt u "
        "zorgen dat uw kind gymkleding en gymschoenen met lichte zolen meeneemt?",
        3,
        8,
    ),
    (
        _F,
        "Huiswerk: tafels oefenen",
        "Deze weken oefenen we de tafels van 6, 7 en 8. Tien "
        "minuten per dag thuis oefenen helpt enorm, bijvoorbeeld in de auto of aan tafel.",
        4,
        5,
    ),
    (
        _F,
        "Huiswerk voor de topotoets",
        "Volgende week is de toets topografie over de "
        "provincies en hun hoofdsteden. De oefenkaart zit in de map van uw kind.",
        6,
        8,
    ),
    (
        _F,
        "Uitstapje naar de kinderboerderij",
        "Vrijdag lopen we naar de kinderboerderij. We "
        "zoeken nog twee ouders die mee willen lopen; laat het de leerkracht even weten.",
        1,
        3,
    ),
    (
        _F,
        "Bibliotheekboeken terugbrengen",
        "Wilt u thuis even zoeken naar boeken van de "
        "schoolbibliotheek? Vrijdag brengen we ze terug en lenen we nieuwe.",
        2,
        6,
    ),
    (
        _F,
        "Woensdag fruitdag",
        "Op woensdag is het fruitdag: geef uw kind een stuk fruit en "
        "een beker water mee. Snoep en koek blijven die dag thuis.",
        1,
        4,
    ),
)
#: The photo post (by leerkracht@ in 5a) and the other fixed posts of ouder@'s groups.
PHOTO_GROUP = "5a"
FIXED_POSTS = {
    "5a": (
        (
            _F,
            "Excursie naar het Natuurmuseum",
            "Binnenkort gaan we met de groep naar het "
            "Natuurmuseum. In de agenda staat wat uw kind mee moet nemen. We vertrekken om "
            "8.45 uur en zijn rond 14.30 uur terug.",
            5,
            5,
        ),
        (
            _F,
            "Neem donderdag gymkleding mee",
            "Donderdag hebben we gym in de sporthal. Wilt "
            "u zorgen dat uw kind gymkleding en gymschoenen met lichte zolen meeneemt?",
            5,
            5,
        ),
    ),
    "6a": (POST_CATALOGUE[10], POST_CATALOGUE[6]),
}
NEWSLETTER_BODY = (
    "<p>Beste ouders en verzorgers,</p>"
    "<p>Wat een mooie weken hebben we achter de rug. Een paar dingen op een rij:</p>"
    "<ul><li>Het koffie-uurtje is weer begonnen: na het brengen staat de koffie klaar.</li>"
    "<li>De medezeggenschapsraad zoekt een nieuwe ouder. Interesse? Mail de directie.</li>"
    "<li>Kijk in de agenda voor de feesten en de studiedag; dan zijn de kinderen vrij.</li>"
    "<li>Gevonden voorwerpen liggen tot het einde van de maand bij de ingang.</li></ul>"
    "<p>Met vriendelijke groet,<br>namens het team van De Klimroos</p>"
)


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=worktime.AMSTERDAM)


def demo_photo(n: int, *, seed: int) -> SimpleUploadedFile:
    """A colourful picture of a walk in the woods, drawn in memory: no people, no files.

    It carries a camera EXIF block on purpose, as a phone photo would, so the demo shows
    (and the tests check) that the photo pipeline strips it.
    """
    rng = random.Random(seed + n)
    w, h = 960, 720
    sky, ground = ((120, 185, 235), (250, 222, 170)) if n == 0 else ((250, 205, 140), (160, 105, 60))
    img = Image.composite(
        Image.new("RGB", (w, h), ground),
        Image.new("RGB", (w, h), sky),
        Image.linear_gradient("L").resize((w, h)),
    )
    draw = ImageDraw.Draw(img)
    leaf_colours = [(214, 90, 40), (236, 160, 40), (190, 50, 40), (150, 160, 50), (240, 200, 60)]
    if n == 0:
        draw.ellipse((w - 210, 50, w - 90, 170), fill=(255, 220, 90))
        draw.ellipse((-200, h * 0.55, w * 0.7, h * 1.4), fill=(110, 150, 70))
        draw.ellipse((w * 0.4, h * 0.6, w * 1.3, h * 1.5), fill=(90, 130, 60))
        for i in range(7):
            x, base = 60 + i * 135 + rng.randint(-20, 20), h * 0.75 + rng.randint(-30, 30)
            draw.rectangle((x - 10, base - 120, x + 10, base), fill=(110, 70, 40))
            colour = rng.choice(leaf_colours)
            draw.polygon([(x - 70, base - 100), (x + 70, base - 100), (x, base - 300)], fill=colour)
    else:
        for _ in range(40):
            x, y, r = rng.randint(0, w), rng.randint(0, h), rng.randint(25, 70)
            draw.ellipse((x - r, y - r // 2, x + r, y + r // 2), fill=rng.choice(leaf_colours))
            draw.line((x - r, y, x + r, y), fill=(100, 60, 30), width=3)
        for _ in range(12):
            x, y = rng.randint(40, w - 40), rng.randint(40, h - 40)
            draw.ellipse((x - 22, y - 28, x + 22, y + 20), fill=(150, 95, 45))
            draw.chord((x - 24, y - 34, x + 24, y - 4), 180, 360, fill=(95, 65, 35))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Klimop", "Demo camera"  # Make, Model
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=88, exif=exif)
    return SimpleUploadedFile(f"wandeling-{n + 1}.jpg", out.getvalue(), content_type="image/jpeg")


def posts_create(
    *,
    demo: DemoSchool,
    director: User,
    moment: dt.datetime,
    rng: random.Random,
    photo_seed: int,
    newest_on_last_day: str = "2b",
) -> list[Post]:
    """2–4 posts per group and a newsletter, on school days of the last three weeks.

    The newest post of group 5a is the walk with photos, on leerkracht@'s last working day; the
    newest of ``newest_on_last_day`` is on the last school day. Older posts get lower ids, as
    in real life. Each is written at its moment and announced a minute later.
    """
    days = demo.school_days_before(moment, HISTORY_SCHOOL_DAYS)
    planned: list[tuple[dt.datetime, dict]] = []
    for name, group in demo.groups.items():
        fixed = list(FIXED_POSTS.get(name, ()))
        fixed_titles = {f[1] for f in fixed}
        eligible = [p for p in POST_CATALOGUE if p[3] <= group.year <= p[4] and p[1] not in fixed_titles]
        count = rng.randint(2, 4)
        atmosphere = [p for p in eligible if p[0] == _A]
        functional = [p for p in eligible if p[0] == _F]
        chosen = fixed[:count]
        if not any(p[0] == _A for p in chosen):
            chosen.append(rng.choice(atmosphere))
        if not any(p[0] == _F for p in chosen):
            chosen.append(rng.choice(functional))
        rest = [p for p in eligible if p not in chosen]
        chosen += rng.sample(rest, max(0, count - len(chosen)))
        photo_day = None
        if name == PHOTO_GROUP:
            photo_day = next(d for d in days if d.weekday() in demo.teachers[name][0][1])
            title, text = _season_walk(photo_day)
            chosen.insert(0, (_A, title, text, 5, 5))
        older = [d for d in days[1:] if photo_day is None or d < photo_day]
        post_days = sorted(rng.sample(older, len(chosen) - bool(photo_day)), reverse=True)
        if photo_day is not None:
            post_days.insert(0, photo_day)
        elif name == newest_on_last_day:
            post_days[0] = days[0]
        for n, ((kind, title, text, *_years), day) in enumerate(zip(chosen, post_days, strict=True)):
            at = _local(day, rng.randint(8, 15), rng.randint(0, 59))
            fields = {"actor": demo.teacher_on(name, day), "group": group, "kind": kind, "title": title}
            planned.append((at, {**fields, "body": text, "photos": n == 0 and photo_day is not None}))
    newsletter_day = days[min(4, len(days) - 1)]
    month = DUTCH_MONTHS[newsletter_day.month - 1]
    planned.append(
        (
            _local(newsletter_day, 12, 15),
            {
                "actor": director,
                "school": demo.school,
                "kind": Post.Kind.NEWSLETTER,
                "title": f"Nieuwsbrief {month}",
                "body": NEWSLETTER_BODY,
            },
        )
    )
    planned.sort(key=lambda item: item[0])

    posts = []
    for at, fields in planned:
        photos = [demo_photo(n, seed=photo_seed) for n in range(2)] if fields.pop("photos", False) else []
        with time_machine.travel(at, tick=False):
            post = services.post_create(**fields, photos=photos, consent_confirmed=bool(photos))
        with time_machine.travel(at + dt.timedelta(minutes=1), tick=False):
            services.post_notify_published(post_id=post.pk)
        posts.append(post)
    return posts


def reads_create(
    *,
    school: School,
    posts: list[Post],
    moment: dt.datetime,
    rng: random.Random,
    parent: User,
    unread_groups: Collection[str],
    logins: Collection[User],
) -> None:
    """Who read which post: older posts have more readers. ``parent`` read every post except
    the newest of each of ``unread_groups``. The ``logins`` also read a read post's notification.
    """
    readers_of_group: dict[int | None, list[int]] = defaultdict(list)
    for group_id, user_id in (
        GuardianRelation.objects.filter(
            pupil__school=school, access__in=VIEW_ACCESS, guardian__user__isnull=False
        )
        .values_list("pupil__group_id", "guardian__user_id")
        .order_by("guardian__user_id")
        .distinct()
    ):
        readers_of_group[group_id].append(user_id)
    everyone = sorted({u for users in readers_of_group.values() for u in users})
    newest: dict[int, Post] = {}
    for post in posts:
        if post.group is not None and post.group.name in unread_groups:
            newest[post.group.pk] = max(newest.get(post.group.pk, post), post, key=lambda p: p.publish_at)
    unread = {p.pk for p in newest.values()}
    users = {u.pk: u for u in User.objects.filter(pk__in=everyone)}
    attentive = {u.pk for u in logins}
    for post in posts:
        if post.publish_at > moment:
            continue  # written in the summer holidays: held for the school year (office hours)
        audience = readers_of_group[post.group_id] if post.group_id else everyone
        age_days = (moment - post.publish_at).days
        share = min(0.9, 0.35 + 0.05 * age_days)
        readers = {u for u in audience if u != parent.pk and rng.random() < share}
        if parent.pk in audience and post.pk not in unread:
            readers.add(parent.pk)
        with time_machine.travel(min(post.publish_at + dt.timedelta(hours=3), moment), tick=False):
            services.post_reads_record(actor=None, post=post, readers=[users[u] for u in sorted(readers)])
            thanks_create(post=post, readers=[users[u] for u in sorted(readers - attentive - {parent.pk})])
            for user_id in sorted(readers & attentive):
                notes = Notification.objects.filter(user_id=user_id, cause=f"post:{post.pk}")
                notification_mark_read(
                    actor=users[user_id], notification_ids=notes.values_list("pk", flat=True)
                )


def thanks_create(*, post: Post, readers: list[User]) -> int:
    """Some readers of an atmosphere post say thank you (``post_thank``), about one in eight.

    Chosen by a generator of the post's own (its title and time), so the other parts' random
    streams stay as they were; the demo logins never thank, so ouder@ can try it.
    """
    if post.kind != Post.Kind.ATMOSPHERE:
        return 0
    chooser = random.Random(f"{post.title}|{post.publish_at.isoformat()}")
    thanked = 0
    for reader in readers:
        if chooser.random() < 0.125:
            try:  # post_thank checks that the reader may (once: this was asked twice)
                services.post_thank(actor=reader, post=post)
            except PermissionDenied:
                continue
            thanked += 1
    return thanked


def summary(school: School) -> dict[str, object]:
    posts = Post.objects.filter(school=school)
    photos = PostPhoto.objects.filter(post__school=school).count()
    return {
        "posts": (
            f"{posts.count()} in {posts.exclude(group=None).values('group').distinct().count()} groups, "
            f"{posts.filter(group=None).count()} school-wide, {photos} photos"
        ),
        "post reads": PostRead.objects.filter(post__school=school).count(),
        "post thank-yous": PostThanks.objects.filter(post__school=school).count(),
    }


def delete(*, school: School) -> None:
    """The school's posts with their photo files, before the school itself is deleted."""
    services.posts_delete_of_school(actor=None, school=school)
