#!/usr/bin/env bash
# The accounts and sessions tests use independent tools as oracles and test
# helpers: ssh-keygen (key fingerprints), utmpdump and setpriv (util-linux),
# useradd/userdel (passwd), getent and id. Install what is missing.
set -euo pipefail
missing=()
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v utmpdump >/dev/null || missing+=(util-linux)
command -v setpriv >/dev/null || missing+=(util-linux)
command -v useradd >/dev/null || missing+=(passwd)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
