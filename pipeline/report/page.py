"""The report as one self-contained HTML page: inline CSS, images as data: URIs, no script.

Nothing on the page refers to another file or to the network, so it can be mailed, attached
to a CI run or opened from a laptop offline and still show every picture.
"""

from __future__ import annotations

import base64
import html
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 0 auto;
       max-width: 1160px; padding: 1.5rem; color: #1b1b1b; background: #fff; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.2rem; }
nav a { margin-right: 0.9rem; }
.lede, figcaption, .note { color: #555; }
figure { margin: 0.8rem 0; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.6rem 1.5rem 0.6rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; }
.tables { display: flex; flex-wrap: wrap; align-items: flex-start; }
"""


@dataclass(frozen=True)
class Section:
    id: str
    heading: str
    body: str  # HTML, already escaped where it holds text


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return struct.unpack(">II", png[16:24])


def image(png: bytes, alt: str, caption: str = "") -> str:
    """A figure with the PNG embedded, at its natural size (scaled down on narrow screens)."""
    width, height = png_size(png)
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" '
            f'width="{width}" height="{height}">{cap}</figure>')


def table(header: Sequence[str], rows: Iterable[Sequence[object]], caption: str = "") -> str:
    """A table; numbers are right-aligned, every cell is escaped."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{html.escape(str(v))}</td>' if _numeric(v) else f"<td>{html.escape(str(v))}</td>"
            for v in row)
        body.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def paragraph(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{html.escape(text)}</p>"


def document(title: str, lede: str, sections: Sequence[Section]) -> str:
    nav = " ".join(f'<a href="#{html.escape(s.id)}">{html.escape(s.heading)}</a>' for s in sections)
    parts = [f'<section id="{html.escape(s.id)}"><h2>{html.escape(s.heading)}</h2>{s.body}</section>'
             for s in sections]
    return ("<!DOCTYPE html>\n"
            f'<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n{paragraph(lede, 'lede')}\n<nav>{nav}</nav>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")


def _numeric(value: object) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    text = str(value).rstrip("%").replace(",", "")
    try:
        float(text)
    except ValueError:
        return False
    return True
