"""OCR speed and accuracy on scanned pages whose text is known.

    .venv/bin/python -m bench.ocr_bench [--pages 8] [--scan-dpi 200] [--quick]

Pages of Swedish and English policy text (bench/synth.py) are laid out by reportlab in Helvetica 11 pt,
rendered to greyscale images by PDFium at the scanner's resolution and wrapped in image-only PDFs: a
"clean" scan, and a "noisy" one (rotated 0.6°, speckled, blurred) as a harder case. Each PDF goes
through sesam's loader (render at `ocr_dpi` + Tesseract swe+eng) and the character error rate is measured
against the text that was laid out (whitespace collapsed). Prints one table row per variant.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import synth
from ingest.ocr import character_error_rate, ocr_missing


def _page_lines(rng: random.Random, lang: str, width: float) -> list[str]:
    from reportlab.lib.utils import simpleSplit

    lines: list[str] = []
    for para in synth.page(rng, lang, words=200):
        lines.extend(simpleSplit(para, "Helvetica", 11, width))
        lines.append("")
    return lines[:52]


def _scan(lines: list[str], dpi: int, noisy: bool, seed: int):
    import pypdfium2 as pdfium
    from PIL import Image, ImageFilter
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, invariant=1)
    y = A4[1] - 60
    c.setFont("Helvetica", 11)
    for line in lines:
        c.drawString(60, y, line)
        y -= 14.5
    c.showPage()
    c.save()
    pdf = pdfium.PdfDocument(buffer.getvalue())
    image = pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    pdf.close()
    if noisy:
        rng = random.Random(seed)
        image = image.rotate(0.6, resample=Image.Resampling.BICUBIC, fillcolor=255, expand=False)
        pixels = image.load()
        w, h = image.size
        for _ in range(w * h // 400):  # speckles
            pixels[rng.randrange(w), rng.randrange(h)] = rng.choice((0, 90, 180))
        image = image.filter(ImageFilter.GaussianBlur(0.6))
    return image


def run(n_pages: int, scan_dpi: int, variants: tuple[str, ...]) -> list[dict]:
    from reportlab.lib.pagesizes import A4

    from ingest.loaders import load_document
    from ingest.settings import load_settings

    settings = load_settings(Path(__file__).resolve().parents[1] / "tests" / "empty.toml", environ={},
                             index_dir=Path("/nonexistent"))
    rng = random.Random(15)
    texts = [_page_lines(rng, "sv" if i % 2 == 0 else "en", A4[0] - 120) for i in range(n_pages)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for variant in variants:
            path = Path(tmp) / f"scan-{variant}.pdf"
            images = [_scan(lines, scan_dpi, variant == "noisy", i) for i, lines in enumerate(texts)]
            images[0].save(path, "PDF", resolution=scan_dpi, save_all=True, append_images=images[1:])
            t0 = time.perf_counter()
            doc = load_document(path, root=path.parent, sources={}, settings=settings)
            elapsed = time.perf_counter() - t0
            assert all(p.ocr for p in doc.pages), "every page should have been read by OCR"
            # the reference is the laid-out text as the loader would normalise it: compare whitespace-collapsed
            cers = [character_error_rate(" ".join(x for x in lines if x), page.text)
                    for lines, page in zip(texts, doc.pages, strict=True)]
            rows.append({"variant": variant, "pages": n_pages, "seconds": elapsed, "pages_per_s": n_pages / elapsed,
                         "cer_mean": statistics.mean(cers), "cer_max": max(cers),
                         "chars": sum(len(" ".join(lines)) for lines in texts)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--scan-dpi", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="one clean page (a smoke run)")
    args = parser.parse_args(argv)
    missing = ocr_missing()
    if missing:
        print(f"OCR is not available: {missing}", file=sys.stderr)
        return 2
    n, variants = (1, ("clean",)) if args.quick else (args.pages, ("clean", "noisy"))
    load = os.getloadavg()[0]
    rows = run(n, args.scan_dpi, variants)
    print(f"OCR: Tesseract swe+eng via sesam's loader (render at 300 dpi); scans at {args.scan_dpi} dpi; "
          f"{os.cpu_count()} CPUs, load average before {load:.1f}; one Tesseract thread per page, "
          f"{os.cpu_count()} pages at a time")
    print("| scan | pages | characters | seconds | pages/s | CER mean | CER max |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['pages']} | {r['chars']:,} | {r['seconds']:.1f} | {r['pages_per_s']:.2f} | "
              f"{r['cer_mean'] * 100:.2f} % | {r['cer_max'] * 100:.2f} % |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
