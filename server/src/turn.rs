//! Short-lived TURN credentials: the shared-secret scheme coturn calls `use-auth-secret` /
//! `static-auth-secret` (the "TURN REST API" draft, also used by AppRTC, Jitsi and Matrix).
//!
//! duet-server and the TURN server share a secret. For each `/config.json` request the server
//! mints a username `<expiry-unix-time>:<tag>` and the credential
//! `base64(HMAC-SHA1(secret, username))`; the TURN server recomputes the HMAC and refuses the
//! username once its expiry has passed. A visitor who scrapes `/config.json` gets a credential
//! that dies after `--turn-ttl`, never the secret.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Why the TURN secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TurnSecretError {
    /// `--turn-secret-file` could not be read.
    #[error("cannot read the TURN secret from {path}: {source}")]
    File {
        /// The file named by the flag.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The secret (after trimming a trailing newline) is empty.
    #[error("the TURN secret is empty")]
    Empty,
}

/// The secret shared with the TURN server. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TurnSecret(Vec<u8>);

impl std::fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TurnSecret(<redacted>)")
    }
}

impl TurnSecret {
    /// A secret given on the command line or in the environment.
    pub fn new(secret: &str) -> Result<Self, TurnSecretError> {
        if secret.is_empty() {
            return Err(TurnSecretError::Empty);
        }
        Ok(Self(secret.as_bytes().to_vec()))
    }

    /// Reads the secret from a file (one line; a trailing newline, as `echo` writes, is not
    /// part of it), so it stays out of `ps` and the environment.
    pub fn from_file(path: &Path) -> Result<Self, TurnSecretError> {
        let text = std::fs::read_to_string(path).map_err(|source| TurnSecretError::File {
            path: path.display().to_string(),
            source,
        })?;
        Self::new(text.trim_end_matches(['\r', '\n']))
    }

    /// The credential coturn expects for `username`: base64(HMAC-SHA1(secret, username)).
    pub fn credential(&self, username: &str) -> String {
        // HMAC takes keys of any length; new_from_slice cannot fail for it.
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(&self.0).expect("HMAC accepts any key");
        mac.update(username.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    /// Mints a username valid until `now + ttl` and its credential.
    pub fn mint(&self, now: SystemTime, ttl: Duration) -> TurnCredential {
        let expiry = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_add(ttl)
            .as_secs();
        let username = format!("{expiry}:{}", visitor_tag());
        TurnCredential {
            credential: self.credential(&username),
            username,
        }
    }
}

/// A username and credential pair handed to one visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnCredential {
    /// `<expiry-unix-time>:<tag>`.
    pub username: String,
    /// base64(HMAC-SHA1(secret, username)).
    pub credential: String,
}

/// A short tag that tells visitors apart in the TURN server's logs and per-user quotas: 8 hex
/// digits, different on each call (a counter mixed with the process's random hasher keys).
fn visitor_tag() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static KEYS: std::sync::OnceLock<RandomState> = std::sync::OnceLock::new();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let hash = KEYS.get_or_init(RandomState::new).hash_one(n);
    format!("duet-{:08x}", hash as u32)
}

/// Parses a lifetime: seconds (`3600`), or a number with `s`, `m`, `h` or `d` (`90m`, `1h`).
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a lifetime such as 3600, 90m or 1h"))?;
    let seconds = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(|| format!("{s:?} is not a lifetime such as 3600, 90m or 1h"))?;
    if seconds == 0 {
        return Err("a TURN credential lifetime must be at least one second".to_owned());
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_matches_coturns_hmac() {
        // RFC 2202 test case 2 (HMAC-SHA1, key "Jefe") as base64: the same bytes coturn computes
        // for a username "what do ya want for nothing?" with static-auth-secret=Jefe.
        let secret = TurnSecret::new("Jefe").unwrap();
        assert_eq!(
            secret.credential("what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
        // A TURN REST username, computed independently with
        // `printf %s 1700003600:duet | openssl dgst -sha1 -hmac s3cret -binary | base64`.
        let secret = TurnSecret::new("s3cret").unwrap();
        assert_eq!(
            secret.credential("1700003600:duet"),
            "wi55TW3EGUrR0UY+LmcPJ7o9XYk="
        );
    }

    #[test]
    fn usernames_carry_their_expiry_and_differ_per_call() {
        let secret = TurnSecret::new("s3cret").unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let a = secret.mint(now, Duration::from_secs(3600));
        let b = secret.mint(now, Duration::from_secs(3600));
        let (expiry, tag) = a.username.split_once(':').unwrap();
        assert_eq!(expiry, "1700003600");
        assert!(tag.starts_with("duet-"), "{tag}");
        assert_eq!(a.credential, secret.credential(&a.username));
        assert_ne!(a.username, b.username);
        let other = TurnSecret::new("other").unwrap();
        assert_ne!(other.credential(&a.username), a.credential);
    }

    #[test]
    fn secret_files_and_lifetimes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cret\n").unwrap();
        assert_eq!(
            TurnSecret::from_file(&path).unwrap(),
            TurnSecret::new("s3cret").unwrap()
        );
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(
            TurnSecret::from_file(&path),
            Err(TurnSecretError::Empty)
        ));
        assert!(TurnSecret::from_file(&dir.path().join("missing")).is_err());
        assert!(!format!("{:?}", TurnSecret::new("s3cret").unwrap()).contains("s3cret"));

        assert_eq!(parse_ttl("3600"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("2d"), Ok(Duration::from_secs(172_800)));
        for bad in ["", "0", "h", "1w", "-5", "99999999999999999999h"] {
            assert!(parse_ttl(bad).is_err(), "{bad:?} accepted");
        }
    }
}
