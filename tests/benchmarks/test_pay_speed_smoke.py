"""`manage.py benchmark`: the engine scenario runs with no database, is reproducible, and its
synthetic data exercise every path of the engine; the import scenario still runs.

These are smoke tests on small inputs; the figures themselves come from running the
command at full size (2,000,000 sessions), not from the test suite.
"""

import os
import re
import subprocess
import sys
from collections import Counter
from io import StringIO
from itertools import pairwise
from pathlib import Path

import pytest
from django.core.management import call_command

from benchmarks.engine import (
    EDGE,
    ENGINE_ZONES,
    NO_OVERTIME,
    price_all,
    synthetic_workers,
)

ROOT = Path(__file__).resolve().parents[2]


def run_engine(*args: str) -> str:
    out = StringIO()
    call_command("benchmark", "--scenario", "engine", *args, stdout=out)
    return out.getvalue()


def checksum(output: str) -> str:
    match = re.search(r"checksum\s+(.+)", output)
    assert match, output
    return match.group(1)


def test_the_engine_scenario_needs_no_database():
    # given no `db` fixture: pytest-django makes any query an error
    # when
    output = run_engine("--workers", "40", "--sessions-per-worker", "5")
    # then it prints its figures
    assert "40 workers x 5 sessions = 200 sessions in 2026-W44" in output
    for label in ("generation", "pricing", "sessions/s", "peak memory", "checksum"):
        assert label in output
    assert re.search(r"checksum\s+seconds=\d+ amount=\d+\.\d\d lines=\d+ unpriced_seconds=\d+", output)


def test_the_checksum_is_reproducible_and_depends_on_the_data():
    # when
    first, again = (run_engine("--workers", "80", "--seed", "7") for _ in range(2))
    other = run_engine("--workers", "80", "--seed", "8")
    # then
    assert checksum(first) == checksum(again)
    assert checksum(first) != checksum(other)


def test_the_engine_scenario_refuses_empty_input():
    # when / then
    with pytest.raises(Exception, match="at least 1"):
        run_engine("--workers", "0")


def test_the_synthetic_week_exercises_every_path_of_the_engine():
    # given
    people = synthetic_workers(800, 20, 45)
    # when
    priced = price_all(people)
    # then every worker has 20 disjoint sessions around the week and 1-3 rate steps
    for worker in people:
        assert len(worker.spans) == 20
        assert 1 <= len(worker.rates) <= 3
        ordered = sorted((span.start, span.end) for span in worker.spans)
        assert all(end <= start for (_, end), (start, _) in pairwise(ordered))
        low, high = worker.window
        assert low - EDGE <= ordered[0][0] and ordered[-1][1] <= high + EDGE
    # and together they cover zones, clipping, project rates, mid-week changes, overtime, unpriced time
    assert len({worker.window for worker in people}) == len(ENGINE_ZONES)
    assert any(span.start < worker.window[0] for worker in people for span in worker.spans)
    scopes = Counter(rate.project_id is None for worker in people for rate in worker.rates)
    assert scopes[True] and scopes[False]
    assert any(len({line.rate for line in pay.lines}) > 1 for pay in priced)
    kinds = Counter(line.kind for pay in priced for line in pay.lines)
    assert kinds["regular"] and kinds["overtime"]
    assert 0 < sum(worker.policy is not NO_OVERTIME for worker in people) < len(people)
    assert 0 < sum(bool(pay.unpriced) for pay in priced) < len(people) // 10


@pytest.mark.slow
def test_the_import_scenario_still_runs():
    # given the suite's database server (the command makes its own scratch database)
    env = {**os.environ, "SECRET_KEY": "benchmark-smoke", "DJANGO_SETTINGS_MODULE": "config.settings"}
    # when
    done = subprocess.run(
        [sys.executable, "manage.py", "benchmark", "--scenario", "import", "--rows", "200"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # then
    assert done.returncode == 0, done.stderr
    assert "Importing 200 rows" in done.stdout
    assert "ratio real/floor" in done.stdout
