from django.utils.functional import SimpleLazyObject

from .selectors import notifications_for


def notifications(request):
    """The unread count in the navigation: one COUNT query, made when a page's navigation shows
    it (a fragment answered to the page's script does not)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: notifications_for(viewer=user, unread_only=True).count()
        )
    }
