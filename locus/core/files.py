"""Evidence uploads: decide by content whether a file may be kept, and make it safe to keep.

`inspect_upload()` reads at most `max_bytes + 1` bytes, decides the type from the bytes alone
(never from the client's file name or content type), refuses anything outside the allow-list
with a specific message, and returns the bytes to store:

- images (JPEG, PNG, WebP, HEIC/HEIF) are decoded and re-encoded from their pixels after the
  EXIF orientation is applied, so EXIF, GPS, XMP, ICC profiles, comments and text chunks are
  gone, and so is anything appended to the file (polyglots); PNGs and images with transparency
  become PNG, everything else JPEG; animated images keep their first frame;
- PDFs are kept as they are unless they carry JavaScript, launch actions or embedded files;
- MP4 and QuickTime videos keep their media but lose their metadata boxes (`udta` with ©xyz
  GPS, `meta`, XMP `uuid`): each is overwritten in place by a `free` box of the same size, so
  no media offset moves (`strip_iso_metadata`); a broken box structure is refused;
- plain text (UTF-8, no binary bytes, not markup) and WebM videos are kept as they are.

Every refusal is a `ValidationFailed` with the message also under `fields["files"]`. Nothing
here touches the database or the file system.
"""

import contextlib
import hashlib
import io
import logging
import re
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import ValidationFailed

logger = logging.getLogger(__name__)

DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_REPORT_BYTES = 60 * 1024 * 1024
DEFAULT_MAX_IMAGE_PIXELS = 40_000_000

KINDS = frozenset({"image", "pdf", "text", "video"})
MAX_NAME_LENGTH = 120
JPEG_QUALITY = 90

_READ_CHUNK = 1024 * 1024
_SNIFF_BYTES = 8192  # what `filetype` looks at


@dataclass(frozen=True)
class CheckedFile:
    kind: str  # one of KINDS
    mime: str
    extension: str  # decided by content, without the dot
    size: int  # len(content)
    sha256: str  # hex digest of content
    content: bytes  # the bytes to store
    original_name: str  # for display only; never a storage path
    received_at: datetime

    def __repr__(self):  # keep evidence bytes out of logs and tracebacks
        return (
            f"CheckedFile(kind={self.kind!r}, mime={self.mime!r}, size={self.size}, "
            f"sha256={self.sha256[:12]!r}…)"
        )


# --- settings (read on each call, never at import) ---


def max_file_bytes():
    return int(getattr(settings, "LOCUS_MAX_EVIDENCE_FILE_BYTES", DEFAULT_MAX_FILE_BYTES))


def max_report_bytes():
    return int(getattr(settings, "LOCUS_MAX_EVIDENCE_REPORT_BYTES", DEFAULT_MAX_REPORT_BYTES))


