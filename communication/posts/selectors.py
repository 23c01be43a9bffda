"""Reads of posts as one viewer may see them: timeline, detail, files, read counts, rhythm.

Parents see a post only once ``publish_at`` has passed, whatever the workers did;
a group's posts only while they may see that group (``access.groups_visible_to``),
the school's posts while they may see that school. Missing and not-yours are the
same 404.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from klimop import access, worktime
from klimop.models import Group, GuardianRelation, Pupil

from .models import Post, PostAttachment, PostPhoto, PostRead

PAGE_SIZE = 10


def posts_visible_to(viewer, *, now: dt.datetime | None = None) -> QuerySet[Post]:
    """Every post the viewer may read; unpublished ones only for their author."""
    if not (viewer is not None and viewer.is_authenticated and viewer.is_active):
        return Post.objects.none()
    now = now or timezone.now()
    audience = Q(group__in=access.groups_visible_to(viewer)) | Q(
        group__isnull=True, school__in=access.schools_visible_to(viewer)
    )
    return Post.objects.filter(audience & (Q(publish_at__lte=now) | Q(author=viewer)))


def timeline_for(*, viewer, now: dt.datetime | None = None) -> QuerySet[Post]:
    """Newest first, with author, group, photos, attachments and an ``is_read`` flag.

    A fixed number of queries whatever the number of posts or photos (tested).
    """
    return (
        posts_visible_to(viewer, now=now)
        .select_related("author", "group", "school")
        .prefetch_related(
            Prefetch("photos", queryset=PostPhoto.objects.order_by("position", "pk")),
            Prefetch("attachments", queryset=PostAttachment.objects.order_by("pk")),
        )
        .annotate(is_read=Exists(PostRead.objects.filter(post=OuterRef("pk"), user=viewer)))
        .order_by("-publish_at", "-pk")
    )


def post_get_for(*, viewer, pk: int) -> Post:
    try:
        return timeline_for(viewer=viewer).get(pk=pk)
    except Post.DoesNotExist:
        raise Http404 from None


def post_get_for_author(*, viewer, pk: int) -> Post:
    """The viewer's own post (to edit or delete); 404 for anyone else's."""
    try:
        return (
            Post.objects.select_related("group", "school")
            .prefetch_related("photos", "attachments")
            .get(pk=pk, author=viewer)
        )
    except Post.DoesNotExist:
        raise Http404 from None


def photo_get_for(*, viewer, pk: int) -> PostPhoto:
    try:
        return PostPhoto.objects.get(pk=pk, post__in=posts_visible_to(viewer))
    except PostPhoto.DoesNotExist:
        raise Http404 from None


def attachment_get_for(*, viewer, pk: int) -> PostAttachment:
    try:
        return PostAttachment.objects.get(pk=pk, post__in=posts_visible_to(viewer))
    except PostAttachment.DoesNotExist:
        raise Http404 from None


def groups_postable_by(viewer) -> QuerySet[Group]:
    """Groups the viewer may post to: their own; any group of the school for director/office."""
    groups = access.groups_acted_for_by(viewer)
    today = worktime.local_date(timezone.now())
    return (
        groups.filter(
            school_year__starts_on__lte=today + dt.timedelta(days=60), school_year__ends_on__gte=today
        )
        .select_related("school")
        .order_by("year", "name")
        .distinct()
    )


def pupils_not_to_recognise(*, group: Group) -> list[Pupil]:
    """Pupils of the group who must not be recognisable in photos on the group page.

    Without the privacy module (or before it answers), that is every pupil: silence
    is no consent (AVG art. 7–8).
    """
    try:
        from klimop.privacy.selectors import pupils_without_consent
    except ImportError:
        return list(
            Pupil.objects.filter(group=group, left_on__isnull=True).order_by("first_name", "last_name")
        )
    return list(pupils_without_consent(group=group, purpose="group_page"))


# --- the author's list with read counts ------------------------------------------------------


@dataclass(frozen=True)
class PostWithReads:
    post: Post
    families_read: int
    families: int

    @property
    def is_published(self) -> bool:
        return self.post.publish_at <= timezone.now()


def posts_by_author(*, viewer) -> list[PostWithReads]:
    """The viewer's own posts with "read by N of M families", in four queries.

    A family is the set of guardians who may see a child (siblings with the same
    parents are one family); it has read a post when any of them opened it.
    """
    posts = list(
        Post.objects.filter(author=viewer)
        .select_related("group", "school")
        .annotate(photo_count=Count("photos", distinct=True))
        .order_by("-publish_at", "-pk")
    )
    if not posts:
        return []
    group_ids = {p.group_id for p in posts if p.group_id}
    school_ids = {p.school_id for p in posts if not p.group_id}
    relations = GuardianRelation.objects.filter(
        Q(pupil__group_id__in=group_ids) | Q(pupil__school_id__in=school_ids),
        access__in=access.VIEW_ACCESS,
        pupil__left_on__isnull=True,
    ).values_list("pupil_id", "pupil__group_id", "pupil__school_id", "guardian_id", "guardian__user_id")
    pupil_guardians: dict[int, set[int]] = defaultdict(set)
    pupil_place: dict[int, tuple[int, int]] = {}
    guardian_user: dict[int, int | None] = {}
    for pupil_id, group_id, school_id, guardian_id, user_id in relations:
        pupil_guardians[pupil_id].add(guardian_id)
        pupil_place[pupil_id] = (group_id, school_id)
        guardian_user[guardian_id] = user_id
    families_by_group: dict[int, set[frozenset]] = defaultdict(set)
    families_by_school: dict[int, set[frozenset]] = defaultdict(set)
    for pupil_id, guardians in pupil_guardians.items():
        family = frozenset(guardians)
        group_id, school_id = pupil_place[pupil_id]
        families_by_group[group_id].add(family)
        families_by_school[school_id].add(family)
    readers: dict[int, set[int]] = defaultdict(set)
    for post_id, user_id in PostRead.objects.filter(post__in=posts).values_list("post_id", "user_id"):
        readers[post_id].add(user_id)
    rows = []
    for post in posts:
        families = families_by_group[post.group_id] if post.group_id else families_by_school[post.school_id]
        read = sum(1 for fam in families if any(guardian_user[g] in readers[post.pk] for g in fam))
        rows.append(PostWithReads(post=post, families_read=read, families=len(families)))
    return rows


# --- post rhythm -----------------------------------------------------------------------------

week_bounds = worktime.week_bounds  # the school week, from the one clock


@dataclass(frozen=True)
class GroupRhythm:
    group: Group
    count: int
    quota: int

    @property
    def on_track(self) -> bool:
        return self.count >= self.quota

    @property
    def percent(self) -> int:
        return 100 if not self.quota else min(100, round(100 * self.count / self.quota))


def rhythm_for(*, viewer, now: dt.datetime | None = None) -> list[GroupRhythm]:
    """For each group the viewer teaches: atmosphere posts published this week vs the quota."""
    staff = access.staff_member_of(viewer)
    if staff is None:
        return []
    now = now or timezone.now()
    start, end = week_bounds(now)
    week_posts = Q(
        posts__kind=Post.Kind.ATMOSPHERE,
        posts__publish_at__gte=start,
        posts__publish_at__lt=end,
        posts__publish_at__lte=now,
    )
    today = now.astimezone(worktime.AMSTERDAM).date()
    groups = (
        Group.objects.filter(
            teachers=staff, school_year__starts_on__lte=today, school_year__ends_on__gte=today
        )
        .select_related("school")
        .annotate(week_count=Count("posts", filter=week_posts))
        .order_by("year", "name")
    )
    return [
        GroupRhythm(group=g, count=g.week_count, quota=g.school.atmosphere_posts_per_week) for g in groups
    ]
