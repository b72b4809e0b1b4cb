"""Evidence uploads: type decided by content, images re-encoded without metadata, every hostile
file refused with its own message, and a property that holds for any bytes. Every file is made
here; no binary fixtures."""

import io
import struct
import tarfile
import zipfile
import zlib

import pillow_heif
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, PngImagePlugin

from locus.core.errors import ValidationFailed
from locus.core.files import KINDS, CheckedFile, check_total, inspect_upload, sanitize_name

pillow_heif.register_heif_opener()  # to make HEIC test files (the module registers on its own)

MB = 1024 * 1024
GPS_IFD = 0x8825
ORIENTATION = 0x0112
SECRET_COMMENT = b"LOCUS-SECRET-COMMENT taken at 12 Acacia Avenue"
XMP_PACKET = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="51,30.2N" exif:GPSLongitude="0,7.6W"/>'
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)

SVG_MESSAGE = "SVG images can carry scripts; please send a PNG or JPEG screenshot"
HTML_MESSAGE = "Web pages (HTML) can carry scripts"
XML_MESSAGE = "XML files are not accepted"
ARCHIVE_MESSAGE = "Archives (ZIP, RAR, 7z, gzip, tar) are not accepted"
EXECUTABLE_MESSAGE = "Programs and scripts are not accepted"
OFFICE_MESSAGE = "please save the document as PDF"
PDF_ACTIVE_MESSAGE = "This PDF contains scripts, launch actions or embedded files"
PDF_UNCHECKABLE_MESSAGE = "This PDF could not be checked for scripts"
TOO_MANY_PIXELS_MESSAGE = "This image is too large"
CORRUPT_MESSAGE = "This image is damaged or incomplete"
BINARY_TEXT_MESSAGE = "This file contains binary data (such as NUL bytes)"
NOT_UTF8_MESSAGE = "Text files must be saved as UTF-8"
TOO_BIG_MESSAGE = "This file is larger than"
EMPTY_MESSAGE = "The file is empty."
UNKNOWN_MESSAGE = "This type of file is not accepted."
OTHER_IMAGE_MESSAGE = "This image format is not accepted"
OTHER_VIDEO_MESSAGE = "This video format is not accepted"

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# --- builders ---


def upload(content, name="evidence", content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


class NamedBytes(io.BytesIO):
    """A bare file-like object: unlike Django's UploadedFile it does not clean the name first."""

    def __init__(self, data, name):
        super().__init__(data)
        self.name = name
        self.size = len(data)


def accepted(content, name="evidence", max_bytes=MB, **kwargs):
    checked = inspect_upload(upload(content, name, **kwargs), max_bytes=max_bytes)
    assert isinstance(checked, CheckedFile)
    return checked


def refused(content, name="evidence", max_bytes=MB):
    with pytest.raises(ValidationFailed) as info:
        inspect_upload(upload(content, name), max_bytes=max_bytes)
    assert info.value.fields == {"files": [info.value.message]}, "shown next to the files field"
    return info.value.message


def pattern(size=(64, 48)):
    """An RGB image whose top-left quarter is red and the rest blue."""
    img = Image.new("RGB", size, (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, size[0] // 2, size[1] // 2))
    return img


def exif_with_gps(orientation=None):
    exif = Image.Exif()
    exif[0x010F] = "LocusPhone"  # Make
    if orientation:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)})
    return exif


def srgb_profile():
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def jpeg_with_metadata(size=(64, 48), orientation=None):
    out = io.BytesIO()
    pattern(size).save(
        out,
        "JPEG",
        quality=95,
        exif=exif_with_gps(orientation).tobytes(),
        comment=SECRET_COMMENT,
        xmp=XMP_PACKET,
        icc_profile=srgb_profile(),
    )
    return out.getvalue()


def encode(img, fmt, **params):
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def noisy_jpeg():
    return encode(Image.effect_noise((256, 256), 64).convert("RGB"), "JPEG", quality=95)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width=30000, height=30000):
    """A valid single-colour greyscale PNG of width×height pixels in well under a megabyte:
    the same deflate block of zero rows, repeated (a full flush makes blocks independent)."""
    row_bytes = width + 1  # filter byte + one byte per pixel
    rows_per_block = 100
    assert height % rows_per_block == 0
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflater.compress(b"\x00" * row_bytes * rows_per_block)
    block += deflater.flush(zlib.Z_FULL_FLUSH)
    total = row_bytes * height
    adler = (total % 65521) << 16 | 1  # Adler-32 of `total` zero bytes
    idat = b"\x78\xda" + block * (height // rows_per_block) + b"\x03\x00" + adler.to_bytes(4, "big")
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def pdf(*objects):
    """A PDF whose object 1 is the catalog; `objects` are the bodies of objects 2, 3, …"""
    objects = objects or (
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    )
    bodies = [b"<< /Type /Catalog /Pages 2 0 R >>", *objects]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)


