"""OAI-PMH 2.0 for the library (issue 5 §7): the protocol, apart from HTTP.

`respond(arguments, base_url=…, page_url=…)` takes the request's arguments (a dict of lists,
so that repeated arguments can be refused) and returns the XML document as bytes. Everything
the protocol specifies is here: the six verbs, `oai_dc`, sets by resource type and by country,
`from`/`until` in UTC with day or second granularity, resumption tokens, deleted records and
every error code. Only records that are or were published are exposed: a record is an OAI
item from its first publication on; while it is published it is disseminated in full, once it
is no longer published (withdrawn, or taken back to draft) it is a `status="deleted"` header.
Drafts that were never published, private notes and the provenance never appear.

Datestamps are the records' `updated_at` (every change of a record, its status and its files
included, moves it) at second granularity.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET  # noqa: S405 - we only build XML, never parse it

from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.utils import timezone, translation

from locus.core.ids import parse_id

from .choices import Licence, RecordStatus, ResourceType
from .models import Record, RecordFacet, RecordFile
from .vocabulary import label_in, vocabulary

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_ID_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
ET.register_namespace("", OAI_NS)
ET.register_namespace("oai_dc", OAI_DC_NS)
ET.register_namespace("oai-identifier", OAI_ID_NS)
ET.register_namespace("dc", DC_NS)
ET.register_namespace("xsi", XSI_NS)

GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
DEFAULT_PAGE_SIZE = 100
DEFAULT_TOKEN_HOURS = 24
DEFAULT_REPOSITORY_NAME = "Locus library"
RESUMPTION_SALT = "locus.library.oai.resumption"
METADATA_PREFIX = "oai_dc"

VERBS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), set()),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set"}),
}
LIST_VERBS = ("ListIdentifiers", "ListRecords", "ListSets")
# What OAI-PMH calls a repository identifier (the "oai-identifier" guidelines).
_REPOSITORY_ID_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECONDS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
# The syntax the protocol's schema (OAI-PMH.xsd) gives the arguments the request element echoes:
# a value outside it is "illegal syntax", so badArgument, never echoed into an invalid answer.
_PREFIX_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
_SET_SPEC_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
# An identifier is a URI (RFC 3986 characters, %-escapes, and the non-ASCII letters of an IRI).
_URI_RE = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2}|[^\x00-\x7f])+$")
# adminEmail in OAI-PMH.xsd: a domain with at least one dot ("no-reply@localhost" is refused).
_ADMIN_EMAIL_RE = re.compile(r"^\S+@(\S+\.)+\S+$")
# Characters XML 1.0 cannot carry.
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# DCMI Type Vocabulary for dc:type, besides the library's own type.
DCMI_TYPES = {ResourceType.DATASET: "Dataset"}
LICENCE_URLS = {
    Licence.CC0: "https://creativecommons.org/publicdomain/zero/1.0/",
    Licence.CC_BY: "https://creativecommons.org/licenses/by/4.0/",
    Licence.CC_BY_SA: "https://creativecommons.org/licenses/by-sa/4.0/",
    Licence.CC_BY_NC: "https://creativecommons.org/licenses/by-nc/4.0/",
    Licence.CC_BY_NC_SA: "https://creativecommons.org/licenses/by-nc-sa/4.0/",
    Licence.CC_BY_ND: "https://creativecommons.org/licenses/by-nd/4.0/",
    Licence.CC_BY_NC_ND: "https://creativecommons.org/licenses/by-nc-nd/4.0/",
    Licence.OGL_UK: "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
}


class OAIError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


# --- settings -------------------------------------------------------------------------------


def page_size():
    return max(1, int(getattr(settings, "LOCUS_OAI_PAGE_SIZE", DEFAULT_PAGE_SIZE)))


def token_lifetime():
    return timedelta(hours=float(getattr(settings, "LOCUS_OAI_TOKEN_HOURS", DEFAULT_TOKEN_HOURS)))


def sets_enabled():
    return bool(getattr(settings, "LOCUS_OAI_SETS", True))


def repository_identifier():
    """The namespace of our OAI identifiers: a domain name, stable across hosts."""
    configured = getattr(settings, "LOCUS_OAI_REPOSITORY_IDENTIFIER", "")
    if configured:
        return configured
    host = urlsplit(getattr(settings, "LOCUS_BASE_URL", "") or "").hostname or ""
    return host if _REPOSITORY_ID_RE.match(host) else "locus.local"


def oai_identifier(record_id):
    return f"oai:{repository_identifier()}:library/{record_id}"


def record_id_from(identifier):
    prefix = f"oai:{repository_identifier()}:library/"
    if not identifier.startswith(prefix):
        return None
    return parse_id(identifier[len(prefix) :])


# --- dates -----------------------------------------------------------------------------------


def datestamp(value):
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(value, *, end):
    """(datetime, granularity) from a `from`/`until` argument; `end`: an `until` day means
    up to its last second."""
    if _DAY_RE.match(value):
        granularity = "day"
        try:
            moment = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise OAIError("badArgument", f"Not a date: {value}") from None
        if end:
            moment = _later(moment, timedelta(days=1))
    elif _SECONDS_RE.match(value):
        granularity = "seconds"
        try:
            moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise OAIError("badArgument", f"Not a date and time: {value}") from None
        if end:
            moment = _later(moment, timedelta(seconds=1))
    else:
        raise OAIError(
            "badArgument",
            f"Dates are YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC), not {value[:40]!r}.",
        )
    return moment, granularity


def _later(moment, step):
    """`moment + step`, or the last representable moment: `until=9999-12-31` means "no end"
    (it used to overflow into a 500)."""
    try:
        return moment + step
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


# --- items -----------------------------------------------------------------------------------


def _items():
    """Every record that is or was published, oldest change first."""
    return Record.objects.filter(published_at__isnull=False)


def earliest_datestamp():
    first = _items().order_by("updated_at").values_list("updated_at", flat=True).first()
    return first or timezone.now()


@dataclass(frozen=True)
class OAISet:
    spec: str
    name: str


def list_sets():
    with translation.override("en"):
        sets = [OAISet("type", "Resource type")]
        sets += [OAISet(f"type:{code}", str(label)) for code, label in ResourceType.choices]
        sets.append(OAISet("country", "Country"))
        countries = (
            RecordFacet.objects.filter(facet="country", record__in=_items())
            .values_list("value", flat=True)
            .distinct()
            .order_by("value")
        )
        sets += [OAISet(f"country:{code}", label_in("country", code, "en")) for code in countries]
    return sets


def _filter_set(queryset, spec):
    if not sets_enabled():
        raise OAIError("noSetHierarchy", "This repository does not support sets.")
    kind, _sep, value = spec.partition(":")
    if kind == "type" and not value:
        return queryset
    if kind == "type" and value in ResourceType.values:
        return queryset.filter(type=value)
    if kind == "country" and not value:
        return queryset.filter(pk__in=RecordFacet.objects.filter(facet="country").values("record"))
    if kind == "country" and vocabulary().has("country", value):
        return queryset.filter(
            pk__in=RecordFacet.objects.filter(facet="country", value=value).values("record")
        )
    # An unknown set is a set with no items (the protocol has no "no such set" error).
    return queryset.none()


def set_specs(record):
    specs = [f"type:{record.type}"]
    specs += [f"country:{code}" for code in record.countries]
    return specs


# --- resumption tokens -----------------------------------------------------------------------


def make_token(*, verb, args, last, cursor, total):
    payload = {"v": verb, "a": args, "c": cursor, "n": total}
    if last is not None:
        payload["t"] = last.updated_at.isoformat()
        payload["i"] = last.pk
    return signing.dumps(payload, salt=RESUMPTION_SALT, compress=True)


def read_token(token, verb):
    try:
        payload = signing.loads(
            token, salt=RESUMPTION_SALT, max_age=token_lifetime().total_seconds()
        )
    except signing.SignatureExpired:
        raise OAIError("badResumptionToken", "The resumption token has expired.") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise OAIError("badResumptionToken", "The resumption token is not valid.") from None
    if not isinstance(payload, dict) or payload.get("v") != verb:
        raise OAIError("badResumptionToken", "The resumption token is not for this verb.")
    return payload


# --- XML -------------------------------------------------------------------------------------


def _q(name, ns=OAI_NS):
    return f"{{{ns}}}{name}"


def _text(value):
    return _XML_INVALID_RE.sub("", str(value))


def _sub(parent, name, text=None, ns=OAI_NS, **attributes):
    element = ET.SubElement(parent, _q(name, ns), {k: _text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _document(base_url, arguments, *, echo):
    root = ET.Element(_q("OAI-PMH"), {_q("schemaLocation", XSI_NS): f"{OAI_NS} {OAI_SCHEMA}"})
    _sub(root, "responseDate", datestamp(timezone.now()))
    request = _sub(root, "request", base_url)
    if echo:
        for name, value in sorted(arguments.items()):
            request.set(name, _text(value))
    return root


def _serialise(root):
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _header(parent, record):
    attributes = {} if record.status == RecordStatus.PUBLISHED else {"status": "deleted"}
    header = _sub(parent, "header", **attributes)
    _sub(header, "identifier", oai_identifier(record.pk))
    _sub(header, "datestamp", datestamp(record.updated_at))
    for spec in set_specs(record):
        _sub(header, "setSpec", spec)
    return header


def _labels(record, field, axis):
    return [
        label_in(axis, code, "en", record.vocabulary_version) for code in getattr(record, field)
    ]


def _dublin_core(parent, record, *, page_url, mimes):
    metadata = _sub(parent, "metadata")
    dc = ET.SubElement(
        metadata,
        _q("dc", OAI_DC_NS),
        {_q("schemaLocation", XSI_NS): f"{OAI_DC_NS} {OAI_DC_SCHEMA}"},
    )

    def add(name, value, language=None):
        if value not in (None, ""):
            attributes = {_q("lang", XML_NS): language} if language else {}
            _sub(dc, name, value, ns=DC_NS, **attributes)

    # The title and summary are in the record's first language; our labels are English.
    own = record.languages[0] if record.languages and record.languages[0] != "mul" else None
    with translation.override("en"):
        add("title", record.title, own)
        for author in record.author_list:
            add("creator", author)
        for label in [
            *_labels(record, "topics", "topic"),
            *_labels(record, "interventions", "intervention"),
        ]:
            add("subject", label, "en")
        add("description", record.summary, own)
        add("publisher", record.publisher)
        if record.year:
            add("date", str(record.year))
        add("type", DCMI_TYPES.get(record.type, "Text"))
        add("type", str(ResourceType(record.type).label), "en")
        for mime in mimes:
            add("format", mime)
        add("identifier", page_url(record))
        add("identifier", record.url)
        for code in record.languages:
            add("language", code)
        coverage = [*_labels(record, "countries", "country"), *_labels(record, "regions", "region")]
        for label in coverage:
            add("coverage", label, "en")
        for place in record.localities:
            add("coverage", place)
        if record.coverage and not coverage:
            add("coverage", record.coverage)
        licence = Licence(record.licence)
        if licence != Licence.UNKNOWN:
            add("rights", str(licence.label), "en")
            add("rights", LICENCE_URLS.get(licence, ""))
    return metadata


def _mimes(record_ids):
    found = {}
    rows = (
        RecordFile.objects.filter(record_id__in=record_ids)
        .order_by("mime")
        .values_list("record_id", "mime")
        .distinct()
    )
    for record_id, mime in rows:
        found.setdefault(record_id, []).append(mime)
    return found


# --- the verbs -------------------------------------------------------------------------------


def _check_arguments(arguments):
    """The verb and its arguments, or OAIError for badVerb/badArgument."""
    for name, values in arguments.items():
        if len(values) != 1:
            raise OAIError("badArgument", f"The argument {name} is repeated.")
    flat = {name: values[0] for name, values in arguments.items()}
    verb = flat.pop("verb", None)
    if verb is None:
        raise OAIError("badVerb", "No verb was given.")
    if verb not in VERBS:
        raise OAIError("badVerb", f"Illegal verb: {verb[:40]}")
    required, optional = VERBS[verb]
    if "resumptionToken" in flat and verb in LIST_VERBS:
        if set(flat) != {"resumptionToken"}:
            raise OAIError("badArgument", "resumptionToken is an exclusive argument.")
        return verb, flat
    unknown = set(flat) - required - optional
    if unknown:
        raise OAIError("badArgument", f"Illegal argument: {sorted(unknown)[0][:40]}")
    missing = required - set(flat)
    if missing:
        raise OAIError("badArgument", f"Missing argument: {sorted(missing)[0]}")
    for name, pattern in (
        ("metadataPrefix", _PREFIX_RE),
        ("set", _SET_SPEC_RE),
        ("identifier", _URI_RE),
    ):
        if name in flat and not pattern.match(flat[name]):
            raise OAIError("badArgument", f"The argument {name} has an illegal syntax.")
    return verb, flat


def respond(arguments, *, base_url, page_url):
    """The XML answer (bytes) to one OAI-PMH request. `arguments`: name → list of values;
    `page_url(record)`: the absolute address of a record's page."""
    try:
        verb, flat = _check_arguments(arguments)
    except OAIError as error:
        root = _document(base_url, {}, echo=False)
        _sub(root, "error", error.message, code=error.code)
        return _serialise(root)
    root = _document(base_url, {"verb": verb, **flat}, echo=True)
    try:
        handler = {
            "Identify": _identify,
            "ListMetadataFormats": _list_metadata_formats,
            "ListSets": _list_sets,
            "GetRecord": _get_record,
            "ListIdentifiers": _list_items,
            "ListRecords": _list_items,
        }[verb]
        handler(root, verb, flat, base_url=base_url, page_url=page_url)
    except OAIError as error:
        for child in list(root)[2:]:
            root.remove(child)
        if error.code in ("badVerb", "badArgument"):  # the protocol: echo no arguments then
            root.find(_q("request")).attrib.clear()
        _sub(root, "error", error.message, code=error.code)
    return _serialise(root)


