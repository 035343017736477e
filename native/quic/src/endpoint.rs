//! The JS-facing endpoint object (`NativeEndpoint`): bind, accept, connect, open streams,
//! write, close, stats. Objects are referred to by numeric handles (connections and streams
//! share one id space per endpoint); everything asynchronous comes back as events through
//! `poll()` (events.rs).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use napi::bindgen_prelude::{BufferSlice, Function};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;
use quinn::VarInt;

use crate::conn;
use crate::events::{Event, RawEvent, Wake};
use crate::registry::Registry;
use crate::server::{self, ServerOptions};
use crate::stream::{StreamEntry, WriteResult};
use crate::sync::lock;
use crate::tls;
use crate::transport::{self, TransportOptions};
use crate::wt::WtRequest;

type WakeFn = ThreadsafeFunction<u32, (), u32, Status, false>;

/// The JS callback that makes JS poll; also what keeps (or, unref'd, stops keeping) the event
/// loop alive while the endpoint is open.
struct JsWake(WakeFn);

impl Wake for JsWake {
    fn wake(&self) {
        self.0.call(0, ThreadsafeFunctionCallMode::NonBlocking);
    }

    #[allow(deprecated)]
    fn hold(&mut self, env: &Env, hold: bool) -> Result<()> {
        if hold {
            self.0.refer(env)
        } else {
            self.0.unref(env)
        }
    }
}

/// Result of sendDatagram (packages/quic/src/native.ts `DatagramResult`).
#[napi]
#[derive(Debug, PartialEq, Eq)]
pub enum DatagramResult {
    Sent = 0,
    TooLarge = 1,
    UnsupportedByPeer = 2,
    DisabledLocally = 3,
    ConnectionLost = 4,
}

static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

pub(crate) fn rt() -> &'static tokio::runtime::Runtime {
    RT.get_or_init(|| {
        let threads = std::env::var("FASTPUBSUB_QUIC_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(2usize);
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads.max(1)).thread_name("fastpubsub-quic").enable_all().build().expect("tokio runtime")
    })
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, msg.into())
}

fn varint(code: f64) -> Result<VarInt> {
    if code.is_nan() || code < 0.0 || code.fract() != 0.0 || code > 9_007_199_254_740_991.0 {
        return Err(invalid(format!("error code must be an integer in [0, 2^53): {code}")));
    }
    VarInt::from_u64(code as u64).map_err(|_| invalid("error code too large"))
}

#[napi(object)]
pub struct EndpointOptions {
    /// "ip:port"
    pub address: String,
    pub server: Option<ServerOptions>,
    /// Every option resolved (packages/quic/src/options.ts).
    pub transport: TransportOptions,
    pub close_timeout_ms: Option<u32>,
}

#[napi(object)]
pub struct ConnectOptions {
    /// "ip:port"
    pub address: String,
    pub server_name: String,
    pub alpn: Vec<String>,
    pub ca_pem: Option<String>,
    pub cert_pem: Option<String>,
    pub key_pem: Option<String>,
    /// With ALPN "h3": the WebTransport CONNECT path, and extra request headers as name, value, ...
    /// (names sent as given: a server must accept any case, as some clients send `Authorization`)
    pub webtransport_path: Option<String>,
    pub webtransport_headers: Option<Vec<String>>,
}

#[napi(object)]
pub struct ConnStats {
    pub rtt_ms: f64,
    pub rtt_var_ms: f64,
    pub min_rtt_ms: f64,
    pub cwnd: f64,
    pub congestion_events: f64,
    pub lost_packets: f64,
    pub lost_bytes: f64,
    pub sent_packets: f64,
    pub bytes_sent: f64,
    pub bytes_received: f64,
    pub udp_datagrams_sent: f64,
    pub udp_datagrams_received: f64,
    pub datagrams_sent: f64,
    pub datagrams_received: f64,
    pub mtu: u32,
}

#[napi]
pub struct NativeEndpoint {
    pub(crate) shared: Arc<Registry>,
    pub(crate) transport: Arc<quinn::TransportConfig>,
    /// The server options, kept to rebuild the TLS configuration with a new certificate.
    pub(crate) server: Mutex<Option<ServerOptions>>,
    close_timeout: Duration,
    local: String,
}

