"""The payroll scenario's pay mix (`--pay-mix`): piece work, fair-pay floors and activities.

A third of the synthetic workforce (benchmarks.workforce), chosen by the seed, is paid by
the piece (PAY_RULES §8-10): each of its default and project rates gets a task rate, half
of them at 0.00 an hour (pure piece work), half on a base wage (a piece bonus); most
contracts get a `minimum_hourly` floor, spread around what the worker earns an hour so
that about half the weeks need a top-up; labelling sessions deliver tasks at the worker's
pace; and a quarter of the sessions are non-production activities. Training has its own
hourly rate (so its quiz tasks are not paid by the piece), review for half of them an
hourly rate with a task rate, some from a day in the middle of the week (before it,
review falls back to the project's rate or the default); guidelines, calibration and
meetings have none and fall back.

The mix draws from its own random stream, so the sessions' times and the other workers'
rates are the same with the mix as without it: only the prices and tasks differ. It keeps
the workforce's guarantee for the SQL floor: rates still change only at local midnights,
and a session's tasks come with its end, inside the same local day.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate

from trainers.models import Activity

MIX_SHARE = 1 / 3
PURE_PIECE_SHARE = 0.5
FLOOR_SHARE = 0.9
REVIEW_RATE_SHARE = 0.5
REVIEW_FROM_MIDWEEK_SHARE = 0.4
# Per task, with 2 to 4 decimals: a task line's rounding is exercised (37 x 0.125 = 4.625).
TASK_RATES = tuple(Decimal(rate) for rate in ("0.05", "0.0875", "0.125", "0.2", "0.35", "0.5", "1.10"))
PROJECT_TASK_FACTORS = (Decimal("0.8"), Decimal("1.25"), Decimal("1.5"))
BASE_WAGES = tuple(Decimal(cents) / 100 for cents in range(800, 1_401, 25))
# What a session of a piece worker was spent on, and how often.
ACTIVITY_WEIGHTS = {
    Activity.LABELLING.value: 75,
    Activity.REVIEW.value: 10,
    Activity.TRAINING.value: 7,
    Activity.GUIDELINES.value: 4,
    Activity.CALIBRATION.value: 2,
    Activity.MEETING.value: 2,
}
CENT = Decimal("0.01")
TASK_RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class PieceWork:
    """One piece worker's terms: the hourly part and task rate of every default or project
    rate, the labelling pace, the floor and the activity rates."""

    base: Decimal  # 0.00: pure piece work
    task_rate: Decimal  # of the default rate; a project rate pays a multiple of it
    pace: float  # tasks an hour of labelling
    floor: Decimal | None
    training_rate: Decimal
    review: tuple[Decimal, Decimal, date | None] | None  # hourly, per task, from (None: long ago)


@dataclass
class MixCounts:
    """What the mix put in the workforce, for the scenario's header."""

    piece_workers: int = 0
    pure_piece: int = 0
    floors: int = 0
    activity_rates: int = 0
    activity_sessions: int = 0
    task_sessions: int = 0


def mix_stream(seed: int) -> random.Random:
    """The mix's own random stream: the workforce's own draws are left as they were."""
    return random.Random(f"pay-mix-{seed}")  # noqa: S311 - reproducible synthetic data


def choose_piece_workers(rng: random.Random, workers: int, monday: date) -> dict[int, PieceWork]:
    """A third of the worker indexes (exactly, so tiny runs have some), each with its terms."""
    chosen = sorted(rng.sample(range(workers), round(workers * MIX_SHARE)))
    return {index: _terms(rng, monday) for index in chosen}


def _terms(rng: random.Random, monday: date) -> PieceWork:
    task_rate = rng.choice(TASK_RATES)
    base = Decimal("0.00") if rng.random() < PURE_PIECE_SHARE else rng.choice(BASE_WAGES)
    # Piece pay of 4-30 an hour on top of the base, at the worker's pace.
    piece_hourly = rng.uniform(4, 15) if base else rng.uniform(10, 30)
    pace = piece_hourly / float(task_rate)
    expected = base + Decimal(piece_hourly)
    # Around what the worker earns: above it for about half of them, so those weeks need a top-up.
    floor = _cents(expected * Decimal(rng.uniform(0.65, 1.15))) if rng.random() < FLOOR_SHARE else None
    training = _cents(expected * Decimal(rng.uniform(0.6, 1.0)))
    review = None
    if rng.random() < REVIEW_RATE_SHARE:
        midweek = rng.random() < REVIEW_FROM_MIDWEEK_SHARE
        starts = monday + timedelta(days=rng.randint(1, 6)) if midweek else None
        review = (_cents(expected * Decimal("0.6")), rng.choice(TASK_RATES[:3]), starts)
    return PieceWork(base, task_rate, pace, floor, training, review)


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT)


def piece_rate(
    terms: PieceWork, rng: random.Random, project_id: int | None, changed: bool
) -> tuple[Decimal, Decimal]:
    """(hourly, per task) for one of the worker's default or project rate rows.

    The default from long ago pays the worker's own task rate; a project rate, or a
    change in the middle of the week, a multiple of it.
    """
    if project_id is None and not changed:
        return terms.base, terms.task_rate
    return terms.base, (terms.task_rate * rng.choice(PROJECT_TASK_FACTORS)).quantize(TASK_RATE_PLACES)


def activity_rate_rows(terms: PieceWork, since: date) -> Iterator[tuple[str, Decimal, Decimal | None, date]]:
    """(activity, hourly, per task or None, effective_from) of the worker's activity rates."""
    yield Activity.TRAINING.value, terms.training_rate, None, since
    if terms.review is not None:
        hourly, per_task, starts = terms.review
        yield Activity.REVIEW.value, hourly, per_task, starts or since


_ACTIVITIES = list(ACTIVITY_WEIGHTS)
_CUMULATIVE = list(accumulate(ACTIVITY_WEIGHTS.values()))


def session_work(terms: PieceWork, rng: random.Random, seconds: int) -> tuple[str, int]:
    """(activity, tasks) of one session of `seconds`."""
    activity = rng.choices(_ACTIVITIES, cum_weights=_CUMULATIVE)[0]
    hours = seconds / 3600
    if activity == Activity.LABELLING:
        return activity, round(terms.pace * hours * rng.uniform(0.6, 1.4))
    if activity == Activity.REVIEW:
        return activity, round(terms.pace / 4 * hours * rng.uniform(0.5, 1.5))
    if activity == Activity.TRAINING and rng.random() < 0.25:
        return activity, rng.randint(1, 20)  # a quiz: not paid by the piece at the training rate
    return activity, 0