def _identify(root, verb, args, *, base_url, page_url):
    element = _sub(root, "Identify")
    _sub(
        element,
        "repositoryName",
        getattr(settings, "LOCUS_OAI_REPOSITORY_NAME", DEFAULT_REPOSITORY_NAME),
    )
    _sub(element, "baseURL", base_url)
    _sub(element, "protocolVersion", "2.0")
    _sub(element, "adminEmail", admin_email())
    _sub(element, "earliestDatestamp", datestamp(earliest_datestamp()))
    # Withdrawn records stay deleted items for good, but a platform administrator can erase a
    # record outright, and then no trace is kept: so "transient", as the protocol asks.
    _sub(element, "deletedRecord", "transient")
    _sub(element, "granularity", GRANULARITY)
    # Our identifiers follow the OAI identifier format when the repository identifier is a
    # domain name; the guidelines ask such a repository to say so here, with a sample.
    repository = repository_identifier()
    if _REPOSITORY_ID_RE.match(repository):
        container = ET.SubElement(
            _sub(element, "description"),
            _q("oai-identifier", OAI_ID_NS),
            {_q("schemaLocation", XSI_NS): f"{OAI_ID_NS} {OAI_ID_SCHEMA}"},
        )
        _sub(container, "scheme", "oai", ns=OAI_ID_NS)
        _sub(container, "repositoryIdentifier", repository, ns=OAI_ID_NS)
        _sub(container, "delimiter", ":", ns=OAI_ID_NS)
        _sub(container, "sampleIdentifier", oai_identifier(1), ns=OAI_ID_NS)


