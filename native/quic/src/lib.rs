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
//! - `wt_wire`, `wt`, `wt_api`: WebTransport over HTTP/3 on connections with ALPN `h3`;
//! - `transport`, `congestion`, `tls`, `pki`: configuration.

#![deny(clippy::all)]

mod congestion;
mod conn;
mod endpoint;
mod events;
mod pki;
mod registry;
mod send_buf;
mod server;
mod stream;
mod sync;
mod tls;
mod transport;
mod wt;
mod wt_api;
mod wt_wire;

pub use crate::endpoint::{ConnStats, ConnectOptions, DatagramResult, EndpointOptions, NativeEndpoint};
pub use crate::events::{EventKind, RawEvent};
pub use crate::pki::{generate_test_pki, generate_webtransport_cert, TestPki, WebTransportCert};
pub use crate::server::ServerOptions;
pub use crate::stream::WriteResult;
pub use crate::transport::TransportOptions;
pub use crate::wt_api::{http3_code_to_webtransport, webtransport_code_to_http3};
