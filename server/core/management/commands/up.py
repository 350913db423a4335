"""`python manage.py up`: run Seedboard on one machine and show it working.

Migrates the database, makes sure a demo team with a token exists and its user `demo` can sign
in to the web UI (a password generated on first start, stored hashed), starts the web server
(gunicorn) and, when REDIS_URL is set, a Celery worker with its beat scheduler, then logs a
demo study through the Python SDK and prints how to use it. Ctrl-C or SIGTERM stops everything.
A port already in use is refused before anything starts.
Without DATABASE_URL and REDIS_URL this is the embedded default: SQLite, and Celery tasks
run in-process (eager), so no other service is needed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from server.accounts.services import token_create_for, user_password_ensure
from server.benchmarks.models import Benchmark
from server.tracking.models import Run

DEMO_PROJECT = "demo/cifar10"
DEMO_BENCHMARK = "cifar10-small"


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _port_require_free(host: str, port: int) -> None:
    """CommandError (exit status 1) naming --port and `make run PORT=` when host:port is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As gunicorn binds: a port left in TIME_WAIT by a stopped server is free, a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"Port {port} on {host} is already in use ({exc.strerror}): another Seedboard, or another "
                f"server, is listening there. Stop it, or choose another port: "
                f"`python manage.py up --port {port + 1}` (with make: `make run PORT={port + 1}`)."
            ) from None


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--no-demo", action="store_true", help="do not log the demo study")
        parser.add_argument("--exit-after-demo", action="store_true", help="stop once the demo is logged (for scripts)")

    def handle(self, *args: Any, **options: Any) -> None:
        # Before anything else: on a busy port the web server would fail while whatever answers
        # there passes the readiness check, and the demo would talk to a stranger.
        _port_require_free(options["host"], options["port"])
        # A SIGTERM (a service manager, `kill`) stops the children as Ctrl-C does.
        signal.signal(signal.SIGTERM, _interrupt)
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        token = self._demo_token()
        password = user_password_ensure(username="demo")  # None unless just generated
        url = f"http://{options['host']}:{options['port']}"
        children = [self._spawn_web(options)]
        if settings.REDIS_URL:
            schedule = settings.DATA_DIR / "celerybeat-schedule"  # beat's state, not in the source tree
            children.append(self._spawn([sys.executable, "-m", "celery", "-A", "workers", "worker", "--beat",
                                         "--schedule", str(schedule), "--loglevel", "warning",
                                         "--concurrency", "1"]))  # fmt: skip
        try:
            self._wait_ready(url, children[0])
            backend = "PostgreSQL" if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else "SQLite"
            self.stdout.write(
                f"Seedboard is up at {url} ({backend}; Celery {'on Redis' if settings.REDIS_URL else 'in-process'})"
            )
            if not options["no_demo"]:
                self._log_demo(url, token)
                self._log_benchmark_demo(url, token)
            self._print_usage(url, token)
            self._print_sign_in(url, password)
            if options["exit_after_demo"]:
                return
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            raise SystemExit("a Seedboard process stopped unexpectedly")
        except KeyboardInterrupt:
            self.stdout.write("stopping")
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=30)

    def _demo_token(self) -> str:
        # Only a digest is stored in the database, so the demo token's text is kept in a private file.
        path: Path = settings.DATA_DIR / "demo-token"
        if path.exists():
            text = path.read_text().strip()
            from server.accounts.selectors import token_find_active

            if token_find_active(text=text) is not None:
                return text
        text = token_create_for(team_slug="demo", username="demo", name="demo")
        path.write_text(text)
        path.chmod(0o600)
        return text

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, cwd=settings.BASE_DIR, env=os.environ.copy())

    def _spawn_web(self, options: dict[str, Any]) -> subprocess.Popen[bytes]:
        return self._spawn([sys.executable, "-m", "gunicorn", "server.wsgi:application",
                            "--bind", f"{options['host']}:{options['port']}", "--workers", str(options["workers"]),
                            "--timeout", "120", "--log-level", "warning"])  # fmt: skip

    def _wait_ready(self, url: str, web: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if web.poll() is not None:
                raise SystemExit(f"the web server exited with code {web.returncode} (is port {url} free?)")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit("the web server did not become ready within 60 s")

    def _log_demo(self, url: str, token: str) -> None:
        if Run.objects.filter(project__team__slug="demo", project__slug="cifar10").exists():
            self.stdout.write(f"The demo study is already in {DEMO_PROJECT}.")
            return
        self.stdout.write(f"Logging a demo study through the SDK into {DEMO_PROJECT} (3 models x 3 lrs x 5 seeds)...")
        script = settings.BASE_DIR / "clients" / "python_sdk" / "examples" / "demo_study.py"
        env = {
            **os.environ,
            "SEEDBOARD_URL": url,
            "SEEDBOARD_TOKEN": token,
            "SEEDBOARD_DIR": str(settings.DATA_DIR / "sdk"),
        }
        started = time.monotonic()
        subprocess.run([sys.executable, str(script), "--project", DEMO_PROJECT], env=env, check=True)
        self.stdout.write(
            f"Logged {Run.objects.filter(project__slug='cifar10').count()} runs in {time.monotonic() - started:.1f} s."
        )

    def _log_benchmark_demo(self, url: str, token: str) -> None:
        """A second team and a benchmark with entries of both teams, so the leaderboard page has one."""
        if Benchmark.objects.filter(slug=DEMO_BENCHMARK).exists():
            self.stdout.write(f"The demo benchmark {DEMO_BENCHMARK} exists already.")
            return
        # vision-lab's user logs and submits with a token of its own (a member, not an admin).
        lab_token = token_create_for(team_slug="vision-lab", username="vision", name="demo", role="member")
        self.stdout.write(f"Logging a second team (vision-lab) and the benchmark {DEMO_BENCHMARK}...")
        script = settings.BASE_DIR / "clients" / "python_sdk" / "examples" / "demo_benchmark.py"
        env = {
            **os.environ,
            "SEEDBOARD_URL": url,
            "SEEDBOARD_TOKEN": token,
            "SEEDBOARD_DIR": str(settings.DATA_DIR / "sdk"),
        }
        started = time.monotonic()
        subprocess.run(
            [sys.executable, str(script), "--benchmark", DEMO_BENCHMARK, "--lab-token", lab_token], env=env, check=True
        )
        self.stdout.write(f"Made the demo benchmark in {time.monotonic() - started:.1f} s.")

    def _print_sign_in(self, url: str, password: str | None) -> None:
        # The password is only known when just generated (the database keeps a hash): printed once.
        if password is not None:
            self.stdout.write(f"Open {url}/ and sign in as demo / {password}")
        else:
            self.stdout.write(
                f"Open {url}/ and sign in as demo (the password printed on the first start; "
                "reset it with `.venv/bin/python manage.py setpassword demo --generate`)"
            )

    def _print_usage(self, url: str, token: str) -> None:
        self.stdout.write(
            f"""
  API docs:   {url}/api/v1/docs/
  Token:      {token}
              (also in {settings.DATA_DIR / "demo-token"})

  Try it:
    export SEEDBOARD_URL={url} SEEDBOARD_TOKEN={token}
    curl -H "Authorization: Bearer $SEEDBOARD_TOKEN" \\
      "$SEEDBOARD_URL/api/v1/runs/?project={DEMO_PROJECT}&model=resnet18&ordering=-metric:val/acc"
    .venv/bin/seedboard runs {DEMO_PROJECT} --model resnet18
"""
        )