def admin_email():
    """LOCUS_OAI_ADMIN_EMAIL, else the address of DEFAULT_FROM_EMAIL; one the protocol refuses
    (a host without a dot, as Django's default "webmaster@localhost") gives way to
    library@<repository identifier>, so that Identify stays valid on a fresh installation."""
    configured = getattr(settings, "LOCUS_OAI_ADMIN_EMAIL", "") or settings.DEFAULT_FROM_EMAIL
    match = re.search(r"<([^>]+)>", configured or "")
    address = (match.group(1) if match else configured or "").strip()
    if _ADMIN_EMAIL_RE.match(address):
        return address
    host = repository_identifier()
    return f"library@{host if '.' in host else 'locus.local'}"


def _format(parent):
    element = _sub(parent, "metadataFormat")
    _sub(element, "metadataPrefix", METADATA_PREFIX)
    _sub(element, "schema", OAI_DC_SCHEMA)
    _sub(element, "metadataNamespace", OAI_DC_NS)


def _item(identifier):
    record_id = record_id_from(identifier)
    record = _items().filter(pk=record_id).first() if record_id else None
    if record is None:
        raise OAIError("idDoesNotExist", f"No such item: {identifier[:100]}")
    return record


def _list_metadata_formats(root, verb, args, *, base_url, page_url):
    if "identifier" in args:
        record = _item(args["identifier"])
        if record.status != RecordStatus.PUBLISHED:
            raise OAIError("noMetadataFormats", "The item is deleted: it has no metadata.")
    _format(_sub(root, "ListMetadataFormats"))


