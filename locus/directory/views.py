"""Pages of the directory: staff editing (one's own organisation, or the whole place), the
coordination views (coverage, referral pathways, partnership network), HSDS import/export and
the public directory. Parse, call one service or selector, render."""

import copy
import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from locus.accounts.decorators import staff_view
from locus.accounts.policies import Capability
from locus.core.errors import ApplicationError
from locus.core.ids import parse_id

from . import selectors, services
from .forms import (
    CoverageFilterForm,
    DirectorySettingsForm,
    ImportForm,
    OrganisationEntryForm,
    OrganisationNewForm,
    PartnershipForm,
    ServiceForm,
    ServiceSearchForm,
)
from .policies import can_edit_organisation, can_manage_directory
from .vocabulary import vocabulary


def _add_errors(form, exc):
    if not exc.fields:
        form.add_error(None, exc.message)
    for name, msgs in exc.fields.items():
        for message in msgs:
            form.add_error(name if name in form.fields else None, message)


def _organisation_or_404(request, organisation_id, *, edit=False):
    organisation = selectors.access_organisation(
        place=request.place, organisation_id=organisation_id
    )
    if organisation is None:
        raise Http404
    if edit and not can_edit_organisation(request.membership, organisation.pk):
        raise PermissionDenied
    return organisation


def _service_or_404(request, service_id):
    service = selectors.access_service(place=request.place, service_id=service_id)
    if service is None:
        raise Http404
    if not can_edit_organisation(request.membership, service.organisation_id):
        raise PermissionDenied
    return service


def _labels(language):
    words = vocabulary()
    return {
        "service_type": dict(words.choices("service_type", language)),
        "target_group": dict(words.choices("target_group", language)),
        "language": dict(words.choices("language", language)),
    }


# --- staff: entries and services ------------------------------------------------------------


@staff_view(Capability.MANAGE_OWN_DIRECTORY)
def index(request):
    """The place's organisations (stale ones marked), with edit links where allowed."""
    place = request.place
    listings = selectors.listing_list(place=place)
    manager = can_manage_directory(request.membership)
    return render(
        request,
        "directory/index.html",
        {
            "listings": listings,
            "manager": manager,
            "own_id": request.membership.organisation_id,
            "check_days": selectors.check_days(place),
            "stale_count": sum(1 for listing in listings if listing.is_stale),
        },
    )


@staff_view(Capability.MANAGE_OWN_DIRECTORY)
def organisation(request, organisation_id):
    """An organisation's entry (editable by its own editors and by the directory's managers),
    its services and partnerships."""
    place, language = request.place, get_language()
    organisation = _organisation_or_404(request, organisation_id)
    may_edit = can_edit_organisation(request.membership, organisation.pk)
    listing = selectors.listing_get(place=place, organisation=organisation)
    form = OrganisationEntryForm(
        request.POST if request.method == "POST" else None,
        instance=copy.copy(organisation),
        listing=listing,
    )
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.organisation_entry_update(
                    place=place,
                    actor=request.user,
                    organisation=organisation,
                    **{k: form.cleaned_data[k] for k in form.Meta.fields},
                )
                if "inbox_email" in request.POST:
                    services.listing_inbox_set(
                        place=place,
                        actor=request.user,
                        organisation=organisation,
                        inbox_email=form.cleaned_data["inbox_email"],
                    )
            except ApplicationError as exc:
                _add_errors(form, exc)
                status = 422
            else:
                messages.success(request, _("Entry saved and marked as checked today."))
                return redirect("directory:organisation", place.slug, organisation.pk)
        else:
            status = 422
    context = {
        "organisation": organisation,
        "listing": listing,
        "services": selectors.service_list(place=place, organisation=organisation),
        "partnerships": selectors.partnership_list(place=place, organisation=organisation),
        "form": form,
        "may_edit": may_edit,
        "labels": _labels(language),
    }
    return render(request, "directory/organisation.html", context, status=status)


