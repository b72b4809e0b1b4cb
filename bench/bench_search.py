"""Search benchmark (QUALITY.md, "Performance"; issue 5 §8): library queries over 100,000
generated documents with full text, through the application's search selector
(`locus.library.selectors.record_search`: match, filters, total, facet counts, ranked page,
highlights), against the same query straight against the engine — FTS5 `MATCH … ORDER BY
bm25() LIMIT 20` plus the count on SQLite, `search_vector @@ tsquery ORDER BY ts_rank() LIMIT
20` plus the count on PostgreSQL — in the same run on the same machine.

Goals: the selector's total time ≤ 1.5× the raw queries'; the selector's p95 ≤ 50 ms.

Documents: titles, summaries and several paragraphs of body text (as extracted from files)
in English, French, German and Swedish, drawn from a prevention-and-evaluation vocabulary
with Zipf-like word frequencies, facets as the services would write them. Generated with
`bulk_create` and `executemany`, and the search index built in SQL (FTS5 inserts; one
`UPDATE … to_tsvector` per language on PostgreSQL), not record by record.

SQLite (WAL) in a temporary directory by default; PostgreSQL when DATABASE_URL is set
(`bin/with-postgres .venv/bin/python bench/bench_search.py`). Environment: BENCH_SEARCH_DOCS
(100,000), BENCH_SEARCH_ROUNDS (5), BENCH_SEARCH_DIR (keep the generated SQLite database in
this directory, or the PostgreSQL database's records, and reuse them on the next run, to
measure a change without generating again). Prints figures and PASS/FAIL per goal; a missed
goal is a measurement, not an exit status.
"""

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_export import setup_django  # noqa: E402

DOCS = int(os.environ.get("BENCH_SEARCH_DOCS", "100000"))
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "5"))
GOAL_RATIO = 1.5
GOAL_P95_MS = 50.0
BATCH = 2000
POOL = 3000  # paragraphs per language

