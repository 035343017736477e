//! A congestion-window floor around quinn's controllers.
//!
//! quinn's controllers follow RFC 9002 §7.2: on every congestion event the window shrinks, down to
//! the minimum of 2 datagrams, and on persistent congestion (§7.6) it drops to that minimum. Under
//! random, non-congestive loss (a lossy last hop) at a few hundred KB/s that keeps the window at
//! 2 datagrams: every retransmission and every new message waits for the next ACK, and one lost
//! ACK costs a probe timeout. `Floor` keeps the window at least `floor` bytes. It is a deliberate
//! departure from §7.2 for an edge that sends little (pub/sub fan-out), so it is opt-in
//! (`minCongestionWindow`, default 0 = RFC behaviour); pacing still applies.

use std::any::Any;
use std::sync::Arc;
use std::time::Instant;

use quinn::congestion::{Controller, ControllerFactory, ControllerMetrics};
use quinn_proto::RttEstimator;

pub struct FloorFactory {
    pub inner: Arc<dyn ControllerFactory + Send + Sync>,
    pub floor: u64,
}

impl ControllerFactory for FloorFactory {
    fn build(self: Arc<Self>, now: Instant, current_mtu: u16) -> Box<dyn Controller> {
        Box::new(Floor { inner: self.inner.clone().build(now, current_mtu), floor: self.floor })
    }
}

struct Floor {
    inner: Box<dyn Controller>,
    floor: u64,
}

impl Controller for Floor {
    fn on_sent(&mut self, now: Instant, bytes: u64, last_packet_number: u64) {
        self.inner.on_sent(now, bytes, last_packet_number);
    }
    fn on_ack(&mut self, now: Instant, sent: Instant, bytes: u64, app_limited: bool, rtt: &RttEstimator) {
        self.inner.on_ack(now, sent, bytes, app_limited, rtt);
    }
    fn on_end_acks(&mut self, now: Instant, in_flight: u64, app_limited: bool, largest_packet_num_acked: Option<u64>) {
        self.inner.on_end_acks(now, in_flight, app_limited, largest_packet_num_acked);
    }
    fn on_congestion_event(&mut self, now: Instant, sent: Instant, is_persistent_congestion: bool, lost_bytes: u64) {
        self.inner.on_congestion_event(now, sent, is_persistent_congestion, lost_bytes);
    }
    fn on_mtu_update(&mut self, new_mtu: u16) {
        self.inner.on_mtu_update(new_mtu);
    }
    fn window(&self) -> u64 {
        self.inner.window().max(self.floor)
    }
    fn metrics(&self) -> ControllerMetrics {
        let mut m = self.inner.metrics();
        m.congestion_window = m.congestion_window.max(self.floor);
        m
    }
    fn clone_box(&self) -> Box<dyn Controller> {
        Box::new(Floor { inner: self.inner.clone_box(), floor: self.floor })
    }
    fn initial_window(&self) -> u64 {
        self.inner.initial_window().max(self.floor)
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}
