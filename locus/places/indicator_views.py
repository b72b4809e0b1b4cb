"""Staff pages for context indicators: indicators beside incident rates, and the CSV import."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from locus.accounts.decorators import staff_view
from locus.accounts.policies import Capability, membership_can

from . import indicator_selectors, indicator_services
from .indicator_forms import ContextForm, IndicatorUploadForm


@staff_view(Capability.VIEW_INSIGHTS)
def context(request):
    """Indicators beside incident rates per area, their correlation, a chart and its table."""
    place = request.place
    names = indicator_selectors.indicator_names(place=place)
    form = ContextForm(request.GET or None, names=names)
    chosen = form.cleaned_data if form.is_valid() else {}
    indicator, _sep, period = (chosen.get("series") or "").partition("|")
    view = indicator_selectors.context_view(
        place=place,
        indicator=indicator or None,
        period=period or None,
        days=int(chosen.get("days") or indicator_selectors.DEFAULT_DAYS),
    )
    if not request.GET and view.indicator:
        form = ContextForm(
            initial={"series": f"{view.indicator}|{view.period}", "days": "365"}, names=names
        )
    context = {
        "form": form,
        "view": view,
        "can_import": membership_can(request.membership, Capability.MANAGE_INSIGHTS),
    }
    return render(request, "places/context.html", context, status=422 if form.errors else 200)


@staff_view(Capability.MANAGE_INSIGHTS)
def import_csv(request):
    """Upload an indicator CSV. Every bad row is shown at once with its line and reason; the
    person chooses to import the good rows or nothing. The import itself runs as a job."""
    form = IndicatorUploadForm(request.POST or None, request.FILES or None)
    problems = warnings = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        raw = upload.read()
        skip_invalid = form.cleaned_data["skip_invalid"]
        parsed = indicator_services.indicators_check(place=request.place, raw=raw)
        problems, warnings = parsed.problems, parsed.warnings
        if parsed.fatal:
            form.add_error("file", problems[0].reason)
        elif problems and not skip_invalid:
            form.add_error(
                "file",
                ngettext(
                    "%(count)s row has problems, so nothing was imported. Fix it, or choose "
                    "to import the good rows.",
                    "%(count)s rows have problems, so nothing was imported. Fix them, or "
                    "choose to import the good rows.",
                    len(parsed.bad_lines),
                )
                % {"count": len(parsed.bad_lines)},
            )
        elif not parsed.rows:
            form.add_error("file", _("No valid row to import."))
        else:
            job = indicator_services.indicators_import_job_start(
                place=request.place,
                raw=raw,
                skip_invalid=skip_invalid,
                actor=request.user,
                filename=upload.name,
            )
            messages.info(request, _("The import has started; this page follows it."))
            return redirect("places:job", place_slug=request.place.slug, job_id=job.pk)
    context = {
        "form": form,
        "problems": problems,
        "warnings": warnings,
        "max_upload": settings.LOCUS_MAX_AREA_UPLOAD,
    }
    return render(
        request, "places/indicator_import.html", context, status=422 if form.errors else 200
    )
