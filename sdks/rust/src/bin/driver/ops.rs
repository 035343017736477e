//! The driver's commands, one function each.
use crate::Out;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fastpubsub_client::{
    Admin, Client, ClientEvent, DeliveryMode, Error, ErrorCode, Options, QuicOptions, ReconnectOptions, Subscription, SubscriptionMonitor, TenantGrant, Token,
};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::task::JoinHandle;

struct SubState {
    monitor: SubscriptionMonitor,
    /// Held here while paused; taken by the consumer on resume.
    parked: Option<Subscription>,
    consumer: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct ClientState {
    client: Option<Arc<Client>>,
    quic: bool,
    subs: HashMap<String, SubState>,
}

pub struct Driver {
    out: Out,
    clients: Mutex<HashMap<String, ClientState>>,
}

type OpResult = Result<Value, Error>;

fn error_json(e: &Error) -> Value {
    json!({"code": e.code().as_str(), "serverCode": e.server_code(), "message": e.to_string()})
}

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::BadArgument, msg)
}

fn str_field<'a>(cmd: &'a Value, name: &str) -> Result<&'a str, Error> {
    cmd.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("missing string field {name:?}")))
}

fn u64_at(v: &Value, path: &[&str]) -> Option<u64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_u64().or_else(|| cur.as_f64().map(|f| f as u64))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

