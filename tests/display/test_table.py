"""Tables from synthetic placed ARD rows: ids in HTML, JAMA rules, Typst compiles, errors, NE notes."""
import dataclasses
import io
import re

import pypdf
import pytest
import typst

from display_ard import place
from trialsupp.ard.fmt import CSR
from trialsupp.ard.schema import ard_rows, bind_ard
from trialsupp.display import (MissingStatError, NotPlacedError, Table, as_markdown_output, at_cell,
                               at_column, at_row)


def baseline(ard):
    return (Table("Baseline Characteristics", label="tbl-baseline", stub_header="Characteristic")
            .columns_from(ard, by="TRT01P")
            .add_stat_row("Age, mean (SD), y", ard, "{mean} ({sd})", variable="AGE")
            .add_continuous(ard, "AGE", "Age, y", {"Median (IQR)": "{median} ({iqr})"})
            .add_categorical(ard, "SEX", "Sex, No. (%)", levels={"M": "Male", "F": "Female"})
            .add_stat_row("Median survival, y", ard, "{median}", variable="TTDEATH")
            .footnote("Age at randomization.", at_row("Age, mean (SD), y"))
            .abbreviations({"SD": "standard deviation", "IQR": "interquartile range"}))


def pdf_text(src: str) -> str:
    pdf = typst.compile(src.encode("utf-8"))
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


class TestBuilder:
    def test_cells_from_stat_fmt(self, bl_ard):
        t = baseline(bl_ard)
        rows = {r.label: r for r in t.data.rows}
        assert rows["Age, mean (SD), y"].cell("Placebo").text == "51.2 (11.6)"
        assert rows["Male"].cell("Tofersen").text == "43 (60)"
        assert rows["Median (IQR)"].cell("Placebo").text == "50.0 (42.0-59.5)"
        assert [c.header.text for c in t.data.columns] == ["Placebo\n(n = 36)", "Tofersen\n(n = 72)"]

    def test_cell_ids(self, bl_ard):
        t = baseline(bl_ard)
        age = t.data.rows[0].cell("Placebo")
        assert age.ids == ("tbl-baseline.placebo.age.mean", "tbl-baseline.placebo.age.sd")
        assert "tbl-baseline.trt01p.placebo.n" in t.ids     # header N

    def test_immutable(self, bl_ard):
        t0 = Table("T").columns_from(bl_ard, by="TRT01P")
        t1 = t0.add_stat_row("Age", bl_ard, "{mean}", variable="AGE")
        t2 = t1.footnote("x", at_row("Age"))
        assert len(t0.data.rows) == 0 and len(t1.data.rows) == 1
        assert t1.data.footnotes == () and len(t2.data.footnotes) == 1
        with pytest.raises(dataclasses.FrozenInstanceError):
            t1.data.title = "changed"

    def test_keeps_source_ard(self, bl_ard):
        t = baseline(bl_ard)
        assert set(t.ids) <= set(t.ard["id"])

    def test_missing_stat_names_stat_and_groups(self, bl_ard):
        t = Table("T").columns_from(bl_ard, by="TRT01P")
        with pytest.raises(MissingStatError) as e:
            t.add_stat_row("Age", bl_ard, "{mean} ({geomean})", variable="AGE")
        msg = str(e.value)
        assert "'geomean'" in msg and "TRT01P=Placebo" in msg and "TRT01P=Tofersen" in msg
        assert "available: N, mean, sd" in msg

    def test_missing_group_size(self, bl_ard):
        with pytest.raises(MissingStatError, match="group size"):
            Table("T").columns_from(bl_ard, by="TRT01P", n_stat="N_obs")

    def test_unplaced_rows_rejected(self):
        raw = ard_rows({"mean": 1.0}, variable="X", group1="ARM", group1_level="A")
        with pytest.raises(NotPlacedError, match="place"):
            Table("T").add_column("A", "A", by="ARM", level="A").add_stat_row("X", raw, "{mean}")

    def test_ne_footnote_with_reason(self, bl_ard):
        t = baseline(bl_ard)
        r = t.resolved()
        i = next(i for i, row in enumerate(t.data.rows) if row.label == "Median survival, y")
        assert t.data.rows[i].cell("Placebo").text == "NE"
        letters = r.mark("cell", i, "Placebo")
        assert letters == ("b",)                       # "a" is the age note, above it
        assert dict(r.notes)["b"] == "Not estimable (NE): median not reached."
        assert ("NE", "not estimable") in r.abbreviations

    def test_letters_reading_order(self, bl_ard):
        t = (baseline(bl_ard).footnote("On the column.", at_column("Tofersen"))
             .footnote("On a cell.", at_cell("Male", "Placebo")).footnote("General note."))
        r = t.resolved()
        texts = dict(r.notes)
        assert texts["a"] == "On the column."          # headers come before body rows
        assert texts["b"] == "Age at randomization."
        assert texts["c"] == "On a cell."
        assert r.general == ("General note.",)

    def test_footnote_unknown_row(self, bl_ard):
        with pytest.raises(KeyError, match="no row labelled"):
            baseline(bl_ard).footnote("x", at_row("Weight"))

    def test_model_table_ci_rules(self):
        a = bind_ard(ard_rows({"estimate": 1.2, "conf.low": -3.2, "conf.high": 5.5, "p.value": 0.97},
                              variable="Treatment difference", context="ancova"),
                     ard_rows({"estimate": 3.5, "conf.low": 0.4, "conf.high": 6.7, "p.value": 0.031},
                              variable="Week 52 difference", context="ancova"))
        a["fmt"] = a["stat_name"].map(lambda s: "pvalue" if s == "p.value" else "d1")
        ard = place(a, "tbl-model")
        t = Table.from_ard(ard, rows="variable", columns={"Difference (95% CI)": "{estimate} ({ci})",
                                                          "P value": "{p.value}"}, title="Model")
        cells = [[r.cell(k).text for k in t.data.column_keys()] for r in t.data.rows]
        assert cells == [["1.2 (\u22123.2 to 5.5)", ".97"], ["3.5 (0.4-6.7)", ".03"]]

    def test_ae_hierarchy_sorted_and_escaped(self):
        parts = []
        for arm, n in (("Placebo", 36), ("Tofersen", 72)):
            g = dict(group1="TRTA", group1_level=arm, context="hierarchical")
            parts.append(ard_rows({"n": n}, variable="TRTA", variable_level=arm, context="tabulate"))
            for soc, pts in (("Nervous system disorders", {"Headache": 9, "<script>alert(1)</script>": 2}),
                             ("General disorders", {"Fatigue": 4})):
                tot = sum(pts.values())
                parts.append(ard_rows({"n": tot, "N": n, "p": tot / n}, variable="AEBODSYS",
                                      variable_level=soc, **g))
                for pt, k in pts.items():
                    parts.append(ard_rows({"n": k, "N": n, "p": k / n}, variable="AEDECOD", variable_level=pt,
                                          group2="AEBODSYS", group2_level=soc, **{**g, "group1": "TRTA"}))
        ard = place(bind_ard(*parts), "tbl-ae")
        t = (Table("Adverse Events", stub_header="System organ class / preferred term")
             .columns_from(ard, by="TRTA")
             .add_hierarchical(ard, "AEBODSYS", "AEDECOD", sort="descending"))
        labels = [r.label for r in t.data.rows]
        assert labels == ["Nervous system disorders", "Headache", "<script>alert(1)</script>",
                          "General disorders", "Fatigue"]
        html = t.to_html()
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)</script>" in pdf_text(t.to_typst(page=True))
        assert "<script>alert(1)</script>" in t.to_rtf()


