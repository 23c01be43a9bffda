"""The post form never loses work (issue 14, point 1): photos and PDFs chosen on a form that
comes back with an error are kept for their author, server-side, and nobody else can use them;
photo descriptions (alt text) are written per photo; abandoned uploads go after a day."""

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image

from communication.posts import services, tasks
from communication.posts.models import PendingUpload, Post, PostAttachment, PostPhoto
from klimop import media
from klimop.worktime import AMSTERDAM

TUESDAY_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=AMSTERDAM)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def at_work():
    with time_machine.travel(TUESDAY_MORNING, tick=False) as traveller:
        yield traveller


def _jpeg(name="klas.jpg", *, gps=False, color=(200, 120, 40)):
    img = Image.new("RGB", (640, 480), color)
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps_ifd[ExifTags.GPS.GPSLatitudeRef] = "N"
        gps_ifd[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 12.0)
        img.save(out, format="JPEG", exif=exif.tobytes())
    else:
        img.save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def _pdf(name="brief.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf")


def _form(group, **extra):
    data = {
        "audience": str(group.pk),
        "kind": "atmosphere",
        "title": "Herfst",
        "body": "We zochten kastanjes.",
    }
    data.update(extra)
    return data


def _kept_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="pending" value="(\d+)"', html)]


class TestTheFormKeepsWhatWasChosen:
    def test_forgetting_consent_keeps_photos_pdf_text_and_descriptions(self, client, teacher, group, child):
        client.force_login(teacher.user)
        response = client.post(
            reverse("posts:post_create"),
            _form(
                group,
                photos=[_jpeg("een.jpg"), _jpeg("twee.jpg", color=(20, 90, 200))],
                photo_alt_new=["Kinderen met kastanjes", ""],
                attachments=[_pdf()],
            ),
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "Bevestig dat de genoemde leerlingen niet herkenbaar zijn" in html
        assert not Post.objects.exists()
        kept = _kept_ids(html)
        assert len(kept) == 3
        # What was typed and chosen is all still there, the photos as thumbnails.
        assert 'value="Herfst"' in html
        assert "We zochten kastanjes." in html
        assert 'value="Kinderen met kastanjes"' in html
        assert "Gekozen foto" in html
        assert "Voor u bewaard" in html
        photos = PendingUpload.objects.filter(kind="photo").order_by("pk")
        for upload in photos:
            assert reverse("posts:pending_photo", args=[upload.pk]) in html
        assert "brief.pdf" in html
        # The thumbnail is served to the author only.
        assert client.get(reverse("posts:pending_photo", args=[photos[0].pk])).status_code == 200

        # Ticking the consent card and sending again publishes with the kept files.
        alt = {f"alt-pending-{pk}": "" for pk in kept}
        alt[f"alt-pending-{photos[0].pk}"] = "Kinderen met kastanjes"
        response = client.post(
            reverse("posts:post_create"), _form(group, pending=kept, consent_confirmed="on", **alt)
        )
        assert response.status_code == 302
        post = Post.objects.get()
        assert [p.alt_text for p in post.photos.order_by("position")] == ["Kinderen met kastanjes", ""]
        assert post.attachments.get().name == "brief.pdf"
        assert post.consent_confirmed_at == TUESDAY_MORNING
        assert not PendingUpload.objects.exists()
        for photo in post.photos.all():
            assert default_storage.exists(photo.image.name)
            assert default_storage.exists(photo.thumbnail.name)

    def test_kept_photos_are_reencoded_without_location(self, teacher):
        kept = services.pending_uploads_store(actor=teacher.user, photos=[_jpeg(gps=True)]).uploads
        with default_storage.open(kept[0].file.name) as fh:
            img = Image.open(io.BytesIO(fh.read()))
        assert not img.getexif()
        assert kept[0].file.name.startswith("private/posts/")

    def test_a_removed_kept_photo_is_gone_with_its_files(
        self, client, teacher, group, django_capture_on_commit_callbacks
    ):
        client.force_login(teacher.user)
        html = client.post(
            reverse("posts:post_create"), _form(group, title="", photos=[_jpeg()])
        ).content.decode()
        (pk,) = _kept_ids(html)
        upload = PendingUpload.objects.get(pk=pk)
        names = [upload.file.name, upload.thumbnail.name]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("posts:post_create"), _form(group, pending=[pk], remove_pending=[pk]), follow=True
            )
        assert response.redirect_chain  # nothing else was wrong: published, without the photo
        assert Post.objects.get().photos.count() == 0
        assert not PendingUpload.objects.exists()
        assert not any(default_storage.exists(n) for n in names)

    def test_the_edit_form_keeps_new_photos_and_sets_descriptions(self, client, teacher, group):
        post = services.post_create(
            actor=teacher.user,
            group=group,
            title="Herfst",
            body="Tekst",
            photos=[_jpeg()],
            consent_confirmed=True,
        )
        first = post.photos.get()
        client.force_login(teacher.user)
        url = reverse("posts:post_edit", args=[post.pk])
        html = client.post(
            url,
            {
                "kind": "atmosphere",
                "title": "Herfst",
                "body": "Tekst",
                "photos": [_jpeg("nieuw.jpg")],
                f"alt-photo-{first.pk}": "De hele klas in het bos",
            },
        ).content.decode()
        assert "Bevestig dat de genoemde leerlingen" in html
        assert 'value="De hele klas in het bos"' in html
        (pk,) = _kept_ids(html)
        response = client.post(
            url,
            {
                "kind": "atmosphere",
                "title": "Herfst",
                "body": "Tekst",
                "pending": [pk],
                "consent_confirmed": "on",
                f"alt-photo-{first.pk}": "De hele klas in het bos",
                f"alt-pending-{pk}": "Een paddenstoel",
            },
        )
        assert response.status_code == 302
        assert list(post.photos.order_by("position").values_list("alt_text", flat=True)) == [
            "De hele klas in het bos",
            "Een paddenstoel",
        ]


