#!/usr/bin/env bash
# Windows and macOS: cross-build irdump.exe with mingw-w64, lint it, run its
# Windows-only unit tests and a whole collection under Wine, check the
# bundle with the Linux build; then compile-check the macOS target.
#
# What this proves and what it does not is written down in
# docs/windows.md: Wine is not Windows (it lists the host's sockets with no
# owner PIDs, has no Remote Desktop sessions, no servicing store, and does
# not implement the command-line query), so the checks below assert what
# Wine really supports and no more.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS
note() { echo "--- $* ($((SECONDS - start)) s)"; }

# --- tools -------------------------------------------------------------
need=()
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
if ! command -v wine >/dev/null 2>&1 && [ ! -x /usr/lib/wine/wine64 ]; then
  need+=(wine wine64)
fi
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  note "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
WINE=$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)
rustup target add x86_64-pc-windows-gnu x86_64-apple-darwin >/dev/null

# --- build and lint ----------------------------------------------------
note "cargo clippy --target x86_64-pc-windows-gnu"
cargo clippy --locked --target x86_64-pc-windows-gnu -- -D warnings
cargo clippy --locked --target x86_64-pc-windows-gnu --lib --profile test -- -D warnings

note "cargo build --release --target x86_64-pc-windows-gnu"
cargo build --locked --release --target x86_64-pc-windows-gnu
tdir=${CARGO_TARGET_DIR:-target}
exe_dir=$tdir/x86_64-pc-windows-gnu/release
ls -l "$exe_dir/irdump.exe"

note "Wine helpers (bcryptprimitives.dll shim, listener.exe)"
x86_64-w64-mingw32-gcc -O2 -shared -o "$exe_dir/bcryptprimitives.dll" \
  tools/wine-bcrypt-shim/bcryptprimitives.c tools/wine-bcrypt-shim/bcryptprimitives.def -ladvapi32
x86_64-w64-mingw32-gcc -O2 -o "$exe_dir/listener.exe" tools/wine-listener/listener.c -lws2_32

