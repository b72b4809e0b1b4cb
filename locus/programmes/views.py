"""Programme pages: parse, call one selector or service, render. Staff pages go through the
`staff_view` funnel; a programme is found only by its own organisation (and, read only, by the
place team that looks after the portfolio). The survey pages are public and anonymous."""

import mimetypes

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from locus.accounts.decorators import staff_view
from locus.accounts.policies import Capability, membership_can
from locus.core.errors import ApplicationError
from locus.core.ratelimit import rate_limited
from locus.core.storage import open_stored
from locus.library.vocabulary import label_in

from . import charts, forms, iati, policies, reports, scoring, selectors, services
from .bank import bank, bank_measure
from .choices import DIMENSIONS, IndicatorLevel, SurveyPhase, ordered_breakdown
from .forms import TOC_PROMPTS
from .models import TOC_FIELDS

LANGUAGES = ("en", "fr", "de", "sv")
SURVEY_SCOPE = "programmes.survey"
SURVEY_RATE = "60/h"  # a room of people answering on one network or one shared device


def _add_errors(form, exc):
    if not exc.fields:
        form.add_error(None, exc.message)
    for field, msgs in exc.fields.items():
        for message in msgs:
            form.add_error(field if field in form.fields else None, message)


def _base_url(request):
    return request.build_absolute_uri("/").rstrip("/")


def _programme(request, programme_id, *, read=False):
    programme = selectors.access_programme(
        request.place, request.membership, programme_id, read=read
    )
    if programme is None:
        raise Http404
    return programme


def _period(programme, period_id):
    period = selectors.access_period(programme, period_id)
    if period is None:
        raise Http404
    return period


def _detail_url(request, programme):
    return reverse("programmes:detail", args=[request.place.slug, programme.pk])


# --- programmes ----------------------------------------------------------------------------


@staff_view(Capability.MANAGE_PROGRAMMES)
def programme_list(request):
    language = get_language()
    programmes = list(selectors.programme_list(request.place, request.membership))
    rows = [
        {
            "programme": p,
            "intervention": label_in("intervention", p.intervention, language),
            "areas": list(p.areas.all()),
            "progress": selectors.programme_progress(p.indicator_list),
        }
        for p in programmes
    ]
    return render(
        request,
        "programmes/list.html",
        {"rows": rows, "can_portfolio": policies.can_view_portfolio(request.membership)},
    )


def _programme_data(form):
    data = dict(form.cleaned_data)
    data["areas"] = list(data.get("areas") or [])
    return data


