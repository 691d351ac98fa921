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
import tempfile
import time
from pathlib import Path
from typing import IO

import httpx

from bench.argtypes import positive_float, positive_int

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


def start_server(argv: list[str], log: IO[bytes], env: dict | None = None) -> subprocess.Popen:
    """Start ``argv`` with its stderr in the file ``log``: a pipe nobody reads fills after ~500 access-log lines
    and stalls the server (the benchmark then measured its own 30 s client timeouts)."""
    return subprocess.Popen(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=log)


def tail(log: IO[bytes], chars: int = 800) -> str:
    """The end of what the server wrote, its access-log lines left out (the health checks would fill it)."""
    log.flush()
    log.seek(0)
    lines = [line for line in log.read().decode(errors="replace").splitlines() if "sesam.access" not in line]
    return "\n".join(lines)[-chars:].strip()


def wait_ready(url: str, server: subprocess.Popen, log: IO[bytes], seconds: float = 30.0) -> None:
    """Wait until the service at ``url`` reports ready, or stop with its last health answer and the end of what it
    wrote to ``log`` (at once when it exits; after ``seconds`` when it runs but never gets ready, e.g. without an
    index)."""
    deadline = time.monotonic() + seconds
    health = ""
    while time.monotonic() < deadline and server.poll() is None:
        try:
            r = httpx.get(f"{url}/v1/health", timeout=1)
            if r.status_code == 200:
                return
            health = f"; /v1/health answered {r.status_code} {r.text[:300]}"
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    exited = server.poll() is not None
    how = f"it exited with code {server.returncode}" if exited else f"not ready after {seconds:.0f} s"
    raise SystemExit(f"the server did not become ready ({how}){health}: {tail(log) or 'it wrote nothing else'}")


def stop(server: subprocess.Popen) -> None:
    """Stop the server; requests still queued are finished first (graceful shutdown)."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path(".sesam/index"))
    parser.add_argument("--clients", type=positive_int, default=16)
    parser.add_argument("--duration", type=positive_float, default=30.0, help="seconds of load")
    parser.add_argument("--workers", type=positive_int, default=1)
    parser.add_argument("--no-repeat", action="store_true", help="make every question unique (no cache hits)")
    parser.add_argument("--quick", action="store_true", help="4 clients for 3 s")
    args = parser.parse_args(argv)
    index = args.index.resolve()  # relative to where the bench was started, not to the repository
    if not index.is_dir():
        parser.error(f"--index {args.index}: no index folder at {index}")
    if args.quick:
        args.clients, args.duration = 4, 3.0
    port = free_port()
    env = {**os.environ, "SESAM_RATE_LIMIT_PER_MINUTE": "0"}
    with tempfile.TemporaryFile() as log:
        server = start_server([sys.executable, "-m", "tui.cli", "serve", "--index", str(index), "--port", str(port),
                               "--workers", str(args.workers)], log, env)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, server, log)
            qs = questions(args.no_repeat, 200_000)
            result = asyncio.run(run_load(url, qs, args.clients, args.duration))
        finally:
            stop(server)
    print(f"POST /v1/ask, {args.clients} clients, {args.duration:.0f} s, {args.workers} worker(s), "
          f"{'unique questions' if args.no_repeat else 'dev-set mix with rephrasings'}:")
    print(f"  {result['requests']} requests, {result['rps']:.1f} req/s, p50 {result['p50']:.1f} ms, "
          f"p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms, errors {result['errors'] or 0}, "
          f"answer-cache hits {result['cache_hit_rate']:.0%}")


if __name__ == "__main__":
    main()