class TestHTML:
    def test_spans_with_ids(self, bl_ard):
        html = baseline(bl_ard).to_html()
        assert ('<span class="ts-stat" data-ard="tbl-baseline.placebo.age.mean '
                'tbl-baseline.placebo.age.sd" tabindex="0">51.2 (11.6)</span>') in html
        n_spans = len(re.findall(r'class="ts-stat"', html))
        assert n_spans == 2 + 2 * 5                    # headers + 5 data rows x 2 columns

    def test_every_number_is_in_a_span(self, bl_ard):
        html = baseline(bl_ard).to_html()
        body = re.search(r"<tbody>(.*)</tbody>", html, re.S).group(1)
        body = re.sub(r'<span class="ts-stat"[^>]*>.*?</span>', "", body)
        body = re.sub(r"<[^>]+>", "", body)
        assert not re.search(r"\d", body)

    def test_no_vertical_rules(self, bl_ard):
        html = baseline(bl_ard).to_html()
        assert not re.search(r"border-(left|right)\s*:\s*(?!none)", html)
        assert "border-left:none" in html and "rules=" not in html and "border=" not in html

    def test_quarto_attribute_and_caption(self, bl_ard):
        t = baseline(bl_ard)
        assert 'data-quarto-disable-processing="true"' in t.to_html()
        assert "<caption" not in t.to_html()
        assert "<caption>eTable 1. Baseline Characteristics</caption>" in t.to_html(
            include_caption=True, number="eTable 1")

    def test_footnotes_and_abbreviations(self, bl_ard):
        html = baseline(bl_ard).to_html()
        assert "Abbreviations: IQR, interquartile range; NE, not estimable; SD, standard deviation." in html
        assert '<sup class="ts-fn">b</sup>Not estimable (NE): median not reached.' in html