@staff_view(Capability.MANAGE_PROGRAMMES)
def programme_new(request):
    form = forms.ProgrammeForm(
        request.POST or None,
        place=request.place,
        language=get_language(),
        initial={"currency": "GBP", "status": "active"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            programme = services.programme_create(
                place=request.place,
                organisation=request.membership.organisation,
                actor=request.user,
                data=_programme_data(form),
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Programme created. Now describe its theory of change."))
            return redirect("programmes:toc", request.place.slug, programme.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "programmes/edit.html", {"form": form}, status=status)


@staff_view(Capability.MANAGE_PROGRAMMES)
def programme_edit(request, programme_id):
    programme = _programme(request, programme_id)
    initial = {
        name: getattr(programme, name)
        for name in (
            "title",
            "summary",
            "start_date",
            "end_date",
            "intervention",
            "target_groups",
            "budget",
            "currency",
            "funders",
            "status",
            "iati_org_ref",
        )
    }
    initial["areas"] = list(programme.areas.all())
    form = forms.ProgrammeForm(
        request.POST or None, place=request.place, language=get_language(), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.programme_update(
                programme=programme, actor=request.user, data=_programme_data(form)
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Programme saved."))
            return redirect(_detail_url(request, programme))
    status = 422 if request.method == "POST" else 200
    return render(
        request, "programmes/edit.html", {"form": form, "programme": programme}, status=status
    )


@staff_view(Capability.MANAGE_PROGRAMMES)
def programme_detail(request, programme_id):
    programme = _programme(request, programme_id)
    language = get_language()
    indicators = selectors.indicators_with_results(programme)
    rows = []
    for index, indicator in enumerate(indicators):
        progress = selectors.indicator_progress(indicator)
        rows.append(
            {
                "indicator": indicator,
                "progress": progress,
                "chart": charts.progress_svg(
                    indicator, indicator.result_list, title_id=f"chart-{index}"
                )
                if indicator.result_list
                else "",
            }
        )
    context = {
        "programme": programme,
        "areas": list(programme.areas.all()),
        "intervention": label_in("intervention", programme.intervention, language),
        "target_groups": [
            label_in("target_group", code, language) for code in programme.target_groups
        ],
        "rows": rows,
        "periods": selectors.period_list(programme),
        "surveys": selectors.survey_list(programme),
        "toc_svg": charts.toc_svg(programme) if programme.has_theory_of_change else "",
        "toc": [
            (programme._meta.get_field(name).verbose_name, programme.toc_items(name))
            for name in TOC_FIELDS
        ],
        "progress": selectors.programme_progress(indicators),
        "has_outcomes": any(i.level == IndicatorLevel.OUTCOME for i in indicators),
        "period_form": forms.PeriodForm(initial=selectors.next_period(programme, indicators)),
        "languages": LANGUAGES,
    }
    return render(request, "programmes/detail.html", context)


@staff_view(Capability.MANAGE_PROGRAMMES)
def theory_of_change(request, programme_id):
    programme = _programme(request, programme_id)
    form = forms.TheoryOfChangeForm(
        request.POST or None, initial={name: getattr(programme, name) for name in TOC_FIELDS}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.programme_set_theory_of_change(
                programme=programme, actor=request.user, data=form.cleaned_data
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Theory of change saved."))
            return redirect(_detail_url(request, programme))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "programmes/toc.html",
        {"form": form, "programme": programme, "prompts": TOC_PROMPTS},
        status=status,
    )


# --- indicators ----------------------------------------------------------------------------


@staff_view(Capability.MANAGE_PROGRAMMES)
def indicator_edit(request, programme_id, indicator_id=None):
    programme = _programme(request, programme_id)
    indicator = None
    if indicator_id is not None:
        indicator = selectors.access_indicator(programme, indicator_id)
        if indicator is None:
            raise Http404
        initial = {
            name: getattr(indicator, name)
            for name in (
                "bank_code",
                "level",
                "title",
                "description",
                "measure",
                "unit",
                "baseline",
                "baseline_year",
                "target",
                "ascending",
                "frequency",
                "by_gender",
                "by_age",
                "by_area",
            )
        }
    else:
        measure = bank_measure(request.GET.get("bank", ""))
        initial = {"ascending": True, "frequency": "quarterly"}
        if measure:
            initial |= {
                "bank_code": measure.code,
                "level": measure.level,
                "title": measure.title,
                "description": measure.description,
                "measure": measure.measure,
            }
    form = forms.IndicatorForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.indicator_save(
                programme=programme, actor=request.user, data=form.cleaned_data, indicator=indicator
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Indicator saved."))
            return redirect(_detail_url(request, programme))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "programmes/indicator.html",
        {"form": form, "programme": programme, "indicator": indicator, "bank": bank()},
        status=status,
    )


@staff_view(Capability.MANAGE_PROGRAMMES)
def indicator_delete(request, programme_id, indicator_id):
    """Confirm, then delete (POST) an indicator without reported results or survey answers;
    with them the page says why it cannot be deleted and offers no button."""
    programme = _programme(request, programme_id)
    indicator = selectors.access_indicator(programme, indicator_id)
    if indicator is None:
        raise Http404
    status, error = 200, ""
    if request.method == "POST":
        title = indicator.title
        try:
            services.indicator_delete(indicator=indicator, actor=request.user)
        except ApplicationError as exc:
            status, error = 409, exc.message
        else:
            messages.success(request, _("Indicator “%(title)s” deleted.") % {"title": title})
            return redirect(_detail_url(request, programme))
    dependants = selectors.indicator_dependants(indicator)
    return render(
        request,
        "programmes/indicator_delete.html",
        {
            "programme": programme,
            "indicator": indicator,
            "dependants": dependants,
            "blocked": bool(dependants["results"] or dependants["responses"]),
            "error": error,
        },
        status=status,
    )


# --- periods and results -------------------------------------------------------------------


@staff_view(Capability.MANAGE_PROGRAMMES)
@require_POST
def period_new(request, programme_id):
    programme = _programme(request, programme_id)
    form = forms.PeriodForm(request.POST)
    if form.is_valid():
        try:
            period = services.period_create(
                programme=programme,
                actor=request.user,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                due=form.cleaned_data.get("due"),
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Reporting period added."))
            return redirect("programmes:results", request.place.slug, programme.pk, period.pk)
    return render(
        request,
        "programmes/period_new.html",
        {"form": form, "programme": programme},
        status=422,
    )


@staff_view(Capability.MANAGE_PROGRAMMES)
def results(request, programme_id, period_id):
    """The one page where a period's results are entered: every indicator's value and
    breakdowns, the narrative, and the evidence files."""
    programme = _programme(request, programme_id)
    period = _period(programme, period_id)
    indicators = selectors.indicators_with_results(programme)
    current = {
        r.indicator_id: r for i in indicators for r in i.result_list if r.period_id == period.pk
    }
    areas = list(programme.areas.all())
    # Two forms on the page: the results (with a narrative field) and the evidence upload.
    # Any other POST is the upload form, sent without a file: bound, so it says so.
    posted_results = request.method == "POST" and "narrative" in request.POST
    posted_file = request.method == "POST" and not posted_results
    form = forms.ResultsForm(
        request.POST if posted_results else None,
        indicators=indicators,
        areas=areas,
        results=current,
        reported=period.submitted_at is not None,
        initial={"narrative": period.narrative},
    )
    evidence_form = forms.EvidenceForm(
        request.POST if posted_file else None, request.FILES if posted_file else None
    )
    status = 200
    if posted_file:
        if evidence_form.is_valid():
            try:
                services.evidence_add(
                    period=period, actor=request.user, uploaded=evidence_form.cleaned_data["file"]
                )
            except ApplicationError as exc:
                evidence_form.add_error("file", exc.fields.get("files", [exc.message])[0])
            else:
                messages.success(request, _("File added."))
                return redirect(request.path)
        status = 422
    elif posted_results:
        if form.is_valid():
            try:
                services.results_report(
                    period=period,
                    actor=request.user,
                    values=form.values(),
                    narrative=form.cleaned_data["narrative"],
                    submit=form.cleaned_data["submit"],
                    # The box shows the period's state: unticking it reopens a reported period.
                    reopen=not form.cleaned_data["submit"],
                )
            except ApplicationError as exc:
                for field, msgs in exc.fields.items():
                    name = field.replace("indicator_", "value_").removesuffix("_breakdown")
                    for message in msgs:
                        form.add_error(name if name in form.fields else None, message)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("Results saved."))
                return redirect(_detail_url(request, programme))
        status = 422
    return render(
        request,
        "programmes/results.html",
        {
            "programme": programme,
            "period": period,
            "form": form,
            "evidence_form": evidence_form,
            "files": selectors.period_files(period),
        },
        status=status,
    )


@staff_view(Capability.MANAGE_PROGRAMMES)
def evidence_download(request, programme_id, period_id, file_id):
    programme = _programme(request, programme_id)
    period = _period(programme, period_id)
    evidence = selectors.period_files(period).filter(pk=file_id).first()
    handle = open_stored(evidence.file) if evidence is not None else None
    if handle is None:
        raise Http404
    services.evidence_record_download(period=period, evidence=evidence, actor=request.user)
    extension = mimetypes.guess_extension(evidence.mime) or ""
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"evidence-{period.pk}-{evidence.pk}{extension}",
        content_type=evidence.mime,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@staff_view(Capability.MANAGE_PROGRAMMES)
def evidence_delete(request, programme_id, period_id, file_id):
    """Confirm, then delete (POST) one evidence file of a period, bytes and all."""
    programme = _programme(request, programme_id)
    period = _period(programme, period_id)
    evidence = selectors.period_files(period).filter(pk=file_id).first()
    if evidence is None:
        raise Http404
    if request.method == "POST":
        name = evidence.original_name
        services.evidence_delete(evidence=evidence, actor=request.user)
        messages.success(request, _("File “%(name)s” deleted.") % {"name": name})
        return redirect("programmes:results", request.place.slug, programme.pk, period.pk)
    return render(
        request,
        "programmes/evidence_delete.html",
        {"programme": programme, "period": period, "file": evidence},
    )


# --- reports, IATI, library ----------------------------------------------------------------


def _report_programme(request, programme_id):
    """Its own organisation's people who run programmes, or the place team with the portfolio
    (read only); any other role is refused (403) before the programme is looked up."""
    membership = request.membership
    if not (
        policies.can_view_portfolio(membership)
        or membership_can(membership, Capability.MANAGE_PROGRAMMES)
    ):
        raise PermissionDenied
    return _programme(request, programme_id, read=True)


@staff_view(Capability.STAFF_HOME)
def report(request, programme_id, period_id):
    programme = _report_programme(request, programme_id)
    period = _period(programme, period_id)
    context = reports.report_context(programme, period, language=get_language())
    context["languages"] = LANGUAGES
    context["can_manage"] = policies.can_manage(request.membership, programme)
    return render(request, "programmes/report.html", context)


@staff_view(Capability.STAFF_HOME)
def report_pdf(request, programme_id, period_id):
    programme = _report_programme(request, programme_id)
    period = _period(programme, period_id)
    language = request.GET.get("lang") or get_language()
    if language not in LANGUAGES:
        language = "en"
    from .pdf import report_pdf as render_pdf

    with translation.override(language):
        context = reports.report_context(programme, period, language=language)
    content = render_pdf(context, language=language)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="programme-{programme.pk}-{period.start:%Y-%m-%d}-{language}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


@staff_view(Capability.MANAGE_PROGRAMMES)
def programme_iati(request, programme_id):
    """The programme's IATI activity file (its own organisation)."""
    programme = _programme(request, programme_id)
    content = iati.export_place(request.place, programme_ids=[programme.pk])
    response = HttpResponse(content, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="iati-programme-{programme.pk}.xml"'
    return response


@staff_view(Capability.VIEW_PORTFOLIO)
def place_iati(request):
    """Every programme of the place as one IATI activities file."""
    if not selectors.place_programmes_for_export(request.place):
        messages.warning(request, _("There is no programme to export yet."))
        return redirect("programmes:portfolio", request.place.slug)
    content = iati.export_place(request.place)
    response = HttpResponse(content, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="iati-{request.place.slug}.xml"'
    return response


@staff_view(Capability.MANAGE_PROGRAMMES)
@require_POST
def publish(request, programme_id):
    programme = _programme(request, programme_id)
    try:
        record = services.programme_publish_evaluation(
            programme=programme,
            actor=request.user,
            language=get_language(),
            base_url=_base_url(request),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The evaluation was sent to the library editors for review: “%(title)s”.")
            % {"title": record.title},
        )
    return redirect(_detail_url(request, programme))


# --- surveys -------------------------------------------------------------------------------


@staff_view(Capability.MANAGE_PROGRAMMES)
def survey_new(request, programme_id, indicator_id):
    programme = _programme(request, programme_id)
    indicator = selectors.access_indicator(programme, indicator_id)
    if indicator is None or indicator.level != IndicatorLevel.OUTCOME:
        raise Http404
    periods = selectors.period_list(programme)
    form = forms.SurveyForm(
        request.POST or None,
        periods=periods,
        initial={"title": indicator.title, "phase": SurveyPhase.POST},
    )
    if request.method == "POST" and form.is_valid():
        period = selectors.access_period(programme, form.cleaned_data["period"])
        try:
            if period is None:
                raise ApplicationError(_("Choose a period."), fields={"period": [_("Choose.")]})
            survey = services.survey_create(
                indicator=indicator,
                period=period,
                actor=request.user,
                title=form.cleaned_data["title"],
                phase=form.cleaned_data["phase"],
                intro=form.cleaned_data["intro"],
                language=get_language(),
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Survey created with a starting set of questions."))
            return redirect("programmes:survey", request.place.slug, programme.pk, survey.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "programmes/survey_new.html",
        {"form": form, "programme": programme, "indicator": indicator, "periods": periods},
        status=status,
    )


def _survey(request, programme, survey_id):
    survey = selectors.access_survey(programme, survey_id)
    if survey is None:
        raise Http404
    return survey


def _question_dict(question):
    return {
        "text": question.text,
        "kind": question.kind,
        "options": question.options,
        "dimension": question.dimension,
        "reverse": question.reverse,
    }


@staff_view(Capability.MANAGE_PROGRAMMES)
def survey_detail(request, programme_id, survey_id):
    """The survey's link, questions and what it gives so far; add or remove questions (until
    answers come in), open or close it, compute the indicator's value."""
    programme = _programme(request, programme_id)
    survey = _survey(request, programme, survey_id)
    questions = selectors.survey_questions(survey)
    settings_form = forms.SurveySettingsForm(
        request.POST if request.POST.get("action") == "settings" else None,
        initial={"title": survey.title, "intro": survey.intro, "is_open": survey.is_open},
    )
    question_form = forms.QuestionForm(
        request.POST if request.POST.get("action") == "add_question" else None
    )
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "settings" and settings_form.is_valid():
                services.survey_update(
                    survey=survey, actor=request.user, **settings_form.cleaned_data
                )
                messages.success(request, _("Survey saved."))
                return redirect(request.path)
            if action == "add_question" and question_form.is_valid():
                services.survey_update(
                    survey=survey,
                    actor=request.user,
                    title=survey.title,
                    intro=survey.intro,
                    is_open=survey.is_open,
                    questions=[_question_dict(q) for q in questions] + [question_form.question()],
                )
                messages.success(request, _("Question added."))
                return redirect(request.path)
            if action == "remove_question":
                keep = [q for q in questions if str(q.pk) != request.POST.get("question")]
                services.survey_update(
                    survey=survey,
                    actor=request.user,
                    title=survey.title,
                    intro=survey.intro,
                    is_open=survey.is_open,
                    questions=[_question_dict(q) for q in keep],
                )
                messages.success(request, _("Question removed."))
                return redirect(request.path)
            if action == "compute":
                services.survey_compute(survey=survey, actor=request.user)
                messages.success(request, _("The indicator's value for the period was updated."))
                return redirect(request.path)
        except ApplicationError as exc:
            target = question_form if action == "add_question" else settings_form
            if action in ("compute", "remove_question"):
                messages.error(request, exc.message)
                return redirect(request.path)
            _add_errors(target, exc)
        status = 422
    computed = services.survey_results(survey)
    labelled = {
        dimension: [
            (dict(DIMENSIONS[dimension].choices).get(group, group), value)
            for group, value in groups
        ]
        for dimension, groups in ordered_breakdown(computed["disaggregation"])
    }
    link = request.build_absolute_uri(
        reverse("programmes:survey_public", args=[request.place.slug, survey.token])
    )
    return render(
        request,
        "programmes/survey.html",
        {
            "programme": programme,
            "survey": survey,
            "questions": questions,
            "settings_form": settings_form,
            "question_form": question_form,
            "computed": computed,
            "breakdowns": labelled,
            "min_count": scoring.MIN_COUNT,
            "link": link,
            "has_answers": survey.responses.exists(),
        },
        status=status,
    )


# --- the public questionnaire ----------------------------------------------------------------


@never_cache
@rate_limited(SURVEY_SCOPE, SURVEY_RATE, methods=("POST",))
def survey_public(request, place_slug, token):
    """The anonymous questionnaire. `?device=shared`: after each answer the form is shown
    again, empty, for the next person (a tablet passed around a room)."""
    survey = selectors.survey_by_token(request.place, token)
    if survey is None:
        raise Http404
    questions = selectors.survey_questions(survey)
    shared = request.GET.get("device") == "shared"
    form = forms.SurveyAnswerForm(request.POST or None, questions=questions)
    status = 200
    if request.method == "POST" and survey.is_open:
        if form.is_valid():
            try:
                services.survey_submit(survey=survey, answers=form.answers())
            except ApplicationError as exc:
                for field, msgs in exc.fields.items():
                    for message in msgs:
                        form.add_error(field if field in form.fields else None, message)
            else:
                url = reverse("programmes:survey_thanks", args=[request.place.slug, token])
                return redirect(url + ("?device=shared" if shared else ""))
        status = 422
    return render(
        request,
        "programmes/survey_public.html",
        {"survey": survey, "form": form, "shared": shared},
        status=status,
    )


@never_cache
def survey_thanks(request, place_slug, token):
    survey = selectors.survey_by_token(request.place, token)
    if survey is None:
        raise Http404
    return render(
        request,
        "programmes/survey_thanks.html",
        {"survey": survey, "shared": request.GET.get("device") == "shared"},
    )


# --- the place's portfolio -----------------------------------------------------------------


@staff_view(Capability.VIEW_PORTFOLIO)
def portfolio(request):
    data = selectors.portfolio(request.place, get_language())
    return render(request, "programmes/portfolio.html", data)
