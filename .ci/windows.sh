#!/usr/bin/env bash
# CI, Windows: cross-builds emscan.exe (x86_64-pc-windows-gnu, with mingw-w64) and runs
# known-answer checks on it under Wine: the sample bundle's JSON equals the Linux binary's, a
# Chinese folder name, a drive-letter path and a backslash path, and a gate's exit status.
# If Rust's standard library for the target cannot be installed, it says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
start=$SECONDS
phase=$SECONDS
took() { echo "windows: $1 took $((SECONDS - phase)) s"; phase=$SECONDS; }

TARGET=x86_64-pc-windows-gnu
# Everything this check writes stays under target/: its work folder, and the temporary files of
# mingw's gcc (which leaves empty ones behind) and of Wine (its server's socket folder).
WORK="$PWD/target/windows-check"
export WINEPREFIX="$WORK/prefix"

# 1. Rust's standard library for the target (a download when not yet installed).
if ! command -v rustup >/dev/null 2>&1; then
  echo "windows check skipped: rustup is not installed, so the $TARGET target cannot be added"
  exit 0
fi
if ! rustup_out=$(rustup target add "$TARGET" 2>&1); then
  echo "windows check skipped: 'rustup target add $TARGET' failed: $(echo "$rustup_out" | tail -n 1)"
  exit 0
fi
took "rustup target add"

# 2. The cross linker and Wine, from the OS packages, only when missing.
# Debian 12: wine64 is the 64-bit loader; the `wine` package adds the commands (wine, wineboot,
# wineserver, winepath) to PATH.
if ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || ! command -v wine >/dev/null 2>&1; then
  echo "== installing gcc-mingw-w64-x86-64 and wine64 for the Windows check"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    gcc-mingw-w64-x86-64 wine wine64 >/dev/null
fi
took "apt-get install"

export TMPDIR="$WORK/tmp"
# A Wine server left from an earlier run of this check, if any, lets go of the prefix first.
if [ -d "$TMPDIR" ] && command -v wineserver >/dev/null 2>&1; then wineserver -k >/dev/null 2>&1 || true; fi
rm -rf "$WORK"
mkdir -p "$TMPDIR"

# 3. The Windows build, in the normal target/ (so cached dependencies serve it too), and the Linux
# release binary to compare with (a no-op when .ci/run has just built it).
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
echo "== cargo build --release --target $TARGET"
cargo build --release --quiet --target "$TARGET"
cargo build --release --quiet
EXE="$PWD/target/$TARGET/release/emscan.exe"
LINUX="$PWD/target/release/emscan"
took "cross-build"

# 4. A throwaway Wine prefix under target/, without a display, Mono, Gecko or menu entries.
export WINEDEBUG=-all WINEARCH=win64
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
unset DISPLAY WAYLAND_DISPLAY
# Wine turns the Unix arguments and file names into UTF-16 by the Unix locale: a UTF-8 one, as on
# any desktop, so that the Chinese folder name reaches emscan.exe as it is. (LANG for emscan itself
# stays as it is, the same for both binaries: it only picks the language of hints; LC_ALL, which
# would override LC_CTYPE, goes, and emscan then reads LC_MESSAGES or LANG on both sides alike.)
unset LC_ALL
export LC_CTYPE=C.UTF-8
wineboot --init >/dev/null 2>&1 || true
wineserver -w

# Rust's std calls bcryptprimitives.dll's ProcessPrng at start; Wine before 9 does not have it.
# Then a stub built from .ci/wine/processprng.c stands in for it, in the prefix's system32 (so the
# folder of emscan.exe holds only what would ship).
builtin=$(find /usr/lib/wine /usr/lib/x86_64-linux-gnu/wine -name bcryptprimitives.dll -path '*x86_64-windows*' 2>/dev/null | head -n 1)
if [ -n "$builtin" ] && grep -q ProcessPrng "$builtin"; then
  echo "windows: this Wine has ProcessPrng; no stub needed"
else
  echo "windows: this Wine ($(wine --version 2>/dev/null)) lacks ProcessPrng: using the stub bcryptprimitives.dll"
  x86_64-w64-mingw32-gcc -O2 -shared -o "$WORK/bcryptprimitives.dll" .ci/wine/processprng.c -ladvapi32
  cp "$WORK/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
  export WINEDLLOVERRIDES="$WINEDLLOVERRIDES;bcryptprimitives=n,b"
fi
took "wine prefix"

fail=0
bad() { echo "windows: $1 FAILED" >&2; fail=1; }
win() { wine "$EXE" "$@"; }
compare() { python3 .ci/wine/compare.py "$@"; }

if ! win --version >/dev/null 2>"$WORK/version.err"; then
  cat "$WORK/version.err" >&2
  echo "windows: emscan.exe does not start under Wine" >&2
  exit 1
fi