#[napi]
impl NativeEndpoint {
    #[napi(constructor)]
    pub fn new(options: EndpointOptions, wake: Function<'_, u32, ()>) -> Result<Self> {
        let built = transport::build(&options.transport)?;
        let addr: SocketAddr = options.address.parse().map_err(|e| invalid(format!("address {:?}: {e}", options.address)))?;
        let _guard = rt().enter();
        let endpoint = match &options.server {
            Some(s) => quinn::Endpoint::server(server::config(s, built.config.clone())?, addr),
            None => quinn::Endpoint::client(addr),
        }
        .map_err(|e| Error::new(Status::GenericFailure, format!("bind {addr}: {e}")))?;
        let local = endpoint.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let tsfn = wake.build_threadsafe_function::<u32>().callee_handled::<false>().build()?;
        let shared = Registry::new(Box::new(JsWake(tsfn)), endpoint.clone(), built.send_hwm, built.recv_hwm);
        if options.server.is_some() {
            rt().spawn(accept_loop(shared.clone(), endpoint));
        }
        Ok(NativeEndpoint {
            shared,
            transport: built.config,
            server: Mutex::new(options.server),
            close_timeout: Duration::from_millis(u64::from(options.close_timeout_ms.unwrap_or(2_000))),
            local,
        })
    }

    #[napi(getter)]
    pub fn local_address(&self) -> String {
        self.local.clone()
    }

    /// Every event queued since the last poll, in order.
    #[napi]
    pub fn poll(&self) -> Vec<RawEvent> {
        self.shared.events.take().into_iter().map(|ev| ev.into_raw()).collect()
    }

    #[napi]
    pub fn connect(&self, o: ConnectOptions) -> Result<u32> {
        if self.shared.closing.load(Ordering::Acquire) {
            return Err(Error::new(Status::GenericFailure, "endpoint is closed"));
        }
        let crypto =
            tls::client_crypto(tls::ClientTls { ca_pem: o.ca_pem.as_deref(), cert_pem: o.cert_pem.as_deref(), key_pem: o.key_pem.as_deref(), alpn: &o.alpn })?;
        let mut cc = quinn::ClientConfig::new(Arc::new(crypto));
        cc.transport_config(self.transport.clone());
        let addr: SocketAddr = o.address.parse().map_err(|e| invalid(format!("address {:?}: {e}", o.address)))?;
        let ep = lock(&self.shared.endpoint).clone().ok_or_else(|| Error::new(Status::GenericFailure, "endpoint is closed"))?;
        let _guard = rt().enter();
        let connecting = ep.connect_with(cc, addr, &o.server_name).map_err(|e| invalid(format!("connect: {e}")))?;
        let request = o.webtransport_path.map(|path| WtRequest {
            authority: format!("{}:{}", o.server_name, addr.port()),
            path,
            headers: o.webtransport_headers.unwrap_or_default().chunks(2).map(|p| (p[0].clone(), p.get(1).cloned().unwrap_or_default())).collect(),
        });
        let id = self.shared.next_id();
        self.shared.conn_started();
        let shared = self.shared.clone();
        rt().spawn(async move {
            match connecting.await {
                Ok(c) => conn::established(&shared, id, c, false, request),
                Err(e) => {
                    shared.push(Event::ConnectFailed { id, ending: conn::describe(&e) });
                    shared.conn_gone();
                }
            }
        });
        Ok(id)
    }

    /// Opens a stream without waiting: the handle is usable at once (writes are buffered until
    /// QUIC grants the stream). STREAM_OPENED or STREAM_ERROR follows.
    #[napi]
    pub fn open_stream(&self, conn: u32, bidi: bool) -> Result<u32> {
        let c = self.shared.conn(conn).ok_or_else(|| invalid("connection is closed"))?;
        let e = StreamEntry::new(&self.shared.streams, conn, true, bidi);
        if let Some(prefix) = c.wt.as_ref().and_then(|w| w.stream_prefix(bidi)) {
            e.send.as_ref().map(|s| s.write([prefix]));
        }
        let id = e.id;
        let shared = self.shared.clone();
        rt().spawn(async move {
            let r = if bidi { c.conn.open_bi().await.map(|(s, r)| (s, Some(r))) } else { c.conn.open_uni().await.map(|s| (s, None)) };
            match r {
                Ok((s, r)) => {
                    shared.push(Event::StreamOpened { id, conn, index: s.id().index() });
                    e.start(&shared.streams, Some(s), r);
                }
                Err(err) => e.fail(&shared.streams, err.to_string()),
            }
        });
        Ok(id)
    }

