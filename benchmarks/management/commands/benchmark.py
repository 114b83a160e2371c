"""Measure Fairhour's heavy paths on synthetic data.

    manage.py benchmark --scenario import --rows 100000
    manage.py benchmark --scenario engine --workers 100000 --sessions-per-worker 20
    manage.py benchmark --scenario payroll --workers 100000 --sessions 2000000 [--pay-mix]
    manage.py benchmark --scenario logging --requests 2000
    manage.py benchmark --scenario report --workers 20000 --weeks 4 --signed-weeks 2

Scenarios (one module each in benchmarks/):
- import: a CSV through the real import service against a bare bulk write.
- engine: the pure pay engine over synthetic workers in memory (no database).
- payroll: the weekly close and invoicing jobs on a bulk-loaded workforce, against a
  hand-written SQL floor of the same pay; every invoice must agree with it to the cent.
  `--pay-mix` puts a third of the workers on task rates, fair-pay floors and
  non-production activities (off by default, so figures stay comparable across rounds).
- logging: POST /api/v1/sessions/ under 8 concurrent clients against a bare INSERT
  endpoint, both served by gunicorn.
- report: the pay report per grouping over weeks of which some are signed (stored lines)
  and some open (priced live), and one API call; the signed weeks against a hand-written
  SQL floor of the same figures, to the cent.
Scenarios that need a database never touch the configured one: they create
`<name>_benchmark` beside it (as the test runner does) and drop it at the end.
"""

from typing import Any

from django.core.management.base import BaseCommand

from benchmarks import close_and_invoice, engine, importing, logging_load, report
from benchmarks.common import in_scratch_database


class Command(BaseCommand):
    help = "Benchmark Fairhour's heavy paths on synthetic data (in a throwaway database)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--scenario", choices=["import", "engine", "payroll", "logging", "report"], default="import"
        )
        parser.add_argument("--rows", type=int, default=20_000, help="import: CSV rows to import.")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="engine: 100000; payroll: 5000; report: 20000 (workers to pay).",
        )
        parser.add_argument(
            "--sessions-per-worker", type=int, default=20, help="engine: sessions of each worker in the week."
        )
        parser.add_argument(
            "--sessions",
            type=int,
            default=None,
            help="payroll: 100000; report: 5 a week per worker (sessions in all, spread over the workers).",
        )
        parser.add_argument("--weeks", type=int, default=4, help="report: weeks of sessions, from 2026-W44.")
        parser.add_argument(
            "--signed-weeks", type=int, default=2, help="report: the first weeks submitted and approved."
        )
        parser.add_argument(
            "--celery",
            type=int,
            default=0,
            metavar="N",
            help="payroll: run the jobs in N Celery worker processes (needs REDIS_URL); default inline.",
        )
        parser.add_argument(
            "--pay-mix",
            action="store_true",
            help="payroll: a third of the workers paid by the piece, most with a fair-pay floor, "
            "some sessions non-production activities (off by default).",
        )
        parser.add_argument(
            "--requests", type=int, default=2_000, help="logging: requests per endpoint (8 clients)."
        )
        parser.add_argument(
            "--clients", type=int, default=logging_load.CLIENTS, help="logging: concurrent clients."
        )
        parser.add_argument(
            "--server-workers",
            type=int,
            default=logging_load.SERVER_WORKERS,
            help="logging: gunicorn worker processes (default: one per core).",
        )
        parser.add_argument(
            "--server-threads",
            type=int,
            default=logging_load.SERVER_THREADS,
            help="logging: threads per gunicorn worker.",
        )
        parser.add_argument(
            "--seed", type=int, default=45, help="engine, payroll, report: seed of the synthetic data."
        )
        parser.add_argument(
            "--profile", action="store_true", help="engine: also run the pricing under cProfile."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the scenario and print its figures."""
        scenario, out = options["scenario"], self.stdout
        if scenario == "engine":
            engine.run(
                out,
                _or(options["workers"], 100_000),
                options["sessions_per_worker"],
                options["seed"],
                options["profile"],
            )
        elif scenario == "payroll":
            workers = _or(options["workers"], 5_000)
            sessions = _or(options["sessions"], 100_000)
            in_scratch_database(
                lambda: close_and_invoice.run(
                    out, workers, sessions, options["seed"], options["celery"], options["pay_mix"]
                )
            )
        elif scenario == "report":
            workers, weeks = _or(options["workers"], 20_000), options["weeks"]
            sessions = _or(options["sessions"], workers * weeks * 5)
            in_scratch_database(
                lambda: report.run(out, workers, sessions, weeks, options["signed_weeks"], options["seed"])
            )
        elif scenario == "logging":
            in_scratch_database(
                lambda: logging_load.run(
                    out,
                    options["requests"],
                    options["clients"],
                    options["server_workers"],
                    options["server_threads"],
                )
            )
        else:
            in_scratch_database(lambda: importing.run(out, options["rows"]))


def _or(given: int | None, default: int) -> int:
    """The option as given (0 included), else the scenario's default."""
    return default if given is None else given