# a. The sample bundle, the same relative path for both: the JSON must be equal ("root" included).
"$LINUX" scan fixtures/sample-bundle --format json --no-progress >"$WORK/linux.json"
win scan fixtures/sample-bundle --format json --no-progress >"$WORK/win.json"
if compare "$WORK/linux.json" "$WORK/win.json"; then echo "windows: sample-bundle JSON ok"; else bad "sample-bundle JSON"; fi

# b. A copy under a folder with a Chinese name: equal to Linux on the same copy, and the same
# counts as the original (only "root" differs from it).
zh="target/windows-check/日志/客户A"
mkdir -p "$zh"
cp -r fixtures/sample-bundle/. "$zh/"
"$LINUX" scan "$zh" --format json --no-progress >"$WORK/linux-zh.json"
win scan "$zh" --format json --no-progress >"$WORK/win-zh.json"
if compare "$WORK/linux-zh.json" "$WORK/win-zh.json" && compare --ignore-root "$WORK/linux.json" "$WORK/win-zh.json"; then
  echo "windows: Chinese folder name ok"
else
  bad "Chinese folder name"
fi

# c. Windows spellings of the same folder: a drive-letter absolute path (Wine's Z: is /), a path
# on C: (a copy in the prefix's drive_c) and a backslash relative path. Only "root" may differ.
zpath=$(winepath -w "$PWD/fixtures/sample-bundle" 2>/dev/null)
cp -r fixtures/sample-bundle "$WINEPREFIX/drive_c/sample-bundle"
ok=1
for spelling in "$zpath" 'C:\sample-bundle' 'fixtures\sample-bundle'; do
  out="$WORK/win-spelling.json"
  if ! win scan "$spelling" --format json --no-progress >"$out"; then ok=0; echo "windows: scan $spelling failed" >&2; continue; fi
  compare --ignore-root "$WORK/linux.json" "$out" || ok=0
  # "root" echoes the path as given.
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["root"]; sys.exit(r != [sys.argv[2]])' "$out" "$spelling" \
    || { ok=0; echo "windows: root of $spelling is not echoed" >&2; }
done
if [ "$ok" = 1 ]; then echo "windows: drive-letter and backslash paths ok"; else bad "drive-letter and backslash paths"; fi

# d. A gate's exit status (the sample bundle has code 300 ten times): 1 when a rule breaks, 0 when
# all hold, and the same verdict text as Linux.
gate_check() {
  local want=$1 rule=$2 code_l code_w
  set +e
  "$LINUX" gate --max "$rule" fixtures/sample-bundle --no-progress >"$WORK/gate-linux.txt"; code_l=$?
  win gate --max "$rule" 'fixtures\sample-bundle' --no-progress >"$WORK/gate-win.txt"; code_w=$?
  set -e
  if [ "$code_l" != "$want" ] || [ "$code_w" != "$want" ]; then
    echo "windows: gate --max $rule: exit $code_w on Windows, $code_l on Linux, want $want" >&2; return 1
  fi
  # Paths are printed as the folder was given: with backslashes on Windows.
  sed -i 's#\\#/#g' "$WORK/gate-win.txt"
  if ! diff -u "$WORK/gate-linux.txt" "$WORK/gate-win.txt" >&2; then
    echo "windows: gate --max $rule: the verdict text differs" >&2; return 1
  fi
}
if gate_check 1 300=9 && gate_check 0 300=10; then echo "windows: gate exit status ok"; else bad "gate exit status"; fi

# e. watch on Windows (ReadDirectoryChangesW through notify): from the start of the sample
# bundle's plain files with a rule that breaks at once, so it ends by itself (exit 1) with the
# same events as the Linux binary.
watch_check() {
  local code_l code_w
  set +e
  "$LINUX" watch fixtures/sample-bundle --from-start --format ndjson --max 300=0 --exit-on-break -q >"$WORK/watch-linux.ndjson" 2>"$WORK/watch-linux.err"; code_l=$?
  timeout 120 wine "$EXE" watch 'fixtures\sample-bundle' --from-start --format ndjson --max 300=0 --exit-on-break -q >"$WORK/watch-win.ndjson" 2>"$WORK/watch-win.err"; code_w=$?
  set -e
  if [ "$code_l" != 1 ] || [ "$code_w" != 1 ]; then
    echo "windows: watch --exit-on-break: exit $code_w on Windows, $code_l on Linux, want 1" >&2; return 1
  fi
  if ! diff -u "$WORK/watch-linux.ndjson" "$WORK/watch-win.ndjson" >&2; then
    echo "windows: watch: the events differ" >&2; return 1
  fi
}
if watch_check; then echo "windows: watch ok"; else bad "watch"; fi

wineserver -k >/dev/null 2>&1 || true
took "checks"
echo "windows: $((SECONDS - start)) s in all"
if [ "$fail" != 0 ]; then
  echo "windows: FAILED" >&2
  exit 1
fi
