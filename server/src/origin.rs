//! Which web pages may open the signaling socket. Browsers send `Origin` on WebSocket and
//! cross-origin XHR requests; checking it stops another site from using a visitor's browser to
//! join or probe rooms. Clients that send no `Origin` (native apps, node) cannot be told apart
//! by it and are allowed.

/// The allow-list: same origin and localhost always, plus the configured origins.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    allowed: Vec<String>,
}

impl OriginPolicy {
    /// A policy allowing these extra origins (`scheme://host[:port]`, compared case-insensitively,
    /// a trailing `/` ignored).
    pub fn new(allowed: &[String]) -> Self {
        Self {
            allowed: allowed.iter().map(|o| normalize(o)).collect(),
        }
    }

    /// Whether a request with this `Origin` and `Host` header may connect.
    pub fn allows(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let origin = normalize(origin);
        let Some((_, authority)) = origin.split_once("://") else {
            return false; // "null" (file://, sandboxed frames) and garbage.
        };
        if host.is_some_and(|h| h.eq_ignore_ascii_case(authority)) {
            return true;
        }
        if is_localhost(authority) {
            return true;
        }
        self.allowed.contains(&origin)
    }
}

fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn is_localhost(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_localhost_and_listed_only() {
        let p = OriginPolicy::new(&["https://Duet.example/".to_owned()]);
        assert!(p.allows(None, Some("a:1")));
        assert!(p.allows(Some("http://10.0.0.5:8080"), Some("10.0.0.5:8080")));
        assert!(p.allows(Some("http://localhost:3000"), Some("10.0.0.5:8080")));
        assert!(p.allows(Some("http://127.0.0.1:1"), None));
        assert!(p.allows(Some("http://[::1]:9"), None));
        assert!(p.allows(Some("https://duet.example"), Some("api.duet.example")));
        assert!(!p.allows(Some("https://evil.example"), Some("10.0.0.5:8080")));
        assert!(!p.allows(Some("http://localhost.evil.example"), Some("x")));
        assert!(!p.allows(Some("null"), Some("x")));
    }
}