def _check_prefix(prefix):
    if prefix != METADATA_PREFIX:
        raise OAIError("cannotDisseminateFormat", f"Only {METADATA_PREFIX} is disseminated.")


def _get_record(root, verb, args, *, base_url, page_url):
    _check_prefix(args["metadataPrefix"])
    record = _item(args["identifier"])
    element = _sub(_sub(root, "GetRecord"), "record")
    _header(element, record)
    if record.status == RecordStatus.PUBLISHED:
        _dublin_core(
            element, record, page_url=page_url, mimes=_mimes([record.pk]).get(record.pk, [])
        )


def _list_sets(root, verb, args, *, base_url, page_url):
    if not sets_enabled():
        raise OAIError("noSetHierarchy", "This repository does not support sets.")
    cursor = 0
    if "resumptionToken" in args:
        cursor = read_token(args["resumptionToken"], verb)["c"]
    sets = list_sets()
    size = page_size()
    page = sets[cursor : cursor + size]
    if not page and cursor:
        raise OAIError("badResumptionToken", "The resumption token is past the end of the list.")
    element = _sub(root, "ListSets")
    for oai_set in page:
        item = _sub(element, "set")
        _sub(item, "setSpec", oai_set.spec)
        _sub(item, "setName", oai_set.name)
    _resumption(
        element,
        cursor=cursor,
        total=len(sets),
        shown=len(page),
        token=lambda: make_token(
            verb=verb, args={}, last=None, cursor=cursor + size, total=len(sets)
        ),
    )


