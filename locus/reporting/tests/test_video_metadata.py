"""MP4/MOV evidence loses its metadata (©xyz GPS, iTunes/QuickTime `meta`, XMP) without any
media offset moving, and a broken box structure is refused with a clear message."""

import io
import secrets
import struct

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locus.core.errors import ValidationFailed
from locus.core.files import inspect_upload, strip_iso_metadata

PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
GPS = b"+51.5074-000.1278+011.000/"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
    b'exif:GPSLatitude="51,30.44N" exif:GPSLongitude="0,7.67W" '
    b'xmp:CreatorTool="Phone of Noor Haddad"/></rdf:RDF></x:xmpmeta>'
)
SECRETS = (GPS, b"51,30.44N", b"Noor Haddad", b"Secret title", b"location.ISO6709", b"+51.50")
MEDIA = b"MEDIA-SAMPLES-" * 64


def box(kind, payload=b""):
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def large_box(kind, payload):
    """A box written with the 64-bit size form."""
    return struct.pack(">I", 1) + kind + struct.pack(">Q", 16 + len(payload)) + payload


def uuid_box(extended, payload):
    return struct.pack(">I", 24 + len(payload)) + b"uuid" + extended + payload


def itunes_meta():
    handler = box(b"hdlr", bytes(8) + b"mdir" + bytes(13))
    title = box(b"\xa9nam", box(b"data", b"\x00\x00\x00\x01\x00\x00\x00\x00Secret title"))
    return box(b"meta", bytes(4) + handler + box(b"ilst", title))


def quicktime_meta():
    keys = box(
        b"keys",
        bytes(4) + struct.pack(">I", 1) + box(b"mdta", b"com.apple.quicktime.location.ISO6709"),
    )
    value = box(b"\x00\x00\x00\x01", box(b"data", bytes(8) + GPS))
    return box(b"meta", box(b"hdlr", bytes(8) + b"mdta" + bytes(13)) + keys + box(b"ilst", value))


def video(*, major=b"isom", xmp_large=False):
    """A small but well-formed movie: ftyp, moov (mvhd, a track whose stco points into mdat,
    user data with ©xyz and iTunes/QuickTime meta), a top-level XMP uuid box, then mdat."""
    ftyp = box(b"ftyp", major + b"\x00\x00\x02\x00" + major + b"iso2avc1mp41")
    xyz = box(b"\xa9xyz", struct.pack(">HH", len(GPS), 0x15C7) + GPS)

    def moov(offset):
        stco = box(b"stco", bytes(4) + struct.pack(">II", 1, offset))
        minf = box(b"minf", box(b"stbl", box(b"stsd", bytes(8)) + stco))
        mdia = box(b"mdia", box(b"mdhd", bytes(24)) + box(b"hdlr", bytes(25)) + minf)
        trak = box(b"trak", box(b"tkhd", bytes(84)) + mdia + box(b"udta", xyz))
        udta = box(b"udta", xyz + itunes_meta() + box(b"\xa9day", b"2026-05-03"))
        return box(b"moov", box(b"mvhd", bytes(100)) + trak + udta + quicktime_meta())

    xmp = uuid_box(XMP_UUID, XMP)
    if xmp_large:
        xmp = struct.pack(">I", 1) + b"uuid" + struct.pack(">Q", 32 + len(XMP)) + XMP_UUID + XMP
    head_length = len(ftyp) + len(moov(0)) + len(xmp)
    offset = head_length + 8  # the first sample: right after mdat's header
    return ftyp + moov(offset) + xmp + box(b"mdat", MEDIA), offset


def children(data, start=0, end=None):
    """(type, start, end) of the boxes in data[start:end] — an independent reader."""
    end = len(data) if end is None else end
    found = []
    while start < end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        if size == 1:
            (size,) = struct.unpack(">Q", data[start + 8 : start + 16])
        elif size == 0:
            size = end - start
        assert size >= 8
        found.append((kind, start, start + size))
        start += size
    return found


def inside(data, path):
    start, end = 0, len(data)
    for kind in path:
        match = [b for b in children(data, start, end) if b[0] == kind][0]
        start, end = match[1] + 8, match[2]
    return [kind for kind, _start, _end in children(data, start, end)]


class Upload(io.BytesIO):
    """A bare file-like upload (as the checks receive it)."""

    def __init__(self, content, name="clip.mp4"):
        super().__init__(content)
        self.name, self.size = name, len(content)


def assert_clean(data):
    for secret in SECRETS:
        assert secret not in data, secret
    assert XMP_UUID not in data and b"\xa9xyz" not in data


