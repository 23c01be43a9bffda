"""Planner sweeps. Thin and idempotent: the services decide what is due and notify at most once."""

from celery import shared_task

from . import services


@shared_task
def send_planner_invitations() -> int:
    """Beat: invite guardians when booking opens for them (within office hours)."""
    return services.invitations_send()


@shared_task
def send_planner_reminders() -> int:
    """Beat: remind guardians of tomorrow's conversations (from 08:00)."""
    return services.reminders_send()


@shared_task
def send_planner_closing_notices() -> int:
    """Beat: tell teachers at closing how many families did not book."""
    return services.closing_notices_send()
