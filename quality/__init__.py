"""The quality card: the school's own agreements measured, on top of every feature.

Its own app, above the features it reads (posts, chats, absences), so the core never
imports a feature: a departure from the first design's folders, for that reason.
"""
