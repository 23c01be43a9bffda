"""Writes of posts: create, edit, delete, mark read, and notify parents when published.

Office hours (docs/agreements.md): a post written outside the author's working time is
held until their next opening; a scheduled post is published at its time, or the next
opening after it. Visibility is decided by ``publish_at`` alone (selectors filter on
it), so no worker is needed for parents to see a post at the right moment; the publish
sweep only sends the notifications, once per post (``notified_at``) and once per
guardian (the notification's unique constraint).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from klimop import access, media, worktime
from klimop import selectors as directory
from klimop.models import Group, School, User
from klimop.notifications.services import notify
from klimop.queue import enqueue_on_commit
from klimop.text import body_for_editing, sanitize_body, strip_bidi  # noqa: F401 - re-exported for the views

from .models import PendingUpload, Post, PostAttachment, PostPhoto, PostRead, PostSettings, PostThanks

logger = logging.getLogger(__name__)

# --- who may post where ---------------------------------------------------------------------


def may_post_to_group(user, group: Group) -> bool:
    """Teachers post to the groups they teach; the director and the office to any group of
    their school (``access.groups_acted_for_by``: the one definition)."""
    return access.may_act_for_group(user, group)


def may_post_to_school(user, school: School) -> bool:
    """Only the director and the office write to the whole school."""
    return access.is_school_manager(user, school)


def may_see_statistics(user, post: Post) -> bool:
    """Read counts and thank-yous of a post: its author, the staff who act for its group (the
    duo-teacher, the director, the office), for a school post the school's managers
    (one definition: the query of ``selectors.with_thanks``, which lists use as well)."""
    from .selectors import with_thanks

    posts = with_thanks(Post.objects.filter(pk=post.pk), viewer=user)
    # sees_thanks is with_thanks' annotation, which the stubs cannot see.
    return posts.filter(sees_thanks=True).exists()  # type: ignore[misc]


def may_thank(user, post: Post) -> bool:
    """A parent who may read the published post, at a school that lets parents thank.

    The one definition is the query of ``selectors.with_thanks`` (``may_thank``), built on
    ``access.groups_visible_to``/``schools_visible_to`` and ``access.is_guardian``; staff who
    see the post's figures never thank it themselves.
    """
    from .selectors import posts_visible_to, with_thanks

    posts = with_thanks(posts_visible_to(user).filter(pk=post.pk), viewer=user)
    return posts.filter(may_thank=True).exists()  # type: ignore[misc] # with_thanks' annotation


def post_settings_for(school: School | int) -> PostSettings:
    """The school's post settings; a missing row means the defaults (not saved)."""
    school_id = school if isinstance(school, int) else school.pk
    return PostSettings.objects.filter(school_id=school_id).first() or PostSettings(school_id=school_id)


def publication_time(
    *, author: User, requested: dt.datetime | None = None, now: dt.datetime | None = None
) -> tuple[dt.datetime, bool]:
    """When a post by ``author`` becomes visible, and whether it is held for office hours.

    ``requested`` (a scheduled time) must not lie in the past, nor after the end of the
    next school year (``worktime.latest_plannable_date``). The result is the first
    moment of the author's working time at or after the requested moment.
    """
    now = now or timezone.now()
    if requested is not None and requested < now - dt.timedelta(minutes=1):
        raise ValidationError({"publish_at": _("A post cannot be scheduled in the past.")})
    wanted = max(requested or now, now)
    staff = access.staff_member_of(author)
    if staff is None:
        return wanted, False
    if requested is not None:
        today = worktime.local_date(now)
        _earliest, latest = directory.date_bounds(staff.school_id, today)
        if worktime.local_date(requested) > latest:
            raise ValidationError({"publish_at": directory.too_far_ahead(latest)})
    # After the last entered school year the calendar goes on with the national calendar.
    at = worktime.next_opening(directory.staff_calendar(staff), wanted)
    return at, at > wanted


# --- writes ----------------------------------------------------------------------------------