    #[napi]
    pub fn write(&self, stream: u32, data: BufferSlice) -> WriteResult {
        match self.shared.stream(stream).and_then(|e| e.send.clone()) {
            Some(s) => s.write([Bytes::copy_from_slice(&data)]),
            None => WriteResult::Closed,
        }
    }

    #[napi]
    pub fn writev(&self, stream: u32, data: Vec<BufferSlice>) -> WriteResult {
        match self.shared.stream(stream).and_then(|e| e.send.clone()) {
            Some(s) => {
                // One copy into one contiguous chunk: fewer, larger chunks for quinn.
                let total: usize = data.iter().map(|d| d.len()).sum();
                let mut v = Vec::with_capacity(total);
                for d in &data {
                    v.extend_from_slice(d);
                }
                s.write([Bytes::from(v)])
            }
            None => WriteResult::Closed,
        }
    }

    #[napi]
    pub fn buffered(&self, stream: u32) -> u32 {
        self.shared.stream(stream).and_then(|e| e.send.clone()).map_or(0, |s| s.buffered() as u32)
    }

    /// True when the stream's send buffer is empty; otherwise a Drain event follows once it is.
    #[napi]
    pub fn notify_when_empty(&self, stream: u32) -> bool {
        self.shared.stream(stream).and_then(|e| e.send.clone()).is_none_or(|s| s.notify_when_empty())
    }

    #[napi]
    pub fn finish(&self, stream: u32) -> bool {
        self.shared.stream(stream).and_then(|e| e.send.clone()).is_some_and(|s| s.finish())
    }

    #[napi]
    pub fn reset(&self, stream: u32, code: f64) -> Result<bool> {
        let code = varint(code)?.into_inner();
        Ok(self.shared.stream(stream).and_then(|e| e.send.clone()).is_some_and(|s| s.reset(code)))
    }

    #[napi]
    pub fn stop_sending(&self, stream: u32, code: f64) -> Result<bool> {
        let code = varint(code)?.into_inner();
        Ok(match self.shared.stream(stream).and_then(|e| e.recv.clone()) {
            Some(r) => {
                *lock(&r.stop) = Some(code);
                r.notify.notify_one();
                true
            }
            None => false,
        })
    }

    #[napi]
    pub fn set_paused(&self, stream: u32, paused: bool) {
        if let Some(r) = self.shared.stream(stream).and_then(|e| e.recv.clone()) {
            r.paused.store(paused, Ordering::Release);
            r.notify.notify_one();
        }
    }

    #[napi]
    pub fn send_datagram(&self, conn: u32, data: BufferSlice) -> DatagramResult {
        let Some(c) = self.shared.conn(conn) else { return DatagramResult::ConnectionLost };
        let payload = match c.wt.as_ref().map(|w| w.datagram_prefix()) {
            Some(Some(mut prefixed)) => {
                prefixed.extend_from_slice(&data);
                Bytes::from(prefixed)
            }
            Some(None) => return DatagramResult::UnsupportedByPeer,
            None => Bytes::copy_from_slice(&data),
        };
        match c.conn.send_datagram(payload) {
            Ok(()) => DatagramResult::Sent,
            Err(quinn::SendDatagramError::TooLarge) => DatagramResult::TooLarge,
            Err(quinn::SendDatagramError::UnsupportedByPeer) => DatagramResult::UnsupportedByPeer,
            Err(quinn::SendDatagramError::Disabled) => DatagramResult::DisabledLocally,
            Err(quinn::SendDatagramError::ConnectionLost(_)) => DatagramResult::ConnectionLost,
        }
    }

    #[napi]
    pub fn max_datagram_size(&self, conn: u32) -> Option<u32> {
        let c = self.shared.conn(conn)?;
        let prefix = c.wt.as_ref().map_or(Some(0), |w| w.datagram_prefix().map(|p| p.len()))?;
        c.conn.max_datagram_size().map(|n| n.saturating_sub(prefix) as u32)
    }

