//! Transport (flow control, streams, timers, datagrams, congestion) options with defaults.
//! Defaults are documented in packages/quic/README.md; keep both in sync.

use std::sync::Arc;
use std::time::Duration;

use napi::{Error, Result, Status};
use napi_derive::napi;
use quinn::{IdleTimeout, TransportConfig, VarInt};

pub const DEFAULT_STREAM_WINDOW: u32 = 256 * 1024;
pub const DEFAULT_CONN_WINDOW: u32 = 8 * 1024 * 1024;
pub const DEFAULT_SEND_WINDOW: u32 = 8 * 1024 * 1024;
pub const DEFAULT_MAX_STREAMS: u32 = 1024;
pub const DEFAULT_KEEP_ALIVE_MS: u32 = 3_000;
pub const DEFAULT_IDLE_TIMEOUT_MS: u32 = 10_000;
pub const DEFAULT_DATAGRAM_BUFFER: u32 = 1024 * 1024;
pub const DEFAULT_SEND_HWM: u32 = 256 * 1024;
pub const DEFAULT_RECV_HWM: u32 = 256 * 1024;

#[napi(object)]
#[derive(Clone, Default)]
pub struct TransportOptions {
    pub stream_receive_window: Option<u32>,
    pub receive_window: Option<u32>,
    pub send_window: Option<u32>,
    pub max_concurrent_bidi_streams: Option<u32>,
    pub max_concurrent_uni_streams: Option<u32>,
    /// 0 disables keep-alive.
    pub keep_alive_interval_ms: Option<u32>,
    /// 0 disables the idle timeout (not recommended).
    pub idle_timeout_ms: Option<u32>,
    /// 0 disables receiving datagrams.
    pub datagram_receive_buffer_size: Option<u32>,
    pub datagram_send_buffer_size: Option<u32>,
    /// "cubic" (default), "newreno" or "bbr".
    pub congestion: Option<String>,
    pub initial_mtu: Option<u32>,
    /// Per-stream bytes buffered in Rust awaiting send above which write() returns false.
    pub send_high_water_mark: Option<u32>,
    /// Per-stream bytes read from QUIC but not yet delivered to JS above which reading pauses.
    pub recv_high_water_mark: Option<u32>,
}

pub struct Built {
    pub config: Arc<TransportConfig>,
    pub send_hwm: usize,
    pub recv_hwm: usize,
}

pub fn build(o: Option<&TransportOptions>) -> Result<Built> {
    let d = TransportOptions::default();
    let o = o.unwrap_or(&d);
    let mut t = TransportConfig::default();
    t.stream_receive_window(VarInt::from_u32(o.stream_receive_window.unwrap_or(DEFAULT_STREAM_WINDOW)));
    t.receive_window(VarInt::from_u32(o.receive_window.unwrap_or(DEFAULT_CONN_WINDOW)));
    t.send_window(u64::from(o.send_window.unwrap_or(DEFAULT_SEND_WINDOW)));
    t.max_concurrent_bidi_streams(VarInt::from_u32(o.max_concurrent_bidi_streams.unwrap_or(DEFAULT_MAX_STREAMS)));
    t.max_concurrent_uni_streams(VarInt::from_u32(o.max_concurrent_uni_streams.unwrap_or(DEFAULT_MAX_STREAMS)));
    let ka = o.keep_alive_interval_ms.unwrap_or(DEFAULT_KEEP_ALIVE_MS);
    t.keep_alive_interval(if ka == 0 { None } else { Some(Duration::from_millis(u64::from(ka))) });
    let idle = o.idle_timeout_ms.unwrap_or(DEFAULT_IDLE_TIMEOUT_MS);
    t.max_idle_timeout(if idle == 0 {
        None
    } else {
        Some(
            IdleTimeout::try_from(Duration::from_millis(u64::from(idle)))
                .map_err(|e| Error::new(Status::InvalidArg, format!("idleTimeoutMs: {e}")))?,
        )
    });
    let dr = o.datagram_receive_buffer_size.unwrap_or(DEFAULT_DATAGRAM_BUFFER);
    t.datagram_receive_buffer_size(if dr == 0 { None } else { Some(dr as usize) });
    t.datagram_send_buffer_size(o.datagram_send_buffer_size.unwrap_or(DEFAULT_DATAGRAM_BUFFER) as usize);
    if let Some(mtu) = o.initial_mtu {
        let mtu = u16::try_from(mtu).map_err(|_| Error::new(Status::InvalidArg, "initialMtu too large"))?;
        t.initial_mtu(mtu);
    }
    match o.congestion.as_deref() {
        None | Some("cubic") => {}
        Some("newreno") => {
            t.congestion_controller_factory(Arc::new(quinn::congestion::NewRenoConfig::default()));
        }
        Some("bbr") => {
            t.congestion_controller_factory(Arc::new(quinn::congestion::BbrConfig::default()));
        }
        Some(other) => {
            return Err(Error::new(Status::InvalidArg, format!("congestion: unknown controller {other:?}")));
        }
    }
    Ok(Built {
        config: Arc::new(t),
        send_hwm: o.send_high_water_mark.unwrap_or(DEFAULT_SEND_HWM).max(1) as usize,
        recv_hwm: o.recv_high_water_mark.unwrap_or(DEFAULT_RECV_HWM).max(1) as usize,
    })
}
