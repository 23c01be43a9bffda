"""Thin Celery tasks for posts; each calls one idempotent service."""

from celery import shared_task

from . import services


@shared_task
def notify_post_published(post_id: int) -> int:
    """Enqueued on commit for a post published at once; the sweep covers a lost enqueue."""
    return services.post_notify_published(post_id=post_id)


@shared_task
def notify_due_posts() -> int:
    """Beat sweep: announce posts whose (held or scheduled) publication time has come."""
    return services.posts_notify_due()


@shared_task
def remind_post_rhythm() -> int:
    """Beat sweep: the gentle end-of-week reminder to teachers under the atmosphere quota."""
    return services.post_rhythm_remind_due()


@shared_task
def clean_pending_uploads() -> int:
    """Beat sweep: photos and files kept for a post form left unfinished for a day go."""
    return services.pending_uploads_clean()
