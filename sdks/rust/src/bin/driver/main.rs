//! The conformance driver (spec/conformance/driver-protocol.md): JSON-line commands on stdin,
//! replies and events on stdout, using only the SDK's public API.
mod ops;

use serde_json::{json, Value};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Where replies and events go: one writer task owns stdout, one line per value, flushed.
#[derive(Clone)]
pub struct Out(mpsc::UnboundedSender<Value>);

impl Out {
    pub fn send(&self, v: Value) {
        let _ = self.0.send(v);
    }
}

#[tokio::main]
async fn main() {
    let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(v) = rx.recv().await {
            let mut line = v.to_string();
            line.push('\n');
            if stdout.write_all(line.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    });
    let out = Out(tx);
    let driver = Arc::new(ops::Driver::new(out.clone()));
    out.send(json!({"event": "ready", "sdk": "rust", "transports": ["websocket", "quic"]}));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        let cmd: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("driver: bad JSON line: {e}");
                continue;
            }
        };
        if cmd.get("op").and_then(Value::as_str) == Some("exit") {
            driver.close_all().await;
            out.send(json!({"id": cmd.get("id").cloned().unwrap_or(Value::Null), "ok": true}));
            break;
        }
        let driver = driver.clone();
        tokio::spawn(async move { driver.run(cmd).await });
    }
    driver.close_all().await;
    drop(driver);
    drop(out);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), writer).await;
    std::process::exit(0);
}
