"""Python push vs the C# API, in one run: 1 GiB numpy push throughput and 4 KiB push latency (acknowledged).

Both senders push to the same kind of receiver: the C# bench harness's tensorp-push server child (a node on
127.0.0.1 that drains its queue). The C# sender is the harness's own tensorp-push client (`TensorProtocol.Bench
--transport tensorp-push`); the Python sender is this process, with the same sizes, warm-ups and iteration counts.
Rounds alternate C# and Python so drift on a shared machine hits both alike. Targets (issue 5): Python MiB/s >= 0.9x
C#, Python 4 KiB p50 <= C# p50 + 30 us (the asyncio API; the blocking API's p50 is reported beside it), each the median
over the rounds of its value within the round. Each round also runs abi_push_latency.c, the same 4 KiB pushes from a
C program through the C ABI with the blocking API's completion path, to split the difference into what the native
path costs and what Python costs.

usage: bench_push.py --bench-dll PATH [--quick] [--rounds N] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import tensor_protocol as tp  # noqa: E402

FULL = dict(bulk=1 << 30, bulk_warmup=64 << 20, rtt_warmup=200, rtt=2000, cold_warmup=3, cold=50)
QUICK = dict(bulk=256 << 20, bulk_warmup=32 << 20, rtt_warmup=100, rtt=1000, cold_warmup=2, cold=20)


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def run_csharp(bench_dll: Path, quick: bool) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "cs.json"
        size = "256MiB" if quick else "1GiB"  # only the size the Python side measures
        args = [shutil.which("dotnet"), str(bench_dll), "--transport", "tensorp-push", "--size", size, "--json", str(out)]
        subprocess.run(args + (["--quick"] if quick else []), check=True, stdout=subprocess.DEVNULL, timeout=1800)
        [result] = json.loads(out.read_text())["results"]
        return {"mib_s": result["mib_s"], "p50_us": result["rtt_4k_p50_us"], "p99_us": result["rtt_4k_p99_us"],
                "cold_ms": result["cold_ms"]}


class Server:
    """The harness's tensorp-push server child (the hidden `--child server` role): prints `listening: TICKET`, runs
    until its stdin closes."""

    def __init__(self, bench_dll: Path, quick: bool):
        args = [shutil.which("dotnet"), str(bench_dll), "--child", "server", "--transport", "tensorp-push", "--port", "0"]
        # Like every child the harness starts itself: fully optimized code from the first call (no tiered JIT, no
        # precompiled framework code), so both senders meet the same receiver.
        env = dict(os.environ, DOTNET_TieredCompilation="0", DOTNET_ReadyToRun="0")
        self.process = subprocess.Popen(args + (["--quick"] if quick else []), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env)
        for line in self.process.stdout:
            if line.startswith("listening: "):
                self.ticket = line.split(": ", 1)[1].strip()
                return
        raise RuntimeError("the server child exited before listening")

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


def run_python(bench_dll: Path, quick: bool, sizes: dict) -> dict:
    server = Server(bench_dll, quick)
    try:
        rng = np.random.default_rng(1)
        bulk = rng.integers(0, 256, size=sizes["bulk"], dtype=np.uint8)
        warm = bulk[: sizes["bulk_warmup"]]
        small = rng.integers(0, 256, size=4096, dtype=np.uint8)
        node = tp.create_node(bind_address="127.0.0.1").blocking
        with node:
            node.send_tensor_direct(server.ticket, "warmup", warm)
            # Like the harness's tensor targets: the first push of the size lands in fresh memory on the receiver, the
            # timed one in the mapping it released (as every push of a repeated shape does).
            node.send_tensor_direct(server.ticket, "bulk", bulk)
            started = time.perf_counter()
            node.send_tensor_direct(server.ticket, "bulk", bulk)
            mib_s = sizes["bulk"] / (1 << 20) / (time.perf_counter() - started)
            del bulk, warm

            import asyncio

            async def latencies(anode):
                for _ in range(sizes["rtt_warmup"]):
                    await anode.send_tensor_direct(server.ticket, "small", small)
                samples = []
                for _ in range(sizes["rtt"]):
                    t0 = time.perf_counter()
                    await anode.send_tensor_direct(server.ticket, "small", small)
                    samples.append(time.perf_counter() - t0)
                return sorted(samples)

            samples = asyncio.run(latencies(node.node))

            # The same pushes through the blocking API (the calling thread waits on the node's queue itself).
            for _ in range(sizes["rtt_warmup"]):
                node.send_tensor_direct(server.ticket, "small", small)
            blocking = []
            for _ in range(sizes["rtt"]):
                t0 = time.perf_counter()
                node.send_tensor_direct(server.ticket, "small", small)
                blocking.append(time.perf_counter() - t0)
            blocking.sort()

        cold = []
        for i in range(sizes["cold_warmup"] + sizes["cold"]):
            t0 = time.perf_counter()
            fresh = tp.create_node(bind_address="127.0.0.1").blocking
            fresh.start()
            fresh.send_tensor_direct(server.ticket, "small", small)
            elapsed = time.perf_counter() - t0
            fresh.shutdown()
            if i >= sizes["cold_warmup"]:
                cold.append(elapsed)
        return {"mib_s": mib_s, "p50_us": percentile(samples, 0.5) * 1e6, "p99_us": percentile(samples, 0.99) * 1e6,
                "cold_ms": statistics.median(cold) * 1e3, "blocking_p50_us": percentile(blocking, 0.5) * 1e6}
    finally:
        server.close()


def build_abi_client(scratch: Path) -> Path | None:
    """Compiles abi_push_latency.c against the header and the built library; None (and a note) without a compiler."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        print("note: no C compiler: the C ABI row is left out", file=sys.stderr)
        return None
    here = Path(__file__).resolve().parent
    native = here.parent / "tensor_protocol" / "_native"
    out = scratch / "abi_push_latency"
    try:
        subprocess.run([compiler, "-O2", "-I", str(here.parents[1] / "include"), str(here / "abi_push_latency.c"),
                        "-o", str(out), "-L", str(native), "-ltensor_protocol", f"-Wl,-rpath,{native}"], check=True)
    except subprocess.CalledProcessError:
        print("note: abi_push_latency.c did not compile: the C ABI row is left out", file=sys.stderr)
        return None
    return out


