from . import references
from .models import Report


def report_for_followup(*, place, reference, code):
    """The report with this reference whose follow-up code matches, or None. The same None
    for a wrong reference and a wrong code, and the code is compared in constant time."""
    reference = references.normalise_reference(reference)
    report = Report.objects.filter(place=place, reference=reference).first() if reference else None
    if report is None:
        references.hash_code(code)  # same work either way
        return None
    return report if references.code_matches(code, report.followup_code_hash) else None