@staff_view(Capability.MANAGE_DIRECTORY)
def organisation_new(request):
    """Add a partner organisation to the place's directory (a routing destination, a provider
    of services). Its people are invited by the platform administrator."""
    place = request.place
    form = OrganisationNewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_add_to_place(
                place=place,
                actor=request.user,
                **{k: form.cleaned_data[k] for k in [*form.Meta.fields, "inbox_email"]},
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("%(name)s is now listed in the directory.") % {"name": organisation}
            )
            return redirect("directory:organisation", place.slug, organisation.pk)
    return render(
        request,
        "directory/organisation_new.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


@staff_view(Capability.MANAGE_OWN_DIRECTORY)
@require_POST
def organisation_check(request, organisation_id):
    """ "Everything is still right": the entry and all its services are checked today."""
    place = request.place
    organisation = _organisation_or_404(request, organisation_id, edit=True)
    listing = selectors.listing_get(place=place, organisation=organisation)
    services.record_mark_checked(place=place, actor=request.user, record=listing)
    for service in selectors.service_list(place=place, organisation=organisation):
        services.record_mark_checked(place=place, actor=request.user, record=service)
    messages.success(request, _("Marked as checked today."))
    return redirect("directory:organisation", place.slug, organisation.pk)


def _service_form(request, *, service=None, organisation):
    place, language = request.place, get_language()
    posted = request.POST if request.method == "POST" else None
    form = ServiceForm(
        posted,
        place=place,
        language=language,
        instance=copy.copy(service) if service is not None else None,
    )
    status = 200
    if posted is not None:
        if form.is_valid():
            try:
                saved = services.service_write(
                    place=place,
                    actor=request.user,
                    service=service,
                    organisation=organisation,
                    areas=list(form.cleaned_data["areas"]),
                    **form.service_fields(),
                )
            except ApplicationError as exc:
                _add_errors(form, exc)
                status = 422
            else:
                messages.success(request, _("Service “%(name)s” saved.") % {"name": saved.name})
                return redirect("directory:organisation", place.slug, saved.organisation_id)
        else:
            status = 422
    context = {"form": form, "service": service, "organisation": organisation}
    return render(request, "directory/service_form.html", context, status=status)


@staff_view(Capability.MANAGE_OWN_DIRECTORY)
def service_new(request, organisation_id):
    organisation = _organisation_or_404(request, organisation_id, edit=True)
    return _service_form(request, organisation=organisation)


@staff_view(Capability.MANAGE_OWN_DIRECTORY)
def service_edit(request, service_id):
    service = _service_or_404(request, service_id)
    return _service_form(request, service=service, organisation=service.organisation)


@staff_view(Capability.MANAGE_OWN_DIRECTORY)
def service_delete(request, service_id):
    service = _service_or_404(request, service_id)
    if request.method == "POST":
        services.service_delete(place=request.place, actor=request.user, service=service)
        messages.success(request, _("Service “%(name)s” deleted.") % {"name": service.name})
        return redirect("directory:organisation", request.place.slug, service.organisation_id)
    return render(request, "directory/service_delete.html", {"service": service})


@staff_view(Capability.MANAGE_OWN_DIRECTORY)
def partnership_new(request, organisation_id):
    place = request.place
    organisation = _organisation_or_404(request, organisation_id, edit=True)
    form = PartnershipForm(
        request.POST if request.method == "POST" else None, place=place, source=organisation
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.partnership_write(
                    place=place,
                    actor=request.user,
                    source=organisation,
                    target=form.cleaned_data["target"],
                    kind=form.cleaned_data["kind"],
                    description=form.cleaned_data["description"],
                )
            except ApplicationError as exc:
                _add_errors(form, exc)
                status = 422
            else:
                messages.success(request, _("Partnership saved."))
                return redirect("directory:organisation", place.slug, organisation.pk)
        else:
            status = 422
    return render(
        request,
        "directory/partnership_form.html",
        {"form": form, "organisation": organisation},
        status=status,
    )


@staff_view(Capability.MANAGE_OWN_DIRECTORY)
@require_POST
def partnership_delete(request, partnership_id):
    place = request.place
    partnership = selectors.access_partnership(place=place, partnership_id=partnership_id)
    if partnership is None:
        raise Http404
    if not can_edit_organisation(request.membership, partnership.source_id):
        raise PermissionDenied
    services.partnership_delete(place=place, actor=request.user, partnership=partnership)
    messages.success(request, _("Partnership removed."))
    return redirect("directory:organisation", place.slug, partnership.source_id)


# --- coordination ---------------------------------------------------------------------------


@staff_view(Capability.MANAGE_DIRECTORY)
def coverage(request):
    """Area × type of service: providers per cell, possible overlaps and gaps, with filters; a
    cell's providers (?area=&cell=); a choropleth per type of service with its table."""
    place, language = request.place, get_language()
    form = CoverageFilterForm(request.GET or None, language=language)
    chosen = {}
    if form.is_bound:
        form.is_valid()  # a bad value is shown next to its field; the other filters still apply
        chosen = form.cleaned_data
    filters = {
        "target_group": chosen.get("target_group") or None,
        "language": chosen.get("language") or None,
        "age": chosen.get("age"),
    }
    status = 422 if form.is_bound and form.errors else 200
    result = selectors.coverage(place=place, language_code=language, **filters)
    map_type = chosen.get("type") or (result.types[0][0] if result.types else "")
    counts = result.counts_for(map_type)
    top = max(counts.values(), default=0)
    cell = None
    area_id, cell_type = parse_id(request.GET.get("area")), request.GET.get("cell", "")
    if area_id is not None and cell_type:
        cell = result.cell(area_id, cell_type)
    labels = _labels(language)
    context = {
        "form": form,
        "coverage": result,
        "cell": cell,
        "labels": labels,
        "map_type": map_type,
        "map_label": labels["service_type"].get(map_type, map_type),
        "map_rows": [(area, counts.get(area.pk, 0)) for area in result.areas],
        "map_counts": json.dumps({str(k): v for k, v in counts.items()}),
        "map_max": top,
        "map_legend": coverage_legend(top),
        "query": request.GET.urlencode(),
        "filter_query": "&".join(
            f"{k}={v}" for k, v in request.GET.items() if k in ("target_group", "language", "age")
        ),
    }
    return render(request, "directory/coverage.html", context, status=status)


def coverage_legend(top):
    """The map's classes: 0 (a gap), then the counts up to a third, two thirds and all of the
    largest count (as coverage-map.js computes them)."""
    classes = [(0, 0, 0)]
    low = 1
    for number in (1, 2, 3):
        high = (number * top) // 3
        if high >= low:
            classes.append((number, low, high))
            low = high + 1
    return classes


@staff_view(Capability.MANAGE_DIRECTORY)
def pathways(request):
    """For a kind of report (taxonomy values, area, consent): which organisations receive it
    under the current routing rules, and where each can hand it on to (its referral
    partners, then any organisation of the place, as far as consent allows). Read-only."""
    from locus.cases import rule_selectors
    from locus.cases.rule_forms import SampleForm
    from locus.cases.rule_services import routing_preview_compare

    place, language = request.place, get_language()
    form = SampleForm(request.GET or None, place=place, language=language)
    context = {"sample_form": form}
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                preview = routing_preview_compare(place=place, sample=form.sample())
            except ApplicationError as exc:
                _add_errors(form, exc)
                status = 422
            else:
                result = rule_selectors.describe_result(
                    preview.current, place=place, language=language, specs=preview.current_specs
                )
                receivers = [d.organisation for d in result.destinations if d.sent]
                partners = selectors.organisation_referral_partners(
                    place=place, organisation_ids=[o.pk for o in receivers]
                )
                area = form.cleaned_data.get("area")
                context.update(
                    {
                        "current": result,
                        "hand_on": [
                            {
                                "organisation": o,
                                "partners": partners.get(o.pk, []),
                                "services": selectors.services_for_report(
                                    place=place,
                                    bias=form.cleaned_data.get("bias") or [],
                                    area_id=area.pk if area else None,
                                    limit=20,
                                ),
                            }
                            for o in receivers
                        ],
                    }
                )
        else:
            status = 422
    return render(request, "directory/pathways.html", context, status=status)


@staff_view(Capability.MANAGE_DIRECTORY)
def network(request):
    """The partnership network as an SVG graph, with the same as a list."""
    graph = selectors.partnership_graph(place=request.place)
    return render(request, "directory/network.html", {"graph": graph})


# --- HSDS and settings ----------------------------------------------------------------------


@staff_view(Capability.MANAGE_DIRECTORY)
def import_hsds(request):
    """Upload HSDS JSON or the CSV package; the import runs as a watched job."""
    from .hsds.apply import hsds_import_job_start

    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = hsds_import_job_start(
                place=request.place,
                raw=upload.read(),
                filename=upload.name,
                mode=form.cleaned_data["mode"],
                actor=request.user,
            )
        except ApplicationError as exc:
            form.add_error("file", exc.message)
            for msgs in exc.fields.values():
                for message in msgs:
                    if message != exc.message:
                        form.add_error("file", message)
        else:
            messages.info(request, _("The import has started; this page follows it."))
            return redirect("places:job", place_slug=request.place.slug, job_id=job.pk)
    return render(
        request, "directory/import.html", {"form": form}, status=422 if form.errors else 200
    )


@staff_view(Capability.MANAGE_DIRECTORY)
def export_hsds(request):
    """The place's directory as HSDS 3.1 JSON (organizations and services), or with
    `?format=csv` as the tabular package in a ZIP file, downloaded."""
    import io
    import zipfile

    from .hsds.export import export_csv_package, export_place

    stamp = timezone.localdate().isoformat()
    name = f"{request.place.slug}-directory-hsds-{stamp}"
    if request.GET.get("format") == "csv":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file_name, text in export_csv_package(request.place).items():
                archive.writestr(file_name, text)
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}.zip"'
        return response
    data = export_place(request.place)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response


@staff_view(Capability.MANAGE_DIRECTORY)
def directory_settings(request):
    place = request.place
    row = selectors.directory_settings(place)
    form = DirectorySettingsForm(
        request.POST or None,
        initial={"check_every_days": row.check_every_days if row else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.directory_settings_update(
                place=place,
                actor=request.user,
                check_every_days=form.cleaned_data["check_every_days"],
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("directory:settings", place.slug)
    return render(
        request,
        "directory/settings.html",
        {"form": form, "check_days": selectors.check_days(place)},
        status=422 if form.errors else 200,
    )


# --- public ---------------------------------------------------------------------------------


def public_services(request, place_slug):
    """Find support by need, area, language, group and age (no sign-in)."""
    place, language = request.place, get_language()
    form = ServiceSearchForm(request.GET or None, place=place, language=language)
    found, status = [], 200
    if form.is_bound and not form.is_valid():
        status = 422
    else:
        data = form.cleaned_data if form.is_bound else {}
        found = selectors.service_search(
            place=place,
            service_type=data.get("need") or None,
            area=data.get("area"),
            language=data.get("language") or None,
            target_group=data.get("group") or None,
            age=data.get("age"),
        )
    return render(
        request,
        "directory/public_services.html",
        {"form": form, "services": found, "labels": _labels(language), "searched": form.is_bound},
        status=status,
    )


def public_service(request, place_slug, service_id):
    service = selectors.access_service(place=request.place, service_id=service_id)
    if (
        service is None
        or service.status != "active"
        or not selectors.listing_exists(place=request.place, organisation=service.organisation)
    ):
        raise Http404
    return render(
        request,
        "directory/public_service.html",
        {
            "service": service,
            "areas": list(service.areas.all()),
            "labels": _labels(get_language()),
            "back": reverse("directory:public", args=[request.place.slug]),
        },
    )
