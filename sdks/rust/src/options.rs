//! Connect options with their defaults (the TypeScript SDK's, docs/sdk.md).
use crate::error::Result;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Why the SDK asks its token provider for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenReason {
    /// No token yet.
    Initial,
    /// The current one expires within the refresh margin.
    Expiring,
    /// The edge said `token_expired`.
    Expired,
    /// The edge refused the token on a reconnect (401).
    Unauthorized,
}

/// A token and, when known, its expiry (so the SDK refreshes it in time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub token: String,
    pub expires_at: Option<SystemTime>,
}

impl Token {
    pub fn new(token: impl Into<String>, expires_at: Option<SystemTime>) -> Self {
        Token {
            token: token.into(),
            expires_at,
        }
    }
}

impl From<String> for Token {
    fn from(token: String) -> Self {
        Token { token, expires_at: None }
    }
}

pub(crate) type TokenFuture = Pin<Box<dyn Future<Output = Result<Token>> + Send>>;
pub(crate) type TokenProviderFn = Arc<dyn Fn(TokenReason) -> TokenFuture + Send + Sync>;

/// QUIC edge settings (docs/quic-edge.md).
#[derive(Debug, Clone, Default)]
pub struct QuicOptions {
    /// UDP address of the QUIC edge; default: the edge's host at its HTTP port + 1.
    pub address: Option<SocketAddr>,
    /// PEM file of the CA the relay's certificate chains to (the relay writes a self-signed one to
    /// `<data-dir>/quic/ca.pem`); default: the public web roots.
    pub ca_file: Option<String>,
    /// PEM text of that CA (alternative to `ca_file`).
    pub ca_pem: Option<String>,
    /// Name checked against the certificate; default: the edge's host.
    pub server_name: Option<String>,
}

/// Reconnect policy: attempt n waits a uniform random delay in [0, min(max, base·2ⁿ⁻¹)] (full jitter).
#[derive(Debug, Clone)]
pub struct ReconnectOptions {
    pub enabled: bool,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Give up (the client closes with the last error) after this many failed attempts.
    pub max_attempts: Option<u32>,
    /// How long an old connection is still read after a switch (contract §6).
    pub overlap: Duration,
}

impl Default for ReconnectOptions {
    fn default() -> Self {
        ReconnectOptions {
            enabled: true,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_attempts: None,
            overlap: Duration::from_secs(5),
        }
    }
}

/// Something the client reports: state changes, non-fatal errors, the end.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    State(crate::ClientState),
    /// A non-fatal error: an `ERR` from the edge, a failed token refresh, a failed reconnect attempt.
    Error(crate::Error),
    /// The client ended for good (`None` after `close()`).
    Closed(Option<crate::Error>),
}

pub(crate) type EventCallback = Arc<dyn Fn(&ClientEvent) + Send + Sync>;

/// Options for [`crate::Client::connect`]; build with the chained setters.
#[derive(Clone)]
pub struct Options {
    pub(crate) token: Option<String>,
    pub(crate) token_expires_at: Option<SystemTime>,
    pub(crate) token_provider: Option<TokenProviderFn>,
    pub(crate) token_refresh_margin: Duration,
    pub(crate) quic: Option<QuicOptions>,
    pub(crate) reconnect: ReconnectOptions,
    pub(crate) publish_queue_max: usize,
    pub(crate) ping: Option<(Duration, Duration)>,
    pub(crate) open_timeout: Duration,
    pub(crate) resubscribe_timeout: Duration,
    pub(crate) subscription_buffer: usize,
    pub(crate) on_event: Option<EventCallback>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            token: None,
            token_expires_at: None,
            token_provider: None,
            token_refresh_margin: Duration::from_secs(30),
            quic: None,
            reconnect: ReconnectOptions::default(),
            publish_queue_max: 1000,
            ping: Some((Duration::from_secs(5), Duration::from_secs(10))),
            open_timeout: Duration::from_secs(10),
            resubscribe_timeout: Duration::from_secs(10),
            subscription_buffer: 1024,
            on_event: None,
        }
    }
}

impl Options {
    pub fn new() -> Self {
        Options::default()
    }

    /// A fixed access token `AT_…`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The expiry of the fixed token, so the provider is asked for a new one in time.
    pub fn token_expires_at(mut self, at: SystemTime) -> Self {
        self.token_expires_at = Some(at);
        self
    }

    /// Called for a token when there is none, before a known expiry, on `token_expired` and on
    /// a 401 during a reconnect.
    pub fn token_provider<F, Fut>(mut self, provider: F) -> Self
    where
        F: Fn(TokenReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Token>> + Send + 'static,
    {
        self.token_provider = Some(Arc::new(move |reason| Box::pin(provider(reason))));
        self
    }

    /// Ask for a new token this long before expiry (default 30 s; at most half the remaining lifetime).
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// Use the QUIC edge instead of the WebSocket edge.
    pub fn quic(mut self, quic: QuicOptions) -> Self {
        self.quic = Some(quic);
        self
    }

    pub fn reconnect(mut self, reconnect: ReconnectOptions) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// Publishes kept while disconnected (default 1000); beyond it the oldest is dropped and counted.
    pub fn publish_queue(mut self, max_messages: usize) -> Self {
        self.publish_queue_max = max_messages;
        self
    }

    /// RTT probe: PING every `interval`; the connection counts as lost after `timeout` without PONG.
    pub fn ping(mut self, interval: Duration, timeout: Duration) -> Self {
        self.ping = Some((interval, timeout));
        self
    }

    pub fn no_ping(mut self) -> Self {
        self.ping = None;
        self
    }

    /// Default buffer of a subscription (messages; default 1024); when full the oldest is dropped.
    pub fn subscription_buffer(mut self, size: usize) -> Self {
        self.subscription_buffer = size;
        self
    }

    pub fn open_timeout(mut self, timeout: Duration) -> Self {
        self.open_timeout = timeout;
        self
    }

    pub fn resubscribe_timeout(mut self, timeout: Duration) -> Self {
        self.resubscribe_timeout = timeout;
        self
    }

    /// Called for every [`ClientEvent`], from the client's task: keep it short.
    pub fn on_event(mut self, callback: impl Fn(&ClientEvent) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(callback));
        self
    }
}

/// Full-jitter backoff: uniform in [0, min(max, base·2^(attempt−1))].
pub(crate) fn backoff_delay(attempt: u32, base: Duration, max: Duration) -> Duration {
    let exp = attempt.saturating_sub(1).min(30);
    let cap = base.saturating_mul(1u32 << exp).min(max);
    cap.mul_f64(random_unit())
}

/// A uniform number in [0, 1): xorshift seeded from the clock (jitter needs no crypto).
fn random_unit() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_full_jitter_under_an_exponential_cap() {
        let (base, max) = (Duration::from_millis(100), Duration::from_millis(1000));
        let mut below_half = 0;
        for attempt in 1..=200u32 {
            let cap = base.saturating_mul(1 << (attempt - 1).min(30)).min(max);
            let d = backoff_delay(attempt, base, max);
            assert!(d <= cap, "attempt {attempt}: {d:?} over {cap:?}");
            if d < cap / 2 {
                below_half += 1;
            }
        }
        // Uniform in [0, cap]: about half fall below cap / 2; a fixed delay would give 0.
        assert!((40..=160).contains(&below_half), "{below_half} of 200 below half the cap");
    }
}
