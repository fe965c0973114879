from hypothesis import given, settings
from hypothesis import strategies as st

from clientsense.clean import EMAIL_TOKEN, URL_TOKEN, cap_length, clean_text, fold
from clientsense.config import Config


def test_masks_urls_and_emails() -> None:
    c = clean_text("See https://shop.example.com/o/1?x=2 or write to a.b@example.co.uk")
    assert URL_TOKEN in c.text and EMAIL_TOKEN in c.text
    assert "example.com" not in c.text


def test_whitespace_and_newlines_normalised() -> None:
    c = clean_text("  Hello\u00a0\u00a0there\r\n\r\n\r\n\r\nBye\t\t ")
    assert c.text == "Hello there\n\nBye"


def test_control_chars_and_surrogates_do_not_survive() -> None:
    c = clean_text("a\x00b\x07c\ud800d\u200be")
    assert "\x00" not in c.text and "\ud800" not in c.text and "\u200b" not in c.text
    assert c.text.startswith("a b c")


def test_length_cap_cuts_at_word_boundary() -> None:
    text = "word " * 3000
    c = clean_text(text, Config(max_chars=1000))
    assert c.truncated and len(c.text) <= 1000 and c.text.endswith("word")
    assert c.original_length == len(text)


def test_cap_length_without_spaces() -> None:
    out, cut = cap_length("x" * 50, 10)
    assert out == "x" * 10 and cut


def test_no_letters() -> None:
    for t in ["", "   ", "https://example.com", "👍👍", "12345 !!!", "a@b.co"]:
        assert not clean_text(t).has_letters, t
    assert clean_text("ok").has_letters


def test_megabyte_body_is_bounded() -> None:
    c = clean_text("á" * 1_000_000)
    assert c.truncated and len(c.text) <= Config().max_chars


def test_non_str_is_type_error() -> None:
    import pytest

    with pytest.raises(TypeError, match="expects str"):
        clean_text(None)  # type: ignore[arg-type]


def test_fold_examples() -> None:
    assert fold("Zażółć GĘŚLĄ") == "zazolc gesla"
    assert fold("Mulțumesc ȘI ţara") == "multumesc si tara"
    assert fold("Ещё Йогурт") == "еще йогурт"
    assert fold("Déçu À") == "decu a"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fold_keeps_length_and_clean_never_raises(text: str) -> None:
    assert len(fold(text)) == len(text)
    c = clean_text(text)
    assert isinstance(c.text, str)
    assert len(fold(c.text)) == len(c.text)
