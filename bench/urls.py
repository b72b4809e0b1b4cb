"""The application's URLs plus the baselines the benchmarks compare against."""

import json
from datetime import date

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as app_urlpatterns

# Created by bench/bench_intake.py before the server starts (see BENCH_ROW_DDL there).
BENCH_ROW_TABLE = "bench_row"


def bare(request):
    """Baseline: a Django view doing one trivial query and returning a small body."""
    from locus.places.models import Place

    return HttpResponse(str(Place.objects.count()))


@csrf_exempt
@require_POST
def insert(request):
    """Baseline of the intake benchmark: one INSERT of a trivial row, answered like an API."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BENCH_ROW_TABLE} (payload) VALUES (%s) RETURNING id",
            [request.body[:200].decode("utf-8", "replace")],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


def _error(message, code, status, fields=None):
    return JsonResponse({"message": message, "code": code, "fields": fields or {}}, status=status)


@csrf_exempt
@require_POST
def report(request, place_slug):
    """Stand-in for `POST /api/v1/places/{place}/reports` while that endpoint does not exist:
    the same JSON in, the same service (validation, encryption, routing, outbox), the reference
    out. No rate limit and no idempotency record, so it is a little cheaper than the API."""
    from locus.core.errors import ValidationFailed
    from locus.core.tenancy import place_scope
    from locus.places.selectors import place_get_by_slug
    from locus.reporting.services import report_submit

    place = place_get_by_slug(place_slug)
    if place is None:
        return _error("Not found.", "not_found", 404)
    try:
        body = json.loads(request.body)
    except ValueError:
        return _error("The body is not JSON.", "bad_request", 400)
    with place_scope(place):
        from locus.places.models import Area

        area_id = body.pop("area_id", None)
        data = body | {"area": Area.objects.filter(pk=area_id).first() if area_id else None}
        if data.get("occurred_on"):
            data["occurred_on"] = date.fromisoformat(data["occurred_on"])
        try:
            submitted = report_submit(place=place, data=data, language="en")
        except ValidationFailed as exc:
            return _error(exc.message, exc.code, exc.status, exc.fields)
    return JsonResponse(
        {"reference": submitted.report.reference, "followup_code": submitted.followup_code},
        status=201,
    )


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/insert/", insert),
    path("bench/report/<slug:place_slug>/", report),
    *app_urlpatterns,
]
