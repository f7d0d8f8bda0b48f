from __future__ import annotations

from django.core.management.base import BaseCommand

from psaas_portal import health


class Command(BaseCommand):
    help = "Prints the readiness checks of /readyz; exits non-zero when the portal is not ready."

    def handle(self, *args, **options) -> None:
        ready, checks = health.run_checks()
        for check in checks.values():
            mark = self.style.SUCCESS("ok  ") if check.ok else self.style.ERROR("FAIL")
            self.stdout.write(f"{mark} {check.name:<9} {check.ms:7.1f} ms  {check.detail}")
        self.stdout.write("ready" if ready else "NOT READY")
        if not ready:
            raise SystemExit(1)
