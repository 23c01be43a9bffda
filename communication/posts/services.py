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
from collections.abc import Iterable, Sequence

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

from .models import Post, PostAttachment, PostPhoto, PostRead

logger = logging.getLogger(__name__)

# --- who may post where ---------------------------------------------------------------------


def may_post_to_group(user, group: Group) -> bool:
    """Teachers post to the groups they teach; the director and the office to any group of
    their school (``access.groups_acted_for_by``: the one definition)."""
    return access.may_act_for_group(user, group)


def may_post_to_school(user, school: School) -> bool:
    """Only the director and the office write to the whole school."""
    return access.is_school_manager(user, school)


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
        photo.image.save(processed.image.name, processed.image, save=False)
        saved.append(photo.image.name)
        photo.thumbnail.save(processed.thumbnail.name, processed.thumbnail, save=False)
        saved.append(photo.thumbnail.name)
        photo.save()


def _store_attachments(post: Post, attachments: Iterable, saved: list[str]):
    for upload in attachments:
        size = media.check_pdf(upload)
        attachment = PostAttachment(post=post, name=media.safe_download_name(upload.name), size=size)
        attachment.file.save("attachment.pdf", upload, save=False)
        saved.append(attachment.file.name)
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
    consent_confirmed: bool = False,
) -> Post:
    """Write a post to a group (``group``) or the whole school (``school``, no group).

    Checks that the actor may post there; validates text, photos (decoded, limited,
    re-encoded without metadata) and PDFs. Publication waits for the actor's working
    time. Side effect: once published, the guardians are notified (on commit if it is
    published at once, else by the sweep).
    """
    school = _check_audience(actor, school=school, group=group)
    if len(photos) > media.MAX_PHOTOS_PER_POST:
        raise ValidationError({"photos": _too_many_photos()})
    if len(attachments) > media.MAX_ATTACHMENTS_PER_POST:
        raise ValidationError(
            {"attachments": _("At most %(n)s files per post.") % {"n": media.MAX_ATTACHMENTS_PER_POST}}
        )
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
    _require_consent_check(post, adding_photos=bool(photos), consent_confirmed=consent_confirmed)
    post.full_clean(exclude=["created_at"])
    processed = _process_photos(photos)
    saved: list[str] = []
    try:
        with transaction.atomic():
            post.save()
            _store_photos(post, processed, 0, saved)
            _store_attachments(post, attachments, saved)
            if post.publish_at <= now:
                enqueue_on_commit("communication.posts.tasks.notify_post_published", post.pk)
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
    remove_photo_ids: Iterable[int] = (),
    remove_attachment_ids: Iterable[int] = (),
    consent_confirmed: bool = False,
) -> Post:
    """The author edits a post; the edit time is shown to readers.

    A post not yet published may be rescheduled (office hours apply again); a published
    post keeps its publication time and is not announced again.
    """
    _authored(actor, post)
    now = timezone.now()
    post.title, post.kind, post.body = strip_bidi(title or "").strip(), kind, sanitize_body(body)
    if not post.body:
        raise ValidationError({"body": _("Please write a text.")})
    if post.publish_at > now:
        post.publish_at, post.held_for_office_hours = publication_time(
            author=actor, requested=publish_at, now=now
        )
    post.edited_at = now
    _require_consent_check(post, adding_photos=bool(photos), consent_confirmed=consent_confirmed)
    post.full_clean(exclude=["created_at"])
    remaining = post.photos.exclude(pk__in=list(remove_photo_ids)).count()
    if remaining + len(photos) > media.MAX_PHOTOS_PER_POST:
        raise ValidationError({"photos": _too_many_photos()})
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
            last = post.photos.order_by("-position").values_list("position", flat=True).first()
            _store_photos(post, processed, (last or 0) + 1, saved)
            _store_attachments(post, attachments, saved)
            transaction.on_commit(lambda: media.delete_files(gone_files))
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


class _NoticeText:
    """Rendered in each recipient's language by ``notify`` (str() under translation.override)."""

    def __init__(self, post: Post):
        self.group_name = post.group.name if post.group is not None else None
        self.school_name = post.school.name

    def __str__(self) -> str:
        if self.group_name:
            return _("New post for group %(group)s") % {"group": self.group_name}
        return _("New post from %(school)s") % {"school": self.school_name}


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
            title=_NoticeText(post),
            body=post.title,
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


class _RhythmText:
    def __init__(self, group_name: str, count: int, quota: int):
        self.group_name, self.count, self.quota = group_name, count, quota

    def __str__(self) -> str:
        return _(
            "Group %(group)s has had %(count)s of %(quota)s atmosphere posts this week. "
            "A short post with a photo or two is enough."
        ) % {"group": self.group_name, "count": self.count, "quota": self.quota}


class _RhythmTitle:
    def __str__(self) -> str:
        return _("A gentle reminder: this week's atmosphere post")


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
                title=_RhythmTitle(),
                body=_RhythmText(row.group.name, row.count, row.quota),
                url=reverse("posts:post_create") + f"?group={row.group.pk}",
            )
    return sent
