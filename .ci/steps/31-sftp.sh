#!/usr/bin/env bash
# Upload tests against OpenSSH (tests/upload_sftp.rs): each test starts its
# own sshd on a loopback port with a test host key and client key; one runs
# it in a network namespace with a rate-limited loopback (iproute2's tc) and
# kills it mid-upload. Needs root. Installs openssh-server and iproute2 when
# missing, then runs the tests with IRDUMP_REQUIRE_SERVERS=1 (no skipping),
# with the debug binary and then the static musl one.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -x /usr/sbin/sshd ] || ! command -v tc >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server iproute2 >/dev/null
fi

export IRDUMP_REQUIRE_SERVERS=1
cargo test --locked --test upload_sftp

musl=target/x86_64-unknown-linux-musl/release/irdump
if [ -x "$musl" ]; then
  IRDUMP_UPLOAD_TEST_BIN="$PWD/$musl" cargo test --locked --test upload_sftp
fi
