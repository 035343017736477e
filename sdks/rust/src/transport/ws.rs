//! The WebSocket transport (contract v0.1): subprotocol `llps.v1,at.<token>`, binary publish and
//! delivery frames, text SUB/UNSUB/PING and OK:/ERR:/PONG/RECONNECT.
use super::{EventSink, Kind, Link, LinkCmd, LinkEvent, Pressure, WRITE_BATCH};
use crate::codec::{decode_delivery, parse_server_text, ServerText};
use crate::edge::{dial, BoxIo, Edge};
use crate::error::{Error, ErrorCode, Result};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::WebSocketStream;

type Ws = WebSocketStream<BoxIo>;

fn handshake_error(e: tungstenite::Error) -> Error {
    match e {
        tungstenite::Error::Http(res) => {
            let status = res.status().as_u16();
            let code = match status {
                401 => ErrorCode::Unauthorized,
                403 => ErrorCode::Forbidden,
                _ => ErrorCode::ConnectFailed,
            };
            Error::new(code, format!("the edge answered HTTP {status} to the WebSocket upgrade")).with_status(status)
        }
        tungstenite::Error::Protocol(p) => Error::new(ErrorCode::Protocol, format!("WebSocket handshake: {p}")),
        other => Error::new(ErrorCode::ConnectFailed, format!("WebSocket handshake: {other}")),
    }
}

/// Opens a WebSocket to `edge` and starts its reader and writer tasks.
pub(crate) async fn open(id: u64, edge: &Edge, token: &str, timeout: Duration, events: EventSink) -> Result<Link> {
    let attempt = async {
        let mut request = edge.ws_url().into_client_request().map_err(|e| Error::bad_argument(format!("edge URL: {e}")))?;
        let protocols =
            HeaderValue::from_str(&format!("llps.v1,at.{token}")).map_err(|_| Error::bad_argument("the token holds characters a header cannot carry"))?;
        request.headers_mut().insert("sec-websocket-protocol", protocols);
        let io = dial(edge).await?;
        let mut config = WebSocketConfig::default();
        config.write_buffer_size = 64 * 1024;
        let (ws, response) = tokio_tungstenite::client_async_with_config(request, io, Some(config))
            .await
            .map_err(handshake_error)?;
        let chosen = response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok());
        if chosen != Some("llps.v1") {
            return Err(Error::new(ErrorCode::Protocol, format!("the edge chose subprotocol {chosen:?}, not llps.v1")));
        }
        Ok(ws)
    };
    let ws: Ws = tokio::time::timeout(timeout, attempt).await.map_err(|_| {
        Error::new(
            ErrorCode::Timeout,
            format!("WebSocket to {} not open within {} ms", edge.ws_url(), timeout.as_millis()),
        )
    })??;
    let (sink, stream) = ws.split();
    let (tx, rx) = mpsc::unbounded_channel();
    let pressure = Arc::new(Pressure::default());
    let reader = tokio::spawn(read_loop(id, stream, events));
    tokio::spawn(write_loop(sink, rx, pressure.clone(), reader.abort_handle()));
    Ok(Link::new(id, Kind::WebSocket, tx, pressure))
}

fn to_ws(cmd: LinkCmd) -> Option<(WsMessage, usize)> {
    Some(match cmd {
        LinkCmd::Sub(t, p) => (WsMessage::text(format!("SUB:{t}:{p}")), 0),
        LinkCmd::Unsub(t, p) => (WsMessage::text(format!("UNSUB:{t}:{p}")), 0),
        LinkCmd::Ping => (WsMessage::text("PING"), 0),
        LinkCmd::Publish(frame) => {
            let n = frame.len();
            (WsMessage::Binary(frame), n)
        }
        LinkCmd::Close => return None,
    })
}

/// Writes commands in batches: every command already queued is fed, then one flush.
async fn write_loop(mut sink: SplitSink<Ws, WsMessage>, mut rx: mpsc::UnboundedReceiver<LinkCmd>, pressure: Arc<Pressure>, reader: tokio::task::AbortHandle) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    'outer: while rx.recv_many(&mut batch, WRITE_BATCH).await > 0 {
        let mut bytes = 0;
        for cmd in batch.drain(..) {
            let Some((msg, n)) = to_ws(cmd) else {
                let _ = sink.send(WsMessage::Close(None)).await;
                break 'outer;
            };
            bytes += n;
            if sink.feed(msg).await.is_err() {
                break 'outer;
            }
        }
        if sink.flush().await.is_err() {
            break;
        }
        pressure.written(bytes);
    }
    pressure.close();
    // Give the edge a moment to answer the close, then stop reading for good.
    tokio::time::sleep(Duration::from_secs(1)).await;
    reader.abort();
}

async fn read_loop(id: u64, mut stream: SplitStream<Ws>, events: EventSink) {
    let error = loop {
        match stream.next().await {
            Some(Ok(WsMessage::Binary(frame))) => {
                // Malformed deliveries are dropped (contract §3), the connection lives on.
                if let Ok(d) = decode_delivery(&frame) {
                    events(
                        id,
                        LinkEvent::Delivery {
                            tenant: d.tenant.into(),
                            channel: d.channel.into(),
                            payload: d.payload,
                            patterns: d.patterns.into(),
                        },
                    );
                }
            }
            Some(Ok(WsMessage::Text(text))) => match parse_server_text(text.as_str()) {
                ServerText::Ok { op: "SUB", tenant, pattern } => events(id, LinkEvent::Subscribed { tenant, pattern }),
                ServerText::Pong => events(id, LinkEvent::Pong),
                ServerText::Reconnect => events(id, LinkEvent::ReconnectRequested),
                ServerText::Err { code, detail } => events(id, LinkEvent::ServerError { code, detail }),
                _ => {}
            },
            Some(Ok(WsMessage::Close(frame))) => {
                let why = frame.map(|f| format!("{} {}", u16::from(f.code), f.reason)).unwrap_or_default();
                break Some(Error::new(ErrorCode::ConnectFailed, format!("the edge closed the WebSocket {why}")));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => break Some(Error::new(ErrorCode::ConnectFailed, format!("WebSocket: {e}"))),
            None => break Some(Error::new(ErrorCode::ConnectFailed, "WebSocket ended")),
        }
    };
    events(id, LinkEvent::Closed(error));
}
