"""PDF-extraction artifacts applied with exact offset mapping.

The clean letter (one paragraph per line, a blank line between paragraphs) is turned into
text that looks like the extracted letters: lines wrapped at ~90 characters, with a blank
line interleaved after every wrapped line (../letters style) or not (published PDF style),
and page breaks ("\f") in the middle of sentences. Every artifact is an *insertion* at a
position of the clean text, so a clean offset maps to a final offset by counting the
characters inserted before it (`Insertions.map`). Redaction gaps and typos are produced
while writing (training/generator/text.py), so their offsets are exact by construction.
"""
from __future__ import annotations

import bisect


class Insertions:
    def __init__(self, clean: str, inserts: list[tuple[int, str]]):
        inserts = sorted(inserts, key=lambda x: x[0])
        self.pos = [p for p, _ in inserts]
        self.cum = []
        total = 0
        for _, s in inserts:
            total += len(s)
            self.cum.append(total)
        out, prev = [], 0
        for p, s in inserts:
            out.append(clean[prev:p])
            out.append(s)
            prev = p
        out.append(clean[prev:])
        self.text = "".join(out)

    def _before(self, i: int, inclusive: bool) -> int:
        k = bisect.bisect_right(self.pos, i) if inclusive else bisect.bisect_left(self.pos, i)
        return self.cum[k - 1] if k else 0

    def map_start(self, s: int) -> int:
        return s + self._before(s, True)

    def map_end(self, e: int) -> int:
        return e + self._before(e, False)


def plan(clean: str, rng, mode: str, width: int, page_chars: int, protect: list[tuple[int, int]],
         no_break_inside_entities: bool = False) -> list[tuple[int, str]]:
    """Insertion points for wrapping (mode 'blank' or 'pdf') and page breaks."""
    inserts: list[tuple[int, str]] = []
    brk = "\n\n" if mode == "blank" else "\n"
    prot_starts = [a for a, _ in protect]

    def inside(p: int) -> bool:
        k = bisect.bisect_right(prot_starts, p) - 1
        return k >= 0 and protect[k][0] < p < protect[k][1]

    wrap_points = []
    line_start = 0
    n = len(clean)
    while line_start < n:
        nl = clean.find("\n", line_start)
        line_end = n if nl < 0 else nl
        s = line_start
        while line_end - s > width:
            cut = clean.rfind(" ", s, s + width)
            while cut > s and no_break_inside_entities and inside(cut + 1):
                cut = clean.rfind(" ", s, cut)
            if cut <= s:
                cut = clean.find(" ", s + width)
                if cut < 0 or cut >= line_end:
                    break
            wrap_points.append(cut + 1)  # after the space, as extraction leaves it
            s = cut + 1
        line_start = line_end + 1
    # page breaks replace a wrap, never inside an entity
    pb = set()
    if page_chars and wrap_points:
        target = page_chars
        for p in wrap_points:
            if p >= target and not inside(p):
                pb.add(p)
                target = p + page_chars + rng.randint(-400, 400)
    for p in wrap_points:
        inserts.append((p, "\f" if p in pb else brk))
    if mode == "blank":
        # paragraph breaks become " \n\n \n\n" as in ../letters (clean has "\n\n")
        i = clean.find("\n\n")
        while i >= 0:
            inserts.append((i, " "))
            inserts.append((i + 2, " \n\n"))
            i = clean.find("\n\n", i + 2)
    return inserts
