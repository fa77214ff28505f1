//! HTTPS: a certificate from files, or one made at start for development on a LAN.

use std::net::IpAddr;
use std::path::Path;

use axum_server::tls_rustls::RustlsConfig;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate or key files could not be read or parsed.
    #[error("cannot load TLS certificate {cert} / key {key}: {source}")]
    Load {
        /// Certificate path.
        cert: String,
        /// Key path.
        key: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// rcgen failed to make a certificate.
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the generated certificate.
    #[error("cannot use the generated certificate: {0}")]
    Use(std::io::Error),
}

/// Loads a PEM certificate chain and private key.
pub async fn from_files(cert: &Path, key: &Path) -> Result<RustlsConfig, TlsError> {
    install_crypto_provider();
    RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|source| TlsError::Load {
            cert: cert.display().to_string(),
            key: key.display().to_string(),
            source,
        })
}

/// Makes a self-signed certificate for `localhost` and the given addresses. Returns the config
/// and the certificate's PEM (for tests and for users who want to trust it explicitly).
pub async fn self_signed(addresses: &[IpAddr]) -> Result<(RustlsConfig, String), TlsError> {
    install_crypto_provider();
    let mut names = vec!["localhost".to_owned()];
    names.extend(addresses.iter().map(IpAddr::to_string));
    names.dedup();
    let certified = rcgen::generate_simple_self_signed(names)?;
    let cert_pem = certified.cert.pem();
    let key_pem = certified.signing_key.serialize_pem();
    let config = RustlsConfig::from_pem(cert_pem.clone().into_bytes(), key_pem.into_bytes())
        .await
        .map_err(TlsError::Use)?;
    Ok((config, cert_pem))
}

/// rustls needs one process-wide crypto provider when more than one could be compiled in.
fn install_crypto_provider() {
    // Already installed (by us or the embedding program) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