def stream(data, **entries):
    extra = b"".join(b" /%s %s" % (k.encode(), v.encode()) for k, v in entries.items())
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def page_objects(content_stream):
    return (
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        content_stream,
    )


def object_stream(body, *, with_type=True):
    """Object 5 hidden inside a compressed object stream."""
    header = b"5 0 "
    entries = {"N": "1", "First": str(len(header)), "Filter": "/FlateDecode"}
    if with_type:
        entries["Type"] = "/ObjStm"
    return stream(zlib.compress(header + body), **entries)


def zip_bytes(**members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name.replace("__", "/"), data)
    return out.getvalue()


def tar_bytes():
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo("notes.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    return out.getvalue()


def gzip_bytes():
    import gzip

    return gzip.compress(b"hello", mtime=0)


def iso_file(major, *compatible):
    brands = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    ftyp = struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands
    return ftyp + struct.pack(">I", 16) + b"mdat" + b"\x00" * 8


def ebml(doctype):
    element = b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(element)]) + element + b"\x00" * 32


def reopen(checked):
    img = Image.open(io.BytesIO(checked.content))
    img.load()
    return img


# --- images: re-encoded from pixels, nothing else kept ---


def test_jpeg_loses_exif_gps_xmp_icc_and_comment():
    original = jpeg_with_metadata()
    source = Image.open(io.BytesIO(original))  # the test file really carries all of it
    assert source.getexif().get_ifd(GPS_IFD)
    assert {"exif", "xmp", "icc_profile", "comment"} <= set(source.info)
    for marker in (b"Exif", b"http://ns.adobe.com/xap", SECRET_COMMENT, b"GPSLatitude"):
        assert marker in original

    checked = accepted(original, name="IMG_0001.JPG", content_type="image/jpeg")

    assert (checked.kind, checked.mime, checked.extension) == ("image", "image/jpeg", "jpg")
    img = reopen(checked)
    assert img.format == "JPEG"
    assert img.size == (64, 48)
    assert not img.getexif()
    assert not img.getexif().get_ifd(GPS_IFD)
    assert not {"exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"} & set(img.info)
    for marker in (b"Exif", b"http://ns.adobe.com/xap", SECRET_COMMENT, b"GPSLatitude", b"ICC"):
        assert marker not in checked.content


def test_checked_file_describes_the_stored_bytes():
    import hashlib

    checked = accepted(jpeg_with_metadata(), name="photo.jpg")
    assert checked.size == len(checked.content)
    assert checked.sha256 == hashlib.sha256(checked.content).hexdigest()
    assert checked.original_name == "photo.jpg"
    assert checked.received_at.tzinfo is not None
    assert checked.content not in repr(checked).encode(), "evidence bytes stay out of logs"


def test_exif_orientation_is_applied_before_the_exif_goes():
    checked = accepted(jpeg_with_metadata(size=(60, 40), orientation=6))
    img = reopen(checked).convert("RGB")
    assert img.size == (40, 60), "orientation 6 (rotate 90° clockwise): width and height swap"
    assert ORIENTATION not in img.getexif()
    # the red top-left quarter of the stored picture is now its top-right quarter
    red, blue = (255, 0, 0), (0, 0, 255)
    assert _close(img.getpixel((35, 5)), red)
    assert _close(img.getpixel((5, 5)), blue)