def _resumption(element, *, cursor, total, shown, token):
    """A token when more follow; an empty one on the last page of a resumed list."""
    if cursor + shown < total:
        expires = timezone.now() + token_lifetime()
        _sub(
            element,
            "resumptionToken",
            token(),
            completeListSize=str(total),
            cursor=str(cursor),
            expirationDate=datestamp(expires),
        )
    elif cursor:
        _sub(element, "resumptionToken", "", completeListSize=str(total), cursor=str(cursor))


def _list_items(root, verb, args, *, base_url, page_url):
    if "resumptionToken" in args:
        state = read_token(args["resumptionToken"], verb)
        query = state["a"]
        cursor = int(state["c"])
    else:
        query = {
            name: args[name] for name in ("metadataPrefix", "from", "until", "set") if name in args
        }
        cursor = 0
        state = {}
    _check_prefix(query.get("metadataPrefix"))
    items = _items()
    granularities = set()
    if "from" in query:
        start, granularity = parse_date(query["from"], end=False)
        granularities.add(granularity)
        items = items.filter(updated_at__gte=start)
    if "until" in query:
        end, granularity = parse_date(query["until"], end=True)
        granularities.add(granularity)
        items = items.filter(updated_at__lt=end)
        if "from" in query and end <= start:
            raise OAIError("badArgument", "`from` is after `until`.")
    if len(granularities) > 1:
        raise OAIError("badArgument", "`from` and `until` must have the same granularity.")
    if "set" in query:
        items = _filter_set(items, query["set"])
    total = state.get("n")
    if total is None:
        total = items.count()
        if total == 0:
            raise OAIError("noRecordsMatch", "No records match the request.")
    if "t" in state:
        after = datetime.fromisoformat(state["t"])
        items = items.filter(Q(updated_at__gt=after) | Q(updated_at=after, pk__gt=int(state["i"])))
    size = page_size()
    page = list(items.order_by("updated_at", "pk")[:size])
    if not page:  # a resumed list whose remaining items have gone
        raise OAIError("noRecordsMatch", "No more records match the request.")
    element = _sub(root, verb)
    mimes = _mimes([record.pk for record in page]) if verb == "ListRecords" else {}
    for record in page:
        if verb == "ListIdentifiers":
            _header(element, record)
            continue
        item = _sub(element, "record")
        _header(item, record)
        if record.status == RecordStatus.PUBLISHED:
            _dublin_core(item, record, page_url=page_url, mimes=mimes.get(record.pk, []))
    last = page[-1]
    more = (
        len(page) == size
        and items.filter(
            Q(updated_at__gt=last.updated_at) | Q(updated_at=last.updated_at, pk__gt=last.pk)
        ).exists()
    )
    if more:
        shown = len(page)
        _sub(
            element,
            "resumptionToken",
            make_token(verb=verb, args=query, last=page[-1], cursor=cursor + shown, total=total),
            completeListSize=str(total),
            cursor=str(cursor),
            expirationDate=datestamp(timezone.now() + token_lifetime()),
        )
    elif cursor:
        _sub(element, "resumptionToken", "", completeListSize=str(total), cursor=str(cursor))
