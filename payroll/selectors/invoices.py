"""Who sees which invoice: a contractor their own, finance and admins all, managers none."""

from django.db.models import QuerySet

from payroll.models import Invoice
from trainers.models import Role, User
from trainers.selectors import SEES_EVERYTHING, role_of


def invoices_visible_to(user: User) -> QuerySet[Invoice]:
    """Invoices are pay data (API.md): managers, like unknown roles, see none."""
    invoices = Invoice.objects.select_related("worker")
    role = role_of(user)
    if role in SEES_EVERYTHING:
        return invoices
    if role == Role.CONTRACTOR:
        return invoices.filter(worker__user=user)
    return invoices.none()