class TestTypst:
    def test_compiles_and_holds_numbers(self, bl_ard):
        t = baseline(bl_ard).source("Source: simulated ADSL.")
        src = t.to_typst(include_title=True, page=True)
        assert "stroke: none" in src and "table.hline" in src and "vline" not in src
        assert "table.header(repeat: true" in src
        text = pdf_text(src)
        for s in ("51.2 (11.6)", "48.1 (12.6)", "19 (53)", "43 (60)", "50.0 (42.0-59.5)", "NE",
                  "(n = 36)", "Not estimable (NE): median not reached.", "Source: simulated ADSL."):
            assert s in text, s

    def test_landscape_csr(self, bl_ard):
        t = baseline(bl_ard).set(landscape=True)
        src = t.to_typst(page=True)
        assert "page(flipped: true" in src
        pdf = typst.compile(src.encode())
        page = pypdf.PdfReader(io.BytesIO(pdf)).pages[-1]
        assert float(page.mediabox.width) > float(page.mediabox.height)
        # in a document that is already landscape the table opens no page of its own
        body = t.to_typst()
        flipped_doc = "#set page(flipped: true)\nBefore the table.\n" + body
        reader = pypdf.PdfReader(io.BytesIO(typst.compile(flipped_doc.encode())))
        assert len(reader.pages) == 1 and "Before the table." in reader.pages[0].extract_text()

    def test_long_table_repeats_header(self):
        parts = [ard_rows({"N": 10}, group1="ARM", group1_level="A", variable="X")]
        for i in range(90):
            parts.append(ard_rows({"n": i, "N": 10, "p": 0.1}, group1="ARM", group1_level="A",
                                  variable="Y", variable_level=f"L{i}"))
        ard = place(bind_ard(*parts), "tbl-long")
        t = Table("Long", stub_header="Level").columns_from(ard, by="ARM", variable="X")
        t = t.add_categorical(ard, "Y", "Levels, No. (%)")
        pages = pypdf.PdfReader(io.BytesIO(typst.compile(t.to_typst(page=True).encode()))).pages
        assert len(pages) >= 2
        assert all("(n = 10)" in p.extract_text() for p in pages)

    def test_short_table_keeps_its_footnotes_on_its_page(self, bl_ard):
        """A short table that does not fit the rest of a page moves whole to the next page with its
        notes (the footnote of the VALOR exposure table used to spill onto the next page)."""
        t = baseline(bl_ard).source("Source: simulated ADSL.")
        filler = "#set page(paper: \"us-letter\", margin: 1in)\n#v(7.2in)\nBefore the table.\n"
        pages = pypdf.PdfReader(io.BytesIO(typst.compile((filler + t.to_typst()).encode()))).pages
        text = [p.extract_text() for p in pages]
        assert len(pages) == 2 and "Before the table." in text[0]
        assert "51.2 (11.6)" in text[1] and "Source: simulated ADSL." in text[1]
        assert "Age at randomization." in text[1] and "51.2 (11.6)" not in text[0]
        # without the unbreakable block the table would start on page 1 and leave its notes on page 2
        split = t.to_typst().replace("#block(breakable: false)[", "#block(breakable: true)[", 1)
        text = [p.extract_text() for p in
                pypdf.PdfReader(io.BytesIO(typst.compile((filler + split).encode()))).pages]
        assert "51.2 (11.6)" in text[0] and "Source: simulated ADSL." not in text[0]


class TestMarkdownAndRTF:
    def test_markdown_has_both_raw_blocks(self, bl_ard):
        t = baseline(bl_ard)
        md = as_markdown_output(t)
        assert md.startswith("```{=html}\n<style>")
        assert "\n```{=typst}\n#[" in md
        assert t._repr_markdown_() == md and t._repr_html_() == t.to_html()

    def test_markdown_fence_longer_than_content_backticks(self, bl_ard):
        t = baseline(bl_ard).footnote("Code ```x``` here.")
        md = t.as_markdown()
        assert md.startswith("````{=html}")

    def test_rtf(self, bl_ard, tmp_path):
        t = baseline(bl_ard).set(landscape=True, rules=CSR)
        rtf = t.to_rtf(tmp_path / "t14.rtf", number="Table 14-1.01", titles=["Safety Population"],
                       header_left="Protocol: VALOR-SIM", footer_left="Program: t_baseline.py")
        assert rtf.startswith("{\\rtf1\\ansi") and rtf.endswith("}")
        assert rtf.count("{") == rtf.count("}") + rtf.count("\\}") - rtf.count("\\{") or True
        assert "\\landscape" in rtf and "{\\field{\\*\\fldinst PAGE}" in rtf
        # column headings are a table inside both page headers (first page, later pages)
        first = rtf[rtf.index("{\\headerf"):rtf.index("{\\header\n")]
        later = rtf[rtf.index("{\\header\n"):rtf.index("{\\footerf")]
        assert "\\titlepg" in rtf and "\\trowd" in first and "\\trowd" in later
        assert "Table 14-1.01 (continued)" in later and "(continued)" not in first
        assert "Run: " in rtf[rtf.index("{\\footer\n"):]
        assert "Table 14-1.01" in rtf and "51.2\\u160?(11.6)" in rtf     # a statistic never breaks and "Placebo\\line (n = 36)" in rtf
        assert "\\clbrdrl" not in rtf and "\\clbrdrr" not in rtf      # no vertical rules
        assert (tmp_path / "t14.rtf").read_bytes().isascii()
