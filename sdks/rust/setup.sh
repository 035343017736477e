#!/usr/bin/env bash
# Builds the Rust SDK (crate fastpubsub-client) and its conformance driver in release mode into
# sdks/rust/target. Idempotent; fetches crates from crates.io when they are not cached yet.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
command -v cargo >/dev/null || { echo "sdks/rust/setup.sh: cargo is not installed (https://rustup.rs)" >&2; exit 1; }
export CARGO_TARGET_DIR="$here/target"
echo "sdks/rust: cargo build --release (SDK + fastpubsub-conformance-driver) into $CARGO_TARGET_DIR"
cargo build --release --locked
echo "sdks/rust: built $CARGO_TARGET_DIR/release/fastpubsub-conformance-driver"
