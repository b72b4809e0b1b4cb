"""Text extraction of library files within hard limits (issue 5 §3).

A PDF is untrusted input to a large parser, so it is read in a **child process** (this file,
run as a script with `python -I`) that first lowers its own limits with `resource.setrlimit`
— address space, CPU seconds, no files written, few open files — and the parent kills it
after a wall-clock timeout. What the child prints is capped too. Whatever the PDF does
(truncated, garbage, encrypted, a decompression bomb, a million pages), the worst outcome is
an `ExtractionFailed` with a code, never a hung worker or a request error.

Plain text needs no parser: it was checked as UTF-8 on upload and is only decoded and cut.

The module imports nothing from Django at the top, so that the child starts quickly.
"""

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Defaults; settings.LOCUS_LIBRARY_EXTRACTION overrides any of them (see `limits()`).
DEFAULT_LIMITS = {
    "timeout_seconds": 60,  # wall clock, enforced by the parent
    "cpu_seconds": 60,  # RLIMIT_CPU in the child
    "memory_bytes": 768 * 1024 * 1024,  # RLIMIT_AS in the child
    "max_pages": 2000,
    "max_chars": 1_000_000,  # text kept per file
}
LANGUAGE_SAMPLE_CHARS = 20_000
MIN_LETTERS_FOR_LANGUAGE = 40


class ExtractionFailed(Exception):
    """Why a file's text could not be read: `code` (stable, see files.ERROR_MESSAGES) and an
    English detail for the log."""

    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass
class Extracted:
    text: str
    pages: int | None = None
    truncated: bool = False
    notes: list = field(default_factory=list)


def limits():
    from django.conf import settings

    return {**DEFAULT_LIMITS, **getattr(settings, "LOCUS_LIBRARY_EXTRACTION", {})}


def extract(content: bytes, mime: str, *, limit=None) -> Extracted:
    """The text of a stored file (`mime` as decided on upload). Raises ExtractionFailed."""
    limit = limit or limits()
    if mime == "text/plain":
        text = content.decode("utf-8", errors="replace").lstrip("\ufeff")
        truncated = len(text) > limit["max_chars"]
        return Extracted(text=clean_text(text[: limit["max_chars"]]), truncated=truncated)
    if mime == "application/pdf":
        return _extract_pdf(content, limit)
    raise ExtractionFailed("unsupported", f"no extractor for {mime}")


def _extract_pdf(content, limit):
    child_limits = {key: limit[key] for key in ("cpu_seconds", "memory_bytes", "max_pages")}
    child_limits["max_chars"] = limit["max_chars"]
    try:
        completed = subprocess.run(  # noqa: S603 - our own interpreter and script, no shell
            [sys.executable, "-I", str(Path(__file__).resolve()), json.dumps(child_limits)],
            input=content,
            capture_output=True,
            timeout=limit["timeout_seconds"],
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExtractionFailed("timeout", f"over {limit['timeout_seconds']} s") from exc
    # The child prints one JSON object; anything bigger than the text limit allows is refused.
    max_output = limit["max_chars"] * 4 + 10_000
    if len(completed.stdout) > max_output:
        raise ExtractionFailed("too_much_output", f"{len(completed.stdout)} bytes")
    try:
        answer = json.loads(completed.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        answer = None
    if not isinstance(answer, dict):
        returncode = completed.returncode
        if returncode < 0:  # killed by a signal: SIGXCPU (CPU limit) or SIGKILL
            raise ExtractionFailed("timeout", f"signal {-returncode}")
        stderr = completed.stderr.decode("utf-8", "replace")
        if "MemoryError" in stderr:
            raise ExtractionFailed("memory", "address-space limit")
        raise ExtractionFailed("broken", f"exit {returncode}: {stderr[-200:]}")
    if answer.get("error"):
        raise ExtractionFailed(str(answer["error"])[:40], str(answer.get("detail", ""))[:200])
    return Extracted(
        text=clean_text(str(answer.get("text", ""))[: limit["max_chars"]]),
        pages=answer.get("pages"),
        truncated=bool(answer.get("truncated")),
    )


def clean_text(text):
    """Text as the index and the database take it: no NUL or other control characters (the
    search highlighting's private-use markers included), runs of blank lines folded."""
    out = []
    for char in text:
        code = ord(char)
        if char in "\n\t" or (code >= 32 and code != 127 and not 0xE000 <= code <= 0xE003):
            out.append(char)
        elif char == "\r" or char == "\x0c":
            out.append("\n")
    lines = [" ".join(line.split()) for line in "".join(out).split("\n")]
    result, blank = [], 0
    for line in lines:
        blank = blank + 1 if not line else 0
        if blank <= 1:
            result.append(line)
    return "\n".join(result).strip()


def detect_language(text):
    """The ISO 639-1 code of the text's language, or "" when it is too short or unclear.
    langdetect is seeded, so the same text always gives the same answer."""
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    if sum(char.isalpha() for char in sample) < MIN_LETTERS_FOR_LANGUAGE:
        return ""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    try:
        best = detect_langs(sample)[0]
    except (LangDetectException, IndexError):
        return ""
    if best.prob < 0.6:
        return ""
    return best.lang.split("-")[0][:8]


# --------------------------------------------------------------------------------------------
# The child process


def _child_limits(limit):
    import resource

    cpu = int(limit["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = int(limit["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # writes no file
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child_extract(data, limit):
    import io
    import logging

    logging.disable(logging.CRITICAL)  # pypdf's warnings would go to stderr, unbounded
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                decrypted = reader.decrypt("")  # owner-password-only PDFs open without one
            # pypdf raises NotImplementedError for encryption schemes it cannot handle: that
            # file is refused as encrypted, like one that needs a password.
            except (NotImplementedError, FileNotDecryptedError, PdfReadError) as exc:
                return {"error": "encrypted", "detail": str(exc)[:200]}
            if not decrypted:
                return {"error": "encrypted", "detail": "a password is needed"}
        pages = len(reader.pages)
        if pages > limit["max_pages"]:
            return {"error": "too_many_pages", "detail": str(pages)}
        parts, total, truncated = [], 0, False
        for page in reader.pages:
            contents = page.get_contents()  # pypdf's text extraction hides decoding limits
            if contents is not None:
                contents.get_data()
            text = page.extract_text() or ""
            parts.append(text)
            total += len(text) + 2
            if total > limit["max_chars"]:
                truncated = True
                break
        text = "\n\n".join(parts)[: limit["max_chars"]]
        return {"text": text, "pages": pages, "truncated": truncated}
    except LimitReachedError as exc:
        return {"error": "limit", "detail": str(exc)[:200]}
    except MemoryError:
        return {"error": "memory", "detail": "address-space limit"}
    except RecursionError:
        return {"error": "broken", "detail": "nested too deeply"}
    except Exception as exc:  # a hostile or broken file: any failure is an answer
        return {"error": "broken", "detail": f"{type(exc).__name__}: {exc}"[:200]}


def _child_main():
    limit = json.loads(sys.argv[1])
    _child_limits(limit)
    data = sys.stdin.buffer.read()
    answer = _child_extract(data, limit)
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()


if __name__ == "__main__":
    _child_main()
