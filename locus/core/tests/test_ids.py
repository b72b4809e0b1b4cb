from locus.core.ids import is_token, parse_id


def test_only_ascii_digits_within_a_database_id_are_an_id():
    assert parse_id("12") == 12
    assert parse_id("0") == 0
    assert parse_id("9" * 18) == 10**18 - 1
    for text in ("", " 1", "1 ", "-1", "+1", "1.0", "\u00b2", "\u0663", "9" * 19, "1e3", None, 12):
        assert parse_id(text) is None, text


def test_a_token_is_url_safe_base64_of_at_most_64_characters():
    assert is_token("msg_AbC-9_x") and is_token("x" * 64)
    for text in ("", "x" * 65, "a\x00b", "a.b", "a b", "\u00e9", "a/b", None, 5):
        assert not is_token(text), text
