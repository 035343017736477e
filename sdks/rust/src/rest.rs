//! REST calls to an edge (contract v0.1 §7): `GET /ping`, fastest-edge selection and the token
//! helpers (`POST /v1/get-token`, `PUT /v1/refresh-token`, `DELETE /v1/revoke-token`).
use crate::edge::{dial, Edge};
use crate::error::{Error, ErrorCode, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Timeout of one `GET /ping` (contract §7).
pub const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// Timeout of one token call (contract §7).
pub const TOKEN_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// One HTTP/1.1 request on a fresh connection; returns (status, body).
async fn request(edge: &Edge, method: &str, path: &str, bearer: Option<&str>, body: Option<Value>) -> Result<(u16, String)> {
    let io = dial(edge).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| Error::new(ErrorCode::ConnectFailed, format!("{method} {path}: {e}")))?;
    let conn_task = tokio::spawn(conn);
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", edge.authority())
        .header("content-type", "application/json");
    if let Some(token) = bearer {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let req = builder
        .body(Full::new(Bytes::from(payload)))
        .map_err(|e| Error::bad_argument(format!("{method} {path}: {e}")))?;
    let result = async {
        let res = sender
            .send_request(req)
            .await
            .map_err(|e| Error::new(ErrorCode::ConnectFailed, format!("{method} {path}: {e}")))?;
        let status = res.status().as_u16();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| Error::new(ErrorCode::ConnectFailed, format!("{method} {path}: reading the body: {e}")))?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }
    .await;
    conn_task.abort();
    result
}

async fn with_timeout<T>(limit: Duration, what: &str, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(limit, f)
        .await
        .unwrap_or_else(|_| Err(Error::new(ErrorCode::Timeout, format!("{what} timed out after {} ms", limit.as_millis()))))
}

/// `GET /ping`: Ok(round trip) when the edge answers 2xx with the body `pong`.
pub async fn ping(edge: &Edge) -> Result<Duration> {
    let started = Instant::now();
    let (status, body) = with_timeout(PING_TIMEOUT, "GET /ping", request(edge, "GET", "/ping", None, None)).await?;
    if !(200..300).contains(&status) {
        return Err(Error::new(ErrorCode::Http, format!("GET /ping answered HTTP {status}")).with_status(status));
    }
    if body.trim() != "pong" {
        return Err(Error::new(ErrorCode::Protocol, format!("GET /ping answered {:?}, not pong", body.trim())));
    }
    Ok(started.elapsed())
}

/// Probes every edge's `/ping` in parallel and returns the first to answer `pong`
/// (`no_edge` when none does within 3 s).
pub async fn select_fastest_edge(edges: &[Edge]) -> Result<Edge> {
    if edges.is_empty() {
        return Err(Error::new(ErrorCode::NoEdge, "no candidate edges"));
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel(edges.len());
    let mut probes = Vec::with_capacity(edges.len());
    for edge in edges.iter().cloned() {
        let tx = tx.clone();
        probes.push(tokio::spawn(async move {
            let result = ping(&edge).await;
            let _ = tx.send((edge, result)).await;
        }));
    }
    drop(tx);
    let mut failures = Vec::new();
    let mut winner = None;
    while let Some((edge, result)) = rx.recv().await {
        match result {
            Ok(_) => {
                winner = Some(edge);
                break;
            }
            Err(e) => failures.push(format!("{}: {e}", edge.http_url())),
        }
    }
    for p in probes {
        p.abort();
    }
    winner.ok_or_else(|| Error::new(ErrorCode::NoEdge, format!("no edge answered /ping ({})", failures.join("; "))))
}

/// One tenant's rights in a token.
#[derive(Debug, Clone, Default)]
pub struct TenantGrant {
    pub tenant_ids: Vec<String>,
    pub allow_channels_pub: Vec<String>,
    pub allow_channels_sub: Vec<String>,
}

impl TenantGrant {
    pub fn new(tenant: &str, publish: &[&str], subscribe: &[&str]) -> Self {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        TenantGrant {
            tenant_ids: vec![tenant.to_owned()],
            allow_channels_pub: own(publish),
            allow_channels_sub: own(subscribe),
        }
    }
}

/// The master token and the edge the token calls go to.
#[derive(Debug, Clone)]
pub struct Admin {
    edge: Edge,
    master_token: String,
}

fn string_field(reply: &Value, name: &str, what: &str) -> Result<String> {
    reply
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::new(ErrorCode::Protocol, format!("{what} reply lacks \"{name}\"")))
}