# --- Wine ----------------------------------------------------------------
work=$(mktemp -d)
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEARCH=win64
# No Mono or Gecko download prompts; our ProcessPrng shim before any builtin.
export WINEDLLOVERRIDES="mscoree=d;mshtml=d;bcryptprimitives=n,b"
cleanup() {
  WINEPREFIX="$work/prefix" timeout 30 wineserver -k >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
winpath() { printf 'Z:%s' "${1//\//\\}"; }

note "wineboot (new prefix)"
timeout 180 "$WINE" wineboot --init >/dev/null 2>&1 || true

note "Windows unit tests under Wine"
cargo test --locked --target x86_64-pc-windows-gnu --lib --no-run 2>"$work/build.log" || {
  cat "$work/build.log"; exit 1; }
test_exe=$(sed -n 's/.*Executable unittests src\/lib.rs (\(.*\.exe\)).*/\1/p' "$work/build.log" | tail -1)
[ -n "$test_exe" ] || { cat "$work/build.log"; echo "no unit-test executable"; exit 1; }
cp "$exe_dir/bcryptprimitives.dll" "$(dirname "$test_exe")/"
# Only the tests whose path names Windows: the Windows back ends and the
# decoders (the rest of the suite is Linux's and runs natively above).
timeout 600 "$WINE" "$test_exe" windows

note "collection under Wine"
"$WINE" "$exe_dir/listener.exe" "$(winpath "$work/listener.txt")" 600 >/dev/null 2>&1 &
for _ in $(seq 1 120); do [ -s "$work/listener.txt" ] && break; sleep 0.5; done
[ -s "$work/listener.txt" ] || { echo "listener.exe did not start"; exit 1; }
cat "$work/listener.txt"
set +e
timeout 600 "$WINE" "$exe_dir/irdump.exe" collect -q --timeout 120 \
  -o "$(winpath "$work/bundle")" --case ci-wine 2>"$work/irdump.err"
rc=$?
set -e
cat "$work/irdump.err"
echo "irdump.exe exit code: $rc"
[ "$rc" = 0 ] || [ "$rc" = 1 ] || { echo "collection failed"; exit 1; }

note "checks with the Linux build"
# The static build .ci/run made before the steps (a no-op rebuild there).
if command -v musl-gcc >/dev/null 2>&1; then
  cargo build --locked --release --target x86_64-unknown-linux-musl
  linux=$tdir/x86_64-unknown-linux-musl/release/irdump
else
  cargo build --locked --release
  linux=$tdir/release/irdump
fi
"$linux" verify "$work/bundle"
python3 - "$work/bundle" "$work/listener.txt" "$exe_dir" <<'PY'
import hashlib, json, pathlib, sys

bundle, listener_txt, exe_dir = map(pathlib.Path, sys.argv[1:4])
fields = dict(kv.split("=") for kv in listener_txt.read_text().split())
pid, tcp4, client, udp4, tcp6 = (int(fields[k]) for k in
    ("pid", "tcp4_listen", "tcp4_client", "udp4", "tcp6_listen"))
failures = []

def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

def jsonl(name):
    return [json.loads(l) for l in (bundle / name).read_text().splitlines() if l]

def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()

coll = json.loads((bundle / "collection.json").read_text())
status = {c["name"]: c["status"] for c in coll["collectors"]}
for name in ("sockets", "processes", "sessions", "netconfig", "system", "accounts"):
    check(status.get(name) in ("ok", "partial"), f"collector {name} ran ({status.get(name)})")
check(coll["case"] == "ci-wine", "collection.json keeps --case")

socks = jsonl("network.jsonl")
def has(**kw):
    return any(all(s.get(k) == v for k, v in kw.items()) for s in socks)
check(all(s["sources"] == ["windows_api"] for s in socks), "every socket from windows_api")
check(has(proto="tcp", family="ipv4", local_addr="127.0.0.1", local_port=tcp4, state="LISTEN"),
      f"listener.exe's TCP listener 127.0.0.1:{tcp4} in network.jsonl")
check(has(proto="tcp", local_port=client, remote_addr="127.0.0.1", remote_port=tcp4,
          state="ESTABLISHED"), f"its established connection :{client} -> :{tcp4}")
check(has(proto="udp", local_addr="127.0.0.1", local_port=udp4, state="UNCONN"),
      f"its UDP socket 127.0.0.1:{udp4}")
if tcp6:
    check(has(proto="tcp", family="ipv6", local_addr="::1", local_port=tcp6, state="LISTEN"),
          f"its IPv6 listener [::1]:{tcp6}")

procs = {p["pid"]: p for p in jsonl("processes.jsonl")}
lp = procs.get(pid)
check(lp is not None and lp["name"] == "listener.exe", f"listener.exe (pid {pid}) in processes.jsonl")
if lp:
    check((lp.get("exe") or "").lower().endswith("listener.exe"), "its image path")
    check(lp.get("sha256") == sha256(exe_dir / "listener.exe"), "its SHA-256 matches sha256 of the file")
    check(lp.get("start_time") is not None and lp.get("user"), "its start time and user")
me = [p for p in procs.values() if p["name"] == "irdump.exe"]
check(len(me) == 1 and me[0].get("sha256") == sha256(exe_dir / "irdump.exe"),
      "irdump.exe itself listed with the right SHA-256")

report = (bundle / "report.txt").read_text()
check("[*] Local administrators" in report, "report.txt has [*] Local administrators")
admins = [a for a in jsonl("accounts.jsonl") if a["admin"]]
check(admins and all(a["admin_via"] == ["group:S-1-5-32-544"] and a.get("sid") for a in admins),
      f"administrators with reason group:S-1-5-32-544 and a SID ({[a['name'] for a in admins]})")

system = json.loads((bundle / "system.json").read_text())
check(system["os"]["id"] == "windows" and system["kernel"]["release"], "system.json: Windows version")
check(bool(system["boot_time"]), "system.json: boot time")
ifaces = jsonl("interfaces.jsonl")
check(any(a["addr"] == "127.0.0.1" for i in ifaces for a in i["addresses"]),
      "interfaces.jsonl has the loopback address")
check(len(jsonl("routes.jsonl")) > 0, "routes.jsonl has routes")

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
PY

note "cargo check --target x86_64-apple-darwin"
cargo check --locked --target x86_64-apple-darwin

note "Windows and macOS step done"
