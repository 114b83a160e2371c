"""Every row lock Fairhour takes, by name, so lock order is a name and not a habit.

The order, for any transaction that takes more than one kind (rows of a kind by id):

    workers -> sessions -> timesheets -> invoice counter -> invoices

Every write about a worker's time or pay locks the worker row first. That serialises one
worker's session writes, submits, approvals, rate and contract changes, closes and
invoicing, and because everyone queues on the worker before anything else, they never
deadlock. Jobs are locked alone. Models are looked up by label: core imports no app.
One lock is taken outside this module, in the statement that moves timesheets
(payroll.services.timesheet_transitions.MOVE_SQL): it locks them in id order as it updates
them, after their workers, as the order above says.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import QuerySet

from core.db.lookups import int_array

if TYPE_CHECKING:
    from payroll.models import Invoice, InvoiceCounter, Job, Timesheet
    from trainers.models import LabellingSession, Worker


def _objects(label: str) -> Any:
    return apps.get_model(label)._default_manager


def worker(pk: int) -> "Worker":
    """The worker, locked and read as it now is (FOR UPDATE)."""
    return _objects("trainers.Worker").select_for_update(of=("self",)).get(pk=pk)


def workers(ids: Iterable[int] | QuerySet[Any]) -> "QuerySet[Worker]":
    """These workers, locked in id order when evaluated (ids, as one array, or a query of ids)."""
    chosen = {"pk__in": ids} if isinstance(ids, QuerySet) else {"pk__any_of": list(ids)}
    return _objects("trainers.Worker").filter(**chosen).order_by("pk").select_for_update(of=("self",))


def workers_of_timesheets(timesheet_ids: Iterable[int]) -> "QuerySet[Worker]":
    """The workers of these timesheets, locked in id order when evaluated (before the timesheets)."""
    timesheets = _objects("payroll.Timesheet").filter(pk__any_of=list(timesheet_ids))
    return workers(timesheets.values("worker_id"))


def worker_with_assignment(pk: int, project_id: int | None) -> "tuple[Worker, bool]":
    """The worker locked and read, with whether it is assigned to the project: one statement.

    Every session write starts here, so the two reads are one prepared statement.
    """
    sql = (
        "SELECT w.*, EXISTS (SELECT 1 FROM trainers_project_workers a"
        " WHERE a.worker_id = w.id AND a.project_id = %s) AS assigned"
        " FROM trainers_worker w WHERE w.id = %s FOR UPDATE"
    )
    model = apps.get_model("trainers.Worker")
    for locked in model._default_manager.raw(sql, [project_id, pk]):
        return locked, bool(locked.assigned)  # type: ignore[attr-defined]
    raise model.DoesNotExist(f"Worker {pk} does not exist.")


def workers_key_share(ids: list[int]) -> list["Worker"]:
    """Hold these workers against change (FOR KEY SHARE, id order) and read them as they now are.

    The pricing's lock: KEY SHARE is what its timesheets' key to the worker takes at commit
    anyway; it conflicts with the FOR UPDATE of the services above and with no reader.
    """
    sql = "SELECT * FROM trainers_worker WHERE id = ANY(%s::bigint[]) ORDER BY id FOR KEY SHARE"
    return list(apps.get_model("trainers.Worker")._default_manager.raw(sql, [int_array(ids)]))


def session(pk: int) -> "LabellingSession | None":
    """The session (its worker and project read), locked after the worker; None if gone."""
    sessions = _objects("trainers.LabellingSession").select_for_update(of=("self",))
    return sessions.select_related("worker", "project").filter(pk=pk).first()


def timesheets(queryset: "QuerySet[Timesheet]") -> "QuerySet[Timesheet]":
    """These timesheets, locked in id order (after their workers)."""
    return queryset.order_by("pk").select_for_update()


def invoice_counter(year: int) -> "InvoiceCounter | None":
    """The year's invoice counter, locked until the transaction ends (gap-free numbers)."""
    return _objects("payroll.InvoiceCounter").select_for_update().filter(year=year).first()


def invoice(pk: int) -> "Invoice":
    """The invoice, locked (paying, voiding, rendering its PDF)."""
    return _objects("payroll.Invoice").select_for_update().get(pk=pk)


def job(pk: int) -> "Job":
    """The job, locked (its progress and status change one writer at a time)."""
    return _objects("payroll.Job").select_for_update().get(pk=pk)


def job_unless_busy(pk: int, status: str) -> "Job | None":
    """The job if it is in `status` and nobody holds it; else None (SKIP LOCKED)."""
    jobs = _objects("payroll.Job").select_for_update(skip_locked=True)
    return jobs.filter(pk=pk, status=status).first()
