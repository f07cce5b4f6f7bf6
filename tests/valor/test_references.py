"""report/valor: every eReference is cited, references are numbered in order of first citation
(JAMA), and neither the report sources nor the citation line hold placeholder text."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.valor.test_report_order import INDEX, expand

CITE = re.compile(r"\^(\d+(?:[-,]\d+)*)\^")
REF_ITEM = re.compile(r"^(\d+)\.\s", re.M)
PLACEHOLDERS = ("placeholder", "to be completed", "todo", "[authors")


def cited_numbers(text: str) -> list[int]:
    """Citation numbers in order of appearance; "1-3" expands to 1, 2, 3."""
    out = []
    for m in CITE.finditer(text):
        for part in m.group(1).split(","):
            a, _, b = part.partition("-")
            out += list(range(int(a), int(b or a) + 1))
    return out


@pytest.fixture(scope="module")
def parts():
    text = re.sub(r"<!--.*?-->", "", expand(INDEX), flags=re.S)
    body, refs = text.split("# eReferences", 1)
    return body, refs


def test_references_cited_in_order_of_first_citation(parts):
    body, refs = parts
    listed = [int(n) for n in REF_ITEM.findall(refs)]
    assert listed == list(range(1, len(listed) + 1)) and len(listed) >= 10
    first = list(dict.fromkeys(cited_numbers(body)))
    assert first == listed, f"first citations {first} vs references {listed}"


def test_expected_sources_listed(parts):
    refs = " ".join(parts[1].split())
    for needle in ("N Engl J Med*. 2022;387(12):1099-1110", "doi:10.1056/NEJMoa2204705",
                   "Long-term tofersen in SOD1 amyotrophic lateral sclerosis", "12-month tofersen data",
                   "Kenward MG, Roger JH", "Finkelstein DM, Schoenfeld DA", "Koch GG", "Rubin DB",
                   "Efron B", "Brookmeyer R, Crowley J", "Royston P, Parmar MKB"):
        assert needle in refs, needle


def test_no_placeholder_in_sources_or_citation():
    from trialsupp.pipeline.stage import citation_text
    from trialsupp.study import load_study

    text = expand(INDEX).lower()
    for word in PLACEHOLDERS:
        assert word not in text, word
    cite = citation_text(load_study("valor"))
    assert cite.startswith("Miller TM") and "JAMA Neurol" in cite
    assert not any(w in cite.lower() for w in PLACEHOLDERS)


def test_methods_named_in_text_carry_a_reference(parts):
    body = " ".join(parts[0].split())
    for method in ("Kenward-Roger", "Finkelstein-Schoenfeld", "Koch rank analysis", "Rubin's rules",
                   "Brookmeyer-Crowley", "restricted mean survival time", "Efron"):
        i = body.find(method)
        assert i >= 0, method
        assert CITE.search(body[i:i + 200]), f"{method}: no citation within its sentence"
