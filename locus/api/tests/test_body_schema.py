"""`BodySchema`: a JSON body is validated once, with ninja's own rules for everything else."""

from typing import Annotated

import pytest
from pydantic import AfterValidator, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from locus.api.schemas import BodySchema


def _probe():
    calls = []

    def seen(value):
        calls.append(value)
        return value

    class Inner(BodySchema):
        model_config = ConfigDict(extra="forbid")
        name: Annotated[str, AfterValidator(seen)]

    class Outer(BodySchema):
        model_config = ConfigDict(extra="forbid")
        title: Annotated[str, AfterValidator(seen)]
        inner: Inner | None = None

    return Outer, calls


def test_a_json_object_is_validated_once():
    outer, calls = _probe()
    value = outer.model_validate({"title": "a", "inner": {"name": "b"}})
    assert (value.title, value.inner.name) == ("a", "b")
    assert calls == ["a", "b"]  # ninja's Schema runs each validator twice or more


def test_extra_fields_are_still_refused_at_every_level():
    outer, _calls = _probe()
    with pytest.raises(PydanticValidationError) as raised:
        outer.model_validate({"title": "a", "surprise": 1})
    assert raised.value.errors()[0]["type"] == "extra_forbidden"
    with pytest.raises(PydanticValidationError) as raised:
        outer.model_validate({"title": "a", "inner": {"name": "b", "surprise": 1}})
    assert raised.value.errors()[0]["loc"] == ("inner", "surprise")


def test_an_object_is_read_through_its_attributes_as_by_ninja():
    outer, calls = _probe()

    class Row:
        title = "from an object"

    assert outer.model_validate(Row()).title == "from an object"
