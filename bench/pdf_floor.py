"""WeasyPrint's floor for a list PDF (issue 14 §4): the same cells as a bare table, rendered alone.

The floor is the cheapest document that still prints the same text in the same place: one plain
<table> of the list's rows and column titles, the same font and size (Noto CJK, 10 pt, set on html),
A4 landscape with the same margins, and the same column widths in a fixed layout, so that the text
wraps into about as many lines and pages as in the real file. No borders, padding, alignment, page
numbers, headings or summary table: everything the real document adds costs above this floor. (An
auto-layout table is not the floor: measuring every cell's min/max-content width costs more than the
whole real document, which is laid out fixed.)
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

FLOOR_CSS = """
@page { size: A4 landscape; margin: 14mm 12mm 16mm 12mm; }
html { font-family: "Noto Sans CJK SC", sans-serif; font-size: 10pt; }
table { width: 100%; table-layout: fixed; }
"""
TARGET_RATIO = 1.3  # the real PDF's CPU time at most this multiple of the floor's


def _cell(value: str) -> str:
    """The text, its line breaks kept (as <br>: a cell's lines are its content, not its styling)."""
    return "<br>".join(escape(line) for line in value.splitlines())


def floor_html(columns: Sequence[str], widths: Sequence[float], rows: Sequence[Sequence[str]]) -> str:
    cols = "".join(f'<col style="width: {width}%">' for width in widths)
    head = "".join(f"<th>{escape(title)}</th>" for title in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>" for row in rows)
    return (
        f"<!doctype html><html><body><table><colgroup>{cols}</colgroup>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )


def render_floor(columns: Sequence[str], widths: Sequence[float], rows: Sequence[Sequence[str]]) -> bytes:
    from weasyprint import CSS, HTML  # imported here: WeasyPrint loads Pango at import time

    html = HTML(string=floor_html(columns, widths, rows))
    return bytes(html.write_pdf(stylesheets=[CSS(string=FLOOR_CSS)]))
