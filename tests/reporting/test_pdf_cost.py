"""The cheap PDF layout (issue 14 §4) keeps what the document shows: the version label in the margin
only when there is one, and the bench's WeasyPrint floor prints the same cells as the real list."""

from __future__ import annotations

import shutil

import pytest

from bench.pdf_floor import floor_html, render_floor
from reporting.builders.pdf import build_pdf, lists_of
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
