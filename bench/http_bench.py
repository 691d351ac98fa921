"""Requests/s and latency of POST /v1/ask against a real `sesam serve` on 127.0.0.1.

    .venv/bin/python -m bench.http_bench --index .sesam/index                 # 16 clients, 30 s
    .venv/bin/python -m bench.http_bench --index .sesam/index --quick         # a few seconds
    .venv/bin/python -m bench.http_bench --index .sesam/index --no-repeat     # every question new (no cache hits)

The question mix is the development set's questions plus rephrasings of them; with the default mix about
half the requests repeat an earlier question (as widgets do), and the hit rate of the answer cache is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
PREFIXES = ["", "Kort fråga: ", "Hej! ", "Jag undrar: ", "Please tell me: ", "Snälla, "]


def questions(no_repeat: bool, n: int) -> list[str]:
    path = REPO / "eval" / "dev.jsonl"
    base = [json.loads(x)["question"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()] \
        if path.is_file() else ["Vad är ett socialt företag?", "What is a cooperative?"]
    rng = random.Random(1)
    if no_repeat:
        return [f"{rng.choice(PREFIXES)}{rng.choice(base)} ({i})" for i in range(n)]
    variants = [p + q for q in base for p in PREFIXES]
    return [rng.choice(variants) for _ in range(n)]


def wait_ready(url: str, server: subprocess.Popen, seconds: float = 30.0) -> None:
    """Wait until the service at ``url`` reports ready, or stop with what the server said."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    err = server.stderr.read().decode()[-500:] if server.stderr else ""
    raise SystemExit(f"the server did not become ready: {err}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run_load(url: str, qs: list[str], clients: int, duration: float) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    cached = 0
    it = iter(qs)
    deadline = time.perf_counter() + duration

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal cached
        while time.perf_counter() < deadline:
            q = next(it, None)
            if q is None:
                return
            t0 = time.perf_counter()
            try:
                r = await http.post("/v1/ask", json={"question": q})
                if r.status_code == 200:
                    latencies.append((time.perf_counter() - t0) * 1000)
                    cached += r.json()["cached"]
                else:
                    errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

    start = time.perf_counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else 0.0

    return {"requests": len(latencies), "seconds": elapsed, "rps": len(latencies) / elapsed, "p50": pct(50),
            "p95": pct(95), "p99": pct(99), "errors": errors, "cache_hit_rate": cached / max(1, len(latencies))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path(".sesam/index"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-repeat", action="store_true", help="make every question unique (no cache hits)")
    parser.add_argument("--quick", action="store_true", help="4 clients for 3 s")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.duration = 4, 3.0
    port = free_port()
    env = {**os.environ, "SESAM_RATE_LIMIT_PER_MINUTE": "0"}
    server = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", "--index", str(args.index), "--port",
                               str(port), "--workers", str(args.workers)], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, server)
        qs = questions(args.no_repeat, 200_000)
        result = asyncio.run(run_load(url, qs, args.clients, args.duration))
    finally:
        server.terminate()
        try:  # requests still queued when the load stopped are finished first (graceful shutdown)
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    print(f"POST /v1/ask, {args.clients} clients, {args.duration:.0f} s, {args.workers} worker(s), "
          f"{'unique questions' if args.no_repeat else 'dev-set mix with rephrasings'}:")
    print(f"  {result['requests']} requests, {result['rps']:.1f} req/s, p50 {result['p50']:.1f} ms, "
          f"p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms, errors {result['errors'] or 0}, "
          f"answer-cache hits {result['cache_hit_rate']:.0%}")


if __name__ == "__main__":
    main()
