"""Posts: who may post where, office hours, photos, consent, timeline, read counts, notifications."""

import datetime as dt
import io
import sys

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import ExifTags, Image

from communication.posts import selectors, services
from communication.posts.models import Post, PostPhoto, PostRead
from klimop import media
from klimop.notifications.models import Notification
from klimop.worktime import AMSTERDAM
from tests import factories as f

# Tuesday 24 November 2026: the teacher works Monday to Wednesday, the duo Thursday and Friday.
TUESDAY_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=AMSTERDAM)
TUESDAY_EVENING = dt.datetime(2026, 11, 24, 21, 30, tzinfo=AMSTERDAM)
WEDNESDAY_OPENING = dt.datetime(2026, 11, 25, 8, 0, tzinfo=AMSTERDAM)


@pytest.fixture
def at_work():
    with time_machine.travel(TUESDAY_MORNING, tick=False) as traveller:
        yield traveller


def _jpeg(size=(640, 480), *, gps=False, name="photo.jpg", color=(200, 120, 40)):
    img = Image.new("RGB", size, color)
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[ExifTags.Base.Make] = "Fictional Camera"
        exif[ExifTags.Base.Orientation] = 1
        gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps_ifd[ExifTags.GPS.GPSLatitudeRef] = "N"
        gps_ifd[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 12.0)
        img.save(out, format="JPEG", exif=exif.tobytes())
    else:
        img.save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def _png_with_alpha():
    out = io.BytesIO()
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(out, format="PNG")
    return SimpleUploadedFile("clear.png", out.getvalue(), content_type="image/png")


def _pdf(name="brief.pdf"):
    return SimpleUploadedFile(
        name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf"
    )


def _post(author, *, group=None, school=None, **kwargs):
    kwargs.setdefault("title", "Herfstwandeling")
    kwargs.setdefault("body", "We liepen door het bos.")
    return services.post_create(actor=author.user, group=group, school=school, **kwargs)


# --- photos and files ------------------------------------------------------------------------