class TestOnlyTheAuthorsOwnUploads:
    def test_another_persons_upload_id_is_refused_by_the_form(self, client, teacher, duo_teacher, group):
        theirs = services.pending_uploads_store(actor=duo_teacher.user, photos=[_jpeg()]).uploads[0]
        client.force_login(teacher.user)
        response = client.post(
            reverse("posts:post_create"), _form(group, pending=[theirs.pk], consent_confirmed="on")
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "wordt niet meer voor u bewaard" in html
        assert reverse("posts:pending_photo", args=[theirs.pk]) not in html
        assert not Post.objects.exists()
        assert PendingUpload.objects.filter(pk=theirs.pk, owner=duo_teacher.user).exists()
        # Nor is its thumbnail shown to anyone but its owner.
        assert client.get(reverse("posts:pending_photo", args=[theirs.pk])).status_code == 404

    def test_the_service_refuses_another_persons_upload_too(self, teacher, duo_teacher, group):
        theirs = services.pending_uploads_store(actor=duo_teacher.user, photos=[_jpeg()]).uploads[0]
        with pytest.raises(ValidationError) as exc:
            services.post_create(
                actor=teacher.user,
                group=group,
                title="t",
                body="b",
                pending=[theirs.pk],
                consent_confirmed=True,
            )
        assert "photos" in exc.value.error_dict
        assert not PostPhoto.objects.exists()
        assert PendingUpload.objects.filter(pk=theirs.pk).exists()

    def test_removing_another_persons_upload_changes_nothing(self, teacher, duo_teacher):
        theirs = services.pending_uploads_store(actor=duo_teacher.user, attachments=[_pdf()]).uploads[0]
        assert services.pending_uploads_discard(actor=teacher.user, ids=[theirs.pk]) == 0
        assert PendingUpload.objects.filter(pk=theirs.pk).exists()

    def test_parents_keep_no_uploads(self, parent):
        with pytest.raises(PermissionDenied):
            services.pending_uploads_store(actor=parent.user, photos=[_jpeg()])

    def test_an_upload_is_used_once(self, teacher, group):
        kept = services.pending_uploads_store(actor=teacher.user, photos=[_jpeg()]).uploads[0]
        services.post_create(
            actor=teacher.user, group=group, title="t", body="b", pending=[kept.pk], consent_confirmed=True
        )
        with pytest.raises(ValidationError):
            services.post_create(
                actor=teacher.user,
                group=group,
                title="t",
                body="b",
                pending=[kept.pk],
                consent_confirmed=True,
            )
        assert PostPhoto.objects.count() == 1


class TestBadFilesAreNotKept:
    def test_a_fake_photo_and_a_fake_pdf_are_refused_the_good_ones_kept(self, client, teacher, group):
        client.force_login(teacher.user)
        fake_photo = SimpleUploadedFile("kind.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
        fake_pdf = SimpleUploadedFile("brief.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
        response = client.post(
            reverse("posts:post_create"),
            _form(
                group, photos=[fake_photo, _jpeg("goed.jpg")], attachments=[fake_pdf], consent_confirmed="on"
            ),
        )
        html = response.content.decode()
        assert "kind.jpg is geen foto" in html
        assert "brief.pdf is geen pdf" in html.lower()
        assert not Post.objects.exists()
        assert list(PendingUpload.objects.values_list("name", flat=True)) == ["goed.jpg"]
        assert len(_kept_ids(html)) == 1

    def test_an_oversized_photo_is_refused_before_it_is_stored(self, teacher, monkeypatch):
        monkeypatch.setattr(media, "MAX_PHOTO_BYTES", 1024)
        result = services.pending_uploads_store(actor=teacher.user, photos=[_jpeg()])
        assert result.uploads == []
        assert "groter dan" in result.errors["photos"][0]
        assert not PendingUpload.objects.exists()

    def test_one_person_keeps_a_bounded_number(self, teacher, monkeypatch):
        monkeypatch.setattr(services, "PENDING_MAX_PER_OWNER", 2)
        services.pending_uploads_store(actor=teacher.user, attachments=[_pdf(), _pdf()])
        result = services.pending_uploads_store(actor=teacher.user, attachments=[_pdf()])
        assert result.errors
        assert not result.uploads
        assert PendingUpload.objects.count() == 2


class TestAbandonedUploads:
    def test_uploads_older_than_a_day_go_with_their_files(
        self, at_work, teacher, django_capture_on_commit_callbacks
    ):
        old = services.pending_uploads_store(actor=teacher.user, photos=[_jpeg()]).uploads[0]
        names = [old.file.name, old.thumbnail.name]
        at_work.shift(dt.timedelta(hours=20))
        recent = services.pending_uploads_store(actor=teacher.user, attachments=[_pdf()]).uploads[0]
        at_work.shift(dt.timedelta(hours=5))
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.clean_pending_uploads() == 1
        assert list(PendingUpload.objects.values_list("pk", flat=True)) == [recent.pk]
        assert not any(default_storage.exists(n) for n in names)
        assert default_storage.exists(recent.file.name)

    def test_a_posts_files_are_not_touched_by_the_sweep(self, at_work, teacher, group):
        kept = services.pending_uploads_store(actor=teacher.user, attachments=[_pdf()]).uploads[0]
        services.post_create(actor=teacher.user, group=group, title="t", body="b", pending=[kept.pk])
        at_work.shift(dt.timedelta(days=2))
        assert services.pending_uploads_clean() == 0
        assert default_storage.exists(PostAttachment.objects.get().file.name)
