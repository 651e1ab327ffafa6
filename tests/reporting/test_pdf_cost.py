"""The cheap PDF layout (issue 14 §4) keeps what the document shows: the version label in the margin
only when there is one, and the bench's WeasyPrint floor prints the same cells as the real list."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import pytest
import tinycss2

from bench.pdf_floor import Comparison, compare_with_floor, floor_html, render_floor
from reporting.builders.pdf import STYLESHEET, build_pdf, lists_of, render_html
from tests.reporting import pdftext, samples

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="需要 Debian 软件包 poppler-utils")


def test_the_version_label_is_on_every_page_only_when_there_is_one() -> None:
    labelled = build_pdf(samples.winter(lines=30, version_label="第2版 草稿"))
    pages = pdftext.pages(labelled)
    assert pages >= 3
    for page in range(1, pages + 1):
        assert "第2版草稿" in pdftext.text(labelled, first=page, last=page), page
    plain = build_pdf(samples.winter(lines=30))
    assert "草稿" not in pdftext.text(plain)


def test_the_floor_prints_the_lists_cells_with_their_line_breaks() -> None:
    table = samples.winter(lines=4)
    major = lists_of(table)[0]
    rows = [[*row[:5], "边坡浮石\n整改措施：清理"] for row in major.rows]
    html = floor_html(major.columns, major.widths, rows)
    assert html.count("<tr>") == 5 and "边坡浮石<br>整改措施：清理" in html
    text = pdftext.text(render_floor(major.columns, major.widths, major.rows))
    assert all(title in text for title in major.columns)
    assert "泽州县第4石料有限公司" in text


def test_the_print_stylesheet_uses_only_simple_selectors() -> None:
    """Each rule is matched against each of the list's thousands of cells: no descendant, child,
    sibling, attribute or pseudo-class selector (a descendant selector walks every cell's ancestors)."""
    rules = tinycss2.parse_stylesheet(STYLESHEET.read_text(encoding="utf-8"), skip_comments=True, skip_whitespace=True)
    selectors = [
        part.strip()
        for rule in rules
        if rule.type == "qualified-rule"
        for part in tinycss2.serialize(rule.prelude).split(",")
    ]
    assert "td" in selectors and ".grid" in selectors
    compound = [s for s in selectors if any(mark in s for mark in (" ", ">", "+", "~", "[", ":"))]
    assert not compound, compound


def test_the_list_is_a_fixed_table_with_its_widths_on_the_columns_not_the_cells() -> None:
    table = samples.winter(lines=30)
    major = lists_of(table)[0]
    html = render_html(table)
    listing = html.split('class="grid list list-major"', 1)[1].split("</table>", 1)[0]
    cols = "".join(f'<col style="width: {width}%">' for width in major.widths)
    assert f"<colgroup>{cols}</colgroup>" in listing
    assert "style=" not in listing.split("</colgroup>", 1)[1]  # no per-cell styling
    rule = STYLESHEET.read_text(encoding="utf-8").split(".grid {", 1)[1].split("}", 1)[0]
    assert "table-layout: fixed" in rule

    # The widths are the ones laid out: each title sits centred in its column on every page of the
    # list (A4 landscape 841.89 pt less the 12 mm margins; the title is the header repeated on the page).
    data = build_pdf(table)
    left = 12 / 25.4 * 72
    width = 841.89 - 2 * left
    starts = [sum(major.widths[:index]) for index in range(len(major.widths))]
    for page in range(2, pdftext.pages(data) + 1):
        words = pdftext.page_words(data, page=page)
        for title, start, share in zip(major.columns, starts, major.widths, strict=True):
            (x_min, x_max) = next((w[1], w[2]) for w in words if w[0] == title)
            centre = left + (start + share / 2) / 100 * width
            assert abs((x_min + x_max) / 2 - centre) < 2, (page, title)


def _background_left_of(data: bytes, *, page: int, word: str) -> tuple[int, ...]:
    """The colour 2 pt left of the word's first occurrence on the page (inside its cell's padding)."""
    from PIL import Image

    x_min, _, y_min, y_max = next(w[1:] for w in pdftext.page_words(data, page=page) if w[0] == word)
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            ["pdftoppm", "-r", "72", "-png", "-f", str(page), "-l", str(page), "-singlefile", "-", f"{folder}/p"],
            input=data,
            check=True,
        )
        with Image.open(f"{folder}/p.png") as image:
            colour = image.convert("RGB").getpixel((round(x_min - 2), round((y_min + y_max) / 2)))
    assert isinstance(colour, tuple), colour  # an RGB image's pixel
    return colour


def test_the_header_cells_are_grey_on_every_header_row_and_every_page() -> None:
    """The list's header is shaded by its row group, the summary tables' header cell by cell: a row
    group's grey stops at its tallest cell, short of the accountability table's third header row."""
    grey = (242, 242, 242)
    accountability = build_pdf(samples.accountability())
    assert _background_left_of(accountability, page=1, word="人次") == grey  # the units, third header row
    winter = build_pdf(samples.winter(lines=30))
    assert _background_left_of(winter, page=1, word="非煤矿山") == grey  # a row's title
    for page in range(2, pdftext.pages(winter) + 1):
        assert _background_left_of(winter, page=page, word="序号") == grey, page
    assert _background_left_of(winter, page=2, word="1") == (255, 255, 255)  # the cells are not


def test_the_bench_interleaves_the_renders_and_judges_the_medians() -> None:
    calls: list[str] = []
    compared = compare_with_floor(lambda: calls.append("doc"), lambda: calls.append("floor"), reps=3)
    # One warm-up each, then the first to go alternates, so that a burst of load falls on both.
    assert calls == ["doc", "floor", "doc", "floor", "floor", "doc", "doc", "floor"]
    assert len(compared.document_cpu) == len(compared.floor_cpu) == 3
    slow = Comparison(document_cpu=[1.2, 9.0, 1.4], floor_cpu=[1.0, 1.0, 5.0], document_wall=[], floor_wall=[])
    assert slow.ratio == pytest.approx(1.4)  # medians: one slowed render each does not decide
    assert not slow.ok and "1.40× ✗ ≤ 1.3×" in slow.summary()
    assert Comparison([1.2, 1.3, 1.25], [1.0, 1.0, 1.0], [], []).ok
