"""Private uploads: photos are decoded, limited, re-encoded without metadata, thumbnailed.

Why re-encode: a phone photo carries EXIF (camera, time) and often GPS coordinates of
a child's home or school; copying pixels into a fresh image and saving that drops
every metadata block (EXIF, XMP, ICC text, PNG text chunks). Why decode: a file's name
and declared content type say nothing; only Pillow decoding the pixels proves an image.
Files live in default storage under ``private/`` and are served only by views that
check access (``private_file_response``); no URL route serves MEDIA_URL.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.http import FileResponse
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from klimop.text import strip_bidi

MAX_PHOTO_BYTES = 15 * 1024 * 1024
#: Decompression bombs: a small file can declare a huge canvas; refuse before decoding
#: (from the header, which ``Image.open`` reads without decoding the pixels).
MAX_PHOTO_PIXELS = 40_000_000
#: The pixel budget of one post: all its new photos together, also from the headers.
#: Measured on the 2-core development machine (Pillow 13, CPU time of ``process_photo``, best
#: of 3): JPEG 12 MP (4032 × 3024, decoded at half scale) 0.11 s, 24 MP 0.25 s, 40 MP
#: 0.36 s — about 10 ms per megapixel, so 100 MP of phone photos is about one second;
#: an 8 MP JPEG (no half-scale decoding) 0.27 s, PNG and WebP 12 MP 0.45–0.54 s, about
#: 40 ms per megapixel: a post of 100 MP of PNG costs about four seconds. Without the
#: budget, 20 photos of 40 MP cost up to 30 seconds.
MAX_POST_PIXELS = 100_000_000
MIN_PHOTO_SIDE = 16
#: Stored photos are scaled down to this longest side: enough for a screen, not for print.
MAX_STORED_SIDE = 2048
#: A JPEG may be decoded at a reduced scale whose long side is this share of MAX_STORED_SIDE.
DRAFT_TOLERANCE = 0.95
THUMBNAIL_SIDE = 480
MAX_PHOTOS_PER_POST = 20
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS_PER_POST = 5


@dataclass(frozen=True)
class ProcessedImage:
    image: ContentFile
    thumbnail: ContentFile
    content_type: str
    width: int
    height: int


def _mb(n: int) -> str:
    return f"{n // (1024 * 1024)}"


def _size_of(upload) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
        upload.seek(0)
    return size


def _encode(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        img.save(out, format="JPEG", quality=85, optimize=True, progressive=True)
    else:
        img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _too_many_pixels(name: str, width: int | None, height: int | None) -> ValidationError:
    if width is None:
        text = _("%(name)s has too many pixels. The limit is %(mp)s megapixels.")
    else:
        text = _("%(name)s has too many pixels (%(w)s × %(h)s). The limit is %(mp)s megapixels.")
    return ValidationError(
        text % {"name": name, "w": width, "h": height, "mp": MAX_PHOTO_PIXELS // 1_000_000},
        code="too_many_pixels",
    )


def _check_pixels(name: str, width: int, height: int) -> None:
    if width * height > MAX_PHOTO_PIXELS:
        raise _too_many_pixels(name, width, height)


def photo_pixels(upload) -> int:
    """Width × height from the image header, without decoding; 0 when it is no image.

    A file Pillow cannot identify counts 0 here: ``process_photo`` refuses it with
    its own message. A declared canvas over Pillow's own bomb limit counts as too many.
    """
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            width, height = probe.size
    except Image.DecompressionBombError:
        raise _too_many_pixels(getattr(upload, "name", "") or _("photo"), None, None) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return 0
    finally:
        upload.seek(0)
    return width * height


def check_post_pixels(uploads) -> None:
    """The pixel budget of one post, from the headers, before any photo is decoded."""
    total = sum(photo_pixels(upload) for upload in uploads)
    if total > MAX_POST_PIXELS:
        raise ValidationError(
            _(
                "These photos have %(mp)s megapixels together; one post may have at most "
                "%(limit)s megapixels. Choose fewer or smaller photos, or spread them over two posts."
            )
            % {"mp": round(total / 1_000_000), "limit": MAX_POST_PIXELS // 1_000_000},
            code="too_many_pixels_in_post",
        )


def _draft(img: Image.Image) -> None:
    """JPEG: let libjpeg decode at 1/2, 1/4 or 1/8 scale (a no-op for other formats).

    The largest scale whose long side still reaches ``DRAFT_TOLERANCE`` of the stored
    side: a 12 MP phone photo (4032 × 3024) is decoded at 2016 × 1512 and needs no
    resampling at all — a third of the CPU time, for 1.6 % fewer pixels on its long side.
    """
    width, height = img.size
    for scale in (8, 4, 2):
        if max(width, height) / scale >= MAX_STORED_SIDE * DRAFT_TOLERANCE:
            img.draft("RGB", (max(1, width // scale), max(1, height // scale)))
            return


def process_photo(upload) -> ProcessedImage:
    """Check and re-encode one uploaded photo; raises ``ValidationError`` with a clear message.

    Accepts only what Pillow decodes as JPEG, PNG, WebP or GIF (first frame); applies
    the EXIF orientation and then drops all metadata; stores JPEG, or PNG where the
    image has transparency.
    """
    name = getattr(upload, "name", "") or _("photo")
    if _size_of(upload) > MAX_PHOTO_BYTES:
        raise ValidationError(
            _("%(name)s is larger than %(mb)s MB. Please choose a smaller photo.")
            % {"name": name, "mb": _mb(MAX_PHOTO_BYTES)},
            code="too_large",
        )
    not_an_image = ValidationError(
        _("%(name)s is not a photo Klimop can read. Use a JPEG, PNG or WebP image.") % {"name": name},
        code="not_an_image",
    )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise not_an_image
            _check_pixels(name, *probe.size)
            probe.verify()  # structural check; the full decode below proves the pixels
        upload.seek(0)
        img: Image.Image  # the opened file, then its converted and scaled copies
        with Image.open(upload) as img:
            if min(img.size) < MIN_PHOTO_SIDE:
                raise ValidationError(
                    _("%(name)s is too small to be a photo.") % {"name": name}, code="too_small"
                )
            _draft(img)
            img.load()
            has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
            mode = "RGBA" if has_alpha else "RGB"
            if img.mode != mode:
                img = img.convert(mode)  # keeps img.info (the EXIF orientation)
            # Scale down first (the bounding box is square, so orientation does not
            # matter), then turn upright: every later step works on ≤ 4 MP.
            img.thumbnail((MAX_STORED_SIDE, MAX_STORED_SIDE), Image.Resampling.LANCZOS)
            img = ImageOps.exif_transpose(img)
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels(name, None, None) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_an_image from None

    # A fresh image from raw pixels carries no info dict at all: no EXIF, GPS, XMP or text.
    clean = Image.frombytes(img.mode, img.size, img.tobytes())
    thumb = clean.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    fmt, ext, content_type = ("PNG", "png", "image/png") if has_alpha else ("JPEG", "jpg", "image/jpeg")
    return ProcessedImage(
        image=ContentFile(_encode(clean, fmt), name=f"photo.{ext}"),
        thumbnail=ContentFile(_encode(thumb, fmt), name=f"thumb.{ext}"),
        content_type=content_type,
        width=clean.width,
        height=clean.height,
    )


def check_pdf(upload) -> int:
    """Accept a PDF by its signature and size; return its size in bytes."""
    name = getattr(upload, "name", "") or _("file")
    size = _size_of(upload)
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            _("%(name)s is larger than %(mb)s MB.") % {"name": name, "mb": _mb(MAX_ATTACHMENT_BYTES)},
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(1024)
    upload.seek(0)
    # The PDF signature may follow a little junk (ISO 32000-1 §7.5.2 tolerates it in readers).
    if size == 0 or b"%PDF-" not in head:
        raise ValidationError(_("%(name)s is not a PDF file.") % {"name": name}, code="not_a_pdf")
    return size


def safe_download_name(name: str) -> str:
    """A file name to offer for download: letters, digits and `` ._-()`` only, no bidi controls."""
    base = "".join(c for c in strip_bidi(name) if c.isalnum() or c in " ._-()").strip() or "bijlage"
    if not base.lower().endswith(".pdf"):
        base += ".pdf"
    return base[:120]


def private_file_response(
    field_file, *, content_type: str, download_name: str | None = None, as_attachment: bool = False
) -> FileResponse:
    """Serve a private file after the caller checked access; never cached by shared caches."""
    response = FileResponse(
        field_file.open("rb"),
        content_type=content_type,
        as_attachment=as_attachment,
        filename=download_name or "",
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def delete_files(names: list[str]) -> None:
    """Remove stored files by name (after the deleting transaction committed)."""
    from django.core.files.storage import default_storage

    for name in names:
        if name:
            default_storage.delete(name)