    #[napi]
    pub fn close_connection(&self, conn: u32, code: f64, reason: String) -> Result<()> {
        let v = varint(code)?;
        if let Some(c) = self.shared.conn(conn) {
            *lock(&c.local_close) = Some((v.into_inner(), reason.clone()));
            c.conn.close(v, reason.as_bytes());
        }
        Ok(())
    }

    #[napi]
    pub fn stats(&self, conn: u32) -> Option<ConnStats> {
        let c = self.shared.conn(conn)?;
        let s = c.conn.stats();
        let srtt = s.path.rtt.as_secs_f64() * 1000.0;
        let var = {
            let mut g = lock(&c.last_srtt_us);
            g.1 = if g.0 < 0.0 { srtt / 2.0 } else { 0.75 * g.1 + 0.25 * (srtt - g.0).abs() };
            g.0 = srtt;
            g.1
        };
        Some(ConnStats {
            rtt_ms: srtt,
            rtt_var_ms: var,
            min_rtt_ms: s.path.min_rtt.as_secs_f64() * 1000.0,
            cwnd: s.path.cwnd as f64,
            congestion_events: s.path.congestion_events as f64,
            lost_packets: s.path.lost_packets as f64,
            lost_bytes: s.path.lost_bytes as f64,
            sent_packets: s.path.sent_packets as f64,
            bytes_sent: s.udp_tx.bytes as f64,
            bytes_received: s.udp_rx.bytes as f64,
            udp_datagrams_sent: s.udp_tx.datagrams as f64,
            udp_datagrams_received: s.udp_rx.datagrams as f64,
            datagrams_sent: s.frame_tx.datagram as f64,
            datagrams_received: s.frame_rx.datagram as f64,
            mtu: u32::from(s.path.current_mtu),
        })
    }

    /// Closes every connection with (code, reason), waits (bounded by closeTimeoutMs) for them
    /// to end and the endpoint to go idle, then pushes ENDPOINT_CLOSED and releases the JS
    /// callback so the endpoint no longer keeps the event loop alive.
    #[napi]
    pub fn close(&self, code: f64, reason: String) -> Result<()> {
        let v = varint(code)?;
        if self.shared.closing.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        *lock(&self.shared.close_code) = (v.into_inner(), reason.clone());
        let shared = self.shared.clone();
        let limit = self.close_timeout;
        rt().spawn(async move {
            let deadline = Instant::now() + limit;
            let ep = lock(&shared.endpoint).clone();
            if let Some(ep) = &ep {
                ep.close(v, reason.as_bytes());
                let _ = tokio::time::timeout_at(deadline.into(), async {
                    loop {
                        let n = shared.conns_gone.notified();
                        tokio::pin!(n);
                        n.as_mut().enable();
                        if shared.live_conns() == 0 {
                            break;
                        }
                        n.await;
                    }
                })
                .await;
                let _ = tokio::time::timeout_at(deadline.into(), ep.wait_idle()).await;
            }
            drop(ep);
            lock(&shared.endpoint).take();
            shared.push(Event::EndpointClosed);
            shared.events.release_waker();
        });
        Ok(())
    }

    /// Let the process exit even while this endpoint is open (like socket.unref()).
    #[napi]
    pub fn unref(&self, env: Env) -> Result<()> {
        self.shared.events.with_waker(|w| w.hold(&env, false)).unwrap_or(Ok(()))
    }

    #[napi(js_name = "ref")]
    pub fn refer(&self, env: Env) -> Result<()> {
        self.shared.events.with_waker(|w| w.hold(&env, true)).unwrap_or(Ok(()))
    }
}

async fn accept_loop(shared: Arc<Registry>, endpoint: quinn::Endpoint) {
    while let Some(inc) = endpoint.accept().await {
        if shared.closing.load(Ordering::Acquire) {
            inc.refuse();
            continue;
        }
        shared.conn_started();
        let shared = shared.clone();
        tokio::spawn(async move {
            let remote = inc.remote_address().to_string();
            let res = match inc.accept() {
                Ok(connecting) => connecting.await,
                Err(e) => Err(e),
            };
            match res {
                Ok(c) => {
                    let id = shared.next_id();
                    conn::established(&shared, id, c, true, None);
                }
                Err(e) => {
                    let ending = conn::describe(&e);
                    shared.push(Event::HandshakeFailed { remote, detail: format!("{}: {}", ending.how, ending.reason) });
                    shared.conn_gone();
                }
            }
        });
    }
}
