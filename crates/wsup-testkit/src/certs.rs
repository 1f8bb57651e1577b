//! TLS certificates for tests, made fresh by each run: a CA and a leaf it
//! signs, naming `localhost` and `127.0.0.1`. A client trusts the CA; the
//! server presents the leaf (webpki refuses a self-signed CA certificate
//! presented as the server's own).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// A CA and a server certificate it signed, all in PEM.
#[derive(Debug, Clone)]
pub struct TestCerts {
    /// The CA's certificate (PEM): what clients trust.
    pub ca_pem: String,
    /// The CA's certificate (DER), for a root store.
    pub ca_der: Vec<u8>,
    /// The server's certificate (PEM), signed by the CA, for `localhost`
    /// and `127.0.0.1`.
    pub cert_pem: String,
    /// The server's private key (PKCS#8 PEM).
    pub key_pem: String,
}

impl TestCerts {
    /// Makes a new CA and server certificate (ECDSA P-256).
    pub fn generate() -> Self {
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "wsup test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key"))
            .expect("CA certificate");
        let key = KeyPair::generate().expect("server key");
        let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("server params");
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = leaf.signed_by(&key, &ca).expect("server certificate");
        TestCerts {
            ca_pem: ca.as_ref().pem(),
            ca_der: ca.as_ref().der().to_vec(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A rustls client config (ring provider) that trusts the CA alone and
    /// offers ALPN `http/1.1`.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from(self.ca_der.clone()))
            .expect("CA in the root store");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// A PEM file in the temporary directory, for a program or function that
/// reads its certificates from files; removed on drop.
#[derive(Debug)]
pub struct PemFile(PathBuf);

impl PemFile {
    /// Writes `contents` to a file named after `name`, this process and a
    /// count, so that tests running side by side never share one.
    pub fn new(name: &str, contents: &str) -> Self {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("wsup-{}-{n}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("write temp file");
        PemFile(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Its path, as a command-line argument.
    pub fn arg(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
}

impl Drop for PemFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
