"""OCR of scanned PDF pages: PDFium renders the page (pypdfium2), Tesseract reads it (pytesseract), sv + en.

Optional: it needs the extra ``ocr`` (``pip install -e '.[ocr]'``) and Debian's ``tesseract-ocr``,
``tesseract-ocr-swe`` and ``tesseract-ocr-eng``. Without them a scanned PDF is refused with a reason
that says exactly what to install. Why this pair and not OCRmyPDF: see docs/ingest.md.
"""

from __future__ import annotations

import functools
import logging
import math
import shutil
from collections.abc import Sequence
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

    return pytesseract.image_to_string(image, lang=languages, config="--psm 3", timeout=timeout_s or 0)


def ocr_pdf_pages(path: Path, indices: Sequence[int], *, languages: str = "swe+eng", dpi: int = 300,
                  timeout_s: float = 0) -> dict[int, str]:
    """OCR text of the given 0-based pages of the PDF at ``path``. A page that fails (a render error, a
    Tesseract timeout) is logged and left out; the caller keeps whatever text layer it had."""
    import pypdfium2 as pdfium

    out: dict[int, str] = {}
    pdf = pdfium.PdfDocument(str(path))
    try:
        for i in indices:
            try:
                image = render_page(pdf, i, dpi)
                out[i] = ocr_image(image, languages=languages, timeout_s=timeout_s)
            except Exception as exc:  # noqa: BLE001 - one unreadable page must not lose the others
                log.warning("%s: OCR of page %d failed (%s); the page keeps its text layer.", path, i + 1, exc)
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
