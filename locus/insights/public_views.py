"""Open data (public), jurisdiction exports (staff) and network roll-ups (network members).

Thin views: the figures come from open_data.py, exports.py and network.py."""

from __future__ import annotations

import json
from datetime import date, timedelta

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from locus.accounts.decorators import SESSION_ORG_KEY, staff_view
from locus.accounts.policies import Capability, membership_can
from locus.accounts.selectors import membership_for_place
from locus.core.choices import AuditAction
from locus.core.services import audit_record
from locus.reporting.taxonomy import taxonomy

from . import exports, network, open_data

MAX_EXPORT_DAYS = 3660


def _language():
    return get_language() or "en"


# --- public open data ------------------------------------------------------------------------


def _month_choices(months):
    """Newest first; the value stays "2026-10" (links, API), the reader sees "October 2026"."""
    return [(m.label, date_format(m.month, "YEAR_MONTH_FORMAT")) for m in reversed(months)]


class MonthForm(forms.Form):
    month = forms.ChoiceField(label=_("Month"), required=False)

    def __init__(self, *args, months=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = _month_choices(months)


def _month_page(request, data, template, extra):
    form = MonthForm(request.GET or None, months=data.months)
    chosen = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            chosen = data.month(form.cleaned_data["month"] or None)
        else:
            status = 422
    if chosen is None:
        chosen = data.month(None)
    context = {
        "data": data,
        "form": form,
        "month": chosen,
        "rows": open_data.table_rows(data, chosen) if chosen else [],
        "columns": data.columns_for(chosen) if chosen else [],
        "method_note": open_data.METHOD_NOTE,
        "licence_name": open_data.LICENCE_NAME,
        "licence_url": open_data.LICENCE_URL,
        **extra,
    }
    return render(request, template, context, status=status)


@require_GET
def open_data_page(request, place_slug):
    """The public page: one month's table at a time (a form, no JavaScript needed)."""
    data = open_data.open_data(place=request.place, language=_language())
    return _month_page(
        request, data, "insights/open_data.html", {"can_export": _can_export(request)}
    )


def _can_export(request):
    """Whether to link the staff exports from the public page (signed-in staff only)."""
    if not request.user.is_authenticated:
        return False
    membership = membership_for_place(
        user=request.user, place=request.place, organisation_id=request.session.get(SESSION_ORG_KEY)
    )
    return membership is not None and membership_can(membership, Capability.VIEW_INSIGHTS)


def _download(content, content_type, filename):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def open_data_csv(request, place_slug):
    data = open_data.open_data(place=request.place, language=_language())
    return _download(
        open_data.csv_text(data),
        "text/csv; charset=utf-8",
        f"{request.place.slug}-incidents.csv",
    )


@require_GET
def open_data_geojson(request, place_slug):
    data = open_data.open_data(place=request.place, language=_language())
    body = json.dumps(open_data.geojson(data, place=request.place), ensure_ascii=False)
    return _download(
        body, "application/geo+json; charset=utf-8", f"{request.place.slug}-incidents.geojson"
    )


# --- exports (staff) -------------------------------------------------------------------------


def scheme_choices(language):
    t = taxonomy()
    choices = [(name, t.scheme(name).label(language)) for name in exports.SCHEMES]
    choices.insert(
        2, (exports.SUBMISSION, _("OSCE/ODIHR: civil-society submission (bias × type of incident)"))
    )
    return choices


def default_period(today: date):
    """The last twelve full months."""
    end = today.replace(day=1) - timedelta(days=1)
    start = end.replace(day=1)
    for _i in range(11):
        start = (start - timedelta(days=1)).replace(day=1)
    return start, end


class ExportForm(forms.Form):
    summarise_errors = True  # a download: refused, it is shown again with the error summary

    scheme = forms.ChoiceField(
        label=_("Scheme"), widget=forms.Select(attrs={"class": "select-wrap"})
    )
    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}), required=True
    )
    end = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"}), required=True
    )

    def __init__(self, *args, language="en", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].choices = scheme_choices(language)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end of the period must not be before its start."))
            elif (end - start).days > MAX_EXPORT_DAYS:
                self.add_error("end", _("Choose a period of at most ten years."))
        return data


def export_result(*, place, scheme, start, end, language):
    """(kind, result) for a scheme: ("scheme", SchemeCounts) or ("submission", (rows, total))."""
    incidents = exports.hate_incidents(place=place, start=start, end=end)
    if scheme == exports.SUBMISSION:
        return "submission", exports.odihr_submission(incidents, language=language)
    return "scheme", exports.scheme_counts(
        incidents, scheme=scheme, start=start, end=end, language=language
    )


def export_csv(kind, result, *, start, end):
    if kind == "submission":
        rows, total = result
        return exports.submission_csv(rows, total, start=start, end=end)
    return exports.scheme_csv(result)


