"""Text extraction within hard limits: valid, broken and hostile PDFs, plain text, language
detection. No database: extraction is a child process fed bytes."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locus.library import extraction

from . import pdf_samples

LIMITS = {**extraction.DEFAULT_LIMITS, "timeout_seconds": 30}
PDF = "application/pdf"


def test_a_pdf_gives_its_text_page_by_page():
    data = pdf_samples.text_pdf(["Mentoring young people in Malmo", "Second page: outcomes"])
    result = extraction.extract(data, PDF, limit=LIMITS)
    assert "Mentoring young people in Malmo" in result.text
    assert "Second page: outcomes" in result.text
    assert result.pages == 2 and not result.truncated


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (pdf_samples.truncated_pdf(), "broken"),
        (pdf_samples.garbage_pdf(), "broken"),
        (pdf_samples.encrypted_pdf(), "encrypted"),
        (pdf_samples.bomb_pdf(), "limit"),
        (pdf_samples.many_pages_pdf(), "too_many_pages"),
    ],
    ids=["truncated", "garbage", "encrypted", "decompression-bomb", "too-many-pages"],
)
def test_broken_and_hostile_pdfs_fail_with_a_code(data, code):
    with pytest.raises(extraction.ExtractionFailed) as failure:
        extraction.extract(data, PDF, limit=LIMITS)
    assert failure.value.code == code


def test_the_wall_clock_limit_stops_the_child():
    with pytest.raises(extraction.ExtractionFailed) as failure:
        extraction.extract(
            pdf_samples.many_pages_pdf(400), PDF, limit={**LIMITS, "timeout_seconds": 0.05}
        )
    assert failure.value.code == "timeout"


def test_the_memory_limit_stops_the_child():
    # 40 MB of address space is not enough to even load the parser.
    with pytest.raises(extraction.ExtractionFailed) as failure:
        extraction.extract(
            pdf_samples.text_pdf(["x"]), PDF, limit={**LIMITS, "memory_bytes": 40 * 1024 * 1024}
        )
    assert failure.value.code in {"memory", "broken"}


def test_the_text_is_cut_at_the_limit():
    pages = ["word " * 400 for _ in range(5)]
    result = extraction.extract(
        pdf_samples.text_pdf(pages), PDF, limit={**LIMITS, "max_chars": 3000}
    )
    assert result.truncated and len(result.text) <= 3000


def test_plain_text_is_decoded_cleaned_and_cut():
    raw = "\ufeffFirst line\x00 with a NUL\r\n\n\n\nSecond\ue000 line".encode()
    result = extraction.extract(raw, "text/plain", limit=LIMITS)
    assert result.text == "First line with a NUL\n\nSecond line"
    long = extraction.extract(b"abc " * 1000, "text/plain", limit={**LIMITS, "max_chars": 100})
    assert long.truncated and len(long.text) <= 100


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (
            "The programme worked with schools and youth clubs to build resilience against "
            "extremist recruitment, and the evaluation measured attitudes before and after.",
            "en",
        ),
        (
            "Le programme a travaillé avec les écoles et les clubs de jeunes pour renforcer la "
            "résilience face au recrutement extrémiste, et l'évaluation a mesuré les attitudes.",
            "fr",
        ),
        (
            "Das Programm arbeitete mit Schulen und Jugendclubs zusammen, um die Widerstandskraft "
            "gegen extremistische Anwerbung zu stärken, und die Evaluation maß die Einstellungen.",
            "de",
        ),
        (
            "Programmet arbetade med skolor och fritidsgårdar för att stärka motståndskraften mot "
            "extremistisk rekrytering, och utvärderingen mätte attityderna före och efter.",
            "sv",
        ),
        ("Too short", ""),
    ],
)
def test_language_detection_is_deterministic(text, language):
    assert extraction.detect_language(text) == language
    assert extraction.detect_language(text) == language


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=0, max_size=3000))
def test_any_bytes_after_a_pdf_header_fail_cleanly_or_extract(tail):
    try:
        result = extraction.extract(b"%PDF-1.4\n" + tail, PDF, limit=LIMITS)
    except extraction.ExtractionFailed as failure:
        assert failure.code in {"broken", "limit", "encrypted", "too_many_pages", "timeout"}
    else:
        assert isinstance(result.text, str)


@given(st.text(max_size=500))
def test_clean_text_leaves_no_control_or_marker_characters(text):
    cleaned = extraction.clean_text(text)
    assert not any(
        (ord(char) < 32 and char not in "\n\t") or char == "\x7f" or "\ue000" <= char <= "\ue003"
        for char in cleaned
    )
    assert extraction.clean_text(cleaned) == cleaned
