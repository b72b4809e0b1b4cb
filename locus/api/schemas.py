from ninja import Schema


class ErrorOut(Schema):
    """The one error shape of the API."""

    message: str
    code: str
    fields: dict[str, list[str]]


# Responses every authenticated place endpoint may give besides its success.
PLACE_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
