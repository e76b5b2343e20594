#!/usr/bin/env bash
# The sockets and netconfig tests use `ss` and `ip` (iproute2) as oracles
# and python3 to hold sockets inside test namespaces.
set -euo pipefail
if ! command -v ss >/dev/null || ! command -v ip >/dev/null || ! command -v python3 >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 python3 >/dev/null
fi
ss -V
