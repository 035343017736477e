//! FastPubSub native QUIC binding: napi-rs over quinn + rustls (ring).
//!
//! The JS face is packages/quic (`@fastpubsub/quic`); this crate's exports are internal and
//! wrapped by packages/quic/src/native.ts. Modules, in dependency order (no cycles):
//! - `sync`: lock helper and the handle id space;
//! - `events`: the internal `Event` enum, the event queue and the napi `RawEvent`/`EventKind`;
//! - `send_buf`: a stream's send buffer and its pump (pure over the `ChunkSink` seam);
//! - `stream`: writer and reader tasks, receive credit, the stream table;
//! - `registry`: what an endpoint and its tasks share (events, connections, streams);
//! - `conn`: connection tasks; `endpoint`: the JS-facing `NativeEndpoint`;
//! - `transport`, `congestion`, `tls`, `pki`: configuration.

#![deny(clippy::all)]

mod congestion;
mod conn;
mod endpoint;
mod events;
mod pki;
mod registry;
mod send_buf;
mod stream;
mod sync;
mod tls;
mod transport;

pub use crate::endpoint::{ConnStats, ConnectOptions, DatagramResult, EndpointOptions, NativeEndpoint, ServerOptions};
pub use crate::events::{EventKind, RawEvent};
pub use crate::pki::{generate_test_pki, TestPki};
pub use crate::stream::WriteResult;
pub use crate::transport::TransportOptions;