def _close(pixel, colour, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_png_text_chunks_icc_and_exif_are_stripped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "LOCUS-PNG-SECRET")
    info.add_text("Location", "LOCUS-PNG-ZTXT", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode(), zip=False)
    original = encode(
        pattern(), "PNG", pnginfo=info, icc_profile=srgb_profile(), exif=exif_with_gps()
    )
    assert b"tEXt" in original and b"zTXt" in original and b"iTXt" in original

    checked = accepted(original, name="screenshot.png")

    assert (checked.mime, checked.extension) == ("image/png", "png")
    img = reopen(checked)
    assert img.text == {}
    assert not img.getexif()
    assert not {"icc_profile", "exif", "Comment", "XML:com.adobe.xmp"} & set(img.info)
    for marker in (b"tEXt", b"zTXt", b"iTXt", b"iCCP", b"eXIf", b"LOCUS-PNG", b"Exif"):
        assert marker not in checked.content
    assert img.convert("RGB").tobytes() == pattern().tobytes(), "PNG stays lossless"


def test_transparency_is_kept_as_png_and_opaque_webp_becomes_jpeg():
    clear = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    checked = accepted(encode(clear, "WEBP", lossless=True))
    assert checked.mime == "image/png"
    assert reopen(checked).getpixel((0, 0))[3] == 0

    checked = accepted(encode(pattern(), "WEBP", quality=90, exif=exif_with_gps().tobytes()))
    assert checked.mime == "image/jpeg"
    assert b"Exif" not in checked.content


def test_animated_images_keep_their_first_frame():
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    apng = encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(apng)).n_frames == 2

    img = reopen(accepted(apng))
    assert getattr(img, "n_frames", 1) == 1
    assert b"acTL" not in accepted(apng).content
    assert img.convert("RGB").getpixel((8, 8)) == (255, 0, 0)


def test_heic_is_converted_to_jpeg_without_metadata():
    heic = encode(pattern(), "HEIF", quality=90, exif=exif_with_gps().tobytes())
    assert heic[4:12] == b"ftypheic"

    checked = accepted(heic, name="IMG_0002.HEIC", content_type="image/heic")

    assert (checked.kind, checked.mime, checked.extension) == ("image", "image/jpeg", "jpg")
    img = reopen(checked)
    assert img.format == "JPEG" and img.size == (64, 48)
    assert not img.getexif()
    assert b"Exif" not in checked.content


def test_type_is_decided_by_content_not_by_name_or_content_type():
    checked = accepted(encode(pattern(), "PNG"), name="report.pdf", content_type="application/pdf")
    assert (checked.kind, checked.extension) == ("image", "png")
    assert checked.original_name == "report.pdf", "kept for display only"


# --- hostile files ---


def test_svg_with_script_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
    assert SVG_MESSAGE in refused(svg, name="image.svg")
    prolog = b'\xef\xbb\xbf  <?xml version="1.0"?>\n<!DOCTYPE svg>\n' + svg
    assert SVG_MESSAGE in refused(prolog, name="image.png")


@pytest.mark.parametrize(
    "markup",
    [
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b"\n\n  <html><img src=x onerror=alert(1)>",
        b"<script>fetch('/api')</script>",
        b"<!-- comment --><iframe src=//evil></iframe>",
    ],
)
def test_html_disguised_as_jpeg_is_refused(markup):
    assert HTML_MESSAGE in refused(markup, name="photo.jpg")


def test_xml_is_refused_but_text_that_starts_with_a_bracket_is_not():
    assert XML_MESSAGE in refused(b'<?xml version="1.0"?><note><to>x</to></note>')
    assert XML_MESSAGE in refused(b"<note><to>x</to></note>")
    checked = accepted(b"<3 to everyone who helped. < 5 minutes later")
    assert (checked.kind, checked.mime, checked.extension) == ("text", "text/plain", "txt")


def test_jpeg_zip_polyglot_is_neutralised_by_re_encoding():
    payload = zip_bytes(**{"payload.html": b"<script>alert(1)</script>"})
    polyglot = jpeg_with_metadata() + payload
    assert b"PK\x03\x04" in polyglot
    checked = accepted(polyglot, name="holiday.jpg")
    assert checked.kind == "image"
    assert b"PK\x03\x04" not in checked.content
    assert b"<script>" not in checked.content
    assert reopen(checked).size == (64, 48)


def test_jpeg_with_appended_html_is_neutralised():
    checked = accepted(jpeg_with_metadata() + b"<html><script>alert(1)</script></html>")
    assert b"<script>" not in checked.content


def test_decompression_bomb_is_refused_without_decoding():
    bomb = png_bomb()
    assert len(bomb) < MB
    assert TOO_MANY_PIXELS_MESSAGE in refused(bomb, name="bomb.png")


