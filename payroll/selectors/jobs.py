"""Who may watch which background job."""

from django.db.models import Q, QuerySet

from payroll.models import Job
from trainers.models import Role, User
from trainers.selectors import role_of


def jobs_visible_to(user: User) -> QuerySet[Job]:
    """Admins and finance see every job (closes are theirs, also those beat started); others their own."""
    role = role_of(user)
    if role in (Role.ADMIN, Role.FINANCE):
        return Job.objects.all()
    if role is None:
        return Job.objects.none()
    return Job.objects.filter(Q(created_by=user))
