#!/usr/bin/env bash
# Processes collection vs ps, at a given number of extra sleeping
# processes (default 2000).
#
#   bench/processes.sh [PROCESSES] [RUNS]
#
# Starts PROCESSES sleeping children, then runs, alternately and RUNS
# times each (default 21):
#   irdump collect --only processes -q --no-hash -o <new dir>   (release)
#   ps -eo pid,ppid,user,lstart,args > /dev/null
# and prints each side's median wall time, their ratio, and each side's
# peak RSS (/usr/bin/time -f %M). The irdump figure covers the whole run:
# listing, reading every process, the shared descriptor scan, the PID
# probe, findings, report and manifest written to disk.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
runs=${2:-21}

cargo build --quiet --release
bin=target/release/irdump
tmp=$(mktemp -d)
pids=()
cleanup() {
  if ((${#pids[@]})); then kill "${pids[@]}" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

for ((i = 0; i < n; i++)); do
  sleep 3600 &
  pids+=($!)
done
sleep 1
total=$(ls /proc | grep -c '^[0-9]')
echo "processes on the host: $total ($n started here)"

now_us() { echo "${EPOCHREALTIME/./}"; }
ird=()
pss=()
for ((i = 0; i < runs; i++)); do
  t0=$(now_us)
  "$bin" collect --only processes -q --no-hash -o "$tmp/b$i" || [ $? = 1 ]
  t1=$(now_us)
  ps -eo pid,ppid,user,lstart,args >/dev/null
  t2=$(now_us)
  ird+=($((t1 - t0)))
  pss+=($((t2 - t1)))
  rm -rf "$tmp/b$i"
done
records=$("$bin" collect --only processes -q --no-hash -o "$tmp/count" >/dev/null || true; wc -l <"$tmp/count/processes.jsonl")

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mi=$(median "${ird[@]}")
mp=$(median "${pss[@]}")
# irdump exits 1 when it recorded gaps (unreadable processes): not a failure.
rss_i=$( { /usr/bin/time -f %M "$bin" collect --only processes -q --no-hash -o "$tmp/rss" >/dev/null || true; } 2>&1 | tail -1)
rss_p=$( { /usr/bin/time -f %M ps -eo pid,ppid,user,lstart,args >/dev/null; } 2>&1 | tail -1)

printf 'irdump processes: median %6.1f ms over %d runs, %s records, peak RSS %s KiB\n' \
  "$(echo "$mi / 1000" | bc -l)" "$runs" "$records" "$rss_i"
printf 'ps -eo ...:       median %6.1f ms over %d runs, peak RSS %s KiB\n' \
  "$(echo "$mp / 1000" | bc -l)" "$runs" "$rss_p"
printf 'ratio irdump/ps:  %.2f\n' "$(echo "$mi / $mp" | bc -l)"
