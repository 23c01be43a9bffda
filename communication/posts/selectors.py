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

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from klimop import access, worktime
from klimop.models import Group, GuardianRelation, Pupil

from .models import PendingUpload, Post, PostAttachment, PostPhoto, PostRead, PostSettings, PostThanks

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


def _statistics_of(viewer) -> Q:
    """Posts whose figures (read counts, thank-yous) the viewer sees: their own, their groups'
    as staff who act for the group, the school's as its director or office
    (``services.may_see_statistics``, as a query)."""
    managed = [s.school_id for s in access.staff_records_of(viewer) if s.role in access.MANAGER_ROLES]
    return (
        Q(author=viewer)
        | Q(group__in=access.groups_acted_for_by(viewer))
        | Q(group__isnull=True, school_id__in=managed)
    )


def _thanks_count():
    # A subquery, not a join: a join with the photos would multiply the rows.
    return Coalesce(
        Subquery(
            PostThanks.objects.filter(post=OuterRef("pk"))
            .order_by()
            .values("post")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def with_thanks(posts: QuerySet[Post], *, viewer, now: dt.datetime | None = None) -> QuerySet[Post]:
    """Annotate what the viewer may see and do with thank-yous, in the same query:

    - ``sees_thanks``: the viewer sees the post's figures (``thanks_count``);
    - ``may_thank``: a parent who reads the published post, at a school that lets parents
      thank (``PostSettings.parents_may_thank``), and not one of the staff who see its figures;
    - ``is_thanked``: the viewer said thank you.

    Other parents never get a list of names, nor (by choice: no comparing of teachers) a count.
    """
    if not (viewer is not None and viewer.is_authenticated):
        return posts.annotate(
            sees_thanks=Value(False), may_thank=Value(False), is_thanked=Value(False), thanks_count=Value(0)
        )
    now = now or timezone.now()
    stats = _statistics_of(viewer)
    posts = posts.annotate(
        sees_thanks=Case(When(stats, then=Value(True)), default=Value(False), output_field=BooleanField()),
        thanks_open=~Exists(PostSettings.objects.filter(school=OuterRef("school"), parents_may_thank=False)),
        is_thanked=Exists(PostThanks.objects.filter(post=OuterRef("pk"), user=viewer)),
        thanks_count=_thanks_count(),
    )
    if not access.is_guardian(viewer):
        return posts.annotate(may_thank=Value(False))
    return posts.annotate(
        may_thank=Case(
            When(Q(thanks_open=True, publish_at__lte=now) & ~stats, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def timeline_for(*, viewer, now: dt.datetime | None = None) -> QuerySet[Post]:
    """Newest first, with author, group, photos, attachments, an ``is_read`` flag and what the
    viewer may see and do with thank-yous (``with_thanks``).

    A fixed number of queries whatever the number of posts or photos (tested).
    """
    return with_thanks(
        posts_visible_to(viewer, now=now)
        .select_related("author", "group", "school")
        .prefetch_related(
            Prefetch("photos", queryset=PostPhoto.objects.order_by("position", "pk")),
            Prefetch("attachments", queryset=PostAttachment.objects.order_by("pk")),
        )
        .annotate(is_read=Exists(PostRead.objects.filter(post=OuterRef("pk"), user=viewer)))
        .order_by("-publish_at", "-pk"),
        viewer=viewer,
        now=now,
    )


def pending_uploads_of(*, viewer, ids) -> list[PendingUpload]:
    """The viewer's own kept uploads among ``ids`` (in that order); other people's are left out."""
    wanted = []
    for value in ids:
        try:
            wanted.append(int(value))
        except (TypeError, ValueError):
            continue
    if not wanted or not (viewer is not None and viewer.is_authenticated):
        return []
    found = {u.pk: u for u in PendingUpload.objects.filter(owner=viewer, pk__in=wanted)}
    return [found[pk] for pk in dict.fromkeys(wanted) if pk in found]


def pending_upload_get_for(*, viewer, pk: int) -> PendingUpload:
    """A kept upload, only for its owner (the form shows its thumbnail); 404 for anyone else."""
    try:
        return PendingUpload.objects.get(pk=pk, owner=viewer, kind=PendingUpload.Kind.PHOTO)
    except PendingUpload.DoesNotExist:
        raise Http404 from None


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
    thanks: int = 0

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
        .annotate(
            photo_count=Count("photos", distinct=True),
            thanks_count=_thanks_count(),
        )
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
        rows.append(
            PostWithReads(post=post, families_read=read, families=len(families), thanks=post.thanks_count)
        )
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
