#!/usr/bin/env bash
# Runs every cargo-fuzz target briefly (FUZZ_SECONDS, default 30) from its
# committed seed corpus, with the nightly toolchain on the machine. A crash
# fails CI and leaves the reproducer under fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-30}
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "no nightly toolchain on this machine: fuzzing needs one"; exit 1
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd fuzz
cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
  seeds="corpus/$target"
  work=$(mktemp -d)
  [ -d "$seeds" ] && cp -r "$seeds/." "$work/"
  echo "--- fuzz $target for ${seconds}s"
  rc=0
  cargo +nightly fuzz run "$target" "$work" -- -max_total_time="$seconds" \
    >"$work.log" 2>&1 || rc=$?
  grep -E '^(Done|stat::number_of_executed_units)' "$work.log" || true
  if [ "$rc" != 0 ]; then
    tail -40 "$work.log"
    echo "fuzz target $target failed (exit $rc): reproducer under fuzz/artifacts/$target"
    exit 1
  fi
  rm -f "$work.log"
  rm -rf "$work"
done
