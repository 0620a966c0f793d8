//! TLS to PostgreSQL, chosen by the URL as libpq users expect: `sslmode` (`disable`,
//! `allow`, `prefer` (the default), `require`, `verify-ca`, `verify-full`) and
//! `sslrootcert` (a PEM file of the certificate authorities to trust, e.g. the RDS
//! bundle). Connections go through tokio-postgres with rustls (ring).
//!
//! As in libpq, `prefer` and `require` encrypt without checking who answers;
//! `verify-ca` checks the server's certificate chain; `verify-full` also checks that the
//! certificate names the host. The trusted authorities are those of `sslrootcert`, or
//! else the Mozilla roots (webpki-roots).

use std::sync::Arc;

use diesel::ConnectionResult;
use diesel_async::AsyncPgConnection;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::DbError;

/// What `sslmode` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS if the server insists (tokio-postgres tries TLS first, as for `prefer`).
    Allow,
    /// TLS when the server offers it, unchecked.
    Prefer,
    /// TLS or no connection, unchecked.
    Require,
    /// TLS, the certificate chain checked.
    VerifyCa,
    /// TLS, the chain and the host name checked.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, DbError> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(DbError::Other(format!(
                    "database.url: sslmode={other:?} is not one of disable, allow, prefer, \
                     require, verify-ca, verify-full"
                )));
            }
        })
    }

    /// The URL parameter tokio-postgres understands (certificates are checked through
    /// rustls, see [`client_config`]).
    fn for_tokio_postgres(self) -> &'static str {
        match self {
            SslMode::Disable => "sslmode=disable",
            SslMode::Allow | SslMode::Prefer => "sslmode=prefer",
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "sslmode=require",
        }
    }
}

/// A PostgreSQL URL ready to connect: the URL tokio-postgres reads and the TLS
/// connector its `sslmode` calls for.
#[derive(Clone)]
pub struct PgConnect {
    url: String,
    tls: MakeRustlsConnect,
    /// The mode asked for.
    pub mode: SslMode,
}

impl std::fmt::Debug for PgConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("PgConnect")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl PgConnect {
    /// Reads `sslmode` and `sslrootcert` from a `postgres://` URL.
    ///
    /// # Errors
    /// An unknown `sslmode`, an unreadable `sslrootcert` or one without certificates.
    pub fn new(url: &str) -> Result<PgConnect, DbError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut mode = SslMode::Prefer;
        let mut root_cert: Option<String> = None;
        let mut kept: Vec<&str> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => mode = SslMode::parse(&percent_decode(value))?,
                "sslrootcert" => root_cert = Some(percent_decode(value)),
                _ => kept.push(pair),
            }
        }
        kept.push(mode.for_tokio_postgres());
        let config = client_config(mode, root_cert.as_deref())?;
        Ok(PgConnect {
            url: format!("{base}?{}", kept.join("&")),
            tls: MakeRustlsConnect::new(config),
            mode,
        })
    }

    /// Opens one connection.
    pub async fn connect(&self) -> ConnectionResult<AsyncPgConnection> {
        let (client, connection) = tokio_postgres::connect(&self.url, self.tls.clone())
            .await
            .map_err(|e| {
                let detail = std::error::Error::source(&e)
                    .map(|s| format!("{e}: {s}"))
                    .unwrap_or_else(|| e.to_string());
                diesel::ConnectionError::BadConnection(detail)
            })?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await
    }
}

/// `%XX` escapes decoded (query values of a URL); anything malformed is kept as is.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls settings for a mode.
fn client_config(mode: SslMode, root_cert: Option<&str>) -> Result<rustls::ClientConfig, DbError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| DbError::Other(format!("TLS settings: {e}")))?;
    let chain = match mode {
        SslMode::VerifyCa | SslMode::VerifyFull => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots(root_cert)?), provider())
                .build()
                .map_err(|e| DbError::Other(format!("database.url: sslrootcert: {e}")))?,
        ),
        _ => None,
    };
    let verifier = Verifier {
        chain,
        names: mode == SslMode::VerifyFull,
        provider: provider(),
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(config)
}

/// The authorities of `sslrootcert`, or the Mozilla roots.
fn roots(root_cert: Option<&str>) -> Result<RootCertStore, DbError> {
    let mut store = RootCertStore::empty();
    let Some(path) = root_cert else {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok(store);
    };
    let pem = std::fs::read(path)
        .map_err(|e| DbError::Other(format!("database.url: sslrootcert {path}: {e}")))?;
    use rustls::pki_types::pem::PemObject as _;
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert =
            cert.map_err(|e| DbError::Other(format!("database.url: sslrootcert {path}: {e}")))?;
        store
            .add(cert)
            .map_err(|e| DbError::Other(format!("database.url: sslrootcert {path}: {e}")))?;
        added += 1;
    }
    if added == 0 {
        return Err(DbError::Other(format!(
            "database.url: sslrootcert {path} holds no PEM certificate"
        )));
    }
    Ok(store)
}

/// How much of the server's certificate a mode checks; the handshake's signatures are
/// always verified, so the session key is the server's.
#[derive(Debug)]
struct Verifier {
    /// `None`: nothing (`prefer`, `require`, as libpq); else the chain, and the host name
    /// when `names` is set (`verify-full`; `verify-ca` leaves it out).
    chain: Option<Arc<WebPkiServerVerifier>>,
    names: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) if !self.names => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_read_and_removed() {
        let c = PgConnect::new("postgres://u:p@h:5432/db?sslmode=verify-ca&application_name=x")
            .unwrap();
        assert_eq!(c.mode, SslMode::VerifyCa);
        assert_eq!(
            c.url,
            "postgres://u:p@h:5432/db?application_name=x&sslmode=require"
        );
        let c = PgConnect::new("postgres://h/db").unwrap();
        assert_eq!(c.mode, SslMode::Prefer);
        assert_eq!(c.url, "postgres://h/db?sslmode=prefer");
        assert!(!format!("{c:?}").contains("h/db"));
        let c = PgConnect::new("postgres://h/db?sslmode=disable").unwrap();
        assert_eq!(c.url, "postgres://h/db?sslmode=disable");
    }

    #[test]
    fn bad_values_are_named() {
        let e = PgConnect::new("postgres://h/db?sslmode=always").unwrap_err();
        assert!(e.to_string().contains(r#"sslmode="always""#), "{e}");
        let e = PgConnect::new("postgres://h/db?sslmode=verify-full&sslrootcert=/no/such.pem")
            .unwrap_err();
        assert!(e.to_string().contains("sslrootcert /no/such.pem"), "{e}");
        let dir = std::env::temp_dir().join(format!("ode-pgtls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let e = PgConnect::new(&format!(
            "postgres://h/db?sslmode=verify-ca&sslrootcert={}",
            empty.display()
        ))
        .unwrap_err();
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn percent_escapes_are_decoded() {
        assert_eq!(percent_decode("%2Fetc%2Fca.pem"), "/etc/ca.pem");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