def test_images_over_the_configured_pixel_cap_are_refused(settings):
    settings.LOCUS_MAX_IMAGE_PIXELS = 10_000
    image = encode(Image.new("RGB", (200, 100), (9, 9, 9)), "PNG")  # 20,000 pixels
    message = refused(image)
    assert TOO_MANY_PIXELS_MESSAGE in message and "0.01 megapixels" in message
    assert accepted(encode(Image.new("RGB", (100, 100)), "PNG")).kind == "image"


def test_truncated_jpeg_is_refused():
    whole = noisy_jpeg()
    assert accepted(whole).kind == "image"
    assert CORRUPT_MESSAGE in refused(whole[: len(whole) * 3 // 5], name="cut.jpg")


def test_truncated_jpeg_is_refused_after_weasyprint_was_imported(monkeypatch):
    """WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process on import."""
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # what WeasyPrint does
    whole = noisy_jpeg()
    assert CORRUPT_MESSAGE in refused(whole[: len(whole) * 3 // 5], name="cut.jpg")


def test_garbage_behind_an_image_signature_is_refused():
    assert CORRUPT_MESSAGE in refused(b"\xff\xd8\xff" + b"\x00" * 200)
    assert CORRUPT_MESSAGE in refused(iso_file(b"heic", b"mif1", b"heic"))


def test_clean_pdf_is_kept_as_it_is():
    document = pdf()
    checked = accepted(document, name="letter.pdf")
    assert (checked.kind, checked.mime, checked.extension) == ("pdf", "application/pdf", "pdf")
    assert checked.content == document


def test_pdf_with_compressed_content_is_kept():
    drawing = zlib.compress(b"1 0 0 1 72 720 cm BT /F1 24 Tf (JS is fine as text) Tj ET")
    text = zlib.compress(b"BT /F1 24 Tf 72 720 Td (Hello) Tj ET")
    for content in (drawing, text):
        assert accepted(pdf(*page_objects(stream(content, Filter="/FlateDecode")))).kind == "pdf"


@pytest.mark.parametrize(
    "action",
    [
        b"<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>",
        b"<< /S /Launch /F (cmd.exe) >>",
        b"<< /Type /EmbeddedFile /Length 0 >>",
        b"<</S/JavaScript/JS(app.alert(1))>>",
        b"<< /S /J#61va#53cript /J#53 (app.alert(1)) >>",  # the same names, #-escaped
        b"<< /JS 7 0 R >>",
        b"<< /Names << /EmbeddedFiles 8 0 R >> >>",
    ],
)
def test_pdf_with_active_content_is_refused(action):
    document = pdf(b"<< /Type /Pages /Kids [] /Count 0 >>", action)
    assert PDF_ACTIVE_MESSAGE in refused(document, name="invoice.pdf")


def test_pdf_with_js_by_chance_in_compressed_data_is_kept():
    noise = bytes(range(128, 256))
    document = pdf(*page_objects(stream(noise + b"/JS(" + noise, Filter="/FlateDecode")))
    assert accepted(document).kind == "pdf"


@pytest.mark.parametrize("with_type", [True, False])
def test_pdf_with_javascript_inside_an_object_stream_is_refused(with_type):
    hidden = b"<< /S /JavaScript /JS (app.alert(1)) >>"
    document = pdf(
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        b"<< /OpenAction 5 0 R >>",
        object_stream(hidden, with_type=with_type),
    )
    assert b"JavaScript" not in document
    assert PDF_ACTIVE_MESSAGE in refused(document)
    harmless = pdf(
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        object_stream(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"),
    )
    assert accepted(harmless).kind == "pdf"


def test_pdf_whose_object_stream_cannot_be_decoded_is_refused():
    broken = zlib.compress(b"5 0 << /S /JavaScript /JS (app.alert(1)) >>" + b" " * 4000)[:40]
    document = pdf(b"<< /Type /Pages /Kids [] /Count 0 >>", stream(broken, Type="/ObjStm"))
    assert PDF_UNCHECKABLE_MESSAGE in refused(document)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(zip_bytes(**{"a.txt": b"hello"}), ARCHIVE_MESSAGE, id="zip"),
        pytest.param(zip_bytes(), ARCHIVE_MESSAGE, id="empty-zip"),
        pytest.param(tar_bytes(), ARCHIVE_MESSAGE, id="tar"),
        pytest.param(gzip_bytes(), ARCHIVE_MESSAGE, id="gzip"),
        pytest.param(b"Rar!\x1a\x07\x01\x00" + b"\x00" * 32, ARCHIVE_MESSAGE, id="rar"),
        pytest.param(b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 32, ARCHIVE_MESSAGE, id="7z"),
        pytest.param(
            zip_bytes(**{"[Content_Types].xml": b"<Types/>", "word__document.xml": b"<w/>"}),
            OFFICE_MESSAGE,
            id="docx",
        ),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, OFFICE_MESSAGE, id="doc"),
        pytest.param(b"{\\rtf1\\ansi Hello}", OFFICE_MESSAGE, id="rtf"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56, EXECUTABLE_MESSAGE, id="elf"),
        pytest.param(
            b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"PE\x00\x00",
            EXECUTABLE_MESSAGE,
            id="windows-exe",
        ),
        pytest.param(
            b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 24, EXECUTABLE_MESSAGE, id="mach-o"
        ),
        pytest.param(b"#!/bin/sh\nrm -rf ~\n", EXECUTABLE_MESSAGE, id="shebang"),
        pytest.param(
            b"\xef\xbb\xbf#!/usr/bin/env python3\nimport os\n",
            EXECUTABLE_MESSAGE,
            id="shebang-after-bom",
        ),
        pytest.param(b"<?php system($_GET['c']); ?>", EXECUTABLE_MESSAGE, id="php"),
        pytest.param(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", OTHER_IMAGE_MESSAGE, id="gif"),
        pytest.param(iso_file(b"avif", b"mif1", b"avif"), OTHER_IMAGE_MESSAGE, id="avif"),
        pytest.param(ebml(b"matroska"), OTHER_VIDEO_MESSAGE, id="mkv"),
        pytest.param(iso_file(b"3gp4", b"3gp4"), OTHER_VIDEO_MESSAGE, id="3gp"),
        pytest.param(
            b"hello\x00world, a text file with NUL bytes", BINARY_TEXT_MESSAGE, id="text-with-nul"
        ),
        pytest.param("Grüße aus Köln".encode("latin-1"), NOT_UTF8_MESSAGE, id="latin-1-text"),
        pytest.param("\ufeffnotes".encode("utf-16-le"), NOT_UTF8_MESSAGE, id="utf-16-text"),
        pytest.param(bytes(range(256)) * 4, UNKNOWN_MESSAGE, id="unknown-binary"),
    ],
)
def test_refused_with_a_specific_message(content, message):
    assert message in refused(content, name="photo.jpg")


@pytest.mark.parametrize(
    ("content", "mime", "extension"),
    [
        (iso_file(b"isom", b"isom", b"iso2", b"mp41"), "video/mp4", "mp4"),
        (iso_file(b"mp42", b"mp42", b"isom"), "video/mp4", "mp4"),
        (iso_file(b"qt  ", b"qt  "), "video/quicktime", "mov"),
        (ebml(b"webm"), "video/webm", "webm"),
    ],
    ids=["mp4-isom", "mp4-mp42", "mov", "webm"],
)
def test_video_is_kept_as_it_is(content, mime, extension):
    checked = accepted(content, name="clip.bin")
    assert (checked.kind, checked.mime, checked.extension) == ("video", mime, extension)
    assert checked.content == content


def test_utf8_text_is_kept_as_it_is():
    content = "Graffiti on the bus stop, 3 June 🚏\r\nReported to the council.\n".encode()
    checked = accepted(b"\xef\xbb\xbf" + content, name="notes")
    assert (checked.kind, checked.mime, checked.extension) == ("text", "text/plain", "txt")
    assert checked.content == b"\xef\xbb\xbf" + content


# --- names ---


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..\\..\\windows\\system32\\evil.exe",
        "photo\x00.jpg\r\n",
        "/var/www/../../../secret..jpg",
        "\x1b[31mred\x1b[0m.png",
        "..",
        "",
    ],
)
def test_original_name_is_made_harmless(name):
    checked = inspect_upload(NamedBytes(b"plain text", name), max_bytes=MB)
    assert "/" not in checked.original_name and "\\" not in checked.original_name
    assert ".." not in checked.original_name
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in checked.original_name)


