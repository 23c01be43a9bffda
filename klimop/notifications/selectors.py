from django.db.models import QuerySet
from django.utils import timezone

from .models import Notification, PushSubscription


def notifications_for(*, viewer, unread_only: bool = False) -> QuerySet[Notification]:
    """The viewer's delivered notifications, newest first (held ones are not shown yet)."""
    if not viewer.is_authenticated:
        return Notification.objects.none()
    qs = Notification.objects.filter(user=viewer, deliver_at__lte=timezone.now())
    return qs.filter(read_at__isnull=True) if unread_only else qs


def push_endpoints_of(*, viewer) -> list[str]:
    """The push endpoints of the viewer's browsers that still receive pushes."""
    if not viewer.is_authenticated:
        return []
    return list(
        PushSubscription.objects.filter(user=viewer, disabled_at__isnull=True).values_list(
            "endpoint", flat=True
        )
    )
