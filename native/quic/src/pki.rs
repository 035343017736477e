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
