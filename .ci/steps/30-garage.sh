#!/usr/bin/env bash
# Upload tests against Garage, a real S3-compatible object store: the S3 and
# presigned-URL round trips and the error cases (tests/upload_s3.rs,
# tests/upload_errors.rs). Installs Garage when missing (a source build:
# about 10 minutes on 2 cores), then runs the tests with
# IRDUMP_REQUIRE_SERVERS=1 so that none of them can pass by skipping: first
# with the debug binary, then with the static musl binary that .ci/run
# built, whose rustls/ring stack is what responders carry.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"

if ! command -v garage >/dev/null 2>&1; then
  cargo install garage --locked
fi
garage --version

export IRDUMP_REQUIRE_SERVERS=1
cargo test --locked --test upload_s3 --test upload_errors

musl=target/x86_64-unknown-linux-musl/release/irdump
if [ -x "$musl" ]; then
  IRDUMP_UPLOAD_TEST_BIN="$PWD/$musl" cargo test --locked --test upload_s3 --test upload_errors
fi
