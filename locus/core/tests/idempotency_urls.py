"""Test-only endpoints for test_idempotency.py: a JSON operation and an HTML form, each with one
side effect (a Job row) per piece of work. `STATE` switches failures and the form's wait."""

from django import forms
from django.db import transaction
from django.http import HttpResponse
from django.urls import path
from ninja import NinjaAPI, Schema, Status

from config.urls import urlpatterns as site_urlpatterns
from locus.api.idempotency import IDEMPOTENCY_ERRORS, idempotent
from locus.api.schemas import ErrorOut
from locus.core.errors import ApplicationError, ValidationFailed
from locus.core.idempotency import form_idempotency, idempotency_token_field
from locus.core.models import IdempotencyKey
from locus.core.services import job_create

STATE = {"fail": False, "wait": 0.0, "steal": False}


def _maybe_steal_the_claim():
    """Simulate a retry taking the claim over while this request is still working."""
    if STATE["steal"]:
        IdempotencyKey.objects.update(claim_token="taken-over")


api = NinjaAPI(urls_namespace="test-idempotency-api", docs_url=None)


@api.exception_handler(ApplicationError)
def on_application_error(request, exc):
    return api.create_response(request, exc.as_dict(), status=exc.status)


class SubmitIn(Schema):
    title: str


class ReceiptOut(Schema):
    job_id: int


@api.post(
    "/places/{slug:place_slug}/submit",
    response={201: ReceiptOut, 400: ErrorOut, **IDEMPOTENCY_ERRORS},
)
@idempotent("test.submit")
def submit(request, place_slug: str, payload: SubmitIn):
    job = job_create(place=request.place, kind="test", title=payload.title)
    _maybe_steal_the_claim()
    if STATE["fail"]:
        raise ValidationFailed("The work failed.", status=400, code="work_failed")
    return Status(201, {"job_id": job.pk})


class SubmitForm(forms.Form):
    title = forms.CharField(max_length=100)
    idempotency_token = idempotency_token_field()


def form_view(request, place_slug):
    form = SubmitForm(request.POST or None)
    if request.method == "POST":
        try:
            with form_idempotency(request, scope="test.form", wait=STATE["wait"]) as submission:
                if submission.response:
                    return submission.response
                if form.is_valid():
                    with transaction.atomic():
                        job = job_create(
                            place=request.place, kind="test", title=form.cleaned_data["title"]
                        )
                        _maybe_steal_the_claim()
                        return submission.redirect(f"/{place_slug}/receipt/{job.pk}/")
        except ValidationFailed as exc:
            form.add_error(None, exc.message)
        return HttpResponse(form.as_div(), status=422)
    return HttpResponse(form.as_div())


urlpatterns = [
    path("api/test-idempotency/", api.urls),
    path("<slug:place_slug>/test-form/", form_view),
    *site_urlpatterns,
]