@staff_view(Capability.VIEW_INSIGHTS)
@require_GET
def exports_page(request):
    """Counts in each jurisdiction's scheme for a period; `format=csv` downloads (audited)."""
    language = _language()
    place = request.place
    start, end = default_period(open_data.today_for(place))
    if "scheme" in request.GET:
        form = ExportForm(request.GET, language=language)
    else:
        form = ExportForm(
            initial={"scheme": exports.SCHEMES[0], "start": start, "end": end}, language=language
        )
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "insights/exports.html",
            {"form": form, "types": exports.ODIHR_TYPES},
            status=422,
        )
    scheme = form.cleaned_data["scheme"] if form.is_bound else exports.SCHEMES[0]
    if form.is_bound:
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    kind, result = export_result(
        place=place, scheme=scheme, start=start, end=end, language=language
    )
    if request.GET.get("format") == "csv":
        audit_record(
            action=AuditAction.STATISTICS_EXPORTED,
            actor=request.user,
            place=place,
            data={"scheme": scheme, "start": start.isoformat(), "end": end.isoformat()},
        )
        return _download(
            export_csv(kind, result, start=start, end=end),
            "text/csv; charset=utf-8",
            f"{place.slug}-{scheme}-{start:%Y%m%d}-{end:%Y%m%d}.csv",
        )
    query = {"scheme": scheme, "start": start.isoformat(), "end": end.isoformat()}
    return render(
        request,
        "insights/exports.html",
        {
            "form": form,
            "kind": kind,
            "result": result,
            "scheme": scheme,
            "start": start,
            "end": end,
            "query": query,
            "types": exports.ODIHR_TYPES,
            "records_form": RecordsForm(initial={"start": start, "end": end}, auto_id="records_%s")
            if membership_can(request.membership, Capability.MANAGE_INSIGHTS)
            else None,
        },
    )


class RecordsForm(forms.Form):
    summarise_errors = True  # a download: refused, it is shown again with the error summary

    start = forms.DateField(
        label=_("Received from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=_("Received until"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end of the period must not be before its start."))
        return data


# Not VIEW_INSIGHTS: a row's received time, area, bias and reporter role, matched with a case
# by its submission time, would tell a partner (a platform's desk, which receives only the
# public online content) what the reporter's consent kept from it. The place's own team holds
# every report anyway.
@staff_view(Capability.MANAGE_INSIGHTS)
@require_GET
def exports_records(request):
    """Every report received in the period, one row each, coded fields only, streamed as CSV
    (flat memory at any size; bench/bench_export.py), for the place's own team. Audited."""
    place = request.place
    start, end = default_period(open_data.today_for(place))
    form = RecordsForm(request.GET or {"start": start, "end": end}, auto_id="records_%s")
    if not form.is_valid():
        return render(
            request,
            "insights/exports_records_error.html",
            {"records_form": form},
            status=422,
        )
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    audit_record(
        action=AuditAction.STATISTICS_EXPORTED,
        actor=request.user,
        place=place,
        data={"records": True, "start": start.isoformat(), "end": end.isoformat()},
    )
    response = StreamingHttpResponse(
        exports.record_csv_chunks(place=place, start=start, end=end),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{place.slug}-records-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
    )
    return response


# --- network roll-ups ------------------------------------------------------------------------


def _network_or_login(request, network_slug):
    if not request.user.is_authenticated:
        return None
    return network.access_network(user=request.user, network_slug=network_slug)


class NetworkExportForm(forms.Form):
    summarise_errors = True  # a download: refused, it is shown again with the error summary

    scheme = forms.ChoiceField(
        label=_("Scheme"), widget=forms.Select(attrs={"class": "select-wrap"})
    )
    month = forms.ChoiceField(label=_("Month"), widget=forms.Select(attrs={"class": "select-wrap"}))

    def __init__(self, *args, language="en", months=(), **kwargs):
        super().__init__(*args, **kwargs)
        t = taxonomy()
        self.fields["scheme"].choices = [
            (name, t.scheme(name).label(language)) for name in exports.SCHEMES
        ]
        self.fields["month"].choices = _month_choices(months)


@require_GET
def network_insights(request, network_slug):
    """A network's roll-up: protected place × category tables by month, for its members."""
    the_network = _network_or_login(request, network_slug)
    if the_network is None:
        return redirect_to_login(request.get_full_path())
    language = _language()
    data = network.network_open_data(network=the_network, language=language)
    export_form = NetworkExportForm(
        language=language,
        months=data.months,
        auto_id="export_%s",
        initial={"month": request.GET.get("month")},
    )
    return _month_page(
        request,
        data,
        "insights/network_insights.html",
        {"network": the_network, "export_form": export_form},
    )


@require_GET
def network_export(request, network_slug):
    """One month of one scheme across the network as CSV (protected; audited)."""
    the_network = _network_or_login(request, network_slug)
    if the_network is None:
        return redirect_to_login(request.get_full_path())
    language = _language()
    data = network.network_open_data(network=the_network, language=language)
    form = NetworkExportForm(request.GET, language=language, months=data.months)
    if not form.is_valid():
        return render(
            request,
            "insights/network_export_error.html",
            {"network": the_network, "form": form},
            status=422,
        )
    scheme = form.cleaned_data["scheme"]
    month = date.fromisoformat(form.cleaned_data["month"] + "-01")
    table = network.network_scheme_table(
        network=the_network, scheme=scheme, month=month, language=language
    )
    if table is None:
        raise Http404
    audit_record(
        action=AuditAction.STATISTICS_EXPORTED,
        actor=request.user,
        data={"network": the_network.slug, "scheme": scheme, "month": month.strftime("%Y-%m")},
    )
    text = open_data.csv_text(table).replace("area_code,area,", "place_code,place,", 1)
    return _download(
        text, "text/csv; charset=utf-8", f"{the_network.slug}-{scheme}-{month:%Y-%m}.csv"
    )
