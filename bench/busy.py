"""Answer latency while an ingest embeds on the same machine: in another process, or as the admin re-ingest thread.

    .venv/bin/python -m bench.busy                      # all three: quiet, process, thread
    .venv/bin/python -m bench.busy --load process --seconds 40
    .venv/bin/python -m bench.busy --load process --nice 10   # the ingest process niced, as docs/deploy.md advises
    .venv/bin/python -m bench.busy --quick              # 8 s per load (a smoke test runs it with one load)

The load is a full ingest of the shipped corpus into a temporary index (`--rebuild`, so every passage is embedded);
meanwhile the served index answers the questions of eval/ in turn, uncached and in-process (`Assistant.ask`), for
`--seconds` or until the ingest ends. Prints per load: answers timed, p50, p95 and the slowest, in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOADS = ("quiet", "process", "thread")
QUESTION_SETS = ("heldout.jsonl", "unseen.jsonl", "dev.jsonl")


def questions() -> list[str]:
    """The eval questions, each once (their text is never printed)."""
    out: list[str] = []
    for name in QUESTION_SETS:
        for line in (REPO / "eval" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    return list(dict.fromkeys(out))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Load:
    """A full ingest of the shipped corpus into a temporary index, as a process or as the admin job's thread."""

    def __init__(self, kind: str, settings, nice: int = 0) -> None:
        self.kind = kind
        self.nice = nice
        self.tmp = Path(tempfile.mkdtemp(prefix="sesam-busy-"))
        self.settings = settings.model_copy(update={"index_dir": self.tmp / "index", "corpus_dir": REPO / "corpus"})
        self.proc: subprocess.Popen | None = None
        self.job = None

    def start(self) -> None:
        if self.kind == "process":
            niced = ["nice", "-n", str(self.nice)] if self.nice else []
            command = [sys.executable, "-m", "tui.cli", "ingest", "--rebuild", "--no-progress",
                       "--index", str(self.settings.index_dir), "--corpus", str(REPO / "corpus"),
                       "--config", str(REPO / "tests" / "empty.toml")]
            self.proc = subprocess.Popen(niced + command, cwd=REPO, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
        elif self.kind == "thread":
            from assistant.api.reingest import ReingestJob

            self.job = ReingestJob(self.settings, on_done=lambda: None)
            self.job.start()

    def running(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        if self.job is not None:
            return self.job.state == "running"
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        if self.job is not None:
            self.job.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def measure(kind: str, seconds: float, warmup: float, index: Path | None = None, nice: int = 0) -> dict:
    from assistant.engine import Assistant
    from ingest.settings import load_settings

    settings = load_settings(index_dir=index)
    assistant = Assistant.open(settings)
    texts = questions()
    for text in texts[:3]:  # load the engine and the index's pages before timing
        assistant.ask(text, use_cache=False)
    load = Load(kind, settings, nice)
    load.start()
    try:
        time.sleep(warmup)  # past reading the PDFs: the ingest is embedding
        latencies: list[float] = []
        deadline = time.monotonic() + seconds
        i = 0
        retriever = assistant._state.retriever
        while time.monotonic() < deadline and load.running():
            for cache in (retriever.embed_query, retriever.latent_query):  # every answer embeds its question
                if cache is not None:
                    cache.clear()
            started = time.perf_counter()
            assistant.ask(texts[i % len(texts)], use_cache=False)
            latencies.append((time.perf_counter() - started) * 1000)
            i += 1
        still = load.running()
    finally:
        load.stop()
    return {"load": kind, "answers": len(latencies), "load_ran_throughout": still,
            "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
            "p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
            "max_ms": round(max(latencies), 1) if latencies else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", choices=LOADS, action="append", help="repeatable; default: all three")
    parser.add_argument("--seconds", type=float, default=30.0, help="timing per load (default 30)")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds between starting the load and timing")
    parser.add_argument("--quick", action="store_true", help="8 s per load, 2 s warm-up")
    parser.add_argument("--index", type=Path, help="the index that answers (default: the served one)")
    parser.add_argument("--nice", type=int, default=0, help="run the ingest process at this niceness (default 0)")
    args = parser.parse_args(argv)
    seconds, warmup = (8.0, 2.0) if args.quick else (args.seconds, args.warmup)
    print(f"cpus {os.cpu_count()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for kind in args.load or LOADS:
        r = measure(kind, seconds, 0.0 if kind == "quiet" else warmup, args.index, args.nice)
        print(f"{r['load']:>8}: {r['answers']} answers, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
              f"slowest {r['max_ms']} ms" + ("" if r["load_ran_throughout"] else " (the ingest ended early)"),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
