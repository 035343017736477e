#!/usr/bin/env bash
# The Rust SDK's own tests: formatting, clippy (warnings are errors), then cargo test — unit
# tests on spec/vectors/*.json, integration tests against real relays started from this repo
# (WebSocket and QUIC), and the README example run as written. Run sdks/rust/setup.sh first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
for tool in cargo node; do
  command -v "$tool" >/dev/null || { echo "sdks/rust/test.sh: $tool is not installed" >&2; exit 1; }
done
cargo fmt --version >/dev/null 2>&1 || { echo "sdks/rust/test.sh: rustfmt is missing (rustup component add rustfmt)" >&2; exit 1; }
cargo clippy --version >/dev/null 2>&1 || { echo "sdks/rust/test.sh: clippy is missing (rustup component add clippy)" >&2; exit 1; }
[ -f "$here/../../packages/cli/bin/fastpubsub.js" ] || { echo "sdks/rust/test.sh: packages/cli is missing (the tests start real relays)" >&2; exit 1; }
export CARGO_TARGET_DIR="$here/target"
echo "sdks/rust: cargo fmt --check"
cargo fmt --check
echo "sdks/rust: cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
echo "sdks/rust: cargo test"
cargo test --locked
