"""Soak: concurrent /v1/ask clients against a real `sesam serve` while admin re-ingests swap the index.

    .venv/bin/python -m bench.soak --duration 120 --clients 8 --swaps 3
    .venv/bin/python -m bench.soak --quick          # 20 s, 4 clients, 1 swap (used by a smoke test)

Reports failed requests (the target is zero), requests/s, p50/p95, and the server's resident memory
sampled every second (start, peak, end).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.http_bench import free_port, wait_ready

REPO = Path(__file__).resolve().parents[1]
KEY = "soak-key"
QUESTIONS = ["Vad är ett arbetsintegrerande socialt företag?", "Which forms of social procurement can we use?",
             "Vilka kommuner deltar i SKR:s utvecklingsnätverk?", "What is NIA?", "Vad menas med civilsamhället?",
             "Hur kan en kommun främja sociala företag?", "What is the social economy?"]


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1]) / 1024


def run(duration: float, clients: int, swaps: int, index_src: Path) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="sesam-soak-"))
    corpus, index = tmp / "corpus", tmp / "index"
    shutil.copytree(REPO / "corpus", corpus)
    shutil.copytree(index_src, index)
    port = free_port()
    env = {**os.environ, "SESAM_ADMIN_API_KEY": KEY, "SESAM_RATE_LIMIT_PER_MINUTE": "0"}
    log = (tmp / "server.log").open("wb")  # a file: a pipe nobody reads would stall the server once it fills
    server = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", "--index", str(index), "--port", str(port),
                               "--config", str(REPO / "tests" / "empty.toml")],
                              cwd=REPO, env={**env, "SESAM_CORPUS_DIR": str(corpus)},
                              stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    failures: list[str] = []
    memory: list[float] = []
    versions: set[str] = set()
    stop = threading.Event()
    try:
        wait_ready(url, server, log)

        def client(seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(base_url=url, timeout=60) as http:
                while not stop.is_set():
                    q = f"{rng.choice(QUESTIONS)} ({rng.randint(0, 50)})"
                    t0 = time.perf_counter()
                    try:
                        r = http.post("/v1/ask", json={"question": q})
                        if r.status_code == 200:
                            latencies.append((time.perf_counter() - t0) * 1000)
                        else:
                            failures.append(f"{r.status_code}: {r.text[:80]}")
                    except httpx.HTTPError as exc:
                        failures.append(repr(exc))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        started = time.perf_counter()
        next_swap = duration / (swaps + 1)
        done_swaps = 0
        with httpx.Client(base_url=url, timeout=30, headers={"X-API-Key": KEY}) as admin:
            while time.perf_counter() - started < duration:
                memory.append(rss_mb(server.pid))
                versions.add(httpx.get(f"{url}/v1/health").json().get("version") or "")
                if done_swaps < swaps and time.perf_counter() - started >= next_swap * (done_swaps + 1):
                    (corpus / f"soak-{done_swaps}.txt").write_text(
                        f"Soak-dokument {done_swaps}: kooperativ nummer {done_swaps} i Tierp.\n", encoding="utf-8")
                    if admin.post("/v1/admin/reingest").status_code == 202:
                        done_swaps += 1
                time.sleep(1)
            while admin.get("/v1/admin/reingest").json()["state"] == "running":
                time.sleep(0.5)
            versions.add(httpx.get(f"{url}/v1/health").json().get("version") or "")
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        server.terminate()
        server.wait(10)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    latencies.sort()
    return {"requests": len(latencies), "failures": failures, "rps": len(latencies) / elapsed,
            "p50": latencies[len(latencies) // 2] if latencies else 0.0,
            "p95": latencies[int(0.95 * len(latencies))] if latencies else 0.0,
            "rss_start": memory[0] if memory else 0.0, "rss_peak": max(memory, default=0.0),
            "rss_end": memory[-1] if memory else 0.0, "swaps": done_swaps, "versions_seen": len(versions - {""})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=REPO / ".sesam" / "index")
    parser.add_argument("--duration", type=float, default=120)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--swaps", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.clients, args.swaps = 20, 4, 1
    r = run(args.duration, args.clients, args.swaps, args.index)
    print(f"soak: {args.clients} clients, {args.duration:.0f} s, {r['swaps']} re-ingest swaps "
          f"({r['versions_seen']} index versions served)")
    print(f"  {r['requests']} requests, {len(r['failures'])} failed, {r['rps']:.1f} req/s, p50 {r['p50']:.1f} ms, "
          f"p95 {r['p95']:.1f} ms")
    print(f"  server RSS: start {r['rss_start']:.0f} MB, peak {r['rss_peak']:.0f} MB, end {r['rss_end']:.0f} MB")
    for f in r["failures"][:5]:
        print(f"  failure: {f}")
    sys.exit(1 if r["failures"] else 0)


if __name__ == "__main__":
    main()
