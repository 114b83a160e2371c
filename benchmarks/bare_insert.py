"""The floor of session logging: one plain INSERT per request, no auth and no checks.

Mounted only by benchmarks.urls (the benchmark's server), never in config/urls.py.
"""

import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

INSERT = (
    "INSERT INTO trainers_labellingsession (worker_id, project_id, started_at, ended_at, task_count, "
    "notes, source, needs_review, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, 'manual', false, %s, %s) RETURNING id"
)


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest) -> JsonResponse:
    """Insert the posted session as it is and return its id."""
    body = json.loads(request.body)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT,
            [
                body["worker"],
                body["project"],
                body["started_at"],
                body["ended_at"],
                body.get("task_count", 0),
                body.get("notes", ""),
                now,
                now,
            ],
        )
        (pk,) = cursor.fetchone()
    return JsonResponse({"id": pk}, status=201)
