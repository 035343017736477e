//! FastPubSub client SDK for Rust: publish/subscribe over the relay's WebSocket edge
//! (contract v0.1) or its QUIC edge (one stream per subscription), with auto-reconnect
//! (backoff with full jitter, make-before-break resubscription, `RECONNECT` migration without
//! loss or duplicates), token refresh through a provider, a bounded publish queue while
//! disconnected, bounded subscription buffers with drop counts, and PING/PONG RTT.
//!
//! ```no_run
//! # async fn demo(tok: String) -> Result<(), fastpubsub_client::Error> {
//! use fastpubsub_client::{Client, Options};
//! let client = Client::connect("http://127.0.0.1:7700", Options::new().token(tok)).await?;
//! let mut sub = client.subscribe("demo", "chat.#").await?;
//! client.publish("demo", "chat.room1", b"hello").await?;
//! let msg = sub.next().await;
//! client.close().await;
//! # Ok(()) }
//! ```
mod client;
pub mod codec;
mod core;
mod edge;
mod error;
pub mod names;
pub mod native;
mod options;
mod rest;
mod subscription;
mod transport;

pub use client::{Client, ClientState, ClientStats};
pub use codec::DeliveryMode;
pub use edge::Edge;
pub use error::{Error, ErrorCode, Result};
pub use options::{ClientEvent, Options, QuicOptions, ReconnectOptions, Token, TokenReason};
pub use rest::{ping, rfc3339, select_fastest_edge, token_id, Admin, TenantGrant};
pub use subscription::{Message, Subscription, SubscriptionMonitor, SubscriptionStats};
