import re

from django.utils.translation import gettext
from ninja import Field, Schema
from ninja.schema import DjangoGetter
from pydantic import ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError


class BodySchema(Schema):
    """A schema for request bodies: a JSON object is validated once, as it is.

    ninja's `Schema` validates through a `DjangoGetter` (attribute access, for ORM objects and
    `resolve_*` methods), and, when the schema forbids extra fields, validates the input once
    more beforehand to find them: two passes, and every field validator runs twice. A parsed
    JSON body is a dict, which a schema without resolvers validates to the same result in one
    pass; anything else goes ninja's way.
    """

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values, handler, info):
        if isinstance(values, dict) and not cls._ninja_resolvers:
            return handler(values)
        config = cls.model_config
        if config.get("extra") == "forbid" or config.get("validate_assignment", False):
            handler(values)
        return handler(DjangoGetter(values, cls, info.context))


class ErrorOut(Schema):
    """The one error shape of the API: every 4xx and 5xx answer has it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "message": "The request is not valid.",
                    "code": "validation_error",
                    "fields": {"page_size": ["Enter a number of at most 200."]},
                }
            ]
        }
    )

    message: str = Field(..., description="What went wrong, for a person to read.")
    code: str = Field(
        ...,
        description="What went wrong, for a program: stable and in English (`not_found`, "
        "`validation_error`, `rate_limited`, `mfa_required`…).",
    )
    fields: dict[str, list[str]] = Field(
        ...,
        description="For each parameter or body field at fault (dotted for nested ones, "
        "`geojson.features.3`; `non_field` for the body as a whole), its messages. Empty when "
        "no field is at fault.",
    )


# Responses every authenticated place endpoint may give besides its success.
PLACE_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}

# Responses of an endpoint that reads a JSON body: not JSON (400), too large (413),
# not valid (422, naming each field).
BAD_BODY_ERRORS = {400: ErrorOut, 413: ErrorOut, 422: ErrorOut}

# Largest primary key (BigAutoField); a larger id in a URL is a 422, not a database overflow.
DB_ID_MAX = 2**63 - 1


# Control characters but tabs and line breaks: none belongs in text a person wrote, and
# PostgreSQL refuses NUL outright (a 500 where SQLite stored it).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class TextBody(Schema):
    """A request body whose text fields, and lists of texts, hold no control character (but
    tabs and line breaks): a 422 naming the field, before any service stores it."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value):
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and _CONTROL.search(text) for text in texts):
            raise PydanticCustomError(
                "control_characters", gettext("Control characters are not allowed.")
            )
        return value
