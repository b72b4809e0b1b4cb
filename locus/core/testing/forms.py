"""Assertions on forms shared by the apps' tests."""


def refused(form, name, limit):
    """`name` one character over `limit` gets an error naming the limit, next to the field,
    and keeps what was typed. Returns whether the browser is told the limit (maxlength)."""
    assert not form.is_valid()
    assert name in form.errors
    assert str(limit) in form.errors[name][0]
    assert form[name].value() == form.data[name]
    return form.fields[name].widget.attrs["maxlength"] == str(limit)
