"""`make run`'s last words: once the web server answers, where it is and who can sign in."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from engagements.management.commands.load_demo import USERS, login_lines


class Command(BaseCommand):
    help = (
        "Waits until the portal at URL answers /healthz, then prints its URL and the demo logins."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("url", help="the portal's address, e.g. http://127.0.0.1:8000/")
        parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait (60)")

    def handle(self, *args, url: str, wait: float, **options) -> None:
        url = url.rstrip("/") + "/"
        deadline = time.monotonic() + wait
        while not self._answers(url + "healthz"):
            if time.monotonic() > deadline:
                raise CommandError(f"{url} did not answer within {wait:g} s")
            time.sleep(0.3)
        time.sleep(0.3)  # after the server's log line for the probe, not in the middle
        rule = "=" * 72
        self.stdout.write(rule)
        self.stdout.write(self.style.SUCCESS(f"PSaaS Portal: {url}"))
        demo = {u for u, *_ in USERS}
        if get_user_model().objects.filter(username__in=demo).count() == len(demo):
            self.stdout.write("Demo logins (demo only, never in production):")
            for line in login_lines():
                self.stdout.write(line)
        if settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
            self.stdout.write(f"Emails are written to {settings.EMAIL_FILE_PATH}/")
        self.stdout.write("Ctrl-C stops the web server, the worker and beat.")
        self.stdout.write(rule)

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with no_proxy.open(url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False
