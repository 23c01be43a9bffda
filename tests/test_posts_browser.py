"""Posts in a real browser: a teacher posts a photo after hours; a parent sees it only after
the next opening. Screenshots of the post pages go to /tmp/klimop-shots/posts-*.png."""

import datetime as dt
import io
import re

import pytest
import time_machine
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from communication.posts.models import Post
from klimop.worktime import AMSTERDAM
from tests import factories as f
from tests.browser import DESKTOP, HAS_CHROMIUM, PHONE, log_in, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TUESDAY_EVENING = dt.datetime(2026, 11, 24, 21, 30, tzinfo=AMSTERDAM)
WEDNESDAY_OPENING = dt.datetime(2026, 11, 25, 8, 1, tzinfo=AMSTERDAM)
TUESDAY_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=AMSTERDAM)  # the teacher works

if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def _photo_file(tmp_path, name="herfst.jpg", hue=0):
    img = Image.new("RGB", (1200, 800), (230, 160 - hue, 60 + hue))
    draw = ImageDraw.Draw(img)
    for i in range(0, 1200, 80):
        draw.ellipse((i, 500 - (i % 240), i + 140, 640 - (i % 240)), fill=(180 - hue, 90, 30))
    draw.rectangle((0, 650, 1200, 800), fill=(90, 120, 50))
    path = tmp_path / name
    buf = io.BytesIO()
    img.save(buf, format="JPEG")
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def cast(school, group, teacher, child, parent):
    f.PupilFactory(group=group, first_name="Daan", last_name="Voorbeeld")
    verified(teacher.user)
    verified(parent.user)
    return {"teacher": teacher, "parent": parent, "group": group}


def test_a_photo_posted_after_hours_reaches_the_parent_only_at_the_next_opening(
    browser, live_server, cast, tmp_path
):
    with time_machine.travel(TUESDAY_EVENING, tick=True) as traveller:
        teacher_page = browser.new_page(viewport=PHONE)
        log_in(teacher_page, live_server, cast["teacher"].user)
        teacher_page.goto(f"{live_server.url}/berichten/nieuw/")
        assert "buiten uw werktijd" in teacher_page.locator("[data-publish-text]").inner_text()
        teacher_page.get_by_label("Titel").fill("Herfstwandeling in het park")
        teacher_page.get_by_label("Tekst").fill(
            "Vandaag liepen we door het park en zochten we kastanjes.\n\n"
            "Morgen maken we er een tentoonstelling van. Meer: https://example.org/herfst"
        )
        teacher_page.locator("input[name=photos]").set_input_files(
            [str(_photo_file(tmp_path)), str(_photo_file(tmp_path, "tweede.jpg", 60))]
        )
        consent = teacher_page.locator("[data-consent-box]")
        assert consent.is_visible()
        assert "Daan Voorbeeld" in consent.inner_text()
        teacher_page.get_by_label("Ik heb de foto's gecontroleerd").check()
        shot(teacher_page, "posts-form-phone")
        teacher_page.set_viewport_size(DESKTOP)
        shot(teacher_page, "posts-form-desktop")
        teacher_page.get_by_role("button", name="Publiceren").click()
        teacher_page.wait_for_load_state()
        assert teacher_page.url.endswith("/berichten/mijn/")
        assert "woensdag 25 november, 08:00" in teacher_page.content()
        shot(teacher_page, "posts-mine-desktop")
        teacher_page.set_viewport_size(PHONE)
        shot(teacher_page, "posts-mine-phone")

        post = Post.objects.get()
        photo_id = post.photos.first().pk

        parent_page = browser.new_page(viewport=PHONE)
        log_in(parent_page, live_server, cast["parent"].user)
        parent_page.goto(f"{live_server.url}/berichten/")
        assert "Herfstwandeling" not in parent_page.content()
        assert "Nog geen berichten" in parent_page.content()
        response = parent_page.goto(f"{live_server.url}/berichten/foto/{photo_id}/")
        assert response.status == 404

        # The next morning: no worker ran, the publication time alone decides.
        traveller.move_to(WEDNESDAY_OPENING)
        parent_page.goto(f"{live_server.url}/berichten/")
        card = parent_page.get_by_role("article").filter(has_text="Herfstwandeling in het park")
        assert card.is_visible()
        assert card.get_by_text("Nieuw", exact=True).is_visible()
        images = card.locator("img")
        assert images.count() == 2
        # A function, not an expression: Playwright would eval() an expression, which the
        # Content-Security-Policy (no 'unsafe-eval') refuses.
        parent_page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.post__photos img'))"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        link = card.get_by_role("link", name="https://example.org/herfst")
        assert link.get_attribute("target") == "_blank"
        assert "noopener" in link.get_attribute("rel")
        shot(parent_page, "posts-timeline-phone")
        parent_page.set_viewport_size(DESKTOP)
        shot(parent_page, "posts-timeline-desktop")

        # A logged-out visitor gets no photo, whatever the URL.
        anonymous = browser.new_page()
        response = anonymous.goto(f"{live_server.url}/berichten/foto/{photo_id}/")
        assert "/accounts/login/" in anonymous.url

        teacher_page.goto(f"{live_server.url}/berichten/mijn/")
        # Daan has no registered parents: one family to reach, and it has read the post.
        assert "Gelezen door 1 van 1 gezinnen" in teacher_page.content()
        teacher_page.get_by_role("link", name="Bewerken").click()
        typed_before = re.compile("Vandaag liepen we door het park")
        expect(teacher_page.get_by_label("Tekst")).to_have_value(typed_before)
        shot(teacher_page, "posts-edit-phone")


