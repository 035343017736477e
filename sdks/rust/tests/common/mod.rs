//! Real relays for the integration tests: `node packages/cli/bin/fastpubsub.js relay` from this
//! repository, on loopback, stopped with SIGTERM when the handle drops (also on a failed test).
#![allow(dead_code)]
use fastpubsub_client::{Admin, QuicOptions, TenantGrant};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

pub const MASTER_TOKEN: &str = "rust-sdk-tests-master-token-0123456789abcdef";

pub struct Relay {
    child: Option<Child>,
    pub url: String,
    pub port: u16,
    pub quic_port: u16,
    pub data_dir: PathBuf,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

fn fresh_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!("fps-rust-sdk-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    // The relay keeps secrets there and refuses a directory other users can read.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("temp dir mode");
    dir
}

impl Relay {
    /// A relay on a free port (`--listen 127.0.0.1:0`), QUIC edge on.
    pub fn start() -> Relay {
        Relay::start_at(0, fresh_dir())
    }

    /// A relay on a given port and data dir (to restart one where it was).
    pub fn start_at(port: u16, data_dir: PathBuf) -> Relay {
        let mut cmd = Command::new("node");
        cmd.current_dir(repo_root())
            .args(["packages/cli/bin/fastpubsub.js", "relay", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--master-token", MASTER_TOKEN, "--data-dir"])
            .arg(&data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("node must be installed to start a relay (packages/cli)");
        // The ready line is on stdout, the JSON log (with the QUIC port) on stderr.
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx2.send(line);
            }
        });
        let mut relay = Relay {
            child: Some(child),
            url: String::new(),
            port: 0,
            quic_port: 0,
            data_dir,
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while relay.url.is_empty() || relay.quic_port == 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| panic!("the relay did not start within 60 s"));
            if line.contains("\"quic edge listening\"") {
                let v: serde_json::Value = serde_json::from_str(&line).expect("relay log line");
                relay.quic_port = v["port"].as_u64().expect("quic port") as u16;
            }
            if let Some(rest) = line.strip_prefix("fastpubsub relay listening on ") {
                relay.url = rest.split_whitespace().next().unwrap().to_owned();
                relay.port = relay.url.rsplit(':').next().unwrap().parse().unwrap();
            }
        }
        // Keep draining stdout so the relay never blocks on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        relay
    }

    /// A relay on a fixed free port P (QUIC on P + 1, the default), so it can restart in place.
    pub fn start_fixed() -> Relay {
        for _ in 0..50 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            if port < 65535 && std::net::UdpSocket::bind(("127.0.0.1", port + 1)).is_ok() {
                return Relay::start_at(port, fresh_dir());
            }
        }
        panic!("no free port pair for a relay");
    }

    pub fn admin(&self) -> Admin {
        Admin::new(&self.url, MASTER_TOKEN).unwrap()
    }

    /// A token for tenant `demo`: publish and subscribe `chat.#`.
    pub async fn token(&self) -> String {
        self.token_for("demo", &["chat.#"], &["chat.#"], Duration::from_secs(3600)).await
    }

    pub async fn token_for(&self, tenant: &str, publish: &[&str], subscribe: &[&str], ttl: Duration) -> String {
        self.admin()
            .create_token(&[TenantGrant::new(tenant, publish, subscribe)], SystemTime::now() + ttl, "rust-sdk-tests")
            .await
            .expect("create token")
    }

    pub fn quic(&self) -> QuicOptions {
        QuicOptions {
            address: Some(format!("127.0.0.1:{}", self.quic_port).parse().unwrap()),
            ca_file: Some(self.data_dir.join("quic/ca.pem").to_string_lossy().into_owned()),
            ca_pem: None,
            server_name: Some("localhost".into()),
        }
    }

    /// SIGTERM (graceful: the relay sends RECONNECT and drains), then wait for the exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}
