"""Approving many timesheets at once: the problem-free ones, each on its own; why the rest wait.

The approval queue's "approve the chosen" and `POST timesheets/bulk-approve/` both come
here. Each timesheet is approved by its own transition (its own event and lock), so one
refused does not undo the others; a timesheet with any problem (a warning too) is left
for the manager to open and approve on its own, as the queue says.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import DomainError, Forbidden, InvalidInput
from payroll.models import Timesheet
from payroll.selectors.timesheets import timesheets_figures, timesheets_visible_to
from payroll.services.timesheet_transitions import timesheet_transition
from trainers.models import Role, User

MAX_BULK_APPROVE = 500  # a queue page and then some; each one is a transition of its own
APPROVER_ROLES = frozenset({Role.MANAGER, Role.ADMIN})


@dataclass(frozen=True)
class Skipped:
    """A timesheet left as it was, and why (in words a manager reads); None if not found."""

    id: int
    reason: str
    timesheet: Timesheet | None = None


@dataclass(frozen=True)
class BulkApproval:
    approved: list[Timesheet]
    skipped: list[Skipped]


def timesheets_bulk_approve(*, actor: User, ids: Sequence[int]) -> BulkApproval:
    """Approve the problem-free timesheets among `ids` one by one; say why each other one was skipped.

    Ids the actor may not see are skipped as not found (as a 404 would say, nothing more).
    """
    if actor.role not in APPROVER_ROLES:
        raise Forbidden("Only managers (of their teams) and admins approve timesheets.")
    if len(ids) > MAX_BULK_APPROVE:
        raise InvalidInput({"ids": [f"At most {MAX_BULK_APPROVE} timesheets at once; {len(ids)} given."]})
    wanted = list(dict.fromkeys(ids))  # each once, in the order given
    visible = timesheets_visible_to(actor).filter(pk__in=wanted).order_by("period_start", "id")
    chosen = list(visible)
    figures = timesheets_figures(chosen)
    found = {timesheet.pk for timesheet in chosen}
    skipped = [Skipped(pk, "No such timesheet.") for pk in wanted if pk not in found]
    approved = []
    for timesheet in chosen:
        problems = figures[timesheet.pk].problems
        if problems:
            words = " ".join(problem.message for problem in problems)
            skipped.append(Skipped(timesheet.pk, f"Has problems to look at first: {words}", timesheet))
            continue
        try:
            approved.append(timesheet_transition(actor=actor, timesheet=timesheet, action="approve"))
        except DomainError as error:
            skipped.append(Skipped(timesheet.pk, refusal_words(error), timesheet))
    return BulkApproval(approved, skipped)


def refusal_words(error: DomainError) -> str:
    """A refusal as one sentence: an input error's reasons joined, or the message."""
    if isinstance(error, InvalidInput):
        return " ".join(str(reason) for reasons in error.errors.values() for reason in reasons)
    return getattr(error, "message", str(error))
