"""Notifications: the outbox every feature uses to tell people something (portal, e-mail, push).

Part of the core: features call ``klimop.notifications.services.notify``; nothing here
imports a feature.
"""
