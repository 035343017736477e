//! Test helper: a throw-away PKI (CA + server cert + client cert) generated with rcgen, so the
//! conformance tests need neither openssl nor files on disk. Not for production certificates.

use napi::{Error, Result, Status};
use napi_derive::napi;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};

#[napi(object)]
pub struct TestPki {
    pub ca_cert_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

fn e(x: rcgen::Error) -> Error {
    Error::new(Status::GenericFailure, format!("rcgen: {x}"))
}

/// CA "FastPubSub Test CA"; server cert for `server_names` (DNS names or IP literals);
/// client cert with CN and DNS SAN `client_name`. ECDSA P-256.
#[napi]
pub fn generate_test_pki(server_names: Vec<String>, client_name: String) -> Result<TestPki> {
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "FastPubSub Test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate().map_err(e)?;
    let ca_cert = ca.self_signed(&ca_key).map_err(e)?;

    let mut sp = CertificateParams::new(server_names.clone()).map_err(e)?;
    sp.distinguished_name.push(DnType::CommonName, server_names.first().cloned().unwrap_or_default());
    sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let sk = KeyPair::generate().map_err(e)?;
    let sc = sp.signed_by(&sk, &ca_cert, &ca_key).map_err(e)?;

    let mut cp = CertificateParams::new(vec![client_name.clone()]).map_err(e)?;
    cp.distinguished_name.push(DnType::CommonName, client_name);
    cp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let ck = KeyPair::generate().map_err(e)?;
    let cc = cp.signed_by(&ck, &ca_cert, &ca_key).map_err(e)?;

    Ok(TestPki {
        ca_cert_pem: ca_cert.pem(),
        server_cert_pem: sc.pem(),
        server_key_pem: sk.serialize_pem(),
        client_cert_pem: cc.pem(),
        client_key_pem: ck.serialize_pem(),
    })
}

#[napi(object)]
pub struct WebTransportCert {
    pub cert_pem: String,
    pub key_pem: String,
    /// Validity window, Unix seconds.
    pub not_before: f64,
    pub not_after: f64,
}

/// A self-signed ECDSA P-256 certificate for `names`, valid from `not_before` (Unix seconds) for
/// `valid_secs` (at most 14 days): what browsers accept through `serverCertificateHashes`.
#[napi]
pub fn generate_webtransport_cert(names: Vec<String>, not_before: f64, valid_secs: u32) -> Result<WebTransportCert> {
    const MAX_VALID_SECS: u32 = 14 * 24 * 3600;
    if valid_secs == 0 || valid_secs > MAX_VALID_SECS || !not_before.is_finite() {
        return Err(Error::new(Status::InvalidArg, format!("validity must be in (0, {MAX_VALID_SECS}] seconds: {valid_secs}")));
    }
    let start = time::OffsetDateTime::from_unix_timestamp(not_before as i64).map_err(|x| Error::new(Status::InvalidArg, format!("notBefore: {x}")))?;
    let mut p = CertificateParams::new(names.clone()).map_err(e)?;
    p.distinguished_name.push(DnType::CommonName, names.first().cloned().unwrap_or_default());
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.not_before = start;
    p.not_after = start + time::Duration::seconds(i64::from(valid_secs));
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(e)?;
    let (from, until) = (p.not_before.unix_timestamp() as f64, p.not_after.unix_timestamp() as f64);
    let cert = p.self_signed(&key).map_err(e)?;
    Ok(WebTransportCert { cert_pem: cert.pem(), key_pem: key.serialize_pem(), not_before: from, not_after: until })
}
