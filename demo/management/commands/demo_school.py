"""``manage.py demo_school``: the fictional Basisschool De Klimroos with demo logins."""

from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from demo import school as demo
from klimop import worktime


class Command(BaseCommand):
    help = (
        "Create the fictional demo school Basisschool De Klimroos: the current school year "
        "with its holidays, 16 groups, about 400 pupils and 650 guardians, 30 staff and "
        "demo logins, and three weeks of school life: posts (with photos) and who read them, "
        "upcoming agenda events, photo consent, chats, today's absences and leave requests, "
        "a round of report conversations open for booking, and a few notifications. Running "
        "it again changes nothing; --reset rebuilds it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo school, its guardians and its logins first, then rebuild.",
        )
        parser.add_argument(
            "--date",
            type=dt.date.fromisoformat,
            default=None,
            metavar="YYYY-MM-DD",
            help="Build the school year containing this date instead of today's.",
        )

    def handle(self, *args, reset: bool = False, date: dt.date | None = None, **options):
        started = time.perf_counter()
        today = date or worktime.local_date(timezone.now())
        try:
            with transaction.atomic():
                if reset:
                    deleted = demo.demo_school_delete()
                    self.stdout.write("Deleted: " + ", ".join(f"{n} {what}" for what, n in deleted.items()))
                school, created = demo.demo_school_create(today=today)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except ProtectedError as exc:
            raise CommandError(f"The demo school cannot be deleted: {exc.args[0]}") from exc
        elapsed = time.perf_counter() - started

        if created:
            self.stdout.write(self.style.SUCCESS(f"Created {school.name} in {elapsed:.1f} s."))
        else:
            self.stdout.write(
                self.style.WARNING(f"{school.name} already exists; nothing changed (use --reset to rebuild).")
            )
        self._print_logins()
        self._print_summary(school)

    def _print_logins(self) -> None:
        password = settings.KLIMOP_DEMO_PASSWORD
        rows = [(r.role, r.email, password, r.details) for r in demo.demo_logins()]
        header = ("Role", "E-mail", "Password", "Who")
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(3)]

        def line(row) -> str:
            return "  ".join(str(v).ljust(w) for v, w in zip(row[:3], widths, strict=True)) + (f"  {row[3]}")

        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Demo logins"))
        self.stdout.write(self.style.MIGRATE_LABEL(line(header)))
        for row in rows:
            self.stdout.write(line(row))

    def _print_summary(self, school) -> None:
        summary = demo.demo_summary(school)
        width = max(len(k) for k in summary)
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Summary"))
        for key, value in summary.items():
            self.stdout.write(f"{key.ljust(width)}  {value}")
