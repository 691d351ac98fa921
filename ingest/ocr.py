"""OCR of scanned PDF pages: PDFium renders the page (pypdfium2), Tesseract reads it (pytesseract), sv + en.

Optional: it needs the extra ``ocr`` (``pip install -e '.[ocr]'``) and Debian's ``tesseract-ocr``,
``tesseract-ocr-swe`` and ``tesseract-ocr-eng``. Without them a scanned PDF is refused with a reason
that says exactly what to install. Why this pair and not OCRmyPDF: see docs/ingest.md.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

log = logging.getLogger("sesam.ingest")

INSTALL = ("apt-get install tesseract-ocr tesseract-ocr-swe tesseract-ocr-eng && "
           "pip install -e '.[ocr]'")
MAX_PIXELS = 40_000_000  # a page is rendered at most this large whatever its MediaBox (memory stays bounded)
_TESSERACT_LANGS = {"swe": "tesseract-ocr-swe", "eng": "tesseract-ocr-eng"}


@functools.lru_cache(maxsize=8)
def ocr_missing(languages: str = "swe+eng") -> str:
    """What is missing for OCR in ``languages`` ("" when everything is there), as an install instruction."""
    try:
        import pypdfium2  # noqa: F401
        import pytesseract
    except ImportError as exc:
        return f"the Python packages for OCR are missing ({exc.name}); run {INSTALL}"
    if shutil.which("tesseract") is None:
        return f"the tesseract program is missing; run {INSTALL}"
    try:
        have = set(pytesseract.get_languages(config=""))
    except Exception as exc:  # noqa: BLE001 - a broken tesseract install
        return f"tesseract does not run ({exc}); reinstall it: {INSTALL}"
    absent = [lang for lang in languages.split("+") if lang and lang not in have]
    if absent:
        packages = " ".join(_TESSERACT_LANGS.get(lang, f"tesseract-ocr-{lang}") for lang in absent)
        return f"Tesseract's language data {'+'.join(absent)} is missing; run apt-get install {packages}"
    return ""


def render_page(pdf, index: int, dpi: int):
    """Page ``index`` (0-based) of an open ``pypdfium2.PdfDocument`` as a greyscale PIL image."""
    page = pdf[index]
    try:
        width, height = page.get_size()  # points
        scale = dpi / 72
        if width * height * scale * scale > MAX_PIXELS:
            scale = math.sqrt(MAX_PIXELS / max(1.0, width * height))
        bitmap = page.render(scale=scale, grayscale=True)
        try:
            return bitmap.to_pil()
        finally:
            bitmap.close()
    finally:
        page.close()


def ocr_image(image, *, languages: str = "swe+eng", timeout_s: float = 0) -> str:
    """Tesseract's text of one image (page segmentation: automatic, reading order by blocks)."""
    import pytesseract

    # One OpenMP thread per Tesseract: on a busy 2-core machine its spinning threads made a page 3x slower
    # (bench/ocr_bench.py); pages are read in parallel instead (``workers``).
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    return pytesseract.image_to_string(image, lang=languages, config="--psm 3", timeout=timeout_s or 0)


def ocr_pdf_pages(path: Path, indices: Sequence[int], *, languages: str = "swe+eng", dpi: int = 300,
                  timeout_s: float = 0, workers: int = 0,
                  on_page: Callable[[int, int], None] | None = None) -> dict[int, str]:
    """OCR text of the given 0-based pages of the PDF at ``path``, ``workers`` pages at a time (0: one per
    CPU). A page that fails (a render error, a Tesseract timeout) is logged and left out; the caller keeps
    whatever text layer it had. Pages are rendered one at a time (PDFium is not thread-safe) and at most
    ``workers`` rendered pages wait in memory. ``on_page(done, total)`` is called as each page is finished."""
    import pypdfium2 as pdfium

    workers = workers or os.cpu_count() or 1
    out: dict[int, str] = {}
    done = 0
    pdf = pdfium.PdfDocument(str(path))
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for start in range(0, len(indices), workers):
                running = {}
                for i in indices[start:start + workers]:
                    try:
                        image = render_page(pdf, i, dpi)
                    except Exception as exc:  # noqa: BLE001 - one unreadable page must not lose the others
                        log.warning("%s: page %d cannot be rendered for OCR (%s).", path, i + 1, exc)
                        done += 1
                        if on_page is not None:
                            on_page(done, len(indices))
                        continue
                    running[i] = pool.submit(ocr_image, image, languages=languages, timeout_s=timeout_s)
                for i, future in running.items():
                    try:
                        out[i] = future.result()
                    except Exception as exc:  # noqa: BLE001 - Tesseract failed or timed out on this page
                        log.warning("%s: OCR of page %d failed (%s); the page keeps its text layer.", path, i + 1, exc)
                    done += 1
                    if on_page is not None:
                        on_page(done, len(indices))
    finally:
        pdf.close()
    return out


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance between the texts with whitespace collapsed, over the reference's length."""
    ref = " ".join(reference.split())
    hyp = " ".join(hypothesis.split())
    if not ref:
        return float(bool(hyp))
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i]
        for j, h in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(ref)
