"""Communication features, each its own Django app: posts, chats (messages) and the agenda."""