def run_abi(client: Path, bench_dll: Path, quick: bool, sizes: dict) -> dict:
    """4 KiB pushes from a C program through the C ABI, against a fresh server child like the other clients."""
    server = Server(bench_dll, quick)
    try:
        # Only stdout is taken (the JSON line); a failure's message goes through to the terminal.
        done = subprocess.run([str(client), server.ticket, str(sizes["rtt_warmup"]), str(sizes["rtt"])], check=True,
                              stdout=subprocess.PIPE, text=True, timeout=600)
        return json.loads(done.stdout)
    finally:
        server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dll", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    sizes = QUICK if options.quick else FULL
    rows, abi_rows = [], []
    with tempfile.TemporaryDirectory() as scratch:
        abi_client = build_abi_client(Path(scratch))
        for round_index in range(options.rounds):
            order = ("csharp", "python") if round_index % 2 == 0 else ("python", "csharp")
            for who in order:
                result = run_csharp(options.bench_dll, options.quick) if who == "csharp" else \
                    run_python(options.bench_dll, options.quick, sizes)
                result.update(api=who, round=round_index + 1)
                rows.append(result)
                blocking = f"  (blocking API p50 {result['blocking_p50_us']:.1f} us)" if who == "python" else ""
                print(f"round {round_index + 1} {who:7} {result['mib_s']:8.1f} MiB/s  4 KiB p50 {result['p50_us']:7.1f} us"
                      f"  p99 {result['p99_us']:7.1f} us  cold {result['cold_ms']:6.2f} ms{blocking}", flush=True)
            if abi_client is not None:
                result = run_abi(abi_client, options.bench_dll, options.quick, sizes)
                result.update(api="c-abi", round=round_index + 1)
                abi_rows.append(result)
                print(f"round {round_index + 1} c-abi   {'':>14}  4 KiB p50 {result['p50_us']:7.1f} us"
                      f"  p99 {result['p99_us']:7.1f} us", flush=True)
    print(f"{'':8}{'MiB/s':>10}{'p50 us':>10}{'p99 us':>10}{'cold ms':>10}")
    summary = {}
    for who in ("csharp", "python"):
        mine = [r for r in rows if r["api"] == who]
        summary[who] = {key: statistics.median(r[key] for r in mine) for key in ("mib_s", "p50_us", "p99_us", "cold_ms")}
        s = summary[who]
        print(f"{who:8}{s['mib_s']:10.1f}{s['p50_us']:10.1f}{s['p99_us']:10.1f}{s['cold_ms']:10.2f}")
    summary["python"]["blocking_p50_us"] = statistics.median(r["blocking_p50_us"] for r in rows if r["api"] == "python")
    if abi_rows:
        summary["c-abi"] = {key: statistics.median(r[key] for r in abi_rows) for key in ("p50_us", "p99_us")}
        print(f"{'c-abi':8}{'':>10}{summary['c-abi']['p50_us']:10.1f}{summary['c-abi']['p99_us']:10.1f}")
    # Like the harness's --rounds: each target is the median of its value within each round (C# and Python ran back to
    # back there), so drift between rounds cancels; every round's value is printed.
    by_round = {r["round"]: {} for r in rows}
    for r in rows:
        by_round[r["round"]][r["api"]] = r
    paired = [b for b in by_round.values() if "csharp" in b and "python" in b]
    ratios = [b["python"]["mib_s"] / b["csharp"]["mib_s"] for b in paired]
    deltas = [b["python"]["p50_us"] - b["csharp"]["p50_us"] for b in paired]
    blocking_deltas = [b["python"]["blocking_p50_us"] - b["csharp"]["p50_us"] for b in paired]
    ratio, delta, blocking_delta = (statistics.median(v) for v in (ratios, deltas, blocking_deltas))
    rounds_of = lambda values, fmt: " ".join(format(v, fmt) for v in values)  # noqa: E731
    print(f"target python MiB/s / C# MiB/s: {ratio:.2f}x, median of the rounds' {rounds_of(ratios, '.2f')} "
          f"(target >= 0.9x: {'met' if ratio >= 0.9 else 'NOT met'})")
    print(f"target python 4 KiB p50 - C# p50: {delta:+.1f} us, median of the rounds' {rounds_of(deltas, '+.1f')} "
          f"(target <= +30 us: {'met' if delta <= 30 else 'NOT met'})")
    print(f"  blocking API: {blocking_delta:+.1f} us"
          + (f"; C program through the C ABI (the blocking API's completion path): "
             f"{summary['c-abi']['p50_us'] - summary['csharp']['p50_us']:+.1f} us" if abi_rows else ""))
    if options.json:
        options.json.write_text(json.dumps({"rounds": rows, "c_abi_rounds": abi_rows, "median": summary,
                                            "mib_s_ratio": ratio, "p50_delta_us": delta,
                                            "blocking_p50_delta_us": blocking_delta}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