COMMON = {
    "en": [
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "with",
        "on",
        "as",
        "by",
        "this",
        "was",
        "are",
        "from",
        "at",
        "be",
        "it",
        "an",
    ],
    "fr": [
        "le",
        "la",
        "les",
        "de",
        "des",
        "et",
        "à",
        "en",
        "un",
        "une",
        "pour",
        "dans",
        "est",
        "que",
        "qui",
        "sur",
        "par",
        "avec",
        "du",
        "au",
    ],
    "de": [
        "der",
        "die",
        "das",
        "und",
        "in",
        "zu",
        "den",
        "von",
        "mit",
        "ist",
        "für",
        "auf",
        "im",
        "dem",
        "nicht",
        "ein",
        "eine",
        "als",
        "auch",
    ],
    "sv": [
        "och",
        "i",
        "att",
        "det",
        "som",
        "en",
        "på",
        "är",
        "av",
        "för",
        "med",
        "till",
        "den",
        "har",
        "de",
        "inte",
        "om",
        "ett",
        "var",
    ],
}
DOMAIN = {
    "en": [
        "prevention",
        "extremism",
        "radicalisation",
        "resilience",
        "community",
        "youth",
        "schools",
        "evaluation",
        "outcomes",
        "programme",
        "mentoring",
        "counter",
        "narrative",
        "violence",
        "hate",
        "crime",
        "polarisation",
        "training",
        "practitioners",
        "local",
        "authority",
        "partnership",
        "police",
        "social",
        "workers",
        "families",
        "online",
        "propaganda",
        "recruitment",
        "disengagement",
        "exit",
        "intervention",
        "attitudes",
        "survey",
        "participants",
        "baseline",
        "comparison",
        "impact",
        "monitoring",
        "indicators",
        "cohesion",
        "trust",
        "dialogue",
        "women",
        "gender",
        "refugees",
        "migrants",
        "faith",
        "leaders",
        "sport",
        "culture",
        "education",
        "teachers",
        "risk",
        "protective",
        "factors",
        "referral",
        "safeguarding",
        "network",
        "municipality",
        "strategy",
        "coordination",
        "workshop",
        "facilitators",
        "peer",
        "learning",
        "toolkit",
        "guidance",
        "framework",
        "evidence",
        "review",
    ],
    "fr": [
        "prévention",
        "extrémisme",
        "radicalisation",
        "résilience",
        "communauté",
        "jeunesse",
        "écoles",
        "évaluation",
        "résultats",
        "programme",
        "mentorat",
        "contre",
        "discours",
        "violence",
        "haine",
        "polarisation",
        "formation",
        "praticiens",
        "collectivité",
        "partenariat",
        "police",
        "travailleurs",
        "sociaux",
        "familles",
        "propagande",
        "recrutement",
        "désengagement",
        "intervention",
        "attitudes",
        "enquête",
        "participants",
        "impact",
        "suivi",
        "indicateurs",
        "cohésion",
        "confiance",
        "dialogue",
        "femmes",
        "réfugiés",
        "migrants",
        "éducation",
        "enseignants",
        "risque",
        "facteurs",
        "protection",
        "orientation",
        "réseau",
        "territoire",
        "stratégie",
        "coordination",
        "atelier",
        "animateurs",
        "pairs",
        "apprentissage",
        "boîte",
        "outils",
        "cadre",
        "preuves",
    ],
    "de": [
        "Prävention",
        "Extremismus",
        "Radikalisierung",
        "Resilienz",
        "Gemeinschaft",
        "Jugend",
        "Schulen",
        "Evaluation",
        "Ergebnisse",
        "Programm",
        "Mentoring",
        "Gegenerzählung",
        "Gewalt",
        "Hass",
        "Polarisierung",
        "Fortbildung",
        "Fachkräfte",
        "Kommune",
        "Partnerschaft",
        "Polizei",
        "Sozialarbeit",
        "Familien",
        "Propaganda",
        "Anwerbung",
        "Ausstieg",
        "Intervention",
        "Einstellungen",
        "Befragung",
        "Teilnehmende",
        "Wirkung",
        "Monitoring",
        "Indikatoren",
        "Zusammenhalt",
        "Vertrauen",
        "Dialog",
        "Frauen",
        "Geflüchtete",
        "Bildung",
        "Lehrkräfte",
        "Risiko",
        "Schutzfaktoren",
        "Netzwerk",
        "Strategie",
        "Koordination",
        "Workshop",
        "Peer",
        "Lernen",
        "Handreichung",
        "Rahmen",
        "Evidenz",
        "Beratungsstelle",
        "Demokratieförderung",
    ],
    "sv": [
        "förebyggande",
        "extremism",
        "radikalisering",
        "motståndskraft",
        "gemenskap",
        "ungdomar",
        "skolor",
        "utvärdering",
        "resultat",
        "program",
        "mentorskap",
        "motberättelser",
        "våld",
        "hat",
        "polarisering",
        "utbildning",
        "praktiker",
        "kommun",
        "samverkan",
        "polis",
        "socialtjänst",
        "familjer",
        "propaganda",
        "rekrytering",
        "avhopp",
        "insats",
        "attityder",
        "enkät",
        "deltagare",
        "effekt",
        "uppföljning",
        "indikatorer",
        "sammanhållning",
        "förtroende",
        "dialog",
        "kvinnor",
        "nyanlända",
        "utbildning",
        "lärare",
        "risk",
        "skyddsfaktorer",
        "nätverk",
        "strategi",
        "samordning",
        "workshop",
        "kamratstöd",
        "lärande",
        "verktygslåda",
        "vägledning",
        "ramverk",
        "evidens",
        "handlingsplan",
        "demokrati",
    ],
}
CONFIGS = {"en": "english", "fr": "french", "de": "german", "sv": "swedish"}
TYPES = ["evaluation", "guide", "toolkit", "template", "case_study", "policy", "dataset"]
COUNTRIES = ["GB", "FR", "DE", "SE", "NL", "BE", "DK", "NO", "FI", "AT"]
TOPICS = ["monitoring_evaluation", "gender", "polarisation", "online_harms"]

QUERIES = [
    ("common word", {"q": "prevention"}),
    ("rare word", {"q": "disengagement"}),
    ("two words", {"q": "youth mentoring"}),
    ("phrase", {"q": '"community resilience"'}),
    ("with exclusion", {"q": "evaluation -police"}),
    ("French", {"q": "évaluation jeunesse"}),
    ("German", {"q": "Prävention Schulen"}),
    ("Swedish", {"q": "förebyggande kommun"}),
    ("word + type filter", {"q": "toolkit", "filters": {"type": ["guide"]}}),
    ("word + country filter", {"q": "radicalisation", "filters": {"country": ["FR", "BE"]}}),
    ("no match", {"q": "xylophonist"}),
]


def _zipf_weights(count):
    return [1.0 / (rank + 1) ** 0.9 for rank in range(count)]


