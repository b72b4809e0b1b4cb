"""PDFs made for the tests: a valid one with text, and the broken and hostile ones the
extraction must survive (truncated, garbage, encrypted, a decompression bomb, a huge page
count). Written byte by byte, so nothing depends on a PDF writer's choices."""

import io
import zlib

from locus.library.pdf_writer import build_pdf, stream, text_pdf

_stream = stream
__all__ = ["build_pdf", "text_pdf"]


def truncated_pdf():
    data = text_pdf(["Truncated prevention evaluation with many words on the page."])
    return data[: len(data) // 2]


def garbage_pdf():
    return b"%PDF-1.7\n" + bytes((i * 7919 + 13) % 251 for i in range(40_000))


def bomb_pdf(expanded_bytes=200_000_000):
    """A page whose content stream inflates from a few hundred kB to `expanded_bytes`."""
    compressor = zlib.compressobj(9)
    chunk = b" " * 1_000_000
    parts = [compressor.compress(chunk) for _ in range(expanded_bytes // len(chunk))]
    parts.append(compressor.flush())
    data = b"".join(parts)
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode()
        + data
        + b"\nendstream",
    ]
    return build_pdf(objects)


def many_pages_pdf(count=2500):
    """A PDF with `count` real (empty) pages: more than the extraction reads."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None]
    kids = []
    for number in range(3, count + 3):
        kids.append(f"{number} 0 R")
        objects.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {count} >>"
    return build_pdf(objects)


def encrypted_pdf(text="Secret evaluation of the mentoring programme", password="s3cret-pw"):  # noqa: S107 - a test file
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(text_pdf([text]))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password="owner-" + password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_only_pdf():
    """A page with no text at all (what a scan looks like to a text extractor)."""
    content = b"0 0 1 rg 72 72 200 200 re f"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        _stream(content),
    ]
    return build_pdf(objects)
