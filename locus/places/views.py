from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from locus.accounts.decorators import staff_view
from locus.accounts.policies import Capability, membership_can
from locus.core import selectors as core_selectors
from locus.core.errors import ApplicationError
from locus.core.geo import load_feature_collection
from locus.directory.selectors import organisation_list

from . import selectors, services
from .forms import AreaUploadForm, PlaceSettingsForm
from .rollup import network_place_summaries


def index(request):
    return render(request, "places/index.html", {"places": selectors.place_list()})


def place_home(request, place_slug):
    """The public page of a place."""
    place = request.place
    context = {
        "areas": selectors.area_list(place=place),
        "organisations": organisation_list(place=place),
    }
    return render(request, "places/home.html", context)


@staff_view()
def staff_home(request):
    area_count = selectors.area_list(place=request.place).count()
    context = {
        "jobs": core_selectors.job_list(place=request.place, limit=5)
        if membership_can(request.membership, Capability.VIEW_JOBS)
        else [],
        "area_count": area_count,
        "setup_steps": selectors.place_setup_steps(
            place=request.place, membership=request.membership, area_count=area_count
        ),
    }
    return render(request, "places/staff_home.html", context)


@staff_view(Capability.MANAGE_AREAS)
def areas(request):
    """List the place's areas and import more from a GeoJSON upload (as a watched job)."""
    form = AreaUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["file"].read()
        try:
            load_feature_collection(raw)  # the file as a whole must be readable before queueing
        except ApplicationError as exc:
            form.add_error("file", exc.message)
        else:
            job = services.areas_import_job_start(
                place=request.place,
                raw=raw,
                name_property=form.cleaned_data["name_property"],
                code_property=form.cleaned_data["code_property"],
                population_property=form.cleaned_data["population_property"],
                skip_invalid=form.cleaned_data["skip_invalid"],
                actor=request.user,
                filename=form.cleaned_data["file"].name,
            )
            messages.info(request, _("The import has started; this page follows it."))
            return redirect("places:job", place_slug=request.place.slug, job_id=job.pk)
    context = {"form": form, "areas": selectors.area_list(place=request.place)}
    return render(request, "places/areas.html", context, status=422 if form.errors else 200)


@staff_view(Capability.MANAGE_PLACE)
def place_settings(request):
    form = PlaceSettingsForm(request.POST or None, instance=request.place)
    if request.method == "POST" and form.is_valid():
        services.place_update_settings(place=request.place, actor=request.user, form=form)
        messages.success(request, _("Settings saved."))
        return redirect("places:settings", place_slug=request.place.slug)
    return render(
        request, "places/settings.html", {"form": form}, status=422 if form.errors else 200
    )


@staff_view(Capability.VIEW_JOBS)
def jobs(request):
    return render(
        request, "places/jobs.html", {"jobs": core_selectors.job_list(place=request.place)}
    )


@staff_view(Capability.VIEW_JOBS)
def job(request, job_id):
    job = core_selectors.access_job(place=request.place, job_id=job_id)
    if job is None:
        raise Http404
    template = (
        "places/job.html#job-status" if request.headers.get("HX-Request") else "places/job.html"
    )
    return render(request, template, {"job": job})


def network_home(request, network_slug):
    """Aggregates across a network's places for network members: nothing personal."""
    from locus.accounts.selectors import network_memberships

    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    membership = network_memberships(user=request.user).filter(network__slug=network_slug).first()
    if membership is None:
        raise Http404
    rows = network_place_summaries(network=membership.network)
    return render(request, "places/network.html", {"network": membership.network, "rows": rows})


def healthz(request):
    """For load balancers and monitoring: 503 when the database does not answer, else 200;
    "degraded" when background tasks or outbox deliveries are late (docs/operations.md,
    "Health")."""
    checks = core_selectors.service_health()
    if checks["database"] != "ok":
        status = "unavailable"
    else:
        status = "degraded" if set(checks.values()) != {"ok"} else "ok"
    response = JsonResponse(
        {"status": status, "checks": checks}, status=503 if status == "unavailable" else 200
    )
    response["Cache-Control"] = "no-store"
    return response


def redirect_to_staff(request, place_slug):
    return redirect("places:staff_home", place_slug=place_slug)
