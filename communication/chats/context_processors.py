from django.utils.functional import SimpleLazyObject


def chats(request):
    """Conversations with unread messages, for a badge on the navigation's chat link.

    One COUNT query, made when a page's navigation shows it (a fragment answered to the page's
    script does not); register it in TEMPLATES to use it.
    """
    from .selectors import unread_conversation_count

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_chats": SimpleLazyObject(lambda: unread_conversation_count(viewer=user))}
