//! rustls configuration from PEM text: server (optionally verifying client certificates against
//! a CA, i.e. mutual TLS) and client (custom CA or the system roots, optional client cert).
//! TLS 1.3 only (QUIC requires it), ring crypto provider.

use std::sync::Arc;

use napi::{Error, Result, Status};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;

fn err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(Status::InvalidArg, format!("{what}: {e}"))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub fn certs_from_pem(pem: &str, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<std::result::Result<Vec<_>, _>>().map_err(|e| err(what, e))?;
    if certs.is_empty() {
        return Err(err(what, "no CERTIFICATE block in PEM"));
    }
    Ok(certs)
}

pub fn key_from_pem(pem: &str) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| err("keyPem", e))
}

fn roots_from_pem(pem: &str, what: &str) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for c in certs_from_pem(pem, what)? {
        roots.add(c).map_err(|e| err(what, e))?;
    }
    Ok(roots)
}

fn alpn_bytes(alpn: &[String]) -> Vec<Vec<u8>> {
    alpn.iter().map(|a| a.as_bytes().to_vec()).collect()
}

pub struct ServerTls<'a> {
    pub cert_pem: &'a str,
    pub key_pem: &'a str,
    /// Served instead to clients that offer ALPN `h3` (WebTransport with a short-lived
    /// certificate browsers pin by hash), when given.
    pub h3: Option<(&'a str, &'a str)>,
    pub alpn: &'a [String],
    pub client_ca_pem: Option<&'a str>,
    pub require_client_cert: bool,
}

pub fn server_crypto(o: ServerTls<'_>) -> Result<quinn::crypto::rustls::QuicServerConfig> {
    let p = provider();
    let builder = rustls::ServerConfig::builder_with_provider(p.clone()).with_protocol_versions(&[&rustls::version::TLS13]).map_err(|e| err("tls", e))?;
    let builder = match o.client_ca_pem {
        Some(ca) => {
            let roots = Arc::new(roots_from_pem(ca, "clientCaPem")?);
            let mut vb = WebPkiClientVerifier::builder_with_provider(roots, p.clone());
            if !o.require_client_cert {
                vb = vb.allow_unauthenticated();
            }
            builder.with_client_cert_verifier(vb.build().map_err(|e| err("clientCaPem", e))?)
        }
        None => builder.with_no_client_auth(),
    };
    let main = certified(o.cert_pem, o.key_pem, "certPem/keyPem")?;
    let h3 = o.h3.map(|(c, k)| certified(c, k, "webTransportCert")).transpose()?;
    let mut cfg = builder.with_cert_resolver(Arc::new(AlpnResolver { main, h3 }));
    cfg.alpn_protocols = alpn_bytes(o.alpn);
    cfg.max_early_data_size = 0;
    quinn::crypto::rustls::QuicServerConfig::try_from(cfg).map_err(|e| err("tls", e))
}

fn certified(cert_pem: &str, key_pem: &str, what: &str) -> Result<Arc<CertifiedKey>> {
    let key = rustls::crypto::ring::sign::any_supported_type(&key_from_pem(key_pem)?).map_err(|e| err(what, e))?;
    let ck = CertifiedKey::new(certs_from_pem(cert_pem, what)?, key);
    ck.keys_match().map_err(|e| err(what, e))?;
    Ok(Arc::new(ck))
}

/// Picks the server certificate by the client's ALPN offer: `h3` gets the WebTransport one.
#[derive(Debug)]
struct AlpnResolver {
    main: Arc<CertifiedKey>,
    h3: Option<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for AlpnResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let offers_h3 = hello.alpn().is_some_and(|mut a| a.any(|p| p == b"h3"));
        Some(match (&self.h3, offers_h3) {
            (Some(h3), true) => h3.clone(),
            _ => self.main.clone(),
        })
    }
}

pub struct ClientTls<'a> {
    pub ca_pem: Option<&'a str>,
    pub cert_pem: Option<&'a str>,
    pub key_pem: Option<&'a str>,
    pub alpn: &'a [String],
}

pub fn client_crypto(o: ClientTls<'_>) -> Result<quinn::crypto::rustls::QuicClientConfig> {
    let roots = match o.ca_pem {
        Some(ca) => roots_from_pem(ca, "caPem")?,
        None => {
            let mut roots = RootCertStore::empty();
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
            roots
        }
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| err("tls", e))?
        .with_root_certificates(roots);
    let mut cfg = match (o.cert_pem, o.key_pem) {
        (Some(c), Some(k)) => builder.with_client_auth_cert(certs_from_pem(c, "certPem")?, key_from_pem(k)?).map_err(|e| err("certPem/keyPem", e))?,
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(err("tls", "certPem and keyPem must be given together")),
    };
    cfg.alpn_protocols = alpn_bytes(o.alpn);
    quinn::crypto::rustls::QuicClientConfig::try_from(cfg).map_err(|e| err("tls", e))
}
