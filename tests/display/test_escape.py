"""One test per escaped character and per target (great-tables style)."""
import io

import pypdf
import pytest
import typst

from trialsupp.display._escape import escape_html, escape_rtf, escape_typst

HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}


@pytest.mark.parametrize("char,expected", sorted(HTML.items()))
def test_html_escapes_char(char, expected):
    assert escape_html(f"a{char}b") == f"a{expected}b"


def test_html_plain_text_unchanged():
    assert escape_html("Pain in extremity (95% CI) \u2212") == "Pain in extremity (95% CI) \u2212"


def test_html_script_is_text():
    assert escape_html("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"


def _typst_text(markup: str) -> str:
    src = f"#set page(width: 12cm, height: auto, margin: 5mm)\nX{markup}Y\n"
    pdf = typst.compile(src.encode("utf-8"))
    return pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().strip()


TYPST_CHARS = list("\\#$*_`@<>[]~/=-+'\".:")


@pytest.mark.parametrize("char", TYPST_CHARS)
def test_typst_escapes_char(char):
    out = escape_typst(char)
    assert out == "\\" + char
    assert _typst_text(out) == f"X{char}Y"


@pytest.mark.parametrize("seq", ["1. item", "- item", "+ item", "= Heading", "/ term: x", "//", "/*",
                                 "--", "---", "...", "-?", "http://a.b", "\\u{41}", "*bold*",
                                 "_emph_", "$x$", "<label>", "@ref", "#panic()", "[x]", "a ~ b",
                                 "O'Brien \"quoted\""])
def test_typst_markup_sequences_are_literal(seq):
    assert _typst_text(escape_typst(seq)) == f"X{seq}Y"


def test_typst_script_is_text():
    s = "<script>alert(1)</script>"
    assert _typst_text(escape_typst(s)) == f"X{s}Y"


def test_typst_unicode_passes():
    assert escape_typst("\u2212 \u00e9 \u2264") == "\u2212 \u00e9 \u2264"


@pytest.mark.parametrize("char,expected", [("\\", "\\\\"), ("{", "\\{"), ("}", "\\}")])
def test_rtf_escapes_char(char, expected):
    assert escape_rtf(f"a{char}b") == f"a{expected}b"


@pytest.mark.parametrize("char,expected", [("\u00e9", "\\u233?"), ("\u2212", "\\u8722?"),
                                           ("\u00b5", "\\u181?"), ("\u2264", "\\u8804?"),
                                           ("\uff01", "\\u-255?"), ("\U0001F600", "\\u-10179?\\u-8704?")])
def test_rtf_non_ascii_as_unicode(char, expected):
    assert escape_rtf(char) == expected


def test_rtf_newline_and_ascii():
    assert escape_rtf("a\nb\tc<d>&") == "a\\line b\\tab c<d>&"
    assert escape_rtf("<script>alert(1)</script>") == "<script>alert(1)</script>"