class Writer:
    """Text in one language: common words and domain words, Zipf-like frequencies."""

    def __init__(self, rng, language):
        self.rng = rng
        self.words = COMMON[language] + DOMAIN[language]
        rng.shuffle(self.words)
        self.weights = _zipf_weights(len(self.words))

    def words_(self, count):
        return self.rng.choices(self.words, self.weights, k=count)

    def sentence(self, count):
        words = self.words_(count)
        return " ".join(words).capitalize() + "."

    def paragraph(self):
        return " ".join(
            self.sentence(self.rng.randint(8, 16)) for _ in range(self.rng.randint(3, 5))
        )


def generate(docs):
    """Records, facet rows, files with text and the search index, in bulk. Returns seconds."""
    from django.db import connection, transaction

    from locus.library.choices import RecordStatus
    from locus.library.models import FileStatus, Record, RecordFacet, RecordFile
    from locus.library.search.sqlite import FTS_TABLE
    from locus.library.vocabulary import current_version

    rng = random.Random(20261129)
    writers = {language: Writer(rng, language) for language in CONFIGS}
    # A pool of paragraphs per language, combined differently for each document: generating
    # every word of 100,000 documents in Python would take longer than indexing them.
    pools = {
        language: [writer.paragraph() for _ in range(POOL)] for language, writer in writers.items()
    }
    languages = list(CONFIGS)
    version = current_version()
    started = time.perf_counter()
    done = 0
    while done < docs:
        size = min(BATCH, docs - done)
        records, texts = [], []
        for number in range(done, done + size):
            language = languages[number % 4]
            writer = writers[language]
            record_type = TYPES[number % len(TYPES)]
            records.append(
                Record(
                    type=record_type,
                    status=RecordStatus.PUBLISHED,
                    title=writer.sentence(rng.randint(5, 10))[:-1],
                    summary=rng.choice(pools[language]),
                    authors=f"Author {number % 997}\nAuthor {number % 131}",
                    publisher=f"Publisher {number % 211}",
                    year=1995 + number % 31,
                    languages=[language],
                    countries=[COUNTRIES[number % 10], COUNTRIES[(number * 7) % 10]],
                    topics=[TOPICS[number % 4]],
                    vocabulary_version=version,
                    search_config=CONFIGS[language],
                )
            )
            texts.append("\n\n".join(rng.choices(pools[language], k=rng.randint(3, 6))))
        with transaction.atomic():
            created = Record.objects.bulk_create(records, batch_size=500)
            facets, files, index = [], [], []
            for record, text in zip(created, texts, strict=True):
                facets += [
                    (record.pk, "type", record.type),
                    (record.pk, "language", record.languages[0]),
                    (record.pk, "year", str(record.year)),
                    (record.pk, "topic", record.topics[0]),
                    (record.pk, "evidence_level", "not_rated"),
                ]
                facets += [(record.pk, "country", code) for code in set(record.countries)]
                files.append((record.pk, text))
                index.append(
                    (record.pk, record.title, record.summary, record.authors.replace("\n", " · "),
                     record.publisher, text)
                )  # fmt: skip
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {RecordFacet._meta.db_table} (record_id, facet, value) "
                    "VALUES (%s, %s, %s)",
                    facets,
                )
                now = "2026-01-01 00:00:00+00:00"
                cursor.executemany(
                    f"INSERT INTO {RecordFile._meta.db_table} (record_id, file, original_name, "
                    "mime, size, sha256, status, error, text, language, uploaded_at) "
                    "VALUES (%s, 'bench.pdf', 'bench.pdf', 'application/pdf', 1, '', "
                    f"'{FileStatus.EXTRACTED}', '', %s, '', '{now}')",
                    files,
                )
                if connection.vendor == "sqlite":
                    cursor.executemany(
                        f"INSERT INTO {FTS_TABLE} (rowid, title, summary, authors, publisher, "
                        "body) VALUES (%s, %s, %s, %s, %s, %s)",
                        index,
                    )
        done += size
        print(f"  generated {done:,} documents ({time.perf_counter() - started:.0f} s)", flush=True)
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # The same weights and configurations as search/postgres.py, built in SQL.
            cursor.execute(
                "INSERT INTO library_recordtsvector (record_id, search_vector) SELECT r.id, "
                "setweight(to_tsvector(r.search_config::regconfig, r.title), 'A') || "
                "setweight(to_tsvector(r.search_config::regconfig, r.summary), 'B') || "
                "setweight(to_tsvector(r.search_config::regconfig, "
                "replace(r.authors, E'\\n', ' · ')), 'C') || "
                "setweight(to_tsvector(r.search_config::regconfig, r.publisher), 'C') || "
                "setweight(to_tsvector(r.search_config::regconfig, f.text), 'D') "
                "FROM library_record r JOIN library_recordfile f ON f.record_id = r.id"
            )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE library_record")
            cursor.execute("VACUUM ANALYZE library_recordtsvector")
            cursor.execute("ANALYZE library_recordfacet")
        print(f"  tsvector built ({time.perf_counter() - started:.0f} s)", flush=True)
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def app_search(spec):
    from locus.library.selectors import SearchParams, record_search

    params = SearchParams(q=spec["q"], filters=spec.get("filters", {}))
    result = record_search(params, language="en")
    return result.total, [hit.record.pk for hit in result.hits]


