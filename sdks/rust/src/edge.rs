//! Edge addresses and dialling: `http://host:port`, `https://host`, `ws://host/ws`, `wss://…` or
//! a bare `host[:port]` (https). One TCP (+ TLS for https/wss) stream type serves both the REST
//! calls and the WebSocket.
use crate::error::{Error, ErrorCode, Result};
use std::sync::{Arc, OnceLock};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// One edge: where its REST API and its WebSocket are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub secure: bool,
    pub host: String,
    pub port: u16,
}

impl Edge {
    pub fn parse(input: &str) -> Result<Edge> {
        let input = input.trim();
        let (secure, rest) = if let Some(r) = input.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = input.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = input.strip_prefix("wss://") {
            (true, r)
        } else if let Some(r) = input.strip_prefix("ws://") {
            (false, r)
        } else if input.contains("://") {
            return Err(Error::bad_argument(format!("edge {input:?}: unsupported scheme")));
        } else {
            (true, input)
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.is_empty() || authority.contains('@') {
            return Err(Error::bad_argument(format!("edge {input:?}: no host")));
        }
        let default_port = if secure { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| Error::bad_argument(format!("edge {input:?}: bad IPv6 host")))?;
            let port = match after.strip_prefix(':') {
                Some(p) => parse_port(p, input)?,
                None if after.is_empty() => default_port,
                None => return Err(Error::bad_argument(format!("edge {input:?}: bad port"))),
            };
            (h.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), parse_port(p, input)?),
                None => (authority.to_owned(), default_port),
            }
        };
        if host.is_empty() {
            return Err(Error::bad_argument(format!("edge {input:?}: no host")));
        }
        Ok(Edge { secure, host, port })
    }

    fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `http(s)://host:port`, the REST base.
    pub fn http_url(&self) -> String {
        format!("{}://{}", if self.secure { "https" } else { "http" }, self.host_port())
    }

    /// `ws(s)://host:port/ws`.
    pub fn ws_url(&self) -> String {
        format!("{}://{}/ws", if self.secure { "wss" } else { "ws" }, self.host_port())
    }

    pub(crate) fn authority(&self) -> String {
        self.host_port()
    }
}

fn parse_port(p: &str, input: &str) -> Result<u16> {
    p.parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| Error::bad_argument(format!("edge {input:?}: bad port {p:?}")))
}

/// A byte stream to an edge: plain TCP or TLS over TCP.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
pub(crate) type BoxIo = Box<dyn Io>;

fn web_tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let provider = ring_provider();
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default TLS versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Arc::new(config)
        })
        .clone()
}

/// rustls over ring. `default_provider` is deprecated since rustls 0.23.48 only because ring lacks
/// post-quantum key exchange; the alternative (aws-lc-rs) needs a C/CMake build on every machine.
#[allow(deprecated)]
pub(crate) fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Opens TCP (no Nagle: small frames must leave at once) and, for a secure edge, TLS.
pub(crate) async fn dial(edge: &Edge) -> Result<BoxIo> {
    let tcp = TcpStream::connect((edge.host.as_str(), edge.port))
        .await
        .map_err(|e| Error::new(ErrorCode::ConnectFailed, format!("connect {}: {e}", edge.authority())))?;
    let _ = tcp.set_nodelay(true);
    if !edge.secure {
        return Ok(Box::new(tcp));
    }
    let name = rustls_pki_types::ServerName::try_from(edge.host.clone()).map_err(|e| Error::bad_argument(format!("edge host {:?}: {e}", edge.host)))?;
    let tls = tokio_rustls::TlsConnector::from(web_tls_config())
        .connect(name, tcp)
        .await
        .map_err(|e| Error::new(ErrorCode::ConnectFailed, format!("TLS to {}: {e}", edge.authority())))?;
    Ok(Box::new(tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_edge_form() {
        let e = Edge::parse("http://127.0.0.1:7700").unwrap();
        assert_eq!((e.secure, e.host.as_str(), e.port), (false, "127.0.0.1", 7700));
        assert_eq!(e.ws_url(), "ws://127.0.0.1:7700/ws");
        assert_eq!(Edge::parse("wss://edge.example/ws").unwrap().http_url(), "https://edge.example:443");
        assert_eq!(Edge::parse("edge.example:8443").unwrap().http_url(), "https://edge.example:8443");
        assert_eq!(Edge::parse("http://[::1]:7700/").unwrap().ws_url(), "ws://[::1]:7700/ws");
        for bad in ["", "ftp://x", "http://", "http://host:0", "http://host:99999", "http://u@host"] {
            assert_eq!(Edge::parse(bad).unwrap_err().code(), crate::ErrorCode::BadArgument, "{bad:?}");
        }
    }
}
