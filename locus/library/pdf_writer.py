"""A very small PDF writer: text pages in Helvetica, a correct cross-reference table. For the
demo's library files and the tests' sample PDFs (locus/library/tests/pdf_samples.py); not for
anything a person would lay out."""

import io
import zlib


def _escape(text):
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def build_pdf(objects, *, root=1, trailer_extra=""):
    """A PDF from object bodies (object 1…n in order) with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        data = body if isinstance(body, bytes) else body.encode("latin-1")
        out.write(f"{number} 0 obj\n".encode() + data + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R {trailer_extra}>>\n"
        f"startxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def stream(data, *, compress=False):
    if compress:
        data = zlib.compress(data, 9)
        return (
            f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode()
            + data
            + b"\nendstream"
        )
    return f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def text_pdf(pages, *, compress=True):
    """A PDF with one page per string of `pages` (lines separated by "\\n"), Helvetica."""
    count = len(pages)
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 "
               "/BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]  # fmt: skip
    kids = []
    for text in pages:
        page_number = len(objects) + 1
        kids.append(f"{page_number} 0 R")
        lines = "".join(f"({_escape(line)}) Tj T* " for line in text.split("\n")).encode(
            "cp1252", "replace"
        )
        content = b"BT /F1 11 Tf 14 TL 72 760 Td " + lines + b"ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_number + 1} 0 R >>"
        )
        objects.append(stream(content, compress=compress))
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {count} >>"
    return build_pdf(objects)