def max_image_pixels():
    return int(getattr(settings, "LOCUS_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS))


# --- refusals ---


def _refuse(message):
    raise ValidationFailed(message, fields={"files": [message]})


def _refuse_svg():
    _refuse(_("SVG images can carry scripts; please send a PNG or JPEG screenshot."))


def _refuse_html():
    _refuse(
        _("Web pages (HTML) can carry scripts; please send a screenshot or save the page as PDF.")
    )


def _refuse_xml():
    _refuse(_("XML files are not accepted; please send a screenshot, a PDF or plain text."))


def _refuse_archive():
    _refuse(
        _(
            "Archives (ZIP, RAR, 7z, gzip, tar) are not accepted; please upload the files inside "
            "one by one."
        )
    )


def _refuse_executable():
    _refuse(_("Programs and scripts are not accepted; please send a screenshot instead."))


def _refuse_office():
    _refuse(
        _("Office documents are not accepted; please save the document as PDF and upload that.")
    )


def _refuse_unknown():
    _refuse(
        _(
            "This type of file is not accepted. Please send a photo or screenshot (JPEG, PNG, "
            "WebP or HEIC), a PDF, a plain text file or a video (MP4, WebM or MOV)."
        )
    )


# --- public API ---


def inspect_upload(uploaded, *, max_bytes=None):
    """Check one uploaded file and return what may be stored, or raise ValidationFailed.

    `uploaded` is a Django UploadedFile or any object with `.read()` (and optionally `.name`,
    `.size`, `.seek()`). `max_bytes` defaults to settings.LOCUS_MAX_EVIDENCE_FILE_BYTES.
    """
    received_at = timezone.now()
    if max_bytes is None:
        max_bytes = max_file_bytes()
    data = _read_capped(uploaded, max_bytes)
    kind, mime, extension, content = _classify(data)
    return CheckedFile(
        kind=kind,
        mime=mime,
        extension=extension,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        original_name=sanitize_name(getattr(uploaded, "name", "")),
        received_at=received_at,
    )


def check_total(sizes, max_total=None):
    """Refuse a report whose files together exceed `max_total` bytes
    (default settings.LOCUS_MAX_EVIDENCE_REPORT_BYTES)."""
    if max_total is None:
        max_total = max_report_bytes()
    if sum(sizes) > max_total:
        _refuse(
            _(
                "Together the files are larger than %(limit)s, the most one report can carry: "
                "please leave a file out, or send a smaller one."
            )
            % {"limit": filesizeformat(max_total)}
        )


def sanitize_name(name):
    """The client's file name made harmless for display: no directories, traversal, control or
    bidirectional-override characters, NFC, at most MAX_NAME_LENGTH characters. Never a path."""
    if not isinstance(name, str):
        name = name.decode("utf-8", "replace") if isinstance(name, bytes) else ""
    name = "".join(ch for ch in name if not _is_invisible(ch))
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]  # the last path component only
    name = re.sub(r'[:*?"<>|]', "_", name)  # characters no common file system accepts
    name = re.sub(r"\s+", " ", name)
    name = re.sub(r"\.{2,}", ".", name)  # no "..", anywhere
    name = name.strip(" .")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        if dot and stem and 0 < len(suffix) <= 10:
            name = stem[: MAX_NAME_LENGTH - len(suffix) - 2].rstrip(" .") + "…." + suffix
        else:
            name = name[: MAX_NAME_LENGTH - 1].rstrip(" .") + "…"
    return name


# Zero-width joiners are part of how some scripts (and emoji) are written; other format
# characters, bidirectional overrides among them, only serve to disguise a name.
_KEEP_FORMAT_CHARS = {"\u200c", "\u200d"}


def _is_invisible(ch):
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _KEEP_FORMAT_CHARS
    return category in {"Cc", "Cs", "Co", "Cn", "Zl", "Zp"}


# --- reading ---


def _read_capped(uploaded, max_bytes):
    too_big = _(
        "This file is larger than %(limit)s, the largest file we can accept: please send a "
        "smaller one, such as a screenshot or a shorter video."
    ) % {"limit": filesizeformat(max_bytes)}
    declared = getattr(uploaded, "size", None)
    if isinstance(declared, int) and declared > max_bytes:
        _refuse(too_big)
    seek = getattr(uploaded, "seek", None)
    if seek is not None:
        with contextlib.suppress(OSError, ValueError):
            seek(0)
    chunks, total = [], 0
    while total <= max_bytes:
        chunk = uploaded.read(min(_READ_CHUNK, max_bytes + 1 - total))
        if not chunk:
            break
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise TypeError("inspect_upload() needs a file opened in binary mode")
        chunks.append(bytes(chunk))
        total += len(chunk)
    if total > max_bytes:
        _refuse(too_big)
    if total == 0:
        _refuse(_("The file is empty."))
    return b"".join(chunks)


# --- deciding the type ---

# Signatures that contain bytes no text file has, so they can be checked before the text test.
_EXECUTABLE_MAGIC = (
    b"\x7fELF",  # Linux, BSD
    b"\xfe\xed\xfa\xce",  # Mach-O 32-bit
    b"\xfe\xed\xfa\xcf",  # Mach-O 64-bit
    b"\xce\xfa\xed\xfe",  # Mach-O 32-bit, little-endian
    b"\xcf\xfa\xed\xfe",  # Mach-O 64-bit, little-endian
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary (and Java classes)
    b"\x00asm",  # WebAssembly
)
_ARCHIVE_MAGIC = (
    b"PK\x03\x04",
    b"PK\x05\x06",  # empty ZIP
    b"PK\x07\x08",  # spanned ZIP
    b"Rar!\x1a\x07",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b",  # gzip
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",  # zstd
)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls, .ppt, .msg
_FILETYPE_OFFICE = {"doc", "docx", "odt", "xls", "xlsx", "ods", "ppt", "pptx", "odp", "rtf"}
_FILETYPE_ARCHIVE = {
    "zip", "tar", "rar", "gz", "bz2", "7z", "xz", "Z", "lzo", "lz", "lz4", "zst", "br", "ar",
    "cab", "epub", "deb", "rpm",
}  # fmt: skip
_FILETYPE_EXECUTABLE = {"exe", "elf", "wasm", "crx", "swf", "nes"}

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_GENERIC_BRANDS = {b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
    b"mp41", b"mp42", b"mp71", b"avc1", b"dash", b"mmp4", b"M4V ", b"M4VH", b"M4VP", b"MSNV",
}  # fmt: skip


def _classify(data):
    """(kind, mime, extension, content to store) for allowed content; refuses the rest."""
    head = data[:_SNIFF_BYTES]

    if head.startswith(_EXECUTABLE_MAGIC):
        _refuse_executable()
    if head.startswith(b"\xff\xd8\xff"):
        return _image(data, "JPEG")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _image(data, "PNG")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _image(data, "WEBP")
    if head.startswith(b"%PDF-"):
        return _pdf(data)
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM or Matroska
        if b"webm" in head[:64]:
            return "video", "video/webm", "webm", data
        _refuse_other_video()
    brands = _iso_brands(head)
    if brands is not None:
        return _iso_media(data, *brands)
    if head.startswith(_OLE2_MAGIC):
        _refuse_office()
    if head.startswith(_ARCHIVE_MAGIC):
        if head.startswith(b"PK") and _zip_is_office(head):
            _refuse_office()
        _refuse_archive()

    if _looks_like_text(data):
        return _text(data)

    # Neither text nor allowed: say what it is, if we can tell.
    if head.startswith(b"MZ"):
        _refuse_executable()
    guessed = _filetype_guess(head)
    if guessed is not None:
        if guessed.extension in _FILETYPE_OFFICE:
            _refuse_office()
        if guessed.extension in _FILETYPE_ARCHIVE:
            _refuse_archive()
        if guessed.extension in _FILETYPE_EXECUTABLE:
            _refuse_executable()
        if guessed.mime.startswith("image/"):
            _refuse_other_image()
        if guessed.mime.startswith("video/"):
            _refuse_other_video()
    _refuse_text_problem(data)
    _refuse_unknown()


def _filetype_guess(head):
    import filetype

    try:
        return filetype.guess(head)
    except Exception:  # a third-party sniffer fed hostile bytes; not knowing is an answer
        return None


def _zip_is_office(head):
    return (
        b"[Content_Types].xml" in head
        or b"mimetypeapplication/vnd.oasis.opendocument" in head
        or b"word/" in head
        or b"xl/" in head
        or b"ppt/" in head
    )


def _refuse_other_image():
    _refuse(_("This image format is not accepted; please send a JPEG, PNG, WebP or HEIC image."))


def _refuse_other_video():
    _refuse(_("This video format is not accepted; please send an MP4, WebM or MOV video."))


def _iso_brands(head):
    """(major brand, all brands) of an ISO base media file (MP4, MOV, HEIF), or None."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[:4], "big")
    if not 16 <= box_size <= 1024:  # real "ftyp" boxes are small
        return None
    major = head[8:12]
    compatible = head[16 : min(box_size, len(head))]
    brands = {major} | {compatible[i : i + 4] for i in range(0, len(compatible) - 3, 4)}
    return major, brands


def _iso_media(data, major, brands):
    if brands & _HEIF_BRANDS:
        return _image(data, "HEIF")
    if brands & _AVIF_BRANDS:
        _refuse_other_image()
    if major in _HEIF_GENERIC_BRANDS:
        return _image(data, "HEIF")
    if major == b"qt  ":
        return "video", "video/quicktime", "mov", strip_iso_metadata(data)
    if brands & _MP4_BRANDS:
        return "video", "video/mp4", "mp4", strip_iso_metadata(data)
    if any(brand.startswith(b"3g") for brand in brands):
        _refuse_other_video()
    _refuse_unknown()


# --- video metadata ---
#
# An MP4 or MOV file is a tree of boxes: 4-byte size, 4-byte type, then the payload (a 64-bit
# size follows when the size is 1; size 0 runs to the end of the enclosing box; a `uuid` box
# carries a 16-byte extended type). The media data (`mdat`) is addressed by absolute file
# offsets (`stco`/`co64`), so nothing may move. Each metadata box is therefore overwritten in
# place by a `free` box of exactly the same size, its payload zeroed: players skip `free`.

# Metadata boxes: user data (`udta`: ©xyz GPS, ©day, ©mak, ©mod, ©too, XMP_, chapters' names…)
# and `meta` (iTunes-style `ilst`, QuickTime's `keys` with com.apple.quicktime.location.*).
_ISO_METADATA = {b"udta", b"meta"}
# `uuid` boxes with these extended types are metadata too: XMP (Adobe), Canon/Sony/GoPro
# vendor blocks are under `udta` already; XMP is also written at the top level.
_XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
# Boxes whose payload is only boxes, and which may hold metadata boxes.
_ISO_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"edts", b"moof", b"traf", b"mvex"}
_ISO_MAX_DEPTH = 16


def _refuse_broken_video(reason):
    logger.info("video refused: %s", reason)
    _refuse(
        _(
            "This video file is damaged or not a valid MP4 or MOV file (its structure is "
            "broken), so it cannot be accepted. Try exporting it again."
        )
    )


def _iso_boxes(data, start, end):
    """(type, box start, payload start, box end) of each box between `start` and `end`;
    refuses a box that does not fit in its parent."""
    offset = start
    while offset < end:
        if end - offset < 8:
            if any(data[offset:end]):  # zero padding after the last box is harmless
                _refuse_broken_video(f"{end - offset} stray bytes at {offset}")
            return
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = bytes(data[offset + 4 : offset + 8])
        header = 8
        if size == 1:
            if end - offset < 16:
                _refuse_broken_video(f"truncated 64-bit size at {offset}")
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
            header = 16
        elif size == 0:
            size = end - offset  # to the end of the enclosing box
        if kind == b"uuid":
            header += 16
        if size < header or offset + size > end:
            _refuse_broken_video(f"box {kind!r} of size {size} at {offset} does not fit")
        yield kind, offset, offset + header, offset + size
        offset += size


def _blank_box(out, start, end):
    """Turn the box at `start` into a `free` box of the same size, every byte after the size
    fields zeroed (a `uuid` box's extended type included)."""
    out[start + 4 : start + 8] = b"free"
    size_fields = 16 if int.from_bytes(out[start : start + 4], "big") == 1 else 8
    out[start + size_fields : end] = bytes(end - start - size_fields)


def strip_iso_metadata(data):
    """An MP4/MOV file with its metadata boxes (`udta`, `meta`, XMP `uuid`) blanked in place
    (see above); the media and every offset stay as they are. Refuses a file whose box
    structure is broken. Returns `data` itself when there was nothing to blank."""
    out = None

    def walk(start, end, depth):
        nonlocal out
        if depth > _ISO_MAX_DEPTH:
            _refuse_broken_video("boxes nested too deep")
        for kind, box, payload, box_end in _iso_boxes(data, start, end):
            xmp = kind == b"uuid" and data[payload - 16 : payload] == _XMP_UUID
            if kind in _ISO_METADATA or xmp:
                if out is None:
                    out = bytearray(data)
                _blank_box(out, box, box_end)
            elif kind in _ISO_CONTAINERS:
                walk(payload, box_end, depth + 1)

    walk(0, len(data), 0)
    return data if out is None else bytes(out)


# --- text ---

# Bytes that never occur in text (the WHATWG "binary data byte" set): NUL and most C0 controls.
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_HTML_TAGS = (
    "html", "head", "body", "script", "iframe", "meta", "link", "style", "div", "span", "p",
    "a", "img", "table", "form", "title", "base", "object", "embed", "br", "b", "i", "h1",
    "h2", "h3", "font", "frameset", "frame",
)  # fmt: skip
_MARKUP_START = re.compile(r"<[a-z!?%/]")
_NON_ASCII = bytes(range(128, 256))


def _looks_like_text(data):
    if _BINARY_BYTES.search(data):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(data):
    text = data.decode("utf-8")
    start = text.lstrip("\ufeff")
    if start.startswith("#!"):
        _refuse_executable()
    if start.startswith("{\\rtf"):
        _refuse_office()
    start = start.lstrip()
    if start.startswith("<"):
        _refuse_markup(start[:4096].lower())
    return "text", "text/plain", "txt", data


def _refuse_markup(start):
    if not _MARKUP_START.match(start):
        return  # "<3", "< 5 km away": text that happens to begin with "<"
    if "<svg" in start or "http://www.w3.org/2000/svg" in start:
        _refuse_svg()
    if start.startswith(("<?php", "<%")):
        _refuse_executable()
    if start.startswith(("<!doctype html", "<!--")) or "<html" in start:
        _refuse_html()
    if start.startswith(("<?xml", "<!")):
        _refuse_xml()
    tag = re.match(r"</?([a-z][a-z0-9]*)", start)
    if tag and tag.group(1) not in _HTML_TAGS:
        _refuse_xml()
    _refuse_html()


def _refuse_text_problem(data):
    """Binary or non-UTF-8 data that is otherwise text: say why it is not plain text."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            decoded = data.decode("utf-16")
        except UnicodeDecodeError:
            return
        if not _BINARY_BYTES.search(decoded.encode("utf-8")):
            _refuse_not_utf8()
        return
    stripped = _BINARY_BYTES.sub(b"", data)
    if len(stripped) < len(data) // 2:
        return  # mostly binary: not a text file with a few bad bytes
    try:
        stripped.decode("utf-8")
    except UnicodeDecodeError:
        ascii_bytes = len(data.translate(None, _NON_ASCII))
        if len(stripped) == len(data) and ascii_bytes >= 0.7 * len(data):
            _refuse_not_utf8()  # mostly ASCII, no binary bytes: text in a legacy encoding
        return
    _refuse(
        _(
            "This file contains binary data (such as NUL bytes), so it is not plain text; "
            "please send it as PDF or as a screenshot."
        )
    )


def _refuse_not_utf8():
    _refuse(_("Text files must be saved as UTF-8; please save the file as UTF-8 text or as PDF."))


# --- PDF ---

# Names that make a PDF act on its own: scripts, launching programs, carrying other files.
_PDF_ACTIVE_NAMES = {
    b"JavaScript", b"JS", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"RichMedia", b"XFA",
}  # fmt: skip
_PDF_DELIMITED = rb"(?![^\s\x00/<>\[\]()%{}])"  # the name ends here
_PDF_LONG_ACTIVE_NAME = re.compile(
    rb"/(?:JavaScript|Launch|EmbeddedFiles?|RichMedia|XFA)" + _PDF_DELIMITED
)
# "/JS" is three bytes, so it turns up by chance in compressed data (about once in 20 MB even
# with its value required after it). A JavaScript action also needs "/S /JavaScript", which
# is caught on its own, so a "/JS" surrounded by binary noise is taken for noise.
_PDF_JS_KEY = re.compile(rb"/JS(?=\s*(?:[(<]|\d+\s+\d+\s+R))")
_PDF_NOISE_BYTE = re.compile(rb"[^\t\n\r\x20-\x7e]")
# Any character of a name may be written as #xx: "/J#61vaScript" is "/JavaScript".
_PDF_ESCAPED_NAME = re.compile(rb"/([^\s\x00/<>\[\]()%{}#]*#[^\s\x00/<>\[\]()%{}]*)")
_PDF_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream[ \t]*(?:\r\n|\n|\r)")  # also finds "endstream"
# Decoded object streams start with pairs of integers (object number, offset).
_PDF_OBJECT_STREAM_START = re.compile(rb"\s*(?:%[^\r\n]*[\r\n]+\s*)*\d+\s+\d+")
_PDF_DECODE_CHUNK = 1024 * 1024
_PDF_DECODE_BUDGET = 256 * 1024 * 1024  # decoded bytes per file, across object streams


class _Uncheckable(Exception):
    pass


def _pdf(data):
    try:
        active = _pdf_has_active_content(data)
    except _Uncheckable:
        _refuse(
            _(
                "This PDF could not be checked for scripts; please print it to a new PDF or send "
                "screenshots."
            )
        )
    if active:
        _refuse(
            _(
                "This PDF contains scripts, launch actions or embedded files; please print it to "
                "a new PDF or send screenshots."
            )
        )
    return "pdf", "application/pdf", "pdf", data


def _has_active_name(raw):
    if _PDF_LONG_ACTIVE_NAME.search(raw):
        return True
    for match in _PDF_JS_KEY.finditer(raw):
        before = raw[max(0, match.start() - 32) : match.start()]
        after = raw[match.end() : match.end() + 32]
        if len(_PDF_NOISE_BYTE.findall(before)) < 4 or len(_PDF_NOISE_BYTE.findall(after)) < 4:
            return True
    if b"#" in raw:
        for match in _PDF_ESCAPED_NAME.finditer(raw):
            name = _PDF_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
            if name in _PDF_ACTIVE_NAMES:
                return True
    return False


def _pdf_has_active_content(data):
    """Look for active names in the file and in its compressed object streams, where a
    dictionary such as `<< /S /JavaScript /JS (...) >>` may hide. Raises _Uncheckable when an
    object stream cannot be decoded completely within the budget."""
    if _has_active_name(data):
        return True
    budget = _PDF_DECODE_BUDGET
    for match in _PDF_STREAM.finditer(data):
        if data[match.start() - 3 : match.start()] == b"end":
            continue
        start = match.end()
        end = data.find(b"endstream", start)
        inflater = zlib.decompressobj()
        try:
            decoded = inflater.decompress(data[start : end if end >= 0 else len(data)], 64)
        except zlib.error:
            continue  # not Flate: images, fonts, uncompressed content (already scanned)
        if not _PDF_OBJECT_STREAM_START.match(decoded):
            continue  # page content, images, cross-reference data: no dictionaries
        carry = b""
        while True:  # decode in chunks, scanning each with an overlap for names cut in two
            budget -= len(decoded)
            window = carry + decoded
            if _has_active_name(window):
                return True
            if inflater.eof:
                break
            if budget <= 0:
                raise _Uncheckable
            carry = window[-64:]
            tail = inflater.unconsumed_tail
            try:
                decoded = inflater.decompress(tail, min(_PDF_DECODE_CHUNK, budget))
            except zlib.error:
                raise _Uncheckable from None
            if not decoded and not inflater.eof:
                raise _Uncheckable  # the stream ends before its data does
    return False


# --- images ---

_heif_registered = False


def _register_heif():
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def _image(data, pillow_format):
    """Decode, apply orientation, and re-encode from pixels alone."""
    from PIL import Image, ImageFile

    # WeasyPrint (PDF reports) turns this on for the whole process when it is imported; a
    # truncated upload must still be refused, not padded with grey.
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    if pillow_format == "HEIF":
        _register_heif()
    cap = max_image_pixels()
    too_large = _(
        "This image is too large (more than %(megapixels)s megapixels); please send a smaller "
        "image or a screenshot."
    ) % {"megapixels": f"{cap / 1_000_000:g}"}
    corrupt = _("This image is damaged or incomplete and cannot be opened; please send it again.")
    # Pillow's own guard (Image.MAX_IMAGE_PIXELS, process-wide) stays as it is: the cap is
    # checked here on the header, before any pixel is decoded, and Pillow's error for images
    # beyond twice its limit is caught below.
    try:
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as img:
            width, height = img.size
            if width * height > cap:
                _refuse(too_large)
            img.load()  # the first frame of an animation
            cleaned, save_as = _clean_pixels(img, keep_png=pillow_format == "PNG")
        out = io.BytesIO()
        if save_as == "PNG":
            cleaned.save(out, "PNG")
            return "image", "image/png", "png", out.getvalue()
        cleaned.save(out, "JPEG", quality=JPEG_QUALITY)
        return "image", "image/jpeg", "jpg", out.getvalue()
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse(too_large)
    except Exception as exc:  # Pillow and libheif fail on hostile input in many different ways
        logger.info("evidence image refused: %s", type(exc).__name__)
        _refuse(corrupt)


def _clean_pixels(img, *, keep_png):
    """A new image holding only the pixels (orientation applied), and the format to save it in."""
    from PIL import ImageOps

    try:
        ImageOps.exif_transpose(img, in_place=True)
    except Exception:  # unreadable EXIF: keep the pixels as they are rather than refuse
        logger.info("evidence image orientation ignored: unreadable EXIF")
    oriented = img

    alpha = oriented.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in oriented.info
    if alpha:
        oriented = oriented.convert("LA" if oriented.mode == "LA" else "RGBA")
        if oriented.getchannel("A").getextrema()[0] == 255:  # fully opaque after all
            alpha = False
            oriented = oriented.convert("L" if oriented.mode == "LA" else "RGB")

    if alpha:
        mode, save_as = oriented.mode, "PNG"
    elif keep_png:
        save_as = "PNG"
        mode = oriented.mode if oriented.mode in {"1", "L", "P", "RGB", "I;16"} else "RGB"
    else:
        save_as = "JPEG"
        mode = "L" if oriented.mode == "L" else "RGB"
    cleaned = oriented.convert(mode)  # always a new image, even in the same mode
    cleaned.info = {}  # EXIF, XMP, ICC, comments, text chunks, transparency: all gone
    return cleaned, save_as