def test_sanitize_name():
    assert sanitize_name("../../etc/passwd") == "passwd"
    assert sanitize_name("invoice\u202egpj.exe") == "invoicegpj.exe", "no bidi override"
    assert sanitize_name("cafe\u0301.jpg") == "caf\u00e9.jpg", "NFC"
    assert sanitize_name("a<b>:c|d?.png") == "a_b__c_d_.png"
    assert sanitize_name("  many   spaces  .txt ") == "many spaces .txt"
    long = sanitize_name("x" * 500 + ".jpeg")
    assert len(long) <= 120 and long.endswith("….jpeg")
    assert sanitize_name(None) == ""


# --- sizes ---


def test_empty_file_is_refused():
    assert refused(b"") == EMPTY_MESSAGE


def test_file_one_byte_over_the_cap_is_refused_and_one_at_the_cap_is_kept():
    assert TOO_BIG_MESSAGE in refused(b"a" * 1001, max_bytes=1000)
    assert accepted(b"a" * 1000, max_bytes=1000).size == 1000


class CountingFile(io.BytesIO):
    """A file-like object that does not say how big it is, and counts what is read."""

    name = "stream.txt"
    size = None

    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, n=-1):
        chunk = super().read(n)
        self.bytes_read += len(chunk)
        return chunk


