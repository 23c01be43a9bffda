"""``manage.py health``: the readiness checks of /healthz/ready, with their details, for the
operator (the school's IT partner). Exits 1 when Klimop is not ready, so it fits cron and
monitoring: ``docker compose exec web python manage.py health``."""

import json

from django.core.management.base import BaseCommand, CommandError

from klimop import health


class Command(BaseCommand):
    help = "Show the database, broker, cache, beat heartbeat and outbox checks; exit 1 when one fails."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the JSON of /healthz/ready")

    def handle(self, *args, **options):
        checks = health.readiness()
        answer = health.report(checks, details=True)
        if options["json"]:
            self.stdout.write(json.dumps(answer, indent=2))
        else:
            width = max(len(c.name) for c in checks)
            for check in checks:
                line = f"{check.name:<{width}}  {'ok  ' if check.ok else 'FAIL'}  {check.summary}"
                self.stdout.write(self.style.SUCCESS(line) if check.ok else self.style.ERROR(line))
            self.stdout.write("ready" if answer["status"] == "ok" else "NOT READY")
        if answer["status"] != "ok":
            raise CommandError("Klimop is not ready.", returncode=1)
