"""Models of the communication capability, one module per feature."""

from .agenda import Event, FeedToken
from .chats import Conversation, Message, Participant
from .posts import Post, PostAttachment, PostPhoto, PostRead  # noqa: F401

__all__ = ["Conversation", "Event", "Message", "Participant", "FeedToken"]
