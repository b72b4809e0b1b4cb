"""Combining ranked lists. Today the library ranks by full text only; cross-language search
(multilingual embeddings) will add a second list of the same records. Reciprocal rank fusion
combines lists by position, so scores on different scales (bm25, ts_rank, cosine similarity)
need no calibration, and a record found by both signals rises above one found by one."""

from collections.abc import Mapping, Sequence

RRF_K = 60  # the usual constant (Cormack, Clarke & Büttcher 2009)


def fuse(signals: Mapping[str, Sequence[int]], weights: Mapping[str, float] | None = None):
    """Record ids from several ranked lists (best first), fused best first. With one list the
    order is that list's order."""
    scores, first_seen = {}, {}
    for name, ranked in signals.items():
        weight = (weights or {}).get(name, 1.0)
        for position, record_id in enumerate(ranked, start=1):
            scores[record_id] = scores.get(record_id, 0.0) + weight / (RRF_K + position)
            first_seen.setdefault(record_id, len(first_seen))
    return sorted(scores, key=lambda record_id: (-scores[record_id], first_seen[record_id]))
