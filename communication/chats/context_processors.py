def chats(request):
    """Conversations with unread messages, for a badge on the navigation's chat link.

    One COUNT query per page for logged-in users; register it in TEMPLATES to use it.
    """
    from .selectors import unread_conversation_count

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_chats": unread_conversation_count(viewer=user)}
