"""The progress report of a programme for one period (web page, PDF, library summary): one
context built from the selectors, so the three always say the same."""

from django.template.defaultfilters import floatformat
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from locus.library.vocabulary import label_in

from . import charts, selectors
from .bank import bank_measure
from .choices import DIMENSIONS, ordered_breakdown
from .models import TOC_FIELDS


def _breakdown_rows(indicator, result, areas):
    rows = []
    ordered = ordered_breakdown(result.disaggregation, [a.pk for a in areas]) if result else []
    for dimension, groups in ordered:
        labels = (
            {str(a.pk): a.name for a in areas}
            if dimension == "area"
            else dict(DIMENSIONS[dimension].choices)
            if dimension in DIMENSIONS
            else {}
        )
        rows.append(
            {
                "dimension": dimension,
                "groups": [(labels.get(group, group), value) for group, value in groups],
            }
        )
    return rows


def report_context(programme, period, *, language):
    """Everything the report shows: the programme, its theory of change, and per indicator the
    value in this period, its breakdowns and its history up to this period with a chart."""
    indicators = selectors.indicators_with_results(programme)
    areas = list(programme.areas.all())
    rows = []
    for index, indicator in enumerate(indicators):
        history = [r for r in indicator.result_list if r.period.start <= period.start]
        current = next((r for r in history if r.period_id == period.pk), None)
        measure = bank_measure(indicator.bank_code) if indicator.bank_code else None
        rows.append(
            {
                "indicator": indicator,
                "result": current,
                "history": history,
                "share": selectors.progress_share(indicator, current.value)
                if current and current.value is not None
                else None,
                "breakdowns": _breakdown_rows(indicator, current, areas),
                "source": measure.source if measure else "",
                "chart": charts.progress_svg(indicator, history, title_id=f"chart-{index}")
                if history
                else "",
            }
        )
    toc = [
        (programme._meta.get_field(name).verbose_name, programme.toc_items(name))
        for name in TOC_FIELDS
    ]
    return {
        "programme": programme,
        "period": period,
        "areas": areas,
        "rows": rows,
        "toc": toc,
        "toc_svg": charts.toc_svg(programme) if programme.has_theory_of_change else "",
        "intervention": label_in("intervention", programme.intervention, language),
        "target_groups": [
            label_in("target_group", code, language) for code in programme.target_groups
        ],
        "progress": selectors.programme_progress(indicators),
    }


def _figure(value):
    """A figure as the report page writes it (`floatformat:"-2g"`): at most two decimals, the
    reader's decimal mark, thousands grouped; a dash for none. The stored Decimal read "1200.00"
    in every language."""
    return "—" if value is None else str(floatformat(value, "-2g"))


def results_summary(programme, *, language):
    """Plain-text summary of the theory of change and the latest results, for the library."""
    indicators = selectors.indicators_with_results(programme)
    lines = []
    if programme.summary:
        lines += [programme.summary, ""]
    for name in TOC_FIELDS:
        items = programme.toc_items(name)
        if items:
            label = capfirst(programme._meta.get_field(name).verbose_name)
            lines.append(
                pgettext("a label and its value", "%(label)s: %(value)s")
                % {"label": label, "value": "; ".join(items)}
            )
    lines.append("")
    lines.append(_("Results"))
    for indicator in indicators:
        progress = selectors.indicator_progress(indicator)
        latest = progress["latest"]
        value = latest.value if latest else None
        lines.append(
            _("%(indicator)s — baseline %(baseline)s, target %(target)s, latest %(latest)s")
            % {
                "indicator": indicator.title,
                "baseline": _figure(indicator.baseline),
                "target": _figure(indicator.target),
                "latest": _figure(value),
            }
        )
    return "\n".join(lines).strip()
