from ninja import Schema


class ErrorOut(Schema):
    """The one error shape of the API."""

    message: str
    code: str
    fields: dict[str, list[str]]


# Responses every authenticated place endpoint may give besides its success.
PLACE_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}

# Responses of an endpoint that reads a JSON body: not JSON (400), too large (413),
# not valid (422, naming each field).
BAD_BODY_ERRORS = {400: ErrorOut, 413: ErrorOut, 422: ErrorOut}

# Largest primary key (BigAutoField); a larger id in a URL is a 422, not a database overflow.
DB_ID_MAX = 2**63 - 1
