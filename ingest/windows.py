"""Windows: short runs of consecutive lines of a chunk, embedded beside the whole chunk.

A long slide (nine bullets, six testimonials) has one chunk vector that averages its topics, so a question
about one of its lines scores the slide below a broader one. Each chunk therefore also gets a vector per
window of ``UNITS_PER_WINDOW`` consecutive units — a unit is a line, a long line is split into sentences,
and very short lines ("Umeå", a heading) are merged into the next — and retrieval scores a chunk by the
best of its vectors. The chunk stays the citation unit; the best windows also say which lines to quote.
"""

from __future__ import annotations

from ingest.chunking import split_sentences

UNITS_PER_WINDOW = 2
MIN_UNIT_CHARS = 30  # shorter lines are merged into the next one
MAX_UNIT_CHARS = 300  # longer lines are split into sentences
# What the manifest records: a version built with other window rules cannot lend its vectors to this one.
WINDOWING = {"units": UNITS_PER_WINDOW, "min_unit_chars": MIN_UNIT_CHARS, "max_unit_chars": MAX_UNIT_CHARS}


def units(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the lines of ``text`` (long lines split into sentences, short ones merged
    into the next), in order, covering every non-blank character."""
    raw: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = pos + len(line) - len(line.lstrip())
            end = start + len(stripped)
            if end - start > MAX_UNIT_CHARS:
                raw.extend(split_sentences(text[start:end], start))
            else:
                raw.append((start, end))
        pos += len(line) + 1
    merged: list[tuple[int, int]] = []
    pending: int | None = None  # start of short units waiting for the next one
    for start, end in raw:
        start = start if pending is None else pending
        if end - start < MIN_UNIT_CHARS:
            pending = start
            continue
        merged.append((start, end))
        pending = None
    if pending is not None:  # short units at the end join the last unit
        if merged:
            merged[-1] = (merged[-1][0], raw[-1][1])
        else:
            merged.append((pending, raw[-1][1]))
    return merged


def window_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the windows of a chunk: every run of ``UNITS_PER_WINDOW`` consecutive units. A chunk of
    that many units or fewer has none (its own vector already is such a window)."""
    spans = units(text)
    if len(spans) <= UNITS_PER_WINDOW:
        return []
    return [(spans[i][0], spans[i + UNITS_PER_WINDOW - 1][1]) for i in range(len(spans) - UNITS_PER_WINDOW + 1)]
