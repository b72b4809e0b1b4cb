from locus.core.ids import parse_id


def test_only_ascii_digits_within_a_database_id_are_an_id():
    assert parse_id("12") == 12
    assert parse_id("0") == 0
    assert parse_id("9" * 18) == 10**18 - 1
    for text in ("", " 1", "1 ", "-1", "+1", "1.0", "\u00b2", "\u0663", "9" * 19, "1e3", None, 12):
        assert parse_id(text) is None, text