def test_the_rhythm_card_as_the_dashboard_shows_it(page, live_server, cast):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = cast["teacher"].user
    card = render_to_string("posts/_rhythm.html", {"request": request})
    assert "0 van 1" in card
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/static/css/klimop.css")
    page.set_content(
        f'<html><head><base href="{live_server.url}/">'
        f'<link rel="stylesheet" href="/static/css/klimop.css"></head>'
        f'<body><main class="container" style="padding-top:1rem">{card}</main></body></html>'
    )
    page.wait_for_load_state("networkidle")
    shot(page, "posts-rhythm-phone")


def test_a_post_over_the_photo_budget_comes_back_with_the_text_kept(browser, live_server, cast, tmp_path):
    """Nine 12 MP phone photos are more than a post's second of work: the teacher is told
    how many fit, and what they typed is still there."""
    big = Image.new("RGB", (4032, 3024), (90, 140, 60))
    data = io.BytesIO()
    big.save(data, format="JPEG", quality=85)
    files = []
    for i in range(9):
        path = tmp_path / f"schoolreis-{i}.jpg"
        path.write_bytes(data.getvalue())
        files.append(str(path))
    with time_machine.travel(TUESDAY_MORNING, tick=True):
        page = browser.new_page(viewport=PHONE)
        log_in(page, live_server, cast["teacher"].user)
        page.goto(f"{live_server.url}/berichten/nieuw/")
        page.get_by_label("Titel").fill("Schoolreis naar de kinderboerderij")
        page.get_by_label("Tekst").fill("Wat een mooie dag met de geitjes.")
        page.locator("input[name=photos]").set_input_files(files)
        page.get_by_label("Ik heb de foto's gecontroleerd").check()
        page.get_by_role("button", name="Publiceren").click()
        page.wait_for_load_state()
        assert page.get_by_text("ongeveer acht telefoonfoto's passen in één bericht").is_visible()
        assert page.get_by_label("Titel").input_value() == "Schoolreis naar de kinderboerderij"
        shot(page, "posts-photo-budget-phone")
    assert not Post.objects.exists()