impl Admin {
    /// `url`: the edge's base URL; `master_token`: the Bearer secret for token calls.
    pub fn new(url: &str, master_token: impl Into<String>) -> Result<Self> {
        Ok(Admin {
            edge: Edge::parse(url)?,
            master_token: master_token.into(),
        })
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Result<Value> {
        let what = format!("{method} {path}");
        let (status, text) = with_timeout(
            TOKEN_CALL_TIMEOUT,
            &what,
            request(&self.edge, method, path, Some(&self.master_token), Some(body)),
        )
        .await?;
        if !(200..300).contains(&status) {
            let code = match status {
                401 => ErrorCode::Unauthorized,
                403 => ErrorCode::Forbidden,
                _ => ErrorCode::Http,
            };
            let short: String = text.chars().take(200).collect();
            return Err(Error::new(code, format!("{what} answered HTTP {status}: {short}"))
                .with_status(status)
                .with_detail(text));
        }
        serde_json::from_str(&text).map_err(|_| Error::new(ErrorCode::Protocol, format!("{what} answered non-JSON")).with_status(status))
    }

    /// `POST /v1/get-token`: a new access token `AT_…` with these grants, valid until `expires_at`.
    pub async fn create_token(&self, grants: &[TenantGrant], expires_at: SystemTime, created_by: &str) -> Result<String> {
        if grants.is_empty() {
            return Err(Error::bad_argument("create_token needs at least one grant"));
        }
        if created_by.trim().is_empty() {
            return Err(Error::bad_argument("create_token needs a non-blank created_by"));
        }
        let grants: Vec<Value> = grants
            .iter()
            .map(|g| json!({"tenant_ids": g.tenant_ids, "allow_channels_pub": g.allow_channels_pub, "allow_channels_sub": g.allow_channels_sub}))
            .collect();
        let body = json!({
            "right": {"tenant_grants": grants, "allow_ip_masks": [], "allow_regions": [], "allowed_ws_origin": [], "expires_at": rfc3339(expires_at)},
            "created_by": created_by,
        });
        string_field(&self.call("POST", "/v1/get-token", body).await?, "token", "get-token")
    }

    /// `PUT /v1/refresh-token`: moves the token's expiry; returns the new expiry as the server wrote it.
    pub async fn refresh_token(&self, token: &str, expires_at: SystemTime) -> Result<String> {
        let body = json!({"token_id": token_id(token)?, "expires_at": rfc3339(expires_at)});
        string_field(&self.call("PUT", "/v1/refresh-token", body).await?, "new_expires_at", "refresh-token")
    }

    /// `DELETE /v1/revoke-token` (JSON body): the edges refuse the token from now on.
    pub async fn revoke_token(&self, token: &str) -> Result<String> {
        string_field(
            &self.call("DELETE", "/v1/revoke-token", json!({"token": token})).await?,
            "message",
            "revoke-token",
        )
    }
}

/// The id part of `AT_{id}_{secret}`.
pub fn token_id(token: &str) -> Result<&str> {
    let rest = token.strip_prefix("AT_").unwrap_or(token);
    match rest.split_once('_') {
        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => Ok(id),
        _ => Err(Error::bad_argument("not an access token (expected AT_{id}_{secret})")),
    }
}

/// RFC 3339 in UTC with second precision (`2026-12-07T20:00:00Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}