def _check_audience(actor, *, school: School | None, group: Group | None) -> School:
    if group is not None:
        if not may_post_to_group(actor, group):
            raise PermissionDenied(_("You cannot post to this group."))
        return group.school
    if school is None or not may_post_to_school(actor, school):
        raise PermissionDenied(_("You cannot post to the whole school."))
    return school


def _store_photos(post: Post, photos: Sequence[media.ProcessedImage], start: int, saved: list[str]):
    for i, processed in enumerate(photos, start=start):
        photo = PostPhoto(
            post=post,
            content_type=processed.content_type,
            width=processed.width,
            height=processed.height,
            position=i,
        )
        saved.append(media.save_file(photo.image, processed.image.name, processed.image))
        saved.append(media.save_file(photo.thumbnail, processed.thumbnail.name, processed.thumbnail))
        photo.save()


def _store_attachments(post: Post, attachments: Iterable, saved: list[str]):
    for upload in attachments:
        size = media.check_pdf(upload)
        attachment = PostAttachment(post=post, name=media.safe_download_name(upload.name), size=size)
        saved.append(media.save_file(attachment.file, "attachment.pdf", upload))
        attachment.save()


def _process_photos(photos: Sequence) -> list[media.ProcessedImage]:
    try:
        media.check_post_pixels(photos)  # from the headers: nothing decoded yet
    except ValidationError as exc:
        raise ValidationError({"photos": exc.messages}) from None
    errors, processed = [], []
    for upload in photos:
        try:
            processed.append(media.process_photo(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({"photos": errors})
    return processed


def _too_many_photos() -> str:
    return _("At most %(n)s photos per post.") % {"n": media.MAX_PHOTOS_PER_POST}


def _too_many_files() -> str:
    return _("At most %(n)s files per post.") % {"n": media.MAX_ATTACHMENTS_PER_POST}


def _alt(text: str | None) -> str:
    return strip_bidi(text or "").strip()[: PostPhoto._meta.get_field("alt_text").max_length]


def _pending_of(actor: User, ids: Sequence[int]) -> list[PendingUpload]:
    """The actor's own kept uploads with these ids, in the order given; anyone else's id (or one
    already used or cleaned up) refuses the whole post, so nobody posts another's photo."""
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if not wanted:
        return []
    found = {u.pk: u for u in PendingUpload.objects.filter(owner=actor, pk__in=wanted)}
    if len(found) != len(wanted):
        raise ValidationError({"photos": not_kept_message()})
    return [found[pk] for pk in wanted]


def not_kept_message() -> str:
    return _("A chosen photo or file is no longer kept for you. Please choose it again.")


def _adopt_pending(
    actor: User, post: Post, ids: Sequence[int], *, start: int, alt: Mapping[int, str]
) -> None:
    """Inside the post's transaction: the kept uploads become the post's photos and files.

    The stored files are taken over as they are (they were checked and re-encoded when they
    were kept), so nothing is decoded twice; the rows are locked and deleted, so the same
    upload can never end up in two posts, nor be cleaned up under a post that uses it.
    """
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if not wanted:
        return
    rows = {u.pk: u for u in PendingUpload.objects.select_for_update().filter(owner=actor, pk__in=wanted)}
    if len(rows) != len(wanted):
        raise ValidationError({"photos": not_kept_message()})
    position = start
    for pk in wanted:
        upload = rows[pk]
        if upload.is_photo:
            PostPhoto.objects.create(
                post=post,
                image=upload.file.name,
                thumbnail=upload.thumbnail.name,
                content_type=upload.content_type,
                width=upload.width or 0,
                height=upload.height or 0,
                position=position,
                alt_text=_alt(alt.get(pk, upload.alt_text)),
            )
            position += 1
        else:
            PostAttachment.objects.create(
                post=post, file=upload.file.name, name=upload.name, size=upload.size
            )
    PendingUpload.objects.filter(pk__in=wanted).delete()  # the files now belong to the post


def _require_consent_check(post: Post, *, adding_photos: bool, consent_confirmed: bool) -> None:
    # AVG: a teacher adding photos to a group page confirms they checked who may not be
    # recognisable (the form lists those pupils); the confirmation is kept on the post.
    if adding_photos and post.group_id is not None:
        if not consent_confirmed:
            raise ValidationError(
                {
                    "consent_confirmed": _(
                        "Please confirm that the pupils listed are not recognisable in the photos."
                    )
                }
            )
        post.consent_confirmed_at = timezone.now()


def post_create(
    *,
    actor: User,
    title: str,
    body: str,
    kind: str = Post.Kind.ATMOSPHERE,
    group: Group | None = None,
    school: School | None = None,
    publish_at: dt.datetime | None = None,
    photos: Sequence = (),
    attachments: Sequence = (),
    pending: Sequence[int] = (),
    pending_alt: Mapping[int, str] | None = None,
    consent_confirmed: bool = False,
) -> Post:
    """Write a post to a group (``group``) or the whole school (``school``, no group).

    Checks that the actor may post there; validates text, photos (decoded, limited,
    re-encoded without metadata) and PDFs. ``pending`` are ids of the actor's own kept
    uploads (``pending_uploads_store``), already checked and stored: they become the post's
    photos and files, in that order, with ``pending_alt`` as their descriptions; anyone
    else's id is refused. Publication waits for the actor's working time. Side effect:
    once published, the guardians are notified (on commit if it is published at once,
    else by the sweep).
    """
    school = _check_audience(actor, school=school, group=group)
    kept = _pending_of(actor, pending)
    kept_photos = [u for u in kept if u.is_photo]
    kept_files = [u for u in kept if not u.is_photo]
    if len(photos) + len(kept_photos) > media.MAX_PHOTOS_PER_POST:
        raise ValidationError({"photos": _too_many_photos()})
    if len(attachments) + len(kept_files) > media.MAX_ATTACHMENTS_PER_POST:
        raise ValidationError({"attachments": _too_many_files()})
    now = timezone.now()
    when, held = publication_time(author=actor, requested=publish_at, now=now)
    post = Post(
        school=school,
        group=group,
        author=actor,
        kind=kind,
        title=strip_bidi(title or "").strip(),
        body=sanitize_body(body),
        publish_at=when,
        held_for_office_hours=held,
    )
    if not post.body:
        raise ValidationError({"body": _("Please write a text.")})
    _require_consent_check(
        post, adding_photos=bool(photos or kept_photos), consent_confirmed=consent_confirmed
    )
    post.full_clean(exclude=["created_at"])
    processed = _process_photos(photos)
    saved: list[str] = []
    try:
        with transaction.atomic():
            post.save()
            _adopt_pending(actor, post, pending, start=0, alt=pending_alt or {})
            _store_photos(post, processed, len(kept_photos), saved)
            _store_attachments(post, attachments, saved)
            if post.publish_at <= now:
                enqueue_on_commit("communication.posts.tasks.notify_post_published", post.pk)
    except media.StorageError:
        # The storage refused a file (full disk, folder not writable): the post is rolled back
        # and the files already written go, so nothing is half-saved; the form shows why.
        media.delete_files(saved)
        raise media.storage_failed(_("nothing was posted")) from None
    except Exception:
        media.delete_files(saved)  # nothing half-stored outlives a rolled-back post
        raise
    return post


def _authored(actor: User, post: Post) -> Post:
    # Only the author edits or deletes; others get the same 404 as for a missing post.
    if post.author_id != actor.pk or access.staff_member_of(actor) is None:
        raise Http404
    return post


def post_update(
    *,
    actor: User,
    post: Post,
    title: str,
    body: str,
    kind: str,
    publish_at: dt.datetime | None = None,
    photos: Sequence = (),
    attachments: Sequence = (),
    pending: Sequence[int] = (),
    pending_alt: Mapping[int, str] | None = None,
    photo_alt: Mapping[int, str] | None = None,
    remove_photo_ids: Iterable[int] = (),
    remove_attachment_ids: Iterable[int] = (),
    consent_confirmed: bool = False,
) -> Post:
    """The author edits a post; the edit time is shown to readers.

    A post not yet published may be rescheduled (office hours apply again); a published
    post keeps its publication time and is not announced again. ``pending`` (the author's
    own kept uploads) are added after the photos it has; ``photo_alt`` changes the
    descriptions of photos it has, by id.
    """
    _authored(actor, post)
    kept = _pending_of(actor, pending)
    kept_photos = [u for u in kept if u.is_photo]
    kept_files = [u for u in kept if not u.is_photo]
    now = timezone.now()
    post.title, post.kind, post.body = strip_bidi(title or "").strip(), kind, sanitize_body(body)
    if not post.body:
        raise ValidationError({"body": _("Please write a text.")})
    if post.publish_at > now:
        post.publish_at, post.held_for_office_hours = publication_time(
            author=actor, requested=publish_at, now=now
        )
    post.edited_at = now
    _require_consent_check(
        post, adding_photos=bool(photos or kept_photos), consent_confirmed=consent_confirmed
    )
    post.full_clean(exclude=["created_at"])
    remove_photo_ids, remove_attachment_ids = list(remove_photo_ids), list(remove_attachment_ids)
    remaining = post.photos.exclude(pk__in=remove_photo_ids).count()
    if remaining + len(photos) + len(kept_photos) > media.MAX_PHOTOS_PER_POST:
        raise ValidationError({"photos": _too_many_photos()})
    files_left = post.attachments.exclude(pk__in=remove_attachment_ids).count()
    if files_left + len(attachments) + len(kept_files) > media.MAX_ATTACHMENTS_PER_POST:
        raise ValidationError({"attachments": _too_many_files()})
    processed = _process_photos(photos)
    saved: list[str] = []
    try:
        with transaction.atomic():
            post.save()
            gone_photos = post.photos.filter(pk__in=list(remove_photo_ids))
            gone_files = [n for pair in gone_photos.values_list("image", "thumbnail") for n in pair]
            gone_photos.delete()
            gone_attachments = post.attachments.filter(pk__in=list(remove_attachment_ids))
            gone_files += list(gone_attachments.values_list("file", flat=True))
            gone_attachments.delete()
            for photo_id, text in (photo_alt or {}).items():
                post.photos.filter(pk=photo_id).update(alt_text=_alt(text))
            last = post.photos.order_by("-position").values_list("position", flat=True).first()
            start = (last or 0) + 1
            _adopt_pending(actor, post, pending, start=start, alt=pending_alt or {})
            _store_photos(post, processed, start + len(kept_photos), saved)
            _store_attachments(post, attachments, saved)
            transaction.on_commit(lambda: media.delete_files(gone_files))
    except media.StorageError:
        media.delete_files(saved)  # the edit is rolled back with its new files
        raise media.storage_failed(_("nothing was changed")) from None
    except Exception:
        media.delete_files(saved)
        raise
    return post


def post_delete(*, actor: User, post: Post) -> None:
    """The author deletes a post with its photos, files and read marks (files after commit)."""
    _authored(actor, post)
    with transaction.atomic():
        files = [n for pair in post.photos.values_list("image", "thumbnail") for n in pair]
        files += list(post.attachments.values_list("file", flat=True))
        post.delete()
        transaction.on_commit(lambda: media.delete_files(files))


def post_mark_read(*, actor: User, posts: Iterable[Post]) -> int:
    """Record that ``actor`` has seen these (already access-checked, published) posts."""
    if not actor.is_authenticated:
        return 0
    rows = [PostRead(post_id=p.pk, user=actor) for p in posts]
    if not rows:
        return 0
    PostRead.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def post_reads_record(*, actor: User | None, post: Post, readers: Iterable[User]) -> int:
    """System only: record that these people have seen one published post, now.

    ``post_mark_read`` for many readers of one post at once: the demo school's read
    counts (hundreds of parents). Only people who may see the post can have read it
    (``audience_users``, else ``PermissionDenied``), and not before it was published
    (``ValidationError``). Marking again changes nothing. Returns the number of readers.
    """
    if actor is not None:
        raise PermissionDenied
    ids = {user.pk for user in readers}
    if post.publish_at > timezone.now():
        raise ValidationError(_("Nobody can have read a post before it is published."))
    if ids - set(audience_users(post).filter(pk__in=ids).values_list("pk", flat=True)):
        raise PermissionDenied(_("Only the post's readers can have read it."))
    PostRead.objects.bulk_create(
        (PostRead(post=post, user_id=pk) for pk in sorted(ids)), ignore_conflicts=True, batch_size=1000
    )
    return len(ids)


def posts_delete_of_school(*, actor: User | None, school: School) -> int:
    """System only: delete every post of a school, with its photos, files and reads (files
    after commit), as ``post_delete`` does one by one; before the school itself is deleted
    (the demo school's rebuild). Returns the number of posts.
    """
    if actor is not None:
        raise PermissionDenied
    with transaction.atomic():
        posts = Post.objects.filter(school=school)
        files = [
            n
            for pair in PostPhoto.objects.filter(post__in=posts).values_list("image", "thumbnail")
            for n in pair
        ]
        files += list(PostAttachment.objects.filter(post__in=posts).values_list("file", flat=True))
        count = posts.count()
        posts.delete()
        transaction.on_commit(lambda: media.delete_files(files))
    return count


# --- uploads kept for the form ---------------------------------------------------------------

#: A kept upload nobody published is deleted with its files after this long (the sweep).
PENDING_MAX_AGE = dt.timedelta(days=1)
#: However often a form comes back, one person keeps at most this many uploads at a time.
PENDING_MAX_PER_OWNER = 3 * media.MAX_PHOTOS_PER_POST


@dataclass
class KeptUploads:
    """What ``pending_uploads_store`` kept (in the order chosen) and what it refused, by field."""

    uploads: list[PendingUpload] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, messages: Iterable[str]) -> None:
        self.errors.setdefault(name, []).extend(messages)


def _display_name(upload) -> str:
    return strip_bidi(getattr(upload, "name", "") or "").strip()[:120] or _("photo")


def pending_uploads_store(
    *,
    actor: User,
    photos: Sequence = (),
    attachments: Sequence = (),
    alt_texts: Sequence[str] = (),
    editing: bool = False,
) -> KeptUploads:
    """Keep the photos and PDFs chosen on a post form for their author, before the post exists.

    Each file goes through the same checks and storage as a post's (photos decoded within the
    post's pixel budget and re-encoded without metadata, PDFs by signature and size); a file
    that fails is refused with its message and nothing of it is stored, the others are kept.
    ``alt_texts`` are the descriptions typed for the photos, in the same order. Only staff
    who may write posts keep uploads. Not a post yet: nobody else sees these files. When the
    storage refuses a file, nothing of this request is kept and the message says that nothing
    was posted (``editing``: changed).
    """
    if access.staff_member_of(actor) is None:
        raise PermissionDenied
    kept = KeptUploads()
    photos, attachments = list(photos), list(attachments)
    if not photos and not attachments:
        return kept
    waiting = PendingUpload.objects.filter(owner=actor).count()
    if waiting + len(photos) + len(attachments) > PENDING_MAX_PER_OWNER:
        kept.refuse("photos", [_("Too many photos and files are waiting. Publish or remove some first.")])
        return kept
    if len(photos) > media.MAX_PHOTOS_PER_POST:
        kept.refuse("photos", [_too_many_photos()])
        photos = []
    if len(attachments) > media.MAX_ATTACHMENTS_PER_POST:
        kept.refuse("attachments", [_too_many_files()])
        attachments = []
    try:
        media.check_post_pixels(photos)  # from the headers: nothing decoded yet
    except ValidationError as exc:
        kept.refuse("photos", exc.messages)
        photos = []
    rows: list[tuple[PendingUpload, object]] = []
    for i, upload in enumerate(photos):
        try:
            processed = media.process_photo(upload)
        except ValidationError as exc:
            kept.refuse("photos", exc.messages)
            continue
        row = PendingUpload(
            owner=actor,
            kind=PendingUpload.Kind.PHOTO,
            content_type=processed.content_type,
            name=_display_name(upload),
            size=processed.image.size,
            width=processed.width,
            height=processed.height,
            alt_text=_alt(alt_texts[i] if i < len(alt_texts) else ""),
        )
        rows.append((row, processed))
    for upload in attachments:
        try:
            size = media.check_pdf(upload)
        except ValidationError as exc:
            kept.refuse("attachments", exc.messages)
            continue
        row = PendingUpload(
            owner=actor,
            kind=PendingUpload.Kind.ATTACHMENT,
            content_type="application/pdf",
            name=media.safe_download_name(upload.name),
            size=size,
        )
        rows.append((row, upload))
    saved: list[str] = []
    try:
        with transaction.atomic():
            for row, content in rows:
                if isinstance(content, media.ProcessedImage):
                    saved.append(media.save_file(row.file, content.image.name, content.image))
                    saved.append(media.save_file(row.thumbnail, content.thumbnail.name, content.thumbnail))
                else:
                    saved.append(media.save_file(row.file, "attachment.pdf", content))
                row.full_clean()
                row.save()
                kept.uploads.append(row)
    except media.StorageError:
        media.delete_files(saved)
        kept.uploads = []
        what = _("nothing was changed") if editing else _("nothing was posted")
        kept.refuse("photos", media.storage_failed(what).messages)
    except Exception:
        media.delete_files(saved)
        raise
    return kept


def pending_uploads_discard(*, actor: User, ids: Iterable[int]) -> int:
    """The owner removes kept uploads from the form; their files go after the commit.
    Anyone else's ids change nothing. Returns the number removed."""
    with transaction.atomic():
        rows = PendingUpload.objects.select_for_update().filter(owner=actor, pk__in=list(ids))
        files = [n for pair in rows.values_list("file", "thumbnail") for n in pair if n]
        count = len(rows)
        rows.delete()
        transaction.on_commit(lambda: media.delete_files(files))
    return count


def pending_uploads_clean(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """System sweep: kept uploads older than a day (a form left unfinished) go with their files.

    Locked with ``skip_locked``: an upload a post is taking over right now is left alone.
    """
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            PendingUpload.objects.select_for_update(skip_locked=True)
            .filter(created_at__lt=now - PENDING_MAX_AGE)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        rows = PendingUpload.objects.filter(pk__in=ids)
        files = [n for pair in rows.values_list("file", "thumbnail") for n in pair if n]
        rows.delete()
        transaction.on_commit(lambda: media.delete_files(files))
    return len(ids)


# --- thank-yous ------------------------------------------------------------------------------


def post_thank(*, actor: User, post: Post, thanked: bool = True) -> bool:
    """A parent says thank you for a post (``thanked``), or takes it back.

    Sets a state rather than toggling, so a double tap or a form sent twice leaves it as the
    parent meant; the unique constraint keeps one thank-you per person and post. Only a parent
    who may read the published post, where the school allows it (``may_thank``); anyone else
    gets ``PermissionDenied``. Returns whether the actor now thanks the post.
    """
    if not may_thank(actor, post):
        raise PermissionDenied(_("You cannot say thank you for this post."))
    if thanked:
        PostThanks.objects.bulk_create([PostThanks(post=post, user=actor)], ignore_conflicts=True)
    else:
        PostThanks.objects.filter(post=post, user=actor).delete()
    return thanked


# --- notifications (system) ----------------------------------------------------------------


def audience_users(post: Post):
    """Guardians with a login who may see this post (same rule as ``access.groups_visible_to``)."""
    pupil_filter = (
        Q(guardian__relations__pupil__group_id=post.group_id)
        if post.group_id
        else Q(guardian__relations__pupil__school_id=post.school_id)
    )
    return User.objects.filter(
        pupil_filter,
        is_active=True,
        guardian__relations__access__in=access.VIEW_ACCESS,
        guardian__relations__pupil__left_on__isnull=True,
    ).distinct()


def _published_message(post: Post) -> dict:
    """The notification of a published post (posts.notification_messages)."""
    if post.group is not None:
        return {"message": "post.published_group", "params": {"group": post.group.name, "title": post.title}}
    return {"message": "post.published_school", "params": {"school": post.school.name, "title": post.title}}


def post_notify_published(*, post_id: int, now: dt.datetime | None = None) -> int:
    """System: notify the audience of one published post, once (idempotent, safe to repeat).

    The post row is locked so two workers do not both notify; ``notify`` itself refuses a
    second notification per guardian and post (unique constraint), so even a crash between
    the two writes sends nobody anything twice.
    """
    now = now or timezone.now()
    with transaction.atomic():
        post = (
            Post.objects.select_for_update(of=("self",))
            .select_related("group", "school")
            .filter(pk=post_id)
            .first()
        )
        if post is None or post.notified_at is not None or post.publish_at > now:
            return 0
        created = notify(
            users=audience_users(post),
            cause=f"post:{post.pk}",
            **_published_message(post),
            url=reverse("posts:post_detail", args=[post.pk]),
        )
        post.notified_at = now
        post.save(update_fields=["notified_at"])
    return created


def posts_notify_due(*, now: dt.datetime | None = None, limit: int = 50) -> int:
    """System sweep: notify every post that is published but not yet announced."""
    now = now or timezone.now()
    ids = list(
        Post.objects.filter(notified_at__isnull=True, publish_at__lte=now)
        .order_by("publish_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        post_notify_published(post_id=pk, now=now)
    return len(ids)


# --- post rhythm reminder (system) ------------------------------------------------------------


def post_rhythm_remind_due(*, now: dt.datetime | None = None) -> int:
    """System sweep: on a teacher's last working day of a week under quota, remind them once.

    Runs often (beat); acts only during the teacher's own working time on their last
    working day of the (Amsterdam) week. The cause names teacher, group and ISO week, so
    the notification's unique constraint keeps it to one reminder however often it runs.
    """
    from klimop.models import StaffMember

    from .selectors import rhythm_for

    now = now or timezone.now()
    today = now.astimezone(worktime.AMSTERDAM).date()
    sunday = today + dt.timedelta(days=6 - today.weekday())
    sent = 0
    teachers = (
        StaffMember.objects.filter(groups__isnull=False, user__is_active=True)
        .select_related("school", "user")
        .distinct()
    )
    calendars: dict[int, worktime.WorkCalendar] = {}
    for staff in teachers:
        if staff.school_id not in calendars:
            calendars[staff.school_id] = directory.school_calendar(staff.school)
        cal = worktime.for_staff_weekdays(calendars[staff.school_id], staff.working_weekdays)
        if not worktime.is_working_time(cal, now):
            continue
        later_this_week = any(
            worktime.is_working_day(cal, today + dt.timedelta(days=i))
            for i in range(1, (sunday - today).days + 1)
        )
        if later_this_week:
            continue
        year, week, _day = today.isocalendar()
        for row in rhythm_for(viewer=staff.user, now=now):
            if row.on_track:
                continue
            sent += notify(
                users=[staff.user],
                cause=f"post-rhythm:{row.group.pk}:{year}-W{week:02d}",
                message="post.rhythm",
                params={"group": row.group.name, "count": row.count, "quota": row.quota},
                url=reverse("posts:post_create") + f"?group={row.group.pk}",
            )
    return sent
