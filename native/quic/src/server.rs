//! A server endpoint's TLS configuration, and replacing its certificate while it runs (new
//! handshakes get the new certificate; open connections keep theirs) — how short-lived
//! WebTransport development certificates rotate.

use std::sync::Arc;

use napi::{Error, Result, Status};
use napi_derive::napi;

use crate::endpoint::NativeEndpoint;
use crate::sync::lock;
use crate::tls;

#[napi(object)]
#[derive(Clone)]
pub struct ServerOptions {
    pub cert_pem: String,
    pub key_pem: String,
    pub alpn: Vec<String>,
    pub client_ca_pem: Option<String>,
    pub require_client_cert: Option<bool>,
    /// Certificate and key (PEM) for clients offering ALPN `h3` (WebTransport); default: cert_pem.
    pub h3_cert_pem: Option<String>,
    pub h3_key_pem: Option<String>,
}

pub fn config(s: &ServerOptions, transport: Arc<quinn::TransportConfig>) -> Result<quinn::ServerConfig> {
    let crypto = tls::server_crypto(tls::ServerTls {
        cert_pem: &s.cert_pem,
        key_pem: &s.key_pem,
        h3: s.h3_cert_pem.as_deref().zip(s.h3_key_pem.as_deref()),
        alpn: &s.alpn,
        client_ca_pem: s.client_ca_pem.as_deref(),
        require_client_cert: s.require_client_cert.unwrap_or(true),
    })?;
    let mut sc = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    sc.transport_config(transport);
    Ok(sc)
}

#[napi]
impl NativeEndpoint {
    /// Serves new handshakes with this certificate and key (PEM): the one for clients offering
    /// ALPN `h3` when `h3`, else the main one. Errors on a client-only endpoint or a bad
    /// certificate (the old one stays).
    #[napi]
    pub fn set_server_certificate(&self, cert_pem: String, key_pem: String, h3: bool) -> Result<()> {
        let mut opts = lock(&self.server).clone().ok_or_else(|| Error::new(Status::InvalidArg, "not a server endpoint"))?;
        if h3 {
            (opts.h3_cert_pem, opts.h3_key_pem) = (Some(cert_pem), Some(key_pem));
        } else {
            (opts.cert_pem, opts.key_pem) = (cert_pem, key_pem);
        }
        let sc = config(&opts, self.transport.clone())?;
        let ep = lock(&self.shared.endpoint).clone().ok_or_else(|| Error::new(Status::GenericFailure, "endpoint is closed"))?;
        ep.set_server_config(Some(sc));
        *lock(&self.server) = Some(opts);
        Ok(())
    }
}
