//! A congestion-window floor: quinn's controllers (RFC 9002 §7) shrink the window on every loss,
//! down to 2 datagrams, and on a lossy path each random loss counts as congestion; with 2
//! packets in flight new messages queue behind every retransmission. The relay's QUIC edge and
//! the TypeScript client keep at least 64 KiB in flight (docs/quic-edge.md, "Loss recovery");
//! this wrapper does the same for publishes from this client. Pacing still spreads the bytes.
use quinn::congestion::{Controller, ControllerFactory, ControllerMetrics};
use quinn_proto::RttEstimator;
use std::any::Any;
use std::sync::Arc;
use std::time::Instant;

pub(crate) struct FloorFactory<F> {
    pub(crate) inner: Arc<F>,
    pub(crate) floor: u64,
}

impl<F: ControllerFactory + Send + Sync + 'static> ControllerFactory for FloorFactory<F> {
    fn build(self: Arc<Self>, now: Instant, current_mtu: u16) -> Box<dyn Controller> {
        Box::new(Floor {
            inner: self.inner.clone().build(now, current_mtu),
            floor: self.floor,
        })
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
        m.congestion_window = self.window();
        m
    }

    fn clone_box(&self) -> Box<dyn Controller> {
        Box::new(Floor {
            inner: self.inner.clone_box(),
            floor: self.floor,
        })
    }

    fn initial_window(&self) -> u64 {
        self.inner.initial_window().max(self.floor)
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}
