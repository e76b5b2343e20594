#!/usr/bin/env python3
"""Builds load on this host for the benchmarks and holds it until killed.

    bench/load.py --procs N --conns M

starts N sleeping processes and M established loopback TCP connections
(2*M sockets, both ends held by this process), prints "ready" on stdout
once everything is up, and tears it all down on SIGTERM or when stdin
closes. Used by bench/collect.py; run it alone to profile by hand.
"""

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, need + 1024)
    if hard != resource.RLIM_INFINITY and want > hard:
        want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))


def connections(count):
    """count established pairs over loopback, spread over listeners so the
    ephemeral port range of one destination never runs out."""
    held = []
    per_listener = 20000
    remaining = count
    while remaining > 0:
        batch = min(per_listener, remaining)
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("127.0.0.1", 0))
        lst.listen(4096)
        held.append(lst)
        addr = lst.getsockname()
        for _ in range(batch):
            c = socket.create_connection(addr)
            s, _ = lst.accept()
            held.extend((c, s))
        remaining -= batch
    return held


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--procs", type=int, default=1000)
    ap.add_argument("--conns", type=int, default=5000)
    args = ap.parse_args()
    raise_fd_limit(2 * args.conns + 64)
    children = []

    def stop(*_):
        for c in children:
            c.kill()
        for c in children:
            c.wait()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(args.procs):
        children.append(subprocess.Popen(["sleep", "86400"], stdin=subprocess.DEVNULL))
    held = connections(args.conns)
    print(f"ready procs={args.procs} sockets={len(held)}", flush=True)
    sys.stdin.read()
    stop()


if __name__ == "__main__":
    main()
