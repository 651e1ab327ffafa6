"""Reading a PDF back: text (pdftotext) and the text of each table cell, even when it wraps."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from defusedxml import ElementTree


def _run(*args: str) -> str:
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


def text(data: bytes, *, first: int | None = None, last: int | None = None) -> str:
    """pdftotext -layout, with the spaces taken out (CJK text has none of its own)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.pdf"
        path.write_bytes(data)
        args = ["pdftotext", "-layout"]
        if first:
            args += ["-f", str(first)]
        if last:
            args += ["-l", str(last)]
        return _run(*args, str(path), "-").replace(" ", "")


def pages(data: bytes) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.pdf"
        path.write_bytes(data)
        info = _run("pdfinfo", str(path))
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def info(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.pdf"
        path.write_bytes(data)
        return _run("pdfinfo", str(path))


def fonts(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.pdf"
        path.write_bytes(data)
        return _run("pdffonts", str(path))


def page_words(data: bytes, *, page: int = 1) -> list[tuple[str, float, float, float, float]]:
    """The words of a page with their boxes in points: (text, xMin, xMax, yMin, yMax)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "b.pdf"
        path.write_bytes(data)
        out = Path(folder) / "b.html"
        _run("pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), str(out))
        source = out.read_text(encoding="utf-8").replace('xmlns="http://www.w3.org/1999/xhtml"', "")
    root = ElementTree.fromstring(source)
    return [
        (
            w.text or "",
            float(w.get("xMin", 0)),
            float(w.get("xMax", 0)),
            float(w.get("yMin", 0)),
            float(w.get("yMax", 0)),
        )
        for w in root.iter("word")
    ]


def cell_texts(data: bytes, *, page: int = 1) -> list[str]:
    """The words of a page joined into the cells they sit in.

    pdftotext gives each word with its box; words stacked in the same column with only a line's
    leading between them are one wrapped cell (a table border and padding leave a wider gap).
    """
    words = page_words(data, page=page)
    parent = list(range(len(words)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (_, ax0, ax1, ay0, ay1) in enumerate(words):
        for j in range(i + 1, len(words)):
            _, bx0, bx1, by0, by1 = words[j]
            overlap = min(ax1, bx1) - max(ax0, bx0)
            gap = max(by0 - ay1, ay0 - by1)
            if overlap > 0.5 * min(ax1 - ax0, bx1 - bx0) and -0.5 * (ay1 - ay0) < gap < 0.3 * (ay1 - ay0):
                parent[find(i)] = find(j)
    groups: dict[int, list[tuple[str, float, float, float, float]]] = {}
    for index, word in enumerate(words):
        groups.setdefault(find(index), []).append(word)
    cells = []
    for members in groups.values():
        members.sort(key=lambda w: (round(w[3]), w[1]))
        cells.append((members[0][3], members[0][1], "".join(m[0] for m in members)))
    return [value for _, _, value in sorted(cells)]
