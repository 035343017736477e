//! Transport (flow control, streams, timers, datagrams, congestion) options. They arrive fully
//! resolved: the defaults live in one table, packages/quic/src/options.ts TRANSPORT_DEFAULTS.

use std::sync::Arc;
use std::time::Duration;

use napi::{Error, Result, Status};
use napi_derive::napi;
use quinn::congestion::ControllerFactory;
use quinn::{AckFrequencyConfig, IdleTimeout, TransportConfig, VarInt};

use crate::congestion::FloorFactory;

#[napi(object)]
#[derive(Clone)]
pub struct TransportOptions {
    pub stream_receive_window: u32,
    pub receive_window: u32,
    pub send_window: u32,
    pub max_concurrent_bidi_streams: u32,
    pub max_concurrent_uni_streams: u32,
    /// 0 disables keep-alive.
    pub keep_alive_interval_ms: u32,
    /// 0 disables the idle timeout (not recommended).
    pub idle_timeout_ms: u32,
    /// 0 disables receiving datagrams.
    pub datagram_receive_buffer_size: u32,
    pub datagram_send_buffer_size: u32,
    /// "cubic" (default), "newreno" or "bbr".
    pub congestion: String,
    pub initial_mtu: u32,
    /// Per-stream bytes buffered in Rust awaiting send above which write() returns false.
    pub send_high_water_mark: u32,
    /// Per-stream bytes read from QUIC but not yet delivered to JS above which reading pauses.
    pub recv_high_water_mark: u32,
    /// Loss detection: packets reordered before one is declared lost (RFC 9002 §6.1.1, kPacketThreshold 3).
    pub packet_threshold: u32,
    /// Loss detection: RTT multiple after which an unacknowledged earlier packet is lost (RFC 9002 §6.1.2, kTimeThreshold 9/8).
    pub time_threshold: f64,
    /// RTT assumed before the first sample, in ms (RFC 9002 §6.2.2, kInitialRtt 333 ms).
    pub initial_rtt_ms: u32,
    /// PTO multiple without any ACK that declares persistent congestion (RFC 9002 §7.6.1, kPersistentCongestionThreshold 3).
    pub persistent_congestion_threshold: u32,
    /// Enable the ACK-frequency extension (draft-ietf-quic-ack-frequency): ask the peer to ACK per the three fields below.
    pub ack_frequency: bool,
    /// With ackFrequency: the max_ack_delay requested of the peer, in ms (0 = the peer's own, 25 ms in quinn).
    pub ack_max_delay_ms: u32,
    /// With ackFrequency: ack-eliciting packets the peer may receive before it must ACK (0 = ACK every one; quinn default 1).
    pub ack_eliciting_threshold: u32,
    /// With ackFrequency: out-of-order packets that trigger an immediate ACK (1 = any gap, as RFC 9000 §13.2.1; quinn default 2).
    pub ack_reordering_threshold: u32,
    /// Congestion-window floor in bytes (0 = none: RFC 9002 §7.2's 2 datagrams). See congestion.rs.
    pub min_congestion_window: u32,
}

pub struct Built {
    pub config: Arc<TransportConfig>,
    pub send_hwm: usize,
    pub recv_hwm: usize,
}

/// Builds quinn's transport config from fully resolved options (TypeScript applies the defaults:
/// packages/quic/src/options.ts TRANSPORT_DEFAULTS is the one table).
pub fn build(o: &TransportOptions) -> Result<Built> {
    let mut t = TransportConfig::default();
    t.stream_receive_window(VarInt::from_u32(o.stream_receive_window));
    t.receive_window(VarInt::from_u32(o.receive_window));
    t.send_window(u64::from(o.send_window));
    t.max_concurrent_bidi_streams(VarInt::from_u32(o.max_concurrent_bidi_streams));
    t.max_concurrent_uni_streams(VarInt::from_u32(o.max_concurrent_uni_streams));
    let ka = o.keep_alive_interval_ms;
    t.keep_alive_interval(if ka == 0 { None } else { Some(Duration::from_millis(u64::from(ka))) });
    let idle = o.idle_timeout_ms;
    t.max_idle_timeout(if idle == 0 {
        None
    } else {
        Some(IdleTimeout::try_from(Duration::from_millis(u64::from(idle))).map_err(|e| Error::new(Status::InvalidArg, format!("idleTimeoutMs: {e}")))?)
    });
    let dr = o.datagram_receive_buffer_size;
    t.datagram_receive_buffer_size(if dr == 0 { None } else { Some(dr as usize) });
    t.datagram_send_buffer_size(o.datagram_send_buffer_size as usize);
    let mtu = u16::try_from(o.initial_mtu).map_err(|_| Error::new(Status::InvalidArg, "initialMtu too large"))?;
    t.initial_mtu(mtu);
    let cc: Arc<dyn ControllerFactory + Send + Sync> = match o.congestion.as_str() {
        "cubic" => Arc::new(quinn::congestion::CubicConfig::default()),
        "newreno" => Arc::new(quinn::congestion::NewRenoConfig::default()),
        "bbr" => Arc::new(quinn::congestion::BbrConfig::default()),
        other => {
            return Err(Error::new(Status::InvalidArg, format!("congestion: unknown controller {other:?}")));
        }
    };
    match o.min_congestion_window {
        0 => t.congestion_controller_factory(cc),
        floor => t.congestion_controller_factory(Arc::new(FloorFactory { inner: cc, floor: u64::from(floor) })),
    };
    if o.packet_threshold < 3 {
        return Err(Error::new(Status::InvalidArg, "packetThreshold: at least 3 (RFC 9002 §6.1.1)"));
    }
    t.packet_threshold(o.packet_threshold);
    if !(o.time_threshold.is_finite() && o.time_threshold >= 1.0) {
        return Err(Error::new(Status::InvalidArg, "timeThreshold: a number >= 1"));
    }
    t.time_threshold(o.time_threshold as f32);
    if o.initial_rtt_ms == 0 {
        return Err(Error::new(Status::InvalidArg, "initialRttMs: at least 1"));
    }
    t.initial_rtt(Duration::from_millis(u64::from(o.initial_rtt_ms)));
    if o.persistent_congestion_threshold == 0 {
        return Err(Error::new(Status::InvalidArg, "persistentCongestionThreshold: at least 1"));
    }
    t.persistent_congestion_threshold(o.persistent_congestion_threshold);
    if o.ack_frequency {
        let mut af = AckFrequencyConfig::default();
        // 0: keep the peer's own max_ack_delay. quinn's timer granularity is 1 ms, and a request
        // below it is a PROTOCOL_VIOLATION, so 1 ms is the smallest delay that can be asked for.
        if o.ack_max_delay_ms > 0 {
            af.max_ack_delay(Some(Duration::from_millis(u64::from(o.ack_max_delay_ms))));
        }
        af.ack_eliciting_threshold(VarInt::from_u32(o.ack_eliciting_threshold));
        af.reordering_threshold(VarInt::from_u32(o.ack_reordering_threshold));
        t.ack_frequency_config(Some(af));
    }
    Ok(Built { config: Arc::new(t), send_hwm: o.send_high_water_mark.max(1) as usize, recv_hwm: o.recv_high_water_mark.max(1) as usize })
}
