#!/usr/bin/env bash
# Benchmark of the sockets collector (issue: sockets): wall time of
#   irdump collect --only sockets --no-hash -q -o <tmp>
# against `ss -tanpu`, run alternately in the same session, on a host
# carrying N established loopback TCP connections (2N sockets plus a
# listener, all held by one process) and P sleeping processes.
#
# Usage: bench/sockets.sh [N=10000] [P=1000] [ROUNDS=15]
# Env:   IRDUMP=path/to/irdump (default: builds the static musl release).
# Run as root (the responder's case: every owner readable). Prints the
# medians and the ratio irdump/ss; target <= 1.0, aim 0.5.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
P=${2:-1000}
ROUNDS=${3:-15}

if [ -z "${IRDUMP:-}" ]; then
  cargo build --quiet --release --target x86_64-unknown-linux-musl
  IRDUMP=target/x86_64-unknown-linux-musl/release/irdump
fi
command -v ss >/dev/null || { echo "ss (iproute2) is needed"; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# P sleeping processes.
for _ in $(seq "$P"); do sleep 3600 & pids+=($!); done

# N established loopback connections: the accepting ends in one process,
# the connecting ends in another (each stays under a 20,000 descriptor
# limit).
want=$((N + 100))
[ "$(ulimit -n)" -ge "$want" ] || ulimit -n "$want"
python3 - "$N" "$work" <<'PY' &
import socket, sys, time
n, work = int(sys.argv[1]), sys.argv[2]
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(4096)
open(work + "/port", "w").write(str(l.getsockname()[1]))
keep = [l.accept()[0] for _ in range(n)]
open(work + "/ready", "w").write(str(len(keep)))
time.sleep(3600)
PY
pids+=($!)
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
python3 - "$N" "$(cat "$work/port")" <<'PY' &
import socket, sys, time
n, port = int(sys.argv[1]), int(sys.argv[2])
keep = []
for _ in range(n):
    c = socket.socket()
    c.connect(("127.0.0.1", port))
    keep.append(c)
time.sleep(3600)
PY
pids+=($!)
for _ in $(seq 600); do [ -s "$work/ready" ] && break; sleep 0.1; done
[ -s "$work/ready" ] || { echo "load did not come up"; exit 1; }

python3 - "$IRDUMP" "$work" "$ROUNDS" "$N" "$P" <<'PY'
import os, shutil, statistics, subprocess, sys, time
irdump, work, rounds, n, p = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]

def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t
    if r.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} exited {r.returncode}")
    return dt

ours, theirs = [], []
for i in range(rounds):
    out = os.path.join(work, f"b{i}")
    ours.append(timed([irdump, "collect", "--only", "sockets", "--no-hash", "-q", "-o", out]))
    theirs.append(timed(["ss", "-tanpu"]))
    if i == 0:
        lines = sum(1 for _ in open(os.path.join(out, "network.jsonl")))
        print(f"records in network.jsonl: {lines}")
    shutil.rmtree(out)
a, b = statistics.median(ours), statistics.median(theirs)
print(f"N={n} connections, P={p} sleeping processes, {rounds} alternating rounds")
print(f"irdump collect --only sockets: median {a*1000:.1f} ms (min {min(ours)*1000:.1f}, max {max(ours)*1000:.1f})")
print(f"ss -tanpu:                     median {b*1000:.1f} ms (min {min(theirs)*1000:.1f}, max {max(theirs)*1000:.1f})")
print(f"ratio irdump/ss: {a/b:.2f}")
PY