class TestPhotoProcessing:
    def test_a_text_file_named_jpg_is_refused(self):
        fake = SimpleUploadedFile("kind.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
        with pytest.raises(ValidationError) as exc:
            media.process_photo(fake)
        assert exc.value.code == "not_an_image"

    def test_a_truncated_jpeg_is_refused(self):
        data = _jpeg().read()
        with pytest.raises(ValidationError) as exc:
            media.process_photo(SimpleUploadedFile("half.jpg", data[: len(data) // 3]))
        assert exc.value.code == "not_an_image"

    def test_an_oversized_file_is_refused_with_the_limit(self, monkeypatch):
        monkeypatch.setattr(media, "MAX_PHOTO_BYTES", 1024 * 1024)
        big = SimpleUploadedFile("groot.jpg", b"\xff\xd8" + b"0" * (1024 * 1024 + 1))
        with pytest.raises(ValidationError) as exc:
            media.process_photo(big)
        assert exc.value.code == "too_large"
        assert "1 MB" in exc.value.messages[0]

    def test_too_many_pixels_is_refused_before_decoding(self, monkeypatch):
        monkeypatch.setattr(media, "MAX_PHOTO_PIXELS", 100 * 100)
        with pytest.raises(ValidationError) as exc:
            media.process_photo(_jpeg((200, 200)))
        assert exc.value.code == "too_many_pixels"

    def test_exif_and_gps_are_removed(self):
        upload = _jpeg(gps=True)
        assert Image.open(io.BytesIO(upload.read())).getexif().get_ifd(ExifTags.IFD.GPSInfo)
        upload.seek(0)
        processed = media.process_photo(upload)
        for content in (processed.image, processed.thumbnail):
            img = Image.open(io.BytesIO(content.read()))
            assert img.format == "JPEG"
            assert not img.getexif()
            assert "exif" not in img.info
        assert processed.content_type == "image/jpeg"

    def test_a_thumbnail_is_made_and_large_photos_scaled_down(self):
        processed = media.process_photo(_jpeg((5000, 3750)))
        assert (processed.width, processed.height) == (2048, 1536)
        # Just under twice the stored side, a JPEG is decoded at half scale: no resampling.
        processed = media.process_photo(_jpeg((4000, 3000)))
        assert (processed.width, processed.height) == (2000, 1500)
        thumb = Image.open(io.BytesIO(processed.thumbnail.read()))
        assert max(thumb.size) == media.THUMBNAIL_SIDE

    def test_a_transparent_png_stays_png(self):
        assert media.process_photo(_png_with_alpha()).content_type == "image/png"

    def test_a_pdf_is_checked_by_its_signature(self):
        assert media.check_pdf(_pdf()) > 0
        with pytest.raises(ValidationError) as exc:
            media.check_pdf(SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf"))
        assert exc.value.code == "not_a_pdf"


# --- formatted text ---------------------------------------------------------------------------


class TestSanitising:
    def test_a_script_in_a_post_is_removed(self):
        html = services.sanitize_body(
            '<p onclick="steal()">Hoi<script>alert(1)</script></p><img src=x onerror=alert(1)>'
            '<a href="javascript:alert(1)">klik</a><iframe src="https://evil.example"></iframe>'
        )
        assert "script" not in html
        assert "alert" not in html
        assert "onclick" not in html
        assert "<img" not in html
        assert "iframe" not in html
        assert "javascript:" not in html
        assert "<p>Hoi</p>" in html

    def test_links_open_safely_in_a_new_tab(self):
        html = services.sanitize_body('<p><a href="https://example.org" target="_self">site</a></p>')
        assert 'rel="noopener noreferrer nofollow"' in html
        assert 'target="_blank"' in html
        assert 'target="_self"' not in html

    def test_plain_text_becomes_paragraphs_with_links(self):
        html = services.sanitize_body("Hallo <ouders> & kinderen\n\nZie https://example.org")
        assert html.startswith("<p>Hallo &lt;ouders&gt; &amp; kinderen</p>")
        assert '<a href="https://example.org"' in html


# --- who may post where --------------------------------------------------------------------


class TestAudience:
    def test_teacher_posts_to_their_own_group(self, at_work, teacher, group):
        post = _post(teacher, group=group)
        assert post.school_id == group.school_id
        assert post.publish_at == TUESDAY_MORNING

    def test_teacher_cannot_post_to_another_group_or_the_school(self, at_work, teacher, other_group, school):
        with pytest.raises(PermissionDenied):
            _post(teacher, group=other_group)
        with pytest.raises(PermissionDenied):
            _post(teacher, school=school)

    def test_director_and_office_post_to_the_whole_school(self, at_work, director, office, school):
        assert _post(director, school=school, kind=Post.Kind.NEWSLETTER).group is None
        assert _post(office, school=school).group is None

    def test_director_of_another_school_cannot_post_here(self, at_work, other_director, school, group):
        with pytest.raises(PermissionDenied):
            _post(other_director, school=school)
        with pytest.raises(PermissionDenied):
            _post(other_director, group=group)

    def test_a_parent_cannot_post(self, at_work, parent, group):
        with pytest.raises(PermissionDenied):
            services.post_create(actor=parent.user, group=group, title="x", body="y")

    def test_an_empty_text_is_refused(self, at_work, teacher, group):
        with pytest.raises(ValidationError) as exc:
            _post(teacher, group=group, body="<script>x</script>")
        assert "body" in exc.value.error_dict


# --- office hours and scheduling ------------------------------------------------------------


class TestOfficeHours:
    def test_a_post_written_after_hours_is_held_until_the_next_opening(self, teacher, group, parent):
        with time_machine.travel(TUESDAY_EVENING, tick=False):
            post = _post(teacher, group=group)
            assert post.publish_at == WEDNESDAY_OPENING
            assert post.held_for_office_hours
            assert not selectors.timeline_for(viewer=parent.user).exists()
            assert selectors.timeline_for(viewer=teacher.user).get() == post  # the author sees it
        # No worker ran: the publication time alone decides.
        with time_machine.travel(WEDNESDAY_OPENING, tick=False):
            assert list(selectors.timeline_for(viewer=parent.user)) == [post]

    def test_the_duo_teachers_post_waits_for_their_own_working_day(self, duo_teacher, group):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            post = _post(duo_teacher, group=group)
        assert post.publish_at == dt.datetime(2026, 11, 26, 8, 0, tzinfo=AMSTERDAM)

    def test_a_post_can_be_scheduled_for_later(self, at_work, teacher, group):
        later = dt.datetime(2026, 11, 25, 13, 15, tzinfo=AMSTERDAM)
        post = _post(teacher, group=group, publish_at=later)
        assert post.publish_at == later
        assert not post.held_for_office_hours

    def test_a_schedule_in_the_evening_moves_to_the_next_opening(self, at_work, teacher, group):
        post = _post(teacher, group=group, publish_at=TUESDAY_EVENING)
        assert post.publish_at == WEDNESDAY_OPENING

    def test_a_schedule_in_the_past_is_refused(self, at_work, teacher, group):
        with pytest.raises(ValidationError) as exc:
            _post(teacher, group=group, publish_at=TUESDAY_MORNING - dt.timedelta(hours=2))
        assert "publish_at" in exc.value.error_dict

    def test_parents_get_404_for_an_unpublished_post_and_its_photos(self, client, teacher, group, parent):
        with time_machine.travel(TUESDAY_EVENING, tick=False):
            post = _post(teacher, group=group, photos=[_jpeg()], consent_confirmed=True)
            photo = post.photos.get()
            client.force_login(parent.user)
            assert client.get(reverse("posts:post_detail", args=[post.pk])).status_code == 404
            assert client.get(reverse("posts:post_photo", args=[photo.pk])).status_code == 404
        with time_machine.travel(WEDNESDAY_OPENING + dt.timedelta(minutes=1), tick=False):
            assert client.get(reverse("posts:post_photo", args=[photo.pk])).status_code == 200


# --- consent where it matters ---------------------------------------------------------------


class TestConsent:
    def test_photos_on_a_group_post_need_the_consent_confirmation(self, at_work, teacher, group):
        with pytest.raises(ValidationError) as exc:
            _post(teacher, group=group, photos=[_jpeg()])
        assert "consent_confirmed" in exc.value.error_dict
        assert not Post.objects.exists()
        assert not PostPhoto.objects.exists()

    def test_the_confirmation_is_kept_on_the_post(self, at_work, teacher, group):
        post = _post(teacher, group=group, photos=[_jpeg(), _jpeg()], consent_confirmed=True)
        assert post.consent_confirmed_at == TUESDAY_MORNING
        assert post.photos.count() == 2

    def test_without_the_privacy_module_every_pupil_is_listed(self, group, child, monkeypatch):
        # Silence is no consent: without recorded choices nobody may be recognisable.
        monkeypatch.setitem(sys.modules, "klimop.privacy.selectors", None)
        other = f.PupilFactory(group=group)
        f.PupilFactory(group=group, left_on=dt.date(2026, 10, 1))
        assert set(selectors.pupils_not_to_recognise(group=group)) == {child, other}

    def test_the_form_lists_the_pupils_and_the_checkbox(
        self,
        client,
        at_work,
        teacher,
        group,
        child,
        monkeypatch,
    ):
        monkeypatch.setitem(sys.modules, "klimop.privacy.selectors", None)
        client.force_login(teacher.user)
        response = client.get(reverse("posts:post_create"))
        assert child.full_name in response.content.decode()
        assert 'name="consent_confirmed"' in response.content.decode()

    def test_a_bad_photo_in_the_form_shows_an_error_and_stores_nothing(self, client, at_work, teacher, group):
        client.force_login(teacher.user)
        fake = SimpleUploadedFile("kind.jpg", b"not an image at all", content_type="image/jpeg")
        response = client.post(
            reverse("posts:post_create"),
            {
                "audience": str(group.pk),
                "kind": "atmosphere",
                "title": "Foto",
                "body": "Kijk",
                "photos": [fake],
                "consent_confirmed": "on",
            },
        )
        assert response.status_code == 200
        assert "is geen foto" in response.content.decode()
        assert not Post.objects.exists()


# --- serving files ---------------------------------------------------------------------------


class TestServingFiles:
    @pytest.fixture
    def post(self, at_work, teacher, group):
        return _post(
            teacher, group=group, photos=[_jpeg(gps=True)], consent_confirmed=True, attachments=[_pdf()]
        )

    def test_files_live_under_a_private_prefix(self, post):
        photo = post.photos.get()
        assert photo.image.name.startswith("private/posts/photos/")
        assert photo.thumbnail.name.startswith("private/posts/thumbnails/")
        assert default_storage.exists(photo.image.name)

    def test_a_parent_of_the_group_sees_photo_and_thumbnail(self, client, post, parent):
        client.force_login(parent.user)
        photo = post.photos.get()
        for name in ("posts:post_photo", "posts:post_photo_thumb"):
            response = client.get(reverse(name, args=[photo.pk]))
            assert response.status_code == 200
            assert response["Content-Type"] == "image/jpeg"
            assert "private" in response["Cache-Control"]
            img = Image.open(io.BytesIO(b"".join(response.streaming_content)))
            assert not img.getexif()

    def test_a_logged_out_visitor_gets_no_photo(self, client, post):
        response = client.get(reverse("posts:post_photo", args=[post.photos.get().pk]))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    @pytest.mark.parametrize("who", ["barred_parent", "step_parent", "other_teacher", "other_director"])
    def test_people_outside_the_group_get_404(self, client, post, request, who):
        person = request.getfixturevalue(who)
        client.force_login(person.user)
        photo = post.photos.get()
        assert client.get(reverse("posts:post_photo", args=[photo.pk])).status_code == 404
        assert client.get(reverse("posts:post_detail", args=[post.pk])).status_code == 404
        attachment = post.attachments.get()
        assert client.get(reverse("posts:post_attachment", args=[attachment.pk])).status_code == 404

    def test_the_pdf_is_downloaded_as_an_attachment(self, client, post, info_parent):
        client.force_login(info_parent.user)
        response = client.get(reverse("posts:post_attachment", args=[post.attachments.get().pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith('attachment; filename="brief.pdf"')

    def test_the_media_url_serves_nothing(self, client, post, parent):
        client.force_login(parent.user)
        assert client.get(f"/__private-media__/{post.photos.get().image.name}").status_code == 404

    def test_a_school_post_photo_is_for_everyone_at_that_school(
        self,
        client,
        at_work,
        director,
        school,
        barred_parent,
        parent,
        other_director,
    ):
        post = _post(director, school=school, photos=[_jpeg()])
        photo_url = reverse("posts:post_photo", args=[post.photos.get().pk])
        client.force_login(parent.user)
        assert client.get(photo_url).status_code == 200
        client.force_login(other_director.user)
        assert client.get(photo_url).status_code == 404
        # A parent barred from their only child at this school does not see the school either.
        client.force_login(barred_parent.user)
        assert client.get(photo_url).status_code == 404


# --- edit and delete ------------------------------------------------------------------------


class TestEditAndDelete:
    def test_the_author_edits_and_the_edit_time_is_shown(self, client, teacher, group, parent):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            post = _post(teacher, group=group)
        with time_machine.travel(TUESDAY_MORNING + dt.timedelta(hours=1), tick=False):
            services.post_update(
                actor=teacher.user, post=post, title="Nieuw", body="Tekst", kind="functional"
            )
            post.refresh_from_db()
            assert post.edited_at == TUESDAY_MORNING + dt.timedelta(hours=1)
            client.force_login(parent.user)
            page = client.get(reverse("posts:post_detail", args=[post.pk])).content.decode()
        assert "Nieuw" in page
        assert "Bewerkt" in page

    def test_only_the_author_edits_or_deletes(self, client, at_work, teacher, duo_teacher, group):
        post = _post(teacher, group=group)
        with pytest.raises(Http404):
            services.post_update(actor=duo_teacher.user, post=post, title="x", body="y", kind="functional")
        with pytest.raises(Http404):
            services.post_delete(actor=duo_teacher.user, post=post)
        client.force_login(duo_teacher.user)
        assert client.get(reverse("posts:post_edit", args=[post.pk])).status_code == 404
        assert client.post(reverse("posts:post_delete", args=[post.pk])).status_code == 404
        assert Post.objects.filter(pk=post.pk).exists()

    def test_deleting_removes_the_files(
        self,
        client,
        at_work,
        teacher,
        group,
        django_capture_on_commit_callbacks,
    ):
        post = _post(teacher, group=group, photos=[_jpeg()], consent_confirmed=True, attachments=[_pdf()])
        photo = post.photos.get()
        names = [photo.image.name, photo.thumbnail.name, post.attachments.get().file.name]
        client.force_login(teacher.user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("posts:post_delete", args=[post.pk]))
        assert response.status_code == 302
        assert not Post.objects.exists()
        assert not any(default_storage.exists(n) for n in names)

    def test_deleting_a_schools_posts_removes_their_files_and_reads(
        self, at_work, teacher, director, group, school, parent, django_capture_on_commit_callbacks
    ):
        post = _post(teacher, group=group, photos=[_jpeg()], consent_confirmed=True, attachments=[_pdf()])
        _post(director, school=school)
        services.post_mark_read(actor=parent.user, posts=[post])
        photo = post.photos.get()
        names = [photo.image.name, photo.thumbnail.name, post.attachments.get().file.name]
        with pytest.raises(PermissionDenied):
            services.posts_delete_of_school(actor=director.user, school=school)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.posts_delete_of_school(actor=None, school=school) == 2
        assert not Post.objects.exists()
        assert not PostRead.objects.exists()
        assert not any(default_storage.exists(n) for n in names)

    def test_removing_and_adding_photos_when_editing(self, at_work, teacher, group):
        post = _post(teacher, group=group, photos=[_jpeg()], consent_confirmed=True)
        old = post.photos.get()
        with pytest.raises(ValidationError):
            services.post_update(
                actor=teacher.user,
                post=post,
                title="t",
                body="b",
                kind="atmosphere",
                photos=[_jpeg()],
                remove_photo_ids=[old.pk],
            )
        services.post_update(
            actor=teacher.user,
            post=post,
            title="t",
            body="b",
            kind="atmosphere",
            photos=[_jpeg()],
            remove_photo_ids=[old.pk],
            consent_confirmed=True,
        )
        assert list(post.photos.values_list("position", flat=True)) == [1]


# --- notifications ---------------------------------------------------------------------------


class TestNotifications:
    def test_publishing_notifies_the_guardians_who_may_see_it_once(
        self,
        at_work,
        teacher,
        group,
        parent,
        divorced_parent,
        info_parent,
        step_parent,
        barred_parent,
        django_capture_on_commit_callbacks,
    ):
        with django_capture_on_commit_callbacks(execute=True):
            post = _post(teacher, group=group)
        notified = set(Notification.objects.filter(cause=f"post:{post.pk}").values_list("user", flat=True))
        assert notified == {parent.user_id, divorced_parent.user_id, info_parent.user_id}
        post.refresh_from_db()
        assert post.notified_at == TUESDAY_MORNING
        # The task running again, or the sweep, sends nothing twice.
        assert services.post_notify_published(post_id=post.pk) == 0
        services.posts_notify_due()
        assert Notification.objects.filter(cause=f"post:{post.pk}").count() == 3

    def test_the_database_refuses_a_second_notification_even_if_the_mark_is_lost(
        self,
        at_work,
        teacher,
        group,
        parent,
    ):
        post = _post(teacher, group=group)
        assert services.post_notify_published(post_id=post.pk) == 1
        Post.objects.filter(pk=post.pk).update(notified_at=None)  # a crash between the writes
        assert services.post_notify_published(post_id=post.pk) == 0
        assert Notification.objects.filter(user=parent.user).count() == 1

    def test_a_held_post_is_notified_by_the_sweep_at_its_publication_time(self, teacher, group, parent):
        with time_machine.travel(TUESDAY_EVENING, tick=False):
            post = _post(teacher, group=group)
            assert services.posts_notify_due() == 0
            assert not Notification.objects.exists()
        with time_machine.travel(WEDNESDAY_OPENING + dt.timedelta(minutes=1), tick=False):
            from communication.posts.tasks import notify_due_posts

            assert notify_due_posts.delay().get() == 1
            assert notify_due_posts.delay().get() == 0
        assert Notification.objects.filter(user=parent.user, cause=f"post:{post.pk}").count() == 1

    def test_a_rolled_back_post_enqueues_nothing(
        self,
        at_work,
        teacher,
        group,
        django_capture_on_commit_callbacks,
    ):
        def write_then_fail():
            with transaction.atomic():
                _post(teacher, group=group)
                raise RuntimeError

        with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
            write_then_fail()
        assert callbacks == []
        assert not Post.objects.exists()

    def test_a_school_post_notifies_hundreds_of_families_in_bulk(
        self,
        at_work,
        director,
        school,
        group,
        other_group,
    ):
        for i in range(120):
            f.GuardianRelationFactory(pupil__group=group if i % 2 else other_group)
        post = _post(director, school=school)
        with CaptureQueriesContext(connection) as queries:
            assert services.post_notify_published(post_id=post.pk) == 120
        assert len(queries) < 20


# --- timeline and read counts ---------------------------------------------------------------


class TestTimeline:
    def _posts(self, teacher, director, group, school, n, photos):
        with time_machine.travel(TUESDAY_MORNING - dt.timedelta(days=1), tick=False):
            for i in range(n):
                author, kw = (teacher, {"group": group}) if i % 2 else (director, {"school": school})
                _post(
                    author,
                    title=f"Bericht {i}",
                    photos=[_jpeg((32, 32)) for _ in range(photos)],
                    consent_confirmed=True,
                    attachments=[_pdf()],
                    **kw,
                )

    def _count(self, client):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("posts:timeline"))
        assert response.status_code == 200
        return len(queries)

    def test_the_query_count_does_not_grow_with_posts_or_photos(
        self, client, teacher, director, group, school, parent
    ):
        client.force_login(parent.user)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            self._posts(teacher, director, group, school, 2, 1)
            few = self._count(client)
            self._posts(teacher, director, group, school, 8, 3)
            many = self._count(client)
        assert few == many

    def test_newest_first_paged_with_unread_markers(self, client, teacher, director, group, school, parent):
        self._posts(teacher, director, group, school, 12, 0)
        client.force_login(parent.user)
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            first = client.get(reverse("posts:timeline"))
            titles = [p.title for p in first.context["posts"]]
            assert len(titles) == 10
            assert titles[0] == "Bericht 11"
            assert all(not p.is_read for p in first.context["posts"])
            again = client.get(reverse("posts:timeline"))
            assert all(p.is_read for p in again.context["posts"])
            second = client.get(reverse("posts:timeline") + "?page=2")
            assert [p.title for p in second.context["posts"]] == ["Bericht 1", "Bericht 0"]

    def test_a_parent_sees_only_their_childrens_groups_and_school(
        self,
        client,
        at_work,
        teacher,
        other_teacher,
        director,
        group,
        other_group,
        school,
        parent,
        other_director,
        other_school,
    ):
        mine = _post(teacher, group=group)
        _post(other_teacher, group=other_group)
        whole = _post(director, school=school)
        _post(other_director, school=other_school)
        assert set(selectors.timeline_for(viewer=parent.user)) == {mine, whole}

    def test_read_by_n_of_m_families(
        self,
        client,
        at_work,
        teacher,
        group,
        child,
        parent,
        divorced_parent,
        info_parent,
    ):
        sibling_free_child = f.PupilFactory(group=group)
        other_family = f.GuardianRelationFactory(pupil=sibling_free_child).guardian
        f.PupilFactory(group=group)  # a child without registered parents: no family to reach
        post = _post(teacher, group=group)
        [row] = selectors.posts_by_author(viewer=teacher.user)
        assert (row.families_read, row.families) == (0, 2)
        services.post_mark_read(actor=divorced_parent.user, posts=[post])
        services.post_mark_read(actor=parent.user, posts=[post])  # the same family
        [row] = selectors.posts_by_author(viewer=teacher.user)
        assert (row.families_read, row.families) == (1, 2)
        services.post_mark_read(actor=other_family.user, posts=[post])
        client.force_login(teacher.user)
        page = client.get(reverse("posts:my_posts")).content.decode()
        assert "Gelezen door 2 van 2 gezinnen" in page

    def test_many_readers_of_one_post_at_once(
        self, at_work, teacher, group, child, parent, divorced_parent, barred_parent, step_parent
    ):
        post = _post(teacher, group=group)
        later = TUESDAY_MORNING + dt.timedelta(hours=3)
        with time_machine.travel(later, tick=False):
            assert (
                services.post_reads_record(actor=None, post=post, readers=[parent.user, divorced_parent.user])
                == 2
            )
            services.post_reads_record(actor=None, post=post, readers=[parent.user])  # again: no change
        reads = PostRead.objects.filter(post=post)
        assert {(r.user_id, r.read_at) for r in reads} == {
            (parent.user_id, later),
            (divorced_parent.user_id, later),
        }
        [row] = selectors.posts_by_author(viewer=teacher.user)
        assert row.families_read == 1
        # Not someone who may not see it (barred, a step-parent without consent), nor the staff.
        for outsider in (barred_parent.user, step_parent.user, teacher.user):
            with pytest.raises(PermissionDenied):
                services.post_reads_record(actor=None, post=post, readers=[outsider])
        with pytest.raises(PermissionDenied):
            services.post_reads_record(actor=teacher.user, post=post, readers=[parent.user])
        scheduled = _post(teacher, group=group, publish_at=TUESDAY_EVENING + dt.timedelta(days=1))
        with pytest.raises(ValidationError):
            services.post_reads_record(actor=None, post=scheduled, readers=[parent.user])
        assert reads.count() == 2

    def test_the_authors_list_has_a_fixed_query_count(self, client, at_work, teacher, group, parent):
        client.force_login(teacher.user)
        _post(teacher, group=group)
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("posts:my_posts"))
        for _ in range(6):
            _post(teacher, group=group, photos=[_jpeg((32, 32))], consent_confirmed=True)
        with CaptureQueriesContext(connection) as many:
            client.get(reverse("posts:my_posts"))
        assert len(few) == len(many)

    def test_another_groups_post_id_is_404(self, client, at_work, other_teacher, other_group, parent):
        post = _post(other_teacher, group=other_group)
        client.force_login(parent.user)
        assert client.get(reverse("posts:post_detail", args=[post.pk])).status_code == 404
        assert not PostRead.objects.exists()


# --- the form through the view ----------------------------------------------------------------


class TestPostForm:
    def test_the_form_says_when_parents_will_see_an_after_hours_post(self, client, teacher, group):
        client.force_login(teacher.user)
        with time_machine.travel(TUESDAY_EVENING, tick=False):
            page = client.get(reverse("posts:post_create")).content.decode()
            assert "buiten uw werktijd" in page
            assert "woensdag 25 november, 08:00" in page
            response = client.post(
                reverse("posts:post_create"),
                {
                    "audience": str(group.pk),
                    "kind": "functional",
                    "title": "Gym",
                    "body": "Gymspullen mee",
                },
                follow=True,
            )
        assert "woensdag 25 november, 08:00" in response.content.decode()
        assert Post.objects.get().kind == "functional"

    def test_the_preview_answers_for_a_chosen_time(self, client, at_work, teacher):
        client.force_login(teacher.user)
        response = client.get(reverse("posts:post_publication_preview"), {"at": "2026-11-24T22:00"})
        assert response.json()["held"] is True
        assert "woensdag 25 november, 08:00" in response.json()["text"]

    def test_a_teacher_only_gets_their_own_groups_to_choose(
        self,
        client,
        at_work,
        teacher,
        group,
        other_group,
    ):
        client.force_login(teacher.user)
        form = client.get(reverse("posts:post_create")).context["form"]
        assert [value for value, _label in form.fields["audience"].choices] == [str(group.pk)]
        response = client.post(
            reverse("posts:post_create"),
            {
                "audience": str(other_group.pk),
                "kind": "atmosphere",
                "title": "x",
                "body": "y",
            },
        )
        assert response.status_code == 200
        assert not Post.objects.exists()

    def test_parents_have_no_post_form(self, client, parent):
        client.force_login(parent.user)
        assert client.get(reverse("posts:post_create")).status_code == 404
        assert client.get(reverse("posts:my_posts")).status_code == 404


# --- post rhythm ------------------------------------------------------------------------------


class TestRhythm:
    def test_the_dashboard_card_counts_this_weeks_atmosphere_posts(
        self,
        client,
        at_work,
        teacher,
        duo_teacher,
        group,
        school,
    ):
        school.atmosphere_posts_per_week = 2
        school.save()
        _post(teacher, group=group)
        _post(teacher, group=group, kind=Post.Kind.FUNCTIONAL)  # outside the quota
        with time_machine.travel(dt.datetime(2026, 11, 26, 9, 0, tzinfo=AMSTERDAM), tick=False):
            _post(duo_teacher, group=group)
            [row] = selectors.rhythm_for(viewer=teacher.user)
            assert (row.count, row.quota, row.on_track) == (2, 2, True)
        [row] = selectors.rhythm_for(viewer=teacher.user)
        assert (row.count, row.on_track) == (1, False)
        from django.template.loader import render_to_string
        from django.test import RequestFactory

        request = RequestFactory().get("/")
        request.user = teacher.user
        html = render_to_string("posts/_rhythm.html", {"request": request})
        assert "1 van 2" in html

    def test_one_gentle_reminder_on_the_last_working_day_under_quota(self, teacher, duo_teacher, group):
        # The teacher works Monday–Wednesday: Wednesday is their last working day.
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            assert services.post_rhythm_remind_due() == 0
        with time_machine.travel(dt.datetime(2026, 11, 25, 7, 0, tzinfo=AMSTERDAM), tick=False):
            assert services.post_rhythm_remind_due() == 0  # before their working time
        with time_machine.travel(dt.datetime(2026, 11, 25, 14, 0, tzinfo=AMSTERDAM), tick=False):
            assert services.post_rhythm_remind_due() == 1
            assert services.post_rhythm_remind_due() == 0
        assert Notification.objects.filter(user=teacher.user).count() == 1
        assert not Notification.objects.filter(user=duo_teacher.user).exists()

    def test_no_reminder_when_the_quota_is_met(self, teacher, group):
        with time_machine.travel(TUESDAY_MORNING, tick=False):
            _post(teacher, group=group)
        with time_machine.travel(dt.datetime(2026, 11, 25, 14, 0, tzinfo=AMSTERDAM), tick=False):
            assert services.post_rhythm_remind_due() == 0


def test_plain_text_survives_an_edit_round_trip():
    text = "Hallo <ouders> & kinderen\n\nZie https://example.org/a?b=1&c=2\nTot morgen"
    html = services.sanitize_body(text)
    assert services.body_for_editing(html) == text
    assert services.sanitize_body(services.body_for_editing(html)) == html
    rich = services.sanitize_body("<ul><li><strong>gym</strong></li></ul>")
    assert services.body_for_editing(rich) == rich


def test_with_no_choices_recorded_every_pupil_is_listed(group, child):
    # Through the privacy module when present: silence is no consent.
    assert child in selectors.pupils_not_to_recognise(group=group)


def test_the_edit_page_shows_plain_text_and_removes_a_photo(client, at_work, teacher, group):
    post = _post(
        teacher, group=group, body="Eerste regel\n\nTweede", photos=[_jpeg(), _jpeg()], consent_confirmed=True
    )
    first = post.photos.first()
    client.force_login(teacher.user)
    page = client.get(reverse("posts:post_edit", args=[post.pk])).content.decode()
    assert "Eerste regel\n\nTweede</textarea>" in page
    assert reverse("posts:post_photo_thumb", args=[first.pk]) in page
    response = client.post(
        reverse("posts:post_edit", args=[post.pk]),
        {
            "kind": "atmosphere",
            "title": "Aangepast",
            "body": "Eerste regel\n\nTweede",
            "remove_photos": [str(first.pk)],
        },
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.title == "Aangepast"
    assert list(post.photos.all()) == [post.photos.get()]
    assert not post.photos.filter(pk=first.pk).exists()