@pytest.mark.parametrize("major", [b"isom", b"qt  "], ids=["mp4", "mov"])
def test_metadata_boxes_become_free_boxes_of_the_same_size(major):
    original, offset = video(major=major)
    assert all(secret in original for secret in SECRETS)

    cleaned = strip_iso_metadata(original)

    assert len(cleaned) == len(original)
    assert_clean(cleaned)
    assert [kind for kind, _s, _e in children(cleaned)] == [b"ftyp", b"moov", b"free", b"mdat"]
    assert inside(cleaned, [b"moov"]) == [b"mvhd", b"trak", b"free", b"free"]
    assert inside(cleaned, [b"moov", b"trak"]) == [b"tkhd", b"mdia", b"free"]
    # Nothing moved: the chunk offset still points at the first sample, the media is intact.
    stco = cleaned.index(b"stco")
    (pointer,) = struct.unpack(">I", cleaned[stco + 12 : stco + 16])
    assert pointer == offset and cleaned[offset : offset + len(MEDIA)] == MEDIA
    # Everything outside the blanked boxes is byte for byte the same.
    assert cleaned[: cleaned.index(b"free") - 4] == original[: cleaned.index(b"free") - 4]
    assert strip_iso_metadata(cleaned) == cleaned


def test_a_64_bit_sized_xmp_box_and_a_last_box_running_to_the_end():
    original, _offset = video(xmp_large=True)
    mdat = original.rindex(b"mdat") - 4
    original = original[:mdat] + b"\x00\x00\x00\x00mdat" + original[mdat + 8 :]
    cleaned = strip_iso_metadata(original)
    assert len(cleaned) == len(original) and cleaned.endswith(MEDIA)
    assert_clean(cleaned)
    xmp = original.index(b"uuid") - 4
    assert cleaned[xmp : xmp + 8] == b"\x00\x00\x00\x01free"  # still a 64-bit size
    assert cleaned[xmp + 8 : xmp + 16] == original[xmp + 8 : xmp + 16]


def test_a_file_without_metadata_is_kept_byte_for_byte():
    original, _offset = video()
    bare = original.replace(b"udta", b"free").replace(b"meta", b"free")
    bare = bare.replace(XMP_UUID, bytes(16)).replace(b"uuid", b"skip")
    assert strip_iso_metadata(bare) is bare


def test_uploaded_evidence_is_read_back_clean(world, in_place):
    from locus.reporting.models import Evidence
    from locus.reporting.services import evidence_stage

    original, offset = video()
    place = world.a.place
    with in_place(place):
        uploaded = SimpleUploadedFile("holiday.mp4", original, content_type="video/mp4")
        evidence = evidence_stage(
            place=place, uploaded=uploaded, staged_token=secrets.token_hex(16)
        )
        stored = Evidence.objects.get(pk=evidence.pk)
        with stored.file.open("rb") as handle:
            read_back = handle.read()
    assert (stored.kind, stored.mime) == ("video", "video/mp4")
    assert len(read_back) == len(original) == stored.size
    assert_clean(read_back)
    assert read_back[offset : offset + len(MEDIA)] == MEDIA


def broken(kind):
    original, _offset = video()
    moov = original.index(b"moov") - 4
    if kind == "bigger-than-file":
        return original[:moov] + struct.pack(">I", len(original)) + original[moov + 4 :]
    if kind == "too-small":
        return original[:moov] + struct.pack(">I", 4) + original[moov + 4 :]
    if kind == "child-overflows-parent":
        udta = original.index(b"udta") - 4
        return original[:udta] + struct.pack(">I", 0x7FFF) + original[udta + 4 :]
    if kind == "truncated-64-bit-size":
        return original[:moov] + b"\x00\x00\x00\x01moov\x00\x00"
    if kind == "stray-bytes":
        return original + b"\x01\x02\x03"
    if kind == "nested-too-deep":
        inner = box(b"udta", b"x")
        for _ in range(20):
            inner = box(b"moov", inner)
        return original[:moov] + inner
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "bigger-than-file",
        "too-small",
        "child-overflows-parent",
        "truncated-64-bit-size",
        "stray-bytes",
        "nested-too-deep",
    ],
)
def test_a_broken_box_structure_is_refused_with_a_clear_message(kind):
    with pytest.raises(ValidationFailed) as refused:
        inspect_upload(Upload(broken(kind)))
    assert "damaged or not a valid MP4 or MOV" in refused.value.message
    assert refused.value.fields == {"files": [refused.value.message]}


@PROPERTY_SETTINGS
@given(st.data())
def test_any_damage_gives_a_clean_file_of_the_same_size_or_a_refusal(data):
    original, _offset = video()
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 6))):
        damaged[data.draw(st.integers(16, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    damaged = bytes(damaged[: data.draw(st.integers(40, len(damaged)))])
    try:
        cleaned = strip_iso_metadata(damaged)
    except ValidationFailed as exc:
        assert "damaged" in exc.message
        return
    assert len(cleaned) == len(damaged)
    assert strip_iso_metadata(cleaned) == cleaned  # nothing left to blank