def test_photos_survive_a_forgotten_consent_the_viewer_and_a_thank_you(browser, live_server, cast, tmp_path):
    """Issue 14: the teacher picks three photos, forgets the consent, gets the error with the
    photos (and their descriptions) still there, ticks the big consent card and publishes; a
    parent opens the viewer, goes to the next photo with the arrow key and a swipe, the back
    button closes it, and says thank you; the teacher sees the count."""
    files = [str(_photo_file(tmp_path, f"herfst-{i}.jpg", 40 * i)) for i in range(3)]
    with time_machine.travel(TUESDAY_MORNING, tick=True):
        teacher_page = browser.new_page(viewport=PHONE)
        log_in(teacher_page, live_server, cast["teacher"].user)
        teacher_page.goto(f"{live_server.url}/berichten/nieuw/")
        teacher_page.get_by_label("Titel").fill("Kastanjes zoeken")
        teacher_page.get_by_label("Tekst").fill("We vonden er meer dan honderd.")
        teacher_page.locator("input[name=photos]").set_input_files(files)
        previews = teacher_page.locator("[data-new-photos] .upload")
        expect(previews).to_have_count(3)
        previews.first.locator("input[name=photo_alt_new]").fill("Een emmer vol kastanjes")
        teacher_page.get_by_role("button", name="Publiceren").click()

        # The error, and nothing lost: text, the three photos as thumbnails, the description.
        consent_error = teacher_page.get_by_text("Bevestig dat de genoemde leerlingen niet herkenbaar zijn")
        expect(consent_error).to_be_visible()
        expect(teacher_page.get_by_role("alert")).to_contain_text("Uw foto's en bestanden zijn bewaard")
        kept = teacher_page.locator("[data-kept-photo]")
        expect(kept).to_have_count(3)
        expect(teacher_page.get_by_label("Titel")).to_have_value("Kastanjes zoeken")
        expect(kept.first.locator("input[type=text]")).to_have_value("Een emmer vol kastanjes")
        teacher_page.wait_for_function(
            "() => Array.from(document.querySelectorAll('[data-kept-photo] img'))"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        target = teacher_page.locator(".consent-confirm__target")
        expect(target).to_be_visible()
        box = target.bounding_box()
        assert box["height"] >= 44
        assert box["width"] >= 250  # the width of the card on a phone, not a 13 px box
        target.scroll_into_view_if_needed()
        shot(teacher_page, "posts-kept-photos-phone")
        # A tap on the words ticks it (the whole card is the target).
        target.locator("span").click()
        expect(teacher_page.get_by_label("Ik heb de foto's gecontroleerd")).to_be_checked()
        teacher_page.set_viewport_size(DESKTOP)
        shot(teacher_page, "posts-kept-photos-desktop")
        teacher_page.get_by_role("button", name="Publiceren").click()
        expect(teacher_page).to_have_url(re.compile("/berichten/mijn/$"))
        post = Post.objects.get()
        assert post.photos.count() == 3
        assert post.photos.order_by("position").first().alt_text == "Een emmer vol kastanjes"

        # The parent: the viewer.
        parent_page = browser.new_page(viewport=PHONE)
        log_in(parent_page, live_server, cast["parent"].user)
        parent_page.goto(f"{live_server.url}/berichten/")
        first = parent_page.get_by_role("link", name="Een emmer vol kastanjes")
        first.click()
        viewer = parent_page.get_by_role("dialog", name="Foto's bekijken")
        expect(viewer).to_be_visible()
        counter = viewer.locator("[data-viewer-counter]")
        expect(counter).to_have_text("1 / 3")
        expect(viewer.locator("[data-viewer-image]")).to_have_attribute("alt", "Een emmer vol kastanjes")
        expect(viewer.get_by_role("button", name="Foto sluiten")).to_be_focused()
        parent_page.keyboard.press("ArrowRight")
        expect(counter).to_have_text("2 / 3")
        expect(viewer.locator("[data-viewer-image]")).to_have_attribute(
            "alt", "Foto 2 bij ‘Kastanjes zoeken’"
        )
        parent_page.wait_for_function(
            "() => { const i = document.querySelector('[data-viewer-image]');"
            " return i.complete && i.naturalWidth > 0; }"
        )
        shot(parent_page, "posts-viewer-phone")
        # A swipe to the left: the next photo.
        stage = viewer.locator("[data-viewer-stage]").bounding_box()
        y = stage["y"] + stage["height"] / 2
        parent_page.mouse.move(stage["x"] + stage["width"] - 40, y)
        parent_page.mouse.down()
        parent_page.mouse.move(stage["x"] + 60, y + 10, steps=5)
        parent_page.mouse.up()
        expect(counter).to_have_text("3 / 3")
        expect(viewer.locator("[data-viewer-next]")).to_be_disabled()  # the last photo
        # The back button closes the viewer and stays on the page; the focus is back on the photo.
        parent_page.go_back()
        expect(viewer).to_be_hidden()
        assert parent_page.url.endswith("/berichten/")
        expect(first).to_be_focused()
        # Escape closes too, without leaving a history entry behind.
        first.click()
        expect(viewer).to_be_visible()
        parent_page.set_viewport_size(DESKTOP)
        shot(parent_page, "posts-viewer-desktop")
        parent_page.keyboard.press("Escape")
        expect(viewer).to_be_hidden()
        parent_page.set_viewport_size(PHONE)

        # The thank-you, without a reload, kept after one.
        thanks = parent_page.get_by_role("button", name="Bedankt")
        expect(thanks).to_have_attribute("aria-pressed", "false")
        thanks.click()
        expect(parent_page.get_by_role("button", name="Bedankt")).to_have_attribute("aria-pressed", "true")
        expect(parent_page.get_by_text("U hebt bedankt")).to_be_visible()
        shot(parent_page, "posts-thanks-phone")
        parent_page.reload()
        expect(parent_page.get_by_role("button", name="Bedankt")).to_have_attribute("aria-pressed", "true")

        teacher_page.goto(f"{live_server.url}/berichten/mijn/")
        expect(teacher_page.get_by_text("1 ouder zei bedankt")).to_be_visible()
        teacher_page.goto(f"{live_server.url}/berichten/{post.pk}/")
        expect(teacher_page.get_by_text("1 ouder zei bedankt")).to_be_visible()
        teacher_page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.post__photos img'))"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        shot(teacher_page, "posts-thanks-count-desktop")
