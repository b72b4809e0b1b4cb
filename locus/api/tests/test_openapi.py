"""The OpenAPI document and the Swagger page that shows it."""

import json
import re
from urllib.parse import urlsplit

import pytest

API = "/api/v1"
ERROR_REF = "#/components/schemas/ErrorOut"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def openapi(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_openapi_is_3_1(openapi):
    assert re.fullmatch(r"3\.1\.\d+", openapi["openapi"])
    error = openapi["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"message", "code", "fields"}


def test_every_operation_declares_its_errors_with_the_error_schema(openapi):
    seen = 0
    for path, method, operation in operations(openapi):
        seen += 1
        name = f"{method.upper()} {path}"
        responses = operation["responses"]
        for status, response in responses.items():
            schema = response["content"]["application/json"]["schema"]
            if status.startswith("4"):
                assert schema == {"$ref": ERROR_REF}, f"{name} {status} is not ErrorOut"
        declared = {int(s) for s in responses}
        needed = set()
        if operation.get("security"):
            needed |= {401}
        if "{place_slug}" in path:
            needed |= {404}
            if operation.get("security"):
                needed |= {403}
        params = operation.get("parameters", [])
        if any(p["in"] == "path" and p["schema"].get("type") == "integer" for p in params):
            needed |= {422}
        if "requestBody" in operation:
            needed |= {400, 413, 422}
        assert needed <= declared, f"{name} does not declare {sorted(needed - declared)}"
    assert seen >= 8


def test_operation_ids_and_summaries(openapi):
    ids = [op["operationId"] for _p, _m, op in operations(openapi)]
    assert len(ids) == len(set(ids))
    assert all(op.get("summary") for _p, _m, op in operations(openapi))


def test_integer_ids_are_bounded_to_what_the_database_holds(openapi):
    for _path, _method, operation in operations(openapi):
        for param in operation.get("parameters", []):
            schema = param["schema"]
            if schema.get("type") != "integer":
                continue
            if param["name"] == "id" or param["name"].endswith("_id"):
                assert schema["maximum"] == 2**63 - 1
                assert schema["minimum"] == 1
            else:  # a count or a page size: bounded too, never past what the database holds
                assert "minimum" in schema and schema["maximum"] <= 2**63 - 1


def _resolve(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


PAGE_ENVELOPE = {"count", "page", "pages", "page_size", "results"}


def test_every_paged_list_pages_the_same_way(openapi):
    """One convention (locus/api/pagination.py, docs/api.md): `page` and a bounded `page_size`
    in, `{"count", "page", "pages", "page_size", "results"}` out."""
    paged = []
    for path, _method, operation in operations(openapi):
        params = {p["name"]: p["schema"] for p in operation.get("parameters", [])}
        if "page" not in params and "page_size" not in params:
            continue
        paged.append(path)
        assert {"page", "page_size"} <= set(params), path
        assert params["page"]["minimum"] == 1 and params["page"]["default"] == 1
        size = params["page_size"]
        assert (
            size["minimum"] == 1 and size["maximum"] <= 200 and size["default"] <= size["maximum"]
        )
        body = _resolve(
            openapi, operation["responses"]["200"]["content"]["application/json"]["schema"]
        )
        assert body.get("type") == "object", f"{path} answers a bare list"
        assert set(body["properties"]) >= PAGE_ENVELOPE, path
        assert set(body["required"]) >= PAGE_ENVELOPE, path
        assert body["properties"]["results"]["type"] == "array"
    assert len(paged) >= 4


def test_docs_page_is_self_hosted_under_the_site_csp(client, settings):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert urls, "the docs page references its assets"
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is on another host"
        assert url.startswith(settings.STATIC_URL), url
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE)
    assert "<style" not in html and " style=" not in html and "<script>" not in html

    # The site's strict policy is kept: Swagger UI needs no 'unsafe-inline' and no other host.
    csp = response["Content-Security-Policy"]
    directives = {
        d.split()[0]: d.split()[1:] for d in (part.strip() for part in csp.split(";")) if d
    }
    for directive in ("default-src", "script-src", "style-src", "connect-src", "img-src"):
        assert "'unsafe-inline'" not in directives[directive]
        assert all(
            source.startswith("'") or source in {"data:"} for source in directives[directive]
        ), f"{directive} allows another host: {directives[directive]}"


def test_docs_assets_are_served(client):
    html = client.get(f"{API}/docs").content.decode()
    for url in re.findall(r"""(?:src|href)\s*=\s*["'](/static/[^"']+)["']""", html):
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body


def test_docs_do_not_call_the_online_validator(client):
    html = client.get(f"{API}/docs").content.decode()
    raw = re.search(
        r'<script type="application/json" id="swagger-settings">(.*?)</script>', html, re.S
    )
    swagger_settings = json.loads(raw.group(1))
    assert swagger_settings["validatorUrl"] is None
    assert swagger_settings["url"] == f"{API}/openapi.json"


def _schema_classes(base):
    for cls in base.__subclasses__():
        yield cls
        yield from _schema_classes(cls)


def test_schema_names_are_unique_across_apps(openapi):
    """ninja names a component after its class: two `FooOut`s in two apps would silently share
    one schema, and one endpoint would be documented with the other's shape."""
    from ninja import Schema

    shapes = {}
    for cls in _schema_classes(Schema):
        if cls.__module__.startswith("locus.") and ".tests" not in cls.__module__:
            fields = sorted((k, str(f.annotation)) for k, f in cls.model_fields.items())
            shapes.setdefault(cls.__name__, {})[cls.__module__] = str(fields)
    # The same name with the same fields (e.g. a small `AreaRef`) is one schema, harmless.
    clashes = {
        name: list(by_module)
        for name, by_module in shapes.items()
        if len(set(by_module.values())) > 1
    }
    assert not clashes, clashes


def test_the_document_is_valid_openapi_3_1(openapi):
    """Against the OpenAPI 3.1 schema (the official one, which schemathesis ships), each
    component against JSON Schema 2020-12, and every `$ref` resolves."""
    import jsonschema
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

    errors = [str(error)[:300] for error in OPENAPI_31_VALIDATOR.iter_errors(openapi)]
    assert not errors, errors
    for schema in openapi["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    refs = set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(openapi)))
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in openapi["components"]["schemas"], ref


def test_every_operation_is_described_and_tagged(openapi):
    """An integrator reads each operation's summary, a description (who may call it, what it
    answers) and finds it under a tag the document describes."""
    tags = {tag["name"]: tag.get("description") for tag in openapi.get("tags", [])}
    assert all(tags.values()), tags
    for path, method, operation in operations(openapi):
        name = f"{method.upper()} {path}"
        assert operation.get("summary"), name
        assert len(operation.get("description", "")) >= 40, f"{name} has no description"
        assert operation.get("tags") and set(operation["tags"]) <= set(tags), name
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"].endswith("_slug"):
                assert parameter.get("description"), f"{name}: {parameter['name']}"


def test_error_responses_say_what_they_mean_and_carry_their_headers(openapi):
    for path, method, operation in operations(openapi):
        name = f"{method.upper()} {path}"
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert response["description"] not in {"Unauthorized", "Not Found"}, name
        responses = operation["responses"]
        if "401" in responses:
            assert "WWW-Authenticate" in responses["401"]["headers"], name
        for status in ("409", "429"):
            if status in responses:
                header = responses[status]["headers"]["Retry-After"]
                assert header["schema"]["type"] == "integer", name


def test_every_authenticated_operation_documents_401_and_429(openapi):
    """A token can expire (401 `token_expired`) and every token or session is rate limited
    (429 with Retry-After) on every operation that needs one (locus.api.auth)."""
    for path, method, operation in operations(openapi):
        if not operation.get("security"):
            continue
        name = f"{method.upper()} {path}"
        responses = operation["responses"]
        assert "token_expired" in responses["401"]["description"], name
        assert "Retry-After" in responses["429"]["headers"], name
        assert responses["429"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }, name


def test_idempotent_operations_show_the_header(openapi):
    """An operation that answers 409 (a request with the same key still in flight) takes an
    `Idempotency-Key`, and the document says so."""
    for path, method, operation in operations(openapi):
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        in_flight = "409" in operation["responses"]
        assert in_flight == ("Idempotency-Key" in headers), f"{method.upper()} {path}"


def test_the_error_shape_and_the_ways_to_authenticate_are_described(openapi):
    error = openapi["components"]["schemas"]["ErrorOut"]
    assert all(field.get("description") for field in error["properties"].values())
    assert error["examples"][0].keys() == {"message", "code", "fields"}
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["TokenAuth"]["scheme"] == "bearer"
    token = schemes["TokenAuth"]["description"]
    for promise in ("/staff/tokens/", "expiry", "revoked", "mfa_required"):
        assert promise in token, promise
    assert schemes["SessionAuth"]["description"]


# A field named after one object holds that object ({id, name}) or its name; a field holding
# its integer id ends in `_id` (docs/api.md, "Ids and references"). Request bodies keep the
# names their docs promise: `assignee` (docs/cases.md), `organisation` (library submissions,
# docs/library.md), `indicator` (programme results).
REFERENCE_NOUNS = {
    "alarm",
    "area",
    "case",
    "endpoint",
    "indicator",
    "job",
    "library_record",
    "membership",
    "network",
    "organisation",
    "period",
    "person",
    "place",
    "programme",
    "record",
    "report",
    "rule",
    "service",
    "user",
}


def test_an_integer_reference_in_an_answer_is_named_with_id(openapi):
    for name, schema in openapi["components"]["schemas"].items():
        if not name.endswith(("Out", "Page")):
            continue
        for field, spec in schema.get("properties", {}).items():
            types = {spec.get("type")} | {s.get("type") for s in spec.get("anyOf", [])}
            if "integer" in types and field in REFERENCE_NOUNS:
                raise AssertionError(f"{name}.{field} holds an id: call it {field}_id")


def test_every_json_body_has_an_example_that_its_schema_accepts(openapi):
    """An integrator starts from the example: each request body shows one, and it is valid
    (a wrong example is worse than none)."""
    import jsonschema

    checked = set()
    for path, method, operation in operations(openapi):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        ref = content["application/json"]["schema"]["$ref"]
        name = ref.rsplit("/", 1)[1]
        examples = openapi["components"]["schemas"][name].get("examples")
        assert examples, f"{method.upper()} {path}: {name} has no example"
        validator = jsonschema.Draft202012Validator(
            {"$ref": ref, "components": openapi["components"]},
            format_checker=jsonschema.FormatChecker(),
        )
        for example in examples:
            errors = [e.message for e in validator.iter_errors(example)]
            assert not errors, (name, errors)
        checked.add(name)
    assert len(checked) >= 25
