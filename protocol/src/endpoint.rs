//! Where the client's WebSocket goes: a page or server URL mapped to the Engine.IO v3 endpoint.

/// Why a signaling URL was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Only http, https, ws and wss URLs can reach a Socket.IO server.
    #[error("signaling URL must start with http://, https://, ws:// or wss://: {0:?}")]
    Scheme(String),
    /// No host after the scheme.
    #[error("signaling URL has no host: {0:?}")]
    NoHost(String),
}

/// Maps `http(s)://HOST[:PORT][/...]` (or `ws(s)://`) to
/// `ws(s)://HOST[:PORT]/socket.io/?EIO=3&transport=websocket`, the URL socket.io-client 2.x opens
/// for its WebSocket transport. Any path or query on the input is ignored: the server lives at
/// the origin.
pub fn websocket_url(server: &str) -> Result<String, EndpointError> {
    let trimmed = server.trim();
    // The scheme ends at the first ':' (a scheme holds none), then "//". Split on the char,
    // not on "://": a substring search is a kilobyte of the browser's bundle.
    let (scheme, rest) = trimmed
        .split_once(':')
        .and_then(|(scheme, rest)| Some((scheme, rest.strip_prefix("//")?)))
        .ok_or_else(|| EndpointError::Scheme(server.to_owned()))?;
    let ws_scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        _ => return Err(EndpointError::Scheme(server.to_owned())),
    };
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| EndpointError::NoHost(server.to_owned()))?;
    Ok(format!(
        "{ws_scheme}://{host}/socket.io/?EIO=3&transport=websocket"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_http_to_ws() {
        assert_eq!(
            websocket_url("http://localhost:8080").unwrap(),
            "ws://localhost:8080/socket.io/?EIO=3&transport=websocket"
        );
        assert_eq!(
            websocket_url("https://duet.example/room?x=1").unwrap(),
            "wss://duet.example/socket.io/?EIO=3&transport=websocket"
        );
        assert_eq!(
            websocket_url("WSS://[::1]:9000").unwrap(),
            "wss://[::1]:9000/socket.io/?EIO=3&transport=websocket"
        );
    }

    #[test]
    fn rejects_other_urls() {
        assert!(matches!(
            websocket_url("ftp://x"),
            Err(EndpointError::Scheme(_))
        ));
        assert!(matches!(
            websocket_url("localhost:8080"),
            Err(EndpointError::Scheme(_))
        ));
        assert!(matches!(
            websocket_url("http:x://host"),
            Err(EndpointError::Scheme(_))
        ));
        assert!(matches!(
            websocket_url("http:///x"),
            Err(EndpointError::NoHost(_))
        ));
    }
}
