#!/usr/bin/env python3
"""Whole-collection benchmark: irdump against the shell line it replaces.

    sudo bench/collect.py [--sizes 1000:5000,5000:25000] [--runs 11] [--irdump PATH]

For each size PROCS:CONNS it starts bench/load.py (PROCS sleeping processes,
CONNS established loopback TCP connections, so 2*CONNS sockets), then runs,
alternating within one loop so that machine noise hits every side alike:

  irdump   `irdump collect -q -o DIR` with default options
  shell    date; ss -tanpu; ps auxww; uname -a; cat /etc/os-release;
           getent group sudo adm wheel; ip addr; ip route; ip neigh; who
  ss       ss -tanpu
  ps       ps auxww

Outputs go to one scratch directory on the same file system for every
side. It prints median wall times, irdump's ratio to each, irdump's peak
RSS (/usr/bin/time -f %M, measured in separate runs so the wrapper does
not distort the timings) and irdump's own per-collector medians from
collection.json. Run it as root: that is how responders run irdump, and
only then can ss and irdump see every owner.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHELL_LINE = (
    "date; ss -tanpu; ps auxww; uname -a; cat /etc/os-release; "
    "getent group sudo adm wheel; ip addr; ip route; ip neigh; who"
)


def default_binary():
    root = os.path.dirname(HERE)
    for p in ("target/x86_64-unknown-linux-musl/release/irdump", "target/release/irdump"):
        if os.path.exists(os.path.join(root, p)):
            return os.path.join(root, p)
    sys.exit("build irdump first: cargo build --release --target x86_64-unknown-linux-musl")


def timed(cmd, out_path, shell=False):
    with open(out_path, "wb") as out:
        t0 = time.perf_counter()
        r = subprocess.run(cmd, stdout=out, stderr=subprocess.DEVNULL, shell=shell)
        dt = time.perf_counter() - t0
    return dt, r.returncode


def peak_rss_kib(binary, scratch, n):
    peaks = []
    for i in range(n):
        bundle = os.path.join(scratch, f"rss-{i}")
        r = subprocess.run(
            ["/usr/bin/time", "-f", "%M", binary, "collect", "-q", "-o", bundle],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        peaks.append(int(r.stderr.strip().splitlines()[-1]))
        shutil.rmtree(bundle, ignore_errors=True)
    return max(peaks)


def one_size(binary, procs, conns, runs, scratch):
    load = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "load.py"), "--procs", str(procs), "--conns", str(conns)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    ready = load.stdout.readline().strip()
    if not ready.startswith("ready"):
        sys.exit(f"load did not start: {ready!r}")
    try:
        times = {"irdump": [], "shell": [], "ss": [], "ps": []}
        per_collector = {}
        codes = set()
        for i in range(runs):
            bundle = os.path.join(scratch, f"b-{i}")
            dt, rc = timed([binary, "collect", "-q", "-o", bundle], os.path.join(scratch, "irdump.out"))
            times["irdump"].append(dt)
            codes.add(rc)
            with open(os.path.join(bundle, "collection.json")) as f:
                for c in json.load(f)["collectors"]:
                    per_collector.setdefault(c["name"], []).append(c["duration_ms"])
            shutil.rmtree(bundle)
            times["shell"].append(timed(SHELL_LINE, os.path.join(scratch, "shell.out"), shell=True)[0])
            times["ss"].append(timed(["ss", "-tanpu"], os.path.join(scratch, "ss.out"))[0])
            times["ps"].append(timed(["ps", "auxww"], os.path.join(scratch, "ps.out"))[0])
        rss = peak_rss_kib(binary, scratch, 3)
    finally:
        load.terminate()
        load.wait()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n== {procs} processes, {2 * conns} loopback TCP sockets, {runs} alternating runs")
    print(f"   irdump exit codes seen: {sorted(codes)}")
    for k in ("irdump", "shell", "ss", "ps"):
        print(f"   {k:<7} median {med[k] * 1000:8.1f} ms")
    for k in ("shell", "ss", "ps"):
        print(f"   irdump / {k:<5} = {med['irdump'] / med[k]:.2f}x")
    print(f"   irdump peak RSS {rss / 1024:.1f} MiB")
    print("   irdump per collector (median ms): " + ", ".join(
        f"{n} {statistics.median(v):.0f}" for n, v in per_collector.items()))
    return med, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000:5000,5000:25000",
                    help="comma-separated PROCS:CONNS (CONNS connections = 2*CONNS sockets)")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--irdump", default=None)
    args = ap.parse_args()
    binary = args.irdump or default_binary()
    print(f"binary: {binary}")
    print(f"host: {os.uname().nodename}, {os.cpu_count()} CPUs, kernel {os.uname().release}")
    scratch = tempfile.mkdtemp(prefix="irdump-bench-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
    try:
        summary = []
        for size in args.sizes.split(","):
            procs, conns = (int(x) for x in size.split(":"))
            med, rss = one_size(binary, procs, conns, args.runs, scratch)
            summary.append((procs, 2 * conns, med, rss))
        print("\nprocesses  sockets  irdump_ms  shell_ms  ratio  peak_rss_mib")
        for procs, socks, med, rss in summary:
            print(f"{procs:9d}  {socks:7d}  {med['irdump'] * 1000:9.1f}  {med['shell'] * 1000:8.1f}"
                  f"  {med['irdump'] / med['shell']:5.2f}  {rss / 1024:12.1f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
