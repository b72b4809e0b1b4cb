"""How a survey's answers become an indicator's value, and which groups may be shown.

Pure functions (no database), tested with hypothesis.

- A respondent's score is the mean of their answers to the agree–disagree (Likert, 1–5) items,
  reverse-scored items counted as 6 − answer. Items left blank are skipped; a respondent who
  answered no Likert item has no score.
- A percentage indicator is the share of scored respondents whose score is at least
  AGREE_THRESHOLD (4, "agree"); a number indicator is the mean score.
- Small numbers: nothing is computed from fewer than `min_count` scored respondents, and a
  breakdown group below `min_count` is hidden. When exactly one group of a breakdown is hidden,
  the next smallest is hidden too, so that the total minus the shown groups cannot reveal it.
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

AGREE_THRESHOLD = Decimal(4)
LIKERT_MIN, LIKERT_MAX = 1, 5
MIN_COUNT = 5


def respondent_score(answers, likert_items):
    """`answers`: {question id (str): value}; `likert_items`: [(question id, reverse)]."""
    values = []
    for question_id, reverse in likert_items:
        value = answers.get(str(question_id))
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        if not LIKERT_MIN <= value <= LIKERT_MAX:
            continue
        values.append(LIKERT_MAX + LIKERT_MIN - value if reverse else value)
    if not values:
        return None
    return Decimal(sum(values)) / Decimal(len(values))


def _round(value):
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def indicator_value(scores, *, percent):
    """The indicator's value from respondents' scores (None when there are none)."""
    if not scores:
        return None
    if percent:
        agreeing = sum(1 for score in scores if score >= AGREE_THRESHOLD)
        return _round(Decimal(100) * agreeing / len(scores))
    return _round(sum(scores) / len(scores))


def suppressed_groups(counts, min_count=MIN_COUNT):
    """The groups (keys of `counts`) that must not be shown: below `min_count`, plus — when only
    one non-empty group is below it — the next smallest, so totals cannot reveal it."""
    hidden = {group for group, n in counts.items() if 0 < n < min_count}
    if len(hidden) == 1:
        others = sorted(
            (n, str(group)) for group, n in counts.items() if group not in hidden and n > 0
        )
        if others:
            smallest = others[0][1]
            hidden.add(next(group for group in counts if str(group) == smallest))
    return hidden


def compute(responses, *, likert_items, breakdowns, percent, min_count=MIN_COUNT):
    """Everything a survey gives its indicator for the period.

    `responses`: answer dicts; `breakdowns`: {dimension: question id} of the multiple-choice
    questions that give a breakdown. Returns {"respondents", "value", "disaggregation",
    "counts"} where "disaggregation" holds only the groups that may be shown, and "value" is
    None when there are fewer than `min_count` scored respondents.
    """
    scored = []
    for answers in responses:
        score = respondent_score(answers, likert_items)
        if score is not None:
            scored.append((answers, score))
    result = {"respondents": len(scored), "value": None, "disaggregation": {}, "counts": {}}
    if len(scored) < min_count:
        return result
    result["value"] = indicator_value([score for _a, score in scored], percent=percent)
    for dimension, question_id in breakdowns.items():
        groups = defaultdict(list)
        for answers, score in scored:
            group = answers.get(str(question_id))
            if isinstance(group, str) and group:
                groups[group].append(score)
        counts = {group: len(scores) for group, scores in groups.items()}
        hidden = suppressed_groups(counts, min_count)
        shown = {
            group: float(indicator_value(scores, percent=percent))
            for group, scores in sorted(groups.items())
            if group not in hidden
        }
        if shown:
            result["disaggregation"][dimension] = shown
            result["counts"][dimension] = {group: counts[group] for group in shown}
    return result