def test_the_cap_is_checked_without_reading_more_than_max_bytes_plus_one():
    big = CountingFile(b"a" * (5 * MB))
    with pytest.raises(ValidationFailed, match=TOO_BIG_MESSAGE):
        inspect_upload(big, max_bytes=MB)
    assert big.bytes_read == MB + 1

    declared = CountingFile(b"a" * 10)
    declared.size = 10 * MB  # a Django upload knows its size: refused before any read
    with pytest.raises(ValidationFailed, match=TOO_BIG_MESSAGE):
        inspect_upload(declared, max_bytes=MB)
    assert declared.bytes_read == 0


def test_limits_come_from_settings_when_called(settings):
    settings.LOCUS_MAX_EVIDENCE_FILE_BYTES = 10
    with pytest.raises(ValidationFailed, match=TOO_BIG_MESSAGE):
        inspect_upload(upload(b"a" * 11))
    assert inspect_upload(upload(b"a" * 10)).size == 10

    settings.LOCUS_MAX_EVIDENCE_REPORT_BYTES = 100
    check_total([50, 50])
    with pytest.raises(ValidationFailed, match="Together the files are larger than") as info:
        check_total([50, 51])
    assert info.value.fields == {"files": [info.value.message]}


def test_check_total_with_an_explicit_cap():
    check_total([], max_total=0)
    check_total([MB, MB], max_total=2 * MB)
    with pytest.raises(ValidationFailed):
        check_total([MB, MB, 1], max_total=2 * MB)


# --- any bytes at all ---

SIGNATURES = [
    b"",
    b"\xff\xd8\xff",
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"%PDF-1.7\n",
    b"\x1a\x45\xdf\xa3",
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    b"\x00\x00\x00\x14ftypisom\x00\x00\x00\x00isom",
    b"PK\x03\x04",
    b"<",
    b"#!",
    b"MZ",
]
SAMPLES = [
    jpeg_with_metadata(),
    encode(pattern(), "PNG"),
    encode(pattern(), "WEBP"),
    pdf(b"<< /Type /Pages /Kids [] /Count 0 >>", object_stream(b"<< /Type /Font >>")),
]


def mutate(data, draw):
    data = bytearray(data)
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(1, len(data)))])


@st.composite
def hostile_bytes(draw):
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return draw(st.binary(max_size=2048))
    if choice == 1:
        return draw(st.sampled_from(SIGNATURES)) + draw(st.binary(max_size=2048))
    return mutate(draw(st.sampled_from(SAMPLES)), draw)


@PROPERTY_SETTINGS
@given(hostile_bytes(), st.text(max_size=40))
def test_any_bytes_give_a_checked_file_or_a_validation_error(content, name):
    try:
        checked = inspect_upload(NamedBytes(content, name), max_bytes=64 * 1024)
    except ValidationFailed as exc:
        assert exc.message and exc.fields == {"files": [exc.message]}
        return
    assert checked.kind in KINDS
    assert checked.size == len(checked.content) > 0
    if checked.kind == "image":  # what is stored opens as what it claims to be
        assert reopen(checked).format == {"jpg": "JPEG", "png": "PNG"}[checked.extension]
    assert "/" not in checked.original_name and ".." not in checked.original_name
