from .selectors import notifications_for


def notifications(request):
    """The unread count in the navigation (one COUNT query per page for logged-in users)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": notifications_for(viewer=user, unread_only=True).count()}