impl Driver {
    pub fn new(out: Out) -> Self {
        Driver {
            out,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn client(&self, cmd: &Value) -> Result<Arc<Client>, Error> {
        let name = client_name(cmd);
        self.clients
            .lock()
            .unwrap()
            .get(&name)
            .and_then(|c| c.client.clone())
            .ok_or_else(|| Error::new(ErrorCode::Closed, format!("no client {name:?}")))
    }

    pub async fn run(self: Arc<Self>, cmd: Value) {
        let id = cmd.get("id").cloned().unwrap_or(Value::Null);
        let op = cmd.get("op").and_then(Value::as_str).unwrap_or("").to_owned();
        let result = match op.as_str() {
            "connect" => self.connect(&cmd).await,
            "subscribe" => self.subscribe(&cmd).await,
            "unsubscribe" => self.unsubscribe(&cmd),
            "resume" => self.resume(&cmd),
            "publish" => self.publish(&cmd).await,
            "flush" => self.flush(&cmd).await,
            "stats" => self.stats(&cmd),
            "ping" => self.ping(&cmd),
            "close" => self.close(&cmd).await,
            "throughput" => self.throughput(&cmd).await,
            other => Err(bad(format!("unknown op {other:?}"))),
        };
        let reply = match result {
            Ok(Value::Object(mut fields)) => {
                fields.insert("id".into(), id);
                fields.insert("ok".into(), Value::Bool(true));
                Value::Object(fields)
            }
            Ok(_) => json!({"id": id, "ok": true}),
            Err(e) => json!({"id": id, "ok": false, "error": error_json(&e)}),
        };
        self.out.send(reply);
    }

    async fn connect(&self, cmd: &Value) -> OpResult {
        let name = client_name(cmd);
        let mut options = Options::new();
        if let Some(token) = cmd.get("token").and_then(Value::as_str) {
            options = options.token(token);
        }
        if let Some(p) = cmd.get("tokenProvider").filter(|v| v.is_object()) {
            options = with_token_provider(options, p, self.out.clone(), name.clone())?;
        }
        let quic = cmd.get("transport").and_then(Value::as_str) == Some("quic");
        if quic {
            let q = cmd.get("quic").cloned().unwrap_or(Value::Null);
            let address = match q.get("address").and_then(Value::as_str) {
                Some(a) => Some(a.parse().map_err(|_| bad(format!("quic.address {a:?} is not ip:port")))?),
                None => None,
            };
            options = options.quic(QuicOptions {
                address,
                ca_file: q.get("caFile").and_then(Value::as_str).map(str::to_owned),
                ca_pem: None,
                server_name: q.get("serverName").and_then(Value::as_str).map(str::to_owned),
            });
        }
        if cmd.get("reconnect").is_some() {
            let mut r = ReconnectOptions::default();
            if let Some(ms) = u64_at(cmd, &["reconnect", "baseDelayMs"]) {
                r.base_delay = Duration::from_millis(ms);
            }
            if let Some(ms) = u64_at(cmd, &["reconnect", "maxDelayMs"]) {
                r.max_delay = Duration::from_millis(ms);
            }
            options = options.reconnect(r);
        }
        if let Some(n) = u64_at(cmd, &["publishQueue", "maxMessages"]) {
            options = options.publish_queue(n as usize);
        }
        if cmd.get("ping").is_some() {
            let interval = u64_at(cmd, &["ping", "intervalMs"]).unwrap_or(5000);
            let timeout = u64_at(cmd, &["ping", "timeoutMs"]).unwrap_or(10_000);
            options = options.ping(Duration::from_millis(interval), Duration::from_millis(timeout));
        }
        if let Some(n) = u64_at(cmd, &["subscriptionBuffer", "size"]) {
            options = options.subscription_buffer(n as usize);
        }
        let out = self.out.clone();
        let event_client = name.clone();
        options = options.on_event(move |event| {
            let v = match event {
                ClientEvent::State(s) => json!({"event": "state", "client": event_client, "state": s.as_str()}),
                ClientEvent::Error(e) => json!({"event": "error", "client": event_client, "error": error_json(e)}),
                ClientEvent::Closed(e) => json!({"event": "closed", "client": event_client, "error": e.as_ref().map(error_json)}),
            };
            out.send(v);
        });
        let client = if let Some(edges) = cmd.get("edges").and_then(Value::as_array) {
            let edges: Vec<&str> = edges.iter().filter_map(Value::as_str).collect();
            Client::connect_fastest(&edges, options).await?
        } else {
            Client::connect(str_field(cmd, "endpoint")?, options).await?
        };
        let edge = client.edge();
        let previous = self.clients.lock().unwrap().insert(
            name,
            ClientState {
                client: Some(Arc::new(client)),
                quic,
                subs: HashMap::new(),
            },
        );
        if let Some(old) = previous.and_then(|s| s.client) {
            old.close().await;
        }
        Ok(json!({"edge": edge}))
    }

    async fn subscribe(&self, cmd: &Value) -> OpResult {
        let client = self.client(cmd)?;
        let sub_name = str_field(cmd, "sub")?.to_owned();
        let buffer = u64_at(cmd, &["bufferSize"]).map(|n| n as usize);
        let sub = client.subscribe_with(str_field(cmd, "tenant")?, str_field(cmd, "pattern")?, buffer).await?;
        let paused = cmd.get("paused").and_then(Value::as_bool).unwrap_or(false);
        let mut state = SubState {
            monitor: sub.monitor(),
            parked: Some(sub),
            consumer: None,
        };
        if !paused {
            state.consumer = Some(self.consume(cmd, &sub_name, state.parked.take().unwrap()));
        }
        let mut clients = self.clients.lock().unwrap();
        let entry = clients.entry(client_name(cmd)).or_default();
        if let Some(old) = entry.subs.insert(sub_name, state) {
            stop(old);
        }
        Ok(json!({}))
    }

    fn consume(&self, cmd: &Value, sub_name: &str, mut sub: Subscription) -> JoinHandle<()> {
        let out = self.out.clone();
        let client = client_name(cmd);
        let sub_name = sub_name.to_owned();
        tokio::spawn(async move {
            while let Some(m) = sub.next().await {
                out.send(json!({
                    "event": "message", "client": client, "sub": sub_name, "tenant": m.tenant(), "channel": m.channel(),
                    "payload": B64.encode(m.payload()), "patterns": m.patterns(),
                }));
            }
        })
    }

    fn unsubscribe(&self, cmd: &Value) -> OpResult {
        let name = str_field(cmd, "sub")?;
        let removed = self.clients.lock().unwrap().get_mut(&client_name(cmd)).and_then(|c| c.subs.remove(name));
        match removed {
            Some(state) => {
                stop(state);
                Ok(json!({}))
            }
            None => Err(bad(format!("no subscription {name:?}"))),
        }
    }

    fn resume(&self, cmd: &Value) -> OpResult {
        let name = str_field(cmd, "sub")?;
        let parked = self
            .clients
            .lock()
            .unwrap()
            .get_mut(&client_name(cmd))
            .and_then(|c| c.subs.get_mut(name))
            .map(|s| s.parked.take());
        match parked {
            None => Err(bad(format!("no subscription {name:?}"))),
            Some(None) => Ok(json!({})),
            Some(Some(sub)) => {
                let handle = self.consume(cmd, name, sub);
                if let Some(s) = self.clients.lock().unwrap().get_mut(&client_name(cmd)).and_then(|c| c.subs.get_mut(name)) {
                    s.consumer = Some(handle);
                }
                Ok(json!({}))
            }
        }
    }

    async fn publish(&self, cmd: &Value) -> OpResult {
        let client = self.client(cmd)?;
        let payload = B64
            .decode(cmd.get("payload").and_then(Value::as_str).unwrap_or(""))
            .map_err(|e| bad(format!("payload is not base64: {e}")))?;
        let mode = match cmd.get("delivery").and_then(Value::as_str).unwrap_or("broadcast") {
            "broadcast" => DeliveryMode::Broadcast,
            "one-low-latency" => DeliveryMode::OneLowLatency,
            "one-random" => DeliveryMode::OneRandom,
            other => return Err(bad(format!("unknown delivery {other:?}"))),
        };
        client
            .publish_with(str_field(cmd, "tenant")?, str_field(cmd, "channel")?, payload, mode)
            .await?;
        Ok(json!({}))
    }

    async fn flush(&self, cmd: &Value) -> OpResult {
        self.client(cmd)?.flush(Duration::from_secs(30)).await?;
        Ok(json!({}))
    }

    fn stats(&self, cmd: &Value) -> OpResult {
        if let Some(name) = cmd.get("sub").and_then(Value::as_str) {
            let clients = self.clients.lock().unwrap();
            let s = clients
                .get(&client_name(cmd))
                .and_then(|c| c.subs.get(name))
                .ok_or_else(|| bad(format!("no subscription {name:?}")))?;
            let st = s.monitor.stats();
            return Ok(json!({"received": st.received, "dropped": st.dropped}));
        }
        let st = self.client(cmd)?.stats();
        Ok(json!({"published": st.published, "queued": st.queued, "queueDropped": st.queue_dropped, "reconnects": st.reconnects}))
    }

    fn ping(&self, cmd: &Value) -> OpResult {
        let rtt = self.client(cmd)?.rtt().map(|d| d.as_secs_f64() * 1000.0);
        Ok(json!({"rttMs": rtt}))
    }

    async fn close(&self, cmd: &Value) -> OpResult {
        let state = self.clients.lock().unwrap().remove(&client_name(cmd));
        let Some(state) = state else { return Ok(json!({})) };
        for (_, s) in state.subs {
            stop(s);
        }
        if let Some(client) = state.client {
            client.close().await;
        }
        Ok(json!({}))
    }

    pub async fn close_all(&self) {
        let all: Vec<ClientState> = self.clients.lock().unwrap().drain().map(|(_, s)| s).collect();
        for state in all {
            for (_, s) in state.subs {
                stop(s);
            }
            if let Some(client) = state.client {
                client.close().await;
            }
        }
    }

    /// Subscribes, publishes `count` payloads as fast as the SDK accepts them, counts them back.
    async fn throughput(&self, cmd: &Value) -> OpResult {
        let client = self.client(cmd)?;
        let tenant = str_field(cmd, "tenant")?;
        let channel = str_field(cmd, "channel")?;
        let count = u64_at(cmd, &["count"]).ok_or_else(|| bad("missing count"))?;
        let size = u64_at(cmd, &["size"]).unwrap_or(256) as usize;
        let timeout = Duration::from_millis(u64_at(cmd, &["timeoutMs"]).unwrap_or(30_000));
        let mut sub = client.subscribe_with(tenant, channel, Some((count as usize).clamp(1024, 1 << 20))).await?;
        // At most `window` bytes in flight (published, not yet received back): the relay drops
        // for a subscriber more than its queue behind (4 MiB per WebSocket, 1 MiB per QUIC
        // stream plus 512 KiB of stream buffers), and "nothing lost" is the point.
        let quic = self.clients.lock().unwrap().get(&client_name(cmd)).is_some_and(|c| c.quic);
        let window_bytes = if quic { 1280 * 1024 } else { 2 * 1024 * 1024 };
        let window = (window_bytes / size.max(1)).clamp(64, 1 << 20);
        let credit = Arc::new(tokio::sync::Semaphore::new(window));
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + timeout;
        let returned = credit.clone();
        let counter = tokio::spawn(async move {
            let mut received = 0u64;
            while received < count {
                match tokio::time::timeout_at(deadline, sub.next()).await {
                    Ok(Some(_)) => {
                        received += 1;
                        returned.add_permits(1);
                    }
                    _ => break,
                }
            }
            (received, started.elapsed())
        });
        let payload = vec![0x5au8; size];
        for _ in 0..count {
            match tokio::time::timeout_at(deadline, credit.acquire()).await {
                Ok(Ok(permit)) => permit.forget(),
                _ => break,
            }
            client.publish(tenant, channel, &payload).await?;
        }
        let (received, elapsed) = counter.await.map_err(|e| Error::new(ErrorCode::Closed, format!("counter task: {e}")))?;
        let seconds = elapsed.as_secs_f64();
        let mut result = Map::new();
        result.insert("received".into(), json!(received));
        result.insert("seconds".into(), json!(seconds));
        result.insert("messagesPerSecond".into(), json!(if seconds > 0.0 { received as f64 / seconds } else { 0.0 }));
        Ok(Value::Object(result))
    }
}

fn client_name(cmd: &Value) -> String {
    cmd.get("client").and_then(Value::as_str).unwrap_or("default").to_owned()
}

fn stop(state: SubState) {
    if let Some(c) = state.consumer {
        c.abort();
    }
    drop(state.parked);
}

/// Installs the SDK's token provider, minting tokens with the SDK's own REST helper.
fn with_token_provider(options: Options, p: &Value, out: Out, client: String) -> Result<Options, Error> {
    let admin = Arc::new(Admin::new(str_field(p, "url")?, str_field(p, "masterToken")?)?);
    let grant = TenantGrant {
        tenant_ids: vec![str_field(p, "tenant")?.to_owned()],
        allow_channels_pub: strings(p.get("pub")),
        allow_channels_sub: strings(p.get("sub")),
    };
    let ttl = Duration::from_secs(u64_at(p, &["ttlSeconds"]).unwrap_or(3600));
    Ok(options.token_provider(move |_reason| {
        let admin = admin.clone();
        let grant = grant.clone();
        let out = out.clone();
        let client = client.clone();
        async move {
            out.send(json!({"event": "token_provided", "client": client}));
            let expires_at = SystemTime::now() + ttl;
            let token = admin.create_token(&[grant], expires_at, "conformance-driver").await?;
            Ok(Token::new(token, Some(expires_at)))
        }
    }))
}