def raw_search(spec):
    """The same query straight against the engine: the ranked first page and the total."""
    from django.db import connection

    from locus.library.search import parse_query
    from locus.library.search.postgres import TABLE, search_tsquery
    from locus.library.search.sqlite import FTS_TABLE, WEIGHTS, fts_query

    query = parse_query(spec["q"])
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            match = fts_query(query.include)
            for term in query.exclude:
                match += " NOT " + fts_query([term])
            weights = ", ".join(str(w) for w in WEIGHTS)
            cursor.execute(
                f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "
                f"ORDER BY bm25({FTS_TABLE}, {weights}) LIMIT 20",
                [match],
            )
            ids = [row[0] for row in cursor.fetchall()]
            cursor.execute(f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [match])
            total = cursor.fetchone()[0]
            return total, ids
        # The query as the application builds it (each configuration's distinct reading,
        # exclusions inside the one tsquery), so that the baseline is the best raw query.
        include, where = search_tsquery(query.include, query.exclude)
        if include is None:
            return 0, []
        cursor.execute(
            f"SELECT record_id FROM {TABLE} WHERE search_vector @@ %s::tsquery "
            "ORDER BY ts_rank('{0.1,0.3,0.5,1.0}', search_vector, %s::tsquery, 1) DESC LIMIT 20",
            [where, include],
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE search_vector @@ %s::tsquery", [where])
        return cursor.fetchone()[0], ids


def measure():
    """Median per query and every timing, app and raw alternately. The raw baseline has no
    facet filter: for the filtered queries it is the bare text query."""
    rows = []
    app_all, raw_all = [], []
    for name, spec in QUERIES:
        app_search(spec), raw_search(spec)  # warm caches
        app_times, raw_times = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            total, _ids = app_search(spec)
            app_times.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            raw_total, _raw_ids = raw_search(spec)
            raw_times.append((time.perf_counter() - started) * 1000)
        app_all += app_times
        raw_all += raw_times
        rows.append(
            (name, total, raw_total, statistics.median(app_times), statistics.median(raw_times))
        )
    return rows, app_all, raw_all


def p95(values):
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def _generated(docs):
    from locus.library.models import Record

    return Record.objects.count() == docs


def main():
    keep = os.environ.get("BENCH_SEARCH_DIR")
    var_dir = keep or tempfile.mkdtemp(prefix="locus-bench-search-")
    try:
        setup_django(var_dir)
        from django.db import connection

        print(f"database: {connection.vendor}; documents: {DOCS:,}; rounds: {ROUNDS}")
        if keep and _generated(DOCS):
            print(f"generation: reusing the documents in {keep}")
        else:
            seconds = generate(DOCS)
            print(f"generation: {seconds:.1f} s ({DOCS / seconds:,.0f} documents/s)")
        from locus.library.search.facet_index import INDEX

        INDEX.get()  # what each process does once, and again after every change
        print(f"facet index loaded in {INDEX.load_seconds * 1000:.0f} ms (once per change)")
        rows, app_all, raw_all = measure()
        print(f"{'query':<24}{'matches':>9}{'raw':>9}{'app ms':>9}{'raw ms':>9}{'ratio':>7}")
        for name, total, raw_total, app_ms, raw_ms in rows:
            print(
                f"{name:<24}{total:>9,}{raw_total:>9,}{app_ms:>9.1f}{raw_ms:>9.1f}"
                f"{app_ms / raw_ms if raw_ms else 0:>7.1f}"
            )
        ratio = sum(app_all) / sum(raw_all)
        app_p95, raw_p95 = p95(app_all), p95(raw_all)
        print(f"total ratio app/raw: {ratio:.2f} (goal ≤ {GOAL_RATIO})")
        print(f"p95: app {app_p95:.1f} ms, raw {raw_p95:.1f} ms (goal app ≤ {GOAL_P95_MS:.0f} ms)")
        print(f"ratio goal: {'PASS' if ratio <= GOAL_RATIO else 'FAIL'}")
        print(f"p95 goal: {'PASS' if app_p95 <= GOAL_P95_MS else 'FAIL'}")
    finally:
        if not keep:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
