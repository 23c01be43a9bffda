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
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.http import FileResponse
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from klimop.text import strip_bidi

logger = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 15 * 1024 * 1024
#: Decompression bombs: a small file can declare a huge canvas; refuse before decoding
#: (from the header, which ``Image.open`` reads without decoding the pixels).
MAX_PHOTO_PIXELS = 40_000_000
#: The budget of one post: about a second of CPU for all its new photos together, counted
#: from the headers before anything is decoded, as the pixels that will really be decoded
#: (``decoded_pixels``: a JPEG at libjpeg's reduced scale, any other format in full).
#: Measured on the 2-core development machine (Pillow 13, CPU time of ``process_photo``,
#: best of 3): about 38 ms per decoded megapixel whatever the format — a 12 MP phone JPEG
#: (4032 × 3024, decoded at 2016 × 1512: 3 MP) 0.12 s, an 8 MP JPEG at half scale 0.075 s,
#: PNG and WebP 12 MP 0.46–0.49 s (41 ms at worst). So 25 decoded megapixels are a second: eight
#: 12 MP phone photos, twelve 8 MP ones (decoded at half scale), two 12 MP PNGs.
MAX_POST_DECODED_PIXELS = 25_000_000
MIN_PHOTO_SIDE = 16
#: Stored photos are scaled down to this longest side: enough for a screen, not for print.
MAX_STORED_SIDE = 2048
#: A JPEG is decoded at libjpeg's largest reduced scale (1/2, 1/4, 1/8) whose long side still
#: has this many pixels: enough for a phone or laptop screen, and 3 to 4 times cheaper.
MIN_DECODED_SIDE = 1600
JPEG_FORMATS = {"JPEG", "MPO"}
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


def _draft_scale(fmt: str | None, width: int, height: int) -> int:
    """The reduced scale libjpeg decodes this image at (1 for anything but JPEG)."""
    if fmt not in JPEG_FORMATS:
        return 1
    for scale in (8, 4, 2):
        if max(width, height) / scale >= MIN_DECODED_SIDE:
            return scale
    return 1


def decoded_pixels(upload) -> int:
    """The pixels ``process_photo`` will decode, from the image header; 0 when it is no image.

    A file Pillow cannot identify counts 0 here: ``process_photo`` refuses it with
    its own message. A declared canvas over Pillow's own bomb limit counts as too many.
    """
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            fmt, (width, height) = probe.format, probe.size
    except Image.DecompressionBombError:
        raise _too_many_pixels(getattr(upload, "name", "") or _("photo"), None, None) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return 0
    finally:
        upload.seek(0)
    scale = _draft_scale(fmt, width, height)
    return (width // scale) * (height // scale)


def check_post_pixels(uploads) -> None:
    """The budget of one post (about a second of CPU), from the headers, before any decoding."""
    total = sum(decoded_pixels(upload) for upload in uploads)
    if total > MAX_POST_DECODED_PIXELS:
        raise ValidationError(
            _(
                "These photos take too long to prepare together (%(mp)s of at most %(limit)s "
                "megapixels, counted as they are decoded; PNG and WebP count in full). Choose "
                "fewer or smaller photos, or spread them over two posts: about eight phone "
                "photos fit in one post."
            )
            % {"mp": round(total / 1_000_000), "limit": MAX_POST_DECODED_PIXELS // 1_000_000},
            code="too_many_pixels_in_post",
        )


def _draft(img: Image.Image) -> None:
    """JPEG: let libjpeg decode at 1/2, 1/4 or 1/8 scale (a no-op for other formats).

    The largest scale whose long side keeps ``MIN_DECODED_SIDE`` pixels: a 12 MP phone
    photo (4032 × 3024) is decoded at 2016 × 1512 and needs no resampling at all, an
    8 MP one (3264 × 2448) at 1632 × 1224 — a third of the CPU time. The same rule
    counts the post's budget (``decoded_pixels``).
    """
    width, height = img.size
    scale = _draft_scale(img.format, width, height)
    if scale > 1:
        img.draft("RGB", (max(1, width // scale), max(1, height // scale)))


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
    """Remove stored files by name (after the deleting transaction committed, or after a write
    that failed). A storage that refuses is logged, not raised: the caller's own error (or its
    committed work) is what the person must hear about."""
    from django.core.files.storage import default_storage

    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception("Could not delete the stored file %s", name)


class StorageError(Exception):
    """The file storage refused to keep a file (a full disk, a folder that cannot be written)."""


def save_file(field_file, name: str | None, content) -> str:
    """Store an upload in its file field (the row is saved by the caller); returns its name.

    Raises ``StorageError`` when the storage refuses, so the caller rolls back its row and
    removes what it stored before (``delete_files``) instead of answering a server error.
    """
    try:
        field_file.save(name, content, save=False)
    except OSError as exc:
        logger.warning("The file storage refused %s: %s", name, exc)
        raise StorageError(str(exc)) from exc
    return field_file.name


def storage_failed(what: str) -> ValidationError:
    """The error for a file the storage refused (full disk, folder not writable): nothing was
    kept, the person tries again. ``what`` says what was not done ("nothing was posted")."""
    return ValidationError(
        _("The photos and files could not be stored, so %(what)s. Your text is still here: please try again.")
        % {"what": what},
        code="storage_failed",
    )
