"""What the OpenAPI document says beyond what ninja derives from the operations: the tags, the
two ways to authenticate, what each error status means and the headers it carries
(`WWW-Authenticate` on 401, `Retry-After` on 409 and 429; 401 and 429 on every authenticated
operation), and the path parameters every place address shares. `tests` in locus/api check the
document against the OpenAPI 3.1 schema."""

TAGS = [
    ("accounts", "Who you are: the token's or session's user and where they work."),
    ("places", "Places (the cities or local authorities running Locus), their areas and jobs."),
    ("directory", "Organisations and services: the public directory, coverage, HSDS 3.1."),
    (
        "reports",
        "The public intake: the taxonomy, submitting a report, and the reporter's follow-up "
        "with the reference and follow-up code. No authentication; rate limited per client.",
    ),
    ("cases", "Reports as your organisation's cases: list, read (audited), work, hand on."),
    ("routing", "The place's routing rules and a preview of where a report would go."),
    (
        "webhooks",
        "Your organisation's webhook endpoints and their delivery logs (docs/webhooks.md: "
        "verifying the signatures).",
    ),
    ("library", "The evidence library: search, records, files, contribution and review."),
    ("programmes", "Programmes, their indicators and results, the portfolio, IATI."),
    ("insights", "The place's exact figures, for its own team: dashboard, service, notes."),
    (
        "open data and exports",
        "Public open data with small-number suppression, network roll-ups and exports in each "
        "jurisdiction's scheme.",
    ),
    ("alerts", "Spike alarms and your organisation's alert subscription."),
    ("indicators", "Area indicators beside incident rates."),
]

SECURITY_SCHEMES = {
    "TokenAuth": {
        "bearerFormat": "locus_…",
        "description": (
            "A personal API token, sent as `Authorization: Bearer locus_…`. Anyone whose role "
            "may use the API (administrator, coordinator, caseworker, analyst, editor) makes "
            "one on the staff page *API tokens* (`/<place>/staff/tokens/`); it is shown once. "
            "It acts with the role of the membership it was made in, and only in that "
            "organisation's places. Its expiry date is chosen when it is made (30, 90, 180 or "
            "365 days; `GET /api/v1/me` says it): then it answers 401 `token_expired`. It also "
            "stops working when revoked on the same page, when the membership or the user is "
            "deactivated, and while its owner's role needs two-factor authentication they have "
            "not set up (401 `mfa_required`). Each token may make 600 requests a minute by "
            "default (429 `rate_limited`, with `Retry-After`)."
        ),
    },
    "SessionAuth": {
        "description": (
            "A signed-in browser session (the sign-in page of Locus), as this documentation "
            "page uses. Writes need Django's CSRF token in `X-CSRFToken`."
        ),
    },
}

ERROR_STATUSES = {
    "400": "The body is not JSON, or cannot be read.",
    "401": (
        "No credentials, or a token that does not work (`unauthorized`; `token_expired` past "
        "its expiry date; `mfa_required` when its owner must set up two-factor "
        "authentication). `WWW-Authenticate` names the scheme."
    ),
    "403": "Your role, or your organisation, may not do this (`forbidden`, `mfa_required`).",
    "404": (
        "No such place, no such object in it, or one you may not see: the same answer "
        "(`not_found`)."
    ),
    "409": (
        "A request with the same `Idempotency-Key` is still being processed "
        "(`request_in_flight`): retry after `Retry-After` seconds."
    ),
    "410": "The report's personal data was erased (`report_erased`).",
    "413": "The body is too large (`too_large`).",
    "422": (
        "Not valid: `fields` names each parameter or field with its messages "
        "(`validation_error`, or a more precise code)."
    ),
    "429": (
        "Too many requests (`rate_limited`): from this client on the public intake, with this "
        "token or this signed-in person on any other operation. Retry after `Retry-After`."
    ),
}

RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 1},
}
HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": 'The scheme to use: `Bearer realm="Locus API"` (with '
            '`error="invalid_token"` when the token sent does not work, and an '
            "`error_description` when it expired or its owner must set up two-factor "
            "authentication).",
            "schema": {"type": "string"},
        }
    },
    "409": {"Retry-After": RETRY_AFTER},
    "429": {"Retry-After": RETRY_AFTER},
}

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorOut"}

PATH_PARAMETERS = {
    "place_slug": "The place's slug, as in its addresses (`GET /api/v1/places`).",
    "network_slug": "The network's slug (a country or region rolling places up).",
}


def document(schema):
    """Complete ninja's document in place and return it."""
    schemes = schema.get("components", {}).get("securitySchemes", {})
    for name, extra in SECURITY_SCHEMES.items():
        if name in schemes:
            schemes[name].update(extra)
    seen = set()
    for item in schema["paths"].values():
        for operation in item.values():
            if id(operation) in seen:  # ninja shares one dict between methods of a view
                continue
            seen.add(id(operation))
            if operation.get("security"):
                # Any authenticated operation: a token that does not work, or too many requests
                # with one token or session (locus.api.auth).
                for status in ("401", "429"):
                    if not any(str(code) == status for code in operation.get("responses", {})):
                        operation.setdefault("responses", {})[status] = {
                            "content": {"application/json": {"schema": ERROR_SCHEMA}}
                        }
            for code, response in operation.get("responses", {}).items():
                status = str(code)  # ninja keys them by integer until the JSON is written
                if status in ERROR_STATUSES:
                    response["description"] = ERROR_STATUSES[status]
                if status in HEADERS:
                    response["headers"] = HEADERS[status]
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in PATH_PARAMETERS:
                    parameter.setdefault("description", PATH_PARAMETERS[parameter["name"]])
    return schema
