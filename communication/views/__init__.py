"""Per-feature modules: notifications, posts, agenda."""
