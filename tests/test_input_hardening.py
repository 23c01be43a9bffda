"""Input hardening (issue 9, point 5): refused uploads, pixel budgets, bounded dates, bidi controls."""

import datetime as dt
import html as htmllib
import io
import struct
import zlib

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from absences.models import AbsenceReport, LeaveRequest
from communication.agenda.models import Event
from communication.chats import services as chat_services
from communication.chats.models import Message
from communication.posts.models import Post
from klimop import media, worktime
from klimop.text import strip_bidi
from klimop.worktime import AMSTERDAM
from tests import factories as f

TUESDAY_MORNING = dt.datetime(2026, 10, 6, 10, 0, tzinfo=AMSTERDAM)
TYPED = "Hierbij de foto van het schoolreisje"


@pytest.fixture
def cast(teacher, duo_teacher, director, parent, divorced_parent, child):
    return None


# --- files that are not what they claim --------------------------------------------------------


def _jpeg(name="foto.jpg", size=(64, 48)):
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def _fake_jpeg():
    return SimpleUploadedFile(
        "vakantie.jpg", b"Dit is gewoon tekst, geen foto.\n" * 20, content_type="image/jpeg"
    )


def _svg():
    svg = (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        b'<script>alert(1)</script><circle cx="50" cy="50" r="40"/></svg>'
    )
    return SimpleUploadedFile("tekening.svg", svg, content_type="image/svg+xml")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _pixel_bomb(width=30_000, height=30_000, name="bom.png"):
    """A tiny PNG whose header declares a huge canvas: decoding it would need gigabytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"\x00" * 1024)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )
    return SimpleUploadedFile(name, data, content_type="image/png")


REFUSED = {
    "fake_image": (_fake_jpeg, ["geen foto die Klimop kan lezen", "not a photo Klimop can read"]),
    "svg": (_svg, ["geen foto die Klimop kan lezen", "not a photo Klimop can read"]),
    "pixel_bomb": (_pixel_bomb, ["megapixel"]),
}


def _post(client, conversation, upload, *, htmx=False, body=TYPED):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        reverse("chats:chat_detail", args=[conversation.pk]),
        {"body": body, "attachment": upload},
        headers=headers,
    )


class TestRefusedChatAttachments:
    @pytest.mark.parametrize("htmx", [False, True], ids=["post", "htmx"])
    @pytest.mark.parametrize("kind", sorted(REFUSED))
    def test_a_refused_attachment_gives_the_form_back_with_a_message(
        self, client, cast, parent, child, kind, htmx
    ):
        make, texts = REFUSED[kind]
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = chat_services.conversation_start_direct(
                actor=parent.user, pupil=child, body="Eerste bericht"
            )
            client.force_login(parent.user)
            response = _post(client, conversation, make(), htmx=htmx)
        html = htmllib.unescape(response.content.decode())
        # A normal POST answers 400 (the form is invalid), an HTMX POST 200 so htmx swaps it in.
        assert response.status_code == (200 if htmx else 400)
        assert any(t in html for t in texts), html
        assert TYPED in html  # what the parent typed is kept
        assert conversation.messages.count() == 1

    @pytest.mark.parametrize("htmx", [False, True], ids=["post", "htmx"])
    def test_a_parents_photo_in_a_group_chat_gives_the_form_back(
        self, client, cast, teacher, group, parent, htmx
    ):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = chat_services.conversation_start_group(
                actor=teacher.user, group=group, title="Schoolreis", body="Foto's?"
            )
            client.force_login(parent.user)
            response = _post(client, conversation, _jpeg(), htmx=htmx)
        html = htmllib.unescape(response.content.decode())
        assert response.status_code == (200 if htmx else 400)
        assert "geen foto's delen" in html or "cannot share photos" in html, html
        assert TYPED in html
        assert Message.objects.filter(conversation=conversation).count() == 1

    def test_an_accepted_photo_still_arrives(self, client, cast, parent, child):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = chat_services.conversation_start_direct(
                actor=parent.user, pupil=child, body="Eerste bericht"
            )
            client.force_login(parent.user)
            response = _post(client, conversation, _jpeg())
        assert response.status_code == 302
        assert conversation.messages.latest("pk").attachment_kind == "image"


# --- the pixel budget ---------------------------------------------------------------------------

POST_TIME = dt.datetime(2026, 11, 24, 10, 0, tzinfo=AMSTERDAM)  # a Tuesday: the teacher works


class TestPixelBudget:
    def test_a_pixel_bomb_is_refused_from_its_header_with_the_limit(self):
        with pytest.raises(ValidationError) as exc:
            media.process_photo(_pixel_bomb())
        assert exc.value.code == "too_many_pixels"
        assert "40 megapixel" in exc.value.messages[0]

    def test_one_image_over_the_limit_names_its_size(self):
        with pytest.raises(ValidationError) as exc:
            media.process_photo(_pixel_bomb(8000, 6000))  # 48 MP: Pillow opens it, Klimop does not
        assert "8000 × 6000" in exc.value.messages[0]

    def test_a_post_over_the_budget_gives_the_form_back_before_any_photo_is_decoded(
        self,
        client,
        teacher,
        group,
        monkeypatch,
    ):
        decoded = []
        monkeypatch.setattr(media, "process_photo", lambda upload: decoded.append(upload))
        # Three headers of 36 MP each: every one is allowed alone, together they are 108 MP.
        photos = [_pixel_bomb(6000, 6000, name=f"groot{i}.png") for i in range(3)]
        client.force_login(teacher.user)
        with time_machine.travel(POST_TIME, tick=False):
            response = client.post(
                reverse("posts:post_create"),
                {
                    "audience": str(group.pk),
                    "kind": "atmosphere",
                    "title": "Schoolreis naar de Efteling",
                    "body": "Wat een dag!",
                    "photos": photos,
                    "consent_confirmed": "on",
                },
            )
        html = htmllib.unescape(response.content.decode())
        assert response.status_code == 200
        assert "108 van hooguit 25 megapixel" in html  # Dutch, the teacher's language
        assert "Schoolreis naar de Efteling" in html
        assert decoded == []
        assert not Post.objects.exists()

    @pytest.mark.parametrize(
        ("size", "fmt", "fits", "refused"),
        [
            # A 12 MP phone JPEG is decoded at half scale (3 MP): eight fit, nine do not.
            ((4032, 3024), "JPEG", 8, 9),
            # An 8 MP JPEG too (1632 × 1224: 2 MP): twelve fit.
            ((3264, 2448), "JPEG", 12, 13),
            # PNG is decoded in full: two of 12 MP fit, three do not.
            ((4032, 3024), "PNG", 2, 3),
        ],
    )
    def test_the_budget_counts_what_will_be_decoded(self, size, fmt, fits, refused):
        out = io.BytesIO()
        Image.new("RGB", size, (10, 120, 200)).save(out, format=fmt)
        data = out.getvalue()

        def photos(n):
            return [SimpleUploadedFile(f"f{i}.{fmt.lower()}", data) for i in range(n)]

        media.check_post_pixels(photos(fits))
        with pytest.raises(ValidationError) as exc:
            media.check_post_pixels(photos(refused))
        assert exc.value.code == "too_many_pixels_in_post"

    def test_a_post_within_the_budget_is_saved(self, client, teacher, group):
        client.force_login(teacher.user)
        with time_machine.travel(POST_TIME, tick=False):
            response = client.post(
                reverse("posts:post_create"),
                {
                    "audience": str(group.pk),
                    "kind": "atmosphere",
                    "title": "Herfst",
                    "body": "Bladeren",
                    "photos": [_jpeg(f"f{i}.jpg") for i in range(3)],
                    "consent_confirmed": "on",
                },
            )
        assert response.status_code == 302
        assert Post.objects.get().photos.count() == 3

    def test_a_phone_photo_is_stored_near_the_stored_side_and_upright(self):
        from PIL import ExifTags

        img = Image.new("RGB", (4032, 3024), (200, 0, 0))
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = 6  # taken with the phone turned: must be shown upright
        out = io.BytesIO()
        img.save(out, format="JPEG", exif=exif.tobytes())
        processed = media.process_photo(SimpleUploadedFile("telefoon.jpg", out.getvalue()))
        assert (processed.width, processed.height) == (1512, 2016)
        assert not Image.open(io.BytesIO(processed.image.read())).getexif()


# --- dates are bounded ----------------------------------------------------------------------------

YEAR_2026 = (dt.date(2026, 8, 31), dt.date(2027, 7, 16))
YEAR_2027 = (dt.date(2027, 8, 30), dt.date(2028, 7, 14))


class TestDateBounds:
    def test_the_latest_day_is_the_end_of_the_next_school_year(self):
        assert worktime.latest_plannable_date([YEAR_2026, YEAR_2027], dt.date(2026, 11, 24)) == YEAR_2027[1]

    def test_without_the_next_school_year_about_thirteen_months_ahead(self):
        today = dt.date(2026, 11, 24)
        assert worktime.latest_plannable_date([YEAR_2026], today) == dt.date(2027, 12, 25)
        assert worktime.latest_plannable_date([], today) == dt.date(2027, 12, 25)

    def test_in_the_summer_the_coming_year_counts_as_this_one(self):
        assert worktime.latest_plannable_date([YEAR_2026, YEAR_2027], dt.date(2027, 7, 30)) == dt.date(
            2028, 8, 29
        )  # 2027/28 is the coming year; the one after is not entered
        assert worktime.earliest_recordable_date([YEAR_2026, YEAR_2027], dt.date(2027, 7, 30)) == YEAR_2026[0]

    def test_the_earliest_day_is_the_start_of_this_school_year(self):
        earlier = (dt.date(2025, 9, 1), dt.date(2026, 7, 17))
        assert worktime.earliest_recordable_date([earlier, YEAR_2026], dt.date(2026, 11, 24)) == YEAR_2026[0]
        assert worktime.earliest_recordable_date([], dt.date(2026, 11, 24)) == dt.date(2025, 11, 23)


def _text(response):
    return htmllib.unescape(response.content.decode())


TOO_FAR = "Dat is te ver vooruit: de laatst mogelijke dag is"
TOO_LONG_AGO = "Dat is te lang geleden: de vroegst mogelijke dag is"


class TestBoundedDatesInTheForms:
    def test_a_post_scheduled_after_the_next_school_year_is_refused(self, client, teacher, group, school):
        f.SchoolYearFactory(school=school, name="2027/2028", starts_on=YEAR_2027[0], ends_on=YEAR_2027[1])
        client.force_login(teacher.user)
        with time_machine.travel(POST_TIME, tick=False):
            response = client.post(
                reverse("posts:post_create"),
                {
                    "audience": str(group.pk),
                    "kind": "functional",
                    "title": "Afscheid groep 8",
                    "body": "Tot ziens",
                    "publish_at": "2028-07-17T10:00",
                },
            )
            html = _text(response)
            assert response.status_code == 200
            assert f"{TOO_FAR} 14 juli 2028." in html
            assert "Afscheid groep 8" in html
            assert not Post.objects.exists()
            ok = client.post(
                reverse("posts:post_create"),
                {
                    "audience": str(group.pk),
                    "kind": "functional",
                    "title": "Afscheid groep 8",
                    "body": "Tot ziens",
                    "publish_at": "2028-07-14T10:00",
                },
            )
        assert ok.status_code == 302

    @pytest.mark.parametrize(
        ("day", "message"),
        [("2027-12-27", f"{TOO_FAR} 25 december 2027."), ("9999-12-31", f"{TOO_FAR} 25 december 2027.")],
    )
    def test_an_event_far_ahead_is_refused(self, client, teacher, group, day, message):
        client.force_login(teacher.user)
        with time_machine.travel(POST_TIME, tick=False):
            response = client.post(
                reverse("agenda:event_create"),
                {
                    "group": group.pk,
                    "title": "Schoolfeest",
                    "kind": "activity",
                    "starts_on": day,
                    "all_day": "on",
                    "remind_days_before": 2,
                },
            )
        html = _text(response)
        assert response.status_code == 200
        assert message in html
        assert "Schoolfeest" in html
        assert not Event.objects.exists()

    def test_a_sick_report_with_a_last_day_years_ahead_is_refused(self, client, parent, child):
        client.force_login(parent.user)
        with time_machine.travel(dt.datetime(2026, 11, 24, 7, 30, tzinfo=AMSTERDAM), tick=False):
            response = client.post(
                reverse("absences:report"),
                {
                    "submission": "5e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
                    "pupils": [child.pk],
                    "kind": "sick",
                    "starts_on": "2026-11-24",
                    "ends_on": "2031-01-01",
                    "note": "Gebroken been",
                },
            )
        html = _text(response)
        assert response.status_code == 200
        assert f"{TOO_FAR} 25 december 2027." in html
        assert "Gebroken been" in html
        assert not AbsenceReport.objects.exists()

    def test_staff_cannot_record_an_absence_in_an_earlier_school_year(self, client, teacher, child, school):
        f.SchoolYearFactory(
            school=school, name="2025/2026", starts_on=dt.date(2025, 9, 1), ends_on=dt.date(2026, 7, 17)
        )
        client.force_login(teacher.user)
        with time_machine.travel(POST_TIME, tick=False):
            response = client.post(
                reverse("absences:staff_report"),
                {
                    "submission": "6e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
                    "pupil": child.pk,
                    "kind": "unexplained",
                    "starts_on": "2026-03-03",
                    "note": "Niet op school",
                },
            )
        html = _text(response)
        assert response.status_code == 200
        assert f"{TOO_LONG_AGO} 31 augustus 2026." in html
        assert "Niet op school" in html
        assert not AbsenceReport.objects.exists()

    def test_leave_until_the_year_9999_is_refused_quickly(self, client, parent, child, director):
        client.force_login(parent.user)
        with time_machine.travel(POST_TIME, tick=False):
            check = client.get(
                reverse("absences:leave_check"),
                {"pupils": [child.pk], "kind": "other", "starts_on": "2027-01-11", "ends_on": "9999-12-31"},
            )
            response = client.post(
                reverse("absences:leave_create"),
                {
                    "submission": "7e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
                    "pupils": [child.pk],
                    "kind": "other",
                    "starts_on": "2027-01-11",
                    "ends_on": "9999-12-31",
                    "reason": "Wereldreis met de familie",
                },
            )
        assert check.status_code == 200
        assert check.json()["errors"] == [f"{TOO_FAR} 25 december 2027."]
        html = _text(response)
        assert response.status_code == 200
        assert TOO_FAR in html
        assert "Wereldreis met de familie" in html
        assert not LeaveRequest.objects.exists()


# --- invisible bidirectional controls ------------------------------------------------------------

RLO, LRI, PDI, RLM, ALM = "\u202e", "\u2066", "\u2069", "\u200f", "\u061c"
ALL_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


class TestStripBidi:
    def test_every_bidi_control_is_removed_and_nothing_else(self):
        assert strip_bidi(f"a{ALL_BIDI}b") == "ab"
        kept = "Zoë 👩‍👧 مرحبا שלום\u200d x"  # letters of any script, emoji with a joiner (U+200D)
        assert strip_bidi(kept) == kept
        assert strip_bidi(None) is None

    def test_a_reversed_extension_cannot_hide_in_a_download_name(self):
        assert media.safe_download_name(f"factuur{RLO}fdp.exe") == "factuurfdp.exe.pdf"

    def test_the_form_mixin_strips_text_and_file_names(self):
        from django import forms
        from django.http import QueryDict

        from klimop.text import StripBidiMixin

        class F(StripBidiMixin, forms.Form):
            name = forms.CharField()
            upload = forms.FileField()

        data = QueryDict(mutable=True)
        data.setlist("name", [f"Noor{RLO}rooN"])
        form = F(data, {"upload": SimpleUploadedFile(f"foto{RLO}gpj.exe", b"x")})
        assert form.is_valid()
        assert form.cleaned_data["name"] == "NoorrooN"
        assert form.cleaned_data["upload"].name == "fotogpj.exe"
        assert F({"name": f"{LRI}{PDI}"}, {}).errors["name"]  # nothing visible left: required


class TestBidiWhereUserTextEnters:
    def test_the_survey_comment_and_the_planner_room_lose_them(self, group):
        from conversations.forms import AvailabilityForm
        from klimop.models import Group
        from quality.forms import SurveyAnswerForm

        survey = SurveyAnswerForm({"score": "4", "comment": f"Fijne{RLO} school"})
        assert survey.is_valid()
        assert survey.cleaned_data["comment"] == "Fijne school"
        room = AvailabilityForm({"location": f"Lokaal{LRI} 4{PDI}"}, groups=Group.objects.all())
        room.is_valid()
        assert room.cleaned_data["location"] == "Lokaal 4"

    def test_a_post_loses_bidi_controls_in_title_and_text(self, client, teacher, group):
        client.force_login(teacher.user)
        with time_machine.travel(POST_TIME, tick=False):
            client.post(
                reverse("posts:post_create"),
                {
                    "audience": str(group.pk),
                    "kind": "functional",
                    "title": f"Gym{RLO}sleuk",
                    "body": f"Morgen{RLM} gym{ALM}!",
                },
            )
        post = Post.objects.get()
        assert (post.title, "Morgen gym!" in post.body) == ("Gymsleuk", True)
        assert not set(post.body) & set(ALL_BIDI)

    def test_a_chat_message_and_its_attachment_names_lose_them(self, client, cast, parent, child):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            conversation = chat_services.conversation_start_direct(
                actor=parent.user, pupil=child, body=f"Hallo{RLO}!"
            )
            client.force_login(parent.user)
            _post(client, conversation, _jpeg(f"vakantie{RLO}gnp.jpg"), body=f"Kijk{LRI}!{PDI}")
            pdf = SimpleUploadedFile(
                f"brief{RLO}exe.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"
            )
            _post(client, conversation, pdf, body="")
        first, photo, letter = conversation.messages.order_by("pk")
        assert "Hallo!" in first.body
        assert "Kijk!" in photo.body
        assert photo.attachment_name == "vakantiegnp.jpg"
        assert letter.attachment_name == "briefexe.pdf"

    def test_an_event_a_sick_report_and_a_leave_request_lose_them(
        self, client, teacher, group, parent, child, director
    ):
        client.force_login(teacher.user)
        with time_machine.travel(POST_TIME, tick=False):
            client.post(
                reverse("agenda:event_create"),
                {
                    "group": group.pk,
                    "title": f"Sint{RLO}kaas",
                    "kind": "activity",
                    "starts_on": "2026-12-04",
                    "all_day": "on",
                    "remind_days_before": 2,
                    "location": f"Aula{RLM}",
                },
            )
            client.force_login(parent.user)
            client.post(
                reverse("absences:report"),
                {
                    "submission": "8e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
                    "pupils": [child.pk],
                    "kind": "sick",
                    "starts_on": "2026-11-25",
                    "note": f"Koorts{RLO}",
                },
            )
            client.post(
                reverse("absences:leave_create"),
                {
                    "submission": "9e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
                    "pupils": [child.pk],
                    "kind": "important",
                    "starts_on": "2027-01-11",
                    "ends_on": "2027-01-12",
                    "reason": f"Bruiloft{LRI} van oom{PDI}",
                },
            )
        event = Event.objects.get()
        assert (event.title, event.location) == ("Sintkaas", "Aula")
        assert AbsenceReport.objects.get().note == "Koorts"
        assert LeaveRequest.objects.get().reason == "Bruiloft van oom"


class TestDatePickersStopAtTheBounds:
    def test_the_forms_tell_the_browser_the_first_and_last_possible_day(self, client, teacher, parent, child):
        with time_machine.travel(POST_TIME, tick=False):
            client.force_login(teacher.user)
            post_form = client.get(reverse("posts:post_create")).content.decode()
            event_form = client.get(reverse("agenda:event_create")).content.decode()
            staff_form = client.get(reverse("absences:staff_report")).content.decode()
            client.force_login(parent.user)
            leave_form = client.get(reverse("absences:leave_create")).content.decode()
        assert 'max="2027-12-25T23:59"' in post_form
        assert 'max="2027-12-25"' in event_form
        assert 'min="2026-08-31"' in staff_form
        assert 'max="2027-12-25"' in leave_form
        # Leerplichtwet art. 14 lid 3, also for "other" leave: the form says so.
        assert "<strong>Ander verlof</strong> van meer dan 10 schooldagen gaat ook naar" in leave_form


# --- the directory's own forms and imports -------------------------------------------------------


def test_contact_details_lose_bidi_controls_before_they_are_checked(
    client, parent, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(parent.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("contact_details"), {"email": f"nieuw{RLO}@example.test", "phone": f"06-1234{RLM}5678"}
        )
    parent.refresh_from_db()
    assert parent.phone == "06-12345678"
    (confirmation,) = mailoutbox
    assert confirmation.to == ["nieuw@example.test"]


def test_a_staff_member_added_in_the_admin_has_no_bidi_controls_in_their_name(client, director, school):
    client.force_login(director.user)
    response = client.post(
        reverse("admin:klimop_staffmember_add"),
        {
            "external_id": f"M{LRI}1{PDI}",
            "email": "fenna@example.test",
            "first_name": f"Fen{RLO}na",
            "last_name": f"de{ALM} Vries",
            "role": "teacher",
        },
    )
    assert response.status_code == 302
    staff = school.staff.get(user__email="fenna@example.test")
    assert (staff.external_id, staff.user.first_name, staff.user.last_name) == ("M1", "Fenna", "de Vries")


def test_the_import_strips_bidi_controls_from_every_column(school, school_year):
    from klimop.resources import CSV, GroupResource

    text = f"external_id,name,year\nG{RLO}1,5{LRI}c{PDI},5\n"
    result = GroupResource(school=school).import_data(CSV().create_dataset(text.encode()))
    assert not result.has_errors()
    assert list(school.groups.values_list("external_id", "name")) == [("G1", "5c")]
