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

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass
class Comparison:
    """CPU and wall seconds of each timed render, the document's and the floor's, in the order taken."""

    document_cpu: list[float]
    floor_cpu: list[float]
    document_wall: list[float]
    floor_wall: list[float]

    @property
    def ratio(self) -> float:
        """The verdict: the median document render's CPU over the median floor render's."""
        floor = statistics.median(self.floor_cpu)
        return statistics.median(self.document_cpu) / floor if floor else float("inf")

    @property
    def pair_ratios(self) -> list[float]:
        """Each document render over the floor render next to it (same load), for the spread."""
        return [doc / floor for doc, floor in zip(self.document_cpu, self.floor_cpu, strict=True) if floor]

    @property
    def ok(self) -> bool:
        return self.ratio <= TARGET_RATIO

    def summary(self) -> str:
        pairs = sorted(self.pair_ratios)
        return (
            f"PDF vs WeasyPrint floor, median of {len(self.document_cpu)} interleaved renders each: CPU "
            f"{statistics.median(self.document_cpu):.2f} s / {statistics.median(self.floor_cpu):.2f} s = "
            f"{self.ratio:.2f}× {'✓' if self.ok else '✗'} ≤ {TARGET_RATIO}× "
            f"(render by render {pairs[0]:.2f}–{pairs[-1]:.2f}×, median {statistics.median(pairs):.2f}×)"
        )


def _timed(render: Callable[[], object]) -> tuple[float, float]:
    # The previous render's box tree is cyclic garbage: collected here, it is not charged to this render.
    gc.collect()
    started, started_cpu = time.perf_counter(), time.process_time()
    render()
    return time.perf_counter() - started, time.process_time() - started_cpu


def compare_with_floor(document: Callable[[], object], floor: Callable[[], object], *, reps: int) -> Comparison:
    """`reps` CPU-timed renders of each, interleaved in this process after one warm-up each (fonts,
    Pango and the stylesheet caches), who goes first alternating: a burst of load on the shared
    machine falls on both alike. Medians, not means: a render slowed by the machine is an outlier."""
    document()
    floor()
    result = Comparison([], [], [], [])
    for rep in range(reps):
        order = ("document", "floor") if rep % 2 == 0 else ("floor", "document")
        for which in order:
            wall, cpu = _timed(document if which == "document" else floor)
            getattr(result, f"{which}_cpu").append(cpu)
            getattr(result, f"{which}_wall").append(wall)
    return result
