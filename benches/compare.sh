#!/usr/bin/env bash
# Builds emscan and the corpus generator in release mode, installs ripgrep if missing, then
# runs benches/compare.py (generates the corpora once under target/bench-corpus/, about 3 GiB).
#   benches/compare.sh [--rounds N] [--quick] [--corpus-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v rg >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq ripgrep >/dev/null
fi
cargo build --release --quiet --bin emscan --example gen-corpus
exec python3 benches/compare.py "$@"
