"""The quality table of README: every question set of eval/ asked in one process, one markdown row per set.

    .venv/bin/python -m bench.quality                      # every set in eval/, two runs (p95 as a range)
    .venv/bin/python -m bench.quality dev11 heldout        # some sets (file stems or paths)
    .venv/bin/python -m bench.quality --runs 1 --json      # one JSON object per set
    .venv/bin/python -m bench.quality --quick              # a smoke run: the first 12 items of eval/dev.jsonl

Columns as README's: answerable / unanswerable, recall@1, recall@5, MRR@10, recall@5 of English questions about
Swedish text (kind "crosslingual"), answer_recall, median answer length, abstention on unanswerable items, false
abstentions, in-process answer p95 — and answer_recall per language, where the honest sets have been weakest.
Quality figures should not change between runs (extractive answers are deterministic): they are compared, and a
figure that differs (a generative answer, or its extractive stand-in when the endpoint timed out) is shown as the range
of the runs and named on stderr; p95 does change: measure it with nothing else running. Each run opens the index
afresh, and `sesam eval`'s two untimed warm-up questions come first, so neither the model load nor a warm cache is
timed. The index is the one `sesam ingest` built (`--index` to choose another).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.argtypes import positive_int
from ingest.errors import SesamError

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "eval"
QUICK_ITEMS = 12


def _sets(names: list[str]) -> list[Path]:
    if not names:
        return sorted(EVAL.glob("*.jsonl"))
    paths = [Path(n) if n.endswith(".jsonl") else EVAL / f"{n}.jsonl" for n in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"No such question set: {', '.join(missing)}; name a file of {EVAL} or give a path.")
    return paths


def _differences(reports: list[dict]) -> dict[str, list]:
    """The quality figures (all but latency) whose value is not the same in every run: {"answer_recall": [..]};
    a split by language or kind is named "by_lang.en.answer_recall"."""
    def flat(rep: dict, prefix: str = "") -> dict:
        out = {}
        for key, value in rep.items():
            if key in ("latency_ms", "questions"):
                continue
            if isinstance(value, dict):
                out.update(flat(value, f"{prefix}{key}."))
            else:
                out[f"{prefix}{key}"] = value
        return out

    runs = [flat(r) for r in reports]
    return {key: [run.get(key) for run in runs] for key in runs[0] if len({repr(run.get(key)) for run in runs}) > 1}


def _row(name: str, rep: dict, p95s: list[float], differ: dict[str, list] | None = None) -> str:
    differ = differ or {}

    def f(v, key: str = "", digits: int = 3):
        if key in differ and all(x is not None for x in differ[key]):
            return f"{min(differ[key]):.{digits}f}–{max(differ[key]):.{digits}f}"
        return "–" if v is None else f"{v:.{digits}f}"
    cross = rep["by_kind"].get("crosslingual", {})
    false = rep["false_abstain_rate"]
    p95 = f"{min(p95s):.0f}" if round(min(p95s)) == round(max(p95s)) else f"{min(p95s):.0f}–{max(p95s):.0f}"
    langs = ", ".join(f"{lang} {f(m['answer_recall'], f'by_lang.{lang}.answer_recall')}"
                      for lang, m in rep["by_lang"].items()
                      if m["answer_recall"] is not None)
    return " | ".join([
        f"| {name}", f"{rep['n_answerable']} / {rep['n_unanswerable']}", f(rep["recall@1"], "recall@1"),
        f(rep["recall@5"], "recall@5"), f(rep["mrr@10"], "mrr@10"),
        f(cross.get("recall@5"), "by_kind.crosslingual.recall@5") if cross.get("n_answerable") else "–",
        f(rep["answer_recall"], "answer_recall"), f(rep["answer_chars_p50"], "answer_chars_p50", 0),
        f(rep["abstain_recall"], "abstain_recall") if rep["n_unanswerable"] else "–",
        f"{100 * false:.1f} %" if false is not None else "–", p95, f"{langs or '–'} |"])


HEADER = ("| set | answerable / unanswerable | recall@1 | recall@5 | MRR@10 | recall@5 en→sv | answer_recall | "
          "answer chars p50 | abstained | false abstentions | p95 ms | answer_recall by language |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", help="file stems of eval/ (dev11, heldout) or paths; default: all")
    parser.add_argument("--index", type=Path, help="index folder (default: the configured one, .sesam/index)")
    parser.add_argument("--runs", type=positive_int, default=2, help="runs per set; p95 is shown as a range")
    parser.add_argument("--json", action="store_true", help="one JSON object per set instead of markdown rows")
    parser.add_argument("--quick", action="store_true", help=f"the first {QUICK_ITEMS} items of eval/dev.jsonl")
    args = parser.parse_args(argv)
    if args.quick and args.sets:
        parser.error(f"--quick runs the first {QUICK_ITEMS} items of eval/dev.jsonl; name no sets with it")
    try:
        return _main(args)
    except SesamError as exc:  # no index, a broken question file: the message, not a traceback
        print(f"bench.quality: {exc}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace) -> int:
    from assistant.engine import Assistant
    from assistant.evaluation import load_items, report, run
    from ingest.settings import load_settings

    paths = [EVAL / "dev.jsonl"] if args.quick else _sets(args.sets)  # a mistyped set fails before the model loads
    settings = load_settings(index_dir=args.index)  # flags over environment over sesam.toml
    if not args.json:
        print(HEADER)
    for path in paths:
        items = load_items(path)[:QUICK_ITEMS] if args.quick else load_items(path)
        # each run with a fresh assistant: a warm cache of query vectors would time the second run at ~2 ms
        reports = [report(run(Assistant.open(settings), items)) for _ in range(args.runs)]
        rep, p95s = reports[0], [r["latency_ms"]["p95"] for r in reports]
        differ = _differences(reports)
        for key, values in differ.items():
            print(f"bench.quality: {path.stem}: {key} differs between runs: {values}", file=sys.stderr)
        if args.json:
            print(json.dumps({"set": path.stem, **rep, "p95_runs": p95s, "differing": differ}, ensure_ascii=False))
        else:
            print(_row(path.stem, rep, p95s, differ))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
