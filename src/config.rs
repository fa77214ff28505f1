//! The URL contract and the ICE configuration.
//!
//! `?room=` joins that room at once, `?name=` is the display name (sent as the seed's `email`),
//! `?server=` overrides the signaling origin, `?ice=none` disables ICE servers, `?ice=relay` allows
//! only TURN relay candidates (config.json must name a TURN server); otherwise the ICE
//! servers come from `config.json` beside index.html, and without it the seed's STUN server.
//! Parsing is plain Rust (tested natively); only [`load_ice_servers`] touches the browser.

use duet_protocol::endpoint::websocket_url;
use duet_protocol::json::Json;
use duet_protocol::signaling::validate_room_with;

use crate::js::PageJson;

/// The seed's STUN server, used when no config.json is served.
pub const SEED_STUN: &str = "stun:stun.l.google.com:19302";

/// Why the page's URL or config could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `?server=` is not an http(s)/ws(s) URL.
    #[error("bad server URL: {0}")]
    Server(String),
    /// config.json is not the expected JSON.
    #[error("bad config.json: {0}")]
    ConfigJson(String),
}

/// Where ICE servers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IceSource {
    /// config.json beside index.html, falling back to [`SEED_STUN`].
    ConfigJson,
    /// `?ice=none`: host candidates only (tests, LANs).
    None,
    /// `?ice=relay`: config.json's servers, and only TURN relay candidates
    /// (iceTransportPolicy "relay"): the call goes through the relay or not at all.
    Relay,
}

impl IceSource {
    /// Whether the peer connection may use relay candidates only.
    pub fn relay_only(self) -> bool {
        self == Self::Relay
    }
}

/// Everything the page's URL says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The room to join at once (valid names only).
    pub room: Option<String>,
    /// The user's display name.
    pub name: String,
    /// The signaling server's origin (http(s)://host[:port]).
    pub server: String,
    /// The WebSocket URL derived from `server`.
    pub signaling_url: String,
    /// Where ICE servers come from.
    pub ice: IceSource,
    /// The URL's room was present but invalid.
    pub bad_room: bool,
}

impl Settings {
    /// Reads the URL's query (with or without the leading `?`), with `origin` (the page's own,
    /// e.g. `http://localhost:8080`) as the default signaling server.
    pub fn from_query(query: &str, origin: &str) -> Result<Self, ConfigError> {
        let pairs = parse_query(query);
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let raw_room = get("room");
        let room = raw_room
            .clone()
            .filter(|r| validate_room_with(r, crate::room_name::allowed()).is_ok());
        let server = get("server").unwrap_or_else(|| origin.to_owned());
        let signaling_url =
            websocket_url(&server).map_err(|e| ConfigError::Server(e.to_string()))?;
        let ice = match get("ice").as_deref() {
            Some("none") => IceSource::None,
            Some("relay") => IceSource::Relay,
            _ => IceSource::ConfigJson,
        };
        // Not cut here: the join checks it against duet-protocol's one rule and says so.
        let name = get("name").unwrap_or_default();
        Ok(Self {
            bad_room: raw_room.is_some() && room.is_none(),
            room,
            name,
            server,
            signaling_url,
            ice,
        })
    }
}

/// One entry of `iceServers`, as RTCIceServer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServer {
    /// One URL or several.
    pub urls: Urls,
    /// TURN user name.
    pub username: Option<String>,
    /// TURN credential.
    pub credential: Option<String>,
}

/// RTCIceServer.urls is a string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Urls {
    /// A single URL.
    One(String),
    /// Several URLs.
    Many(Vec<String>),
}

/// The seed's ICE configuration.
pub fn seed_ice_servers() -> Vec<IceServer> {
    vec![IceServer {
        urls: Urls::One(SEED_STUN.to_owned()),
        username: None,
        credential: None,
    }]
}

/// Parses config.json (`{"iceServers": [...]}`; a missing list means none).
///
/// Read by hand through the protocol's [`Json`] (the browser's `JSON` in the page) rather than
/// with derived `Deserialize` impls: no JSON library in the wasm bundle for a file of a few lines.
pub fn parse_config_json(text: &str) -> Result<Vec<IceServer>, ConfigError> {
    let bad = |what: &str| ConfigError::ConfigJson(what.to_owned());
    let root = PageJson::parse(text).map_err(|e| bad(&e))?;
    if !root.is_object() {
        return Err(bad("not an object"));
    }
    let Some(list) = root.field("iceServers") else {
        return Ok(Vec::new());
    };
    let list = list
        .items()
        .ok_or_else(|| bad("iceServers is not a list"))?;
    list.iter()
        .map(|entry| {
            let string = |key: &str| -> Result<Option<String>, ConfigError> {
                match entry.field(key) {
                    None => Ok(None),
                    Some(v) if v.is_null() => Ok(None),
                    Some(v) => v
                        .as_string()
                        .map(Some)
                        .ok_or_else(|| bad(&format!("{key} is not a string"))),
                }
            };
            let urls = entry.field("urls");
            let urls = match (
                urls.as_ref().and_then(Json::as_string),
                urls.as_ref().and_then(Json::items),
            ) {
                (Some(u), _) => Urls::One(u),
                (None, Some(list)) => Urls::Many(
                    list.iter()
                        .map(Json::as_string)
                        .collect::<Option<_>>()
                        .ok_or_else(|| bad("urls holds a non-string"))?,
                ),
                _ => return Err(bad("an ICE server needs urls")),
            };
            Ok(IceServer {
                urls,
                username: string("username")?,
                credential: string("credential")?,
            })
        })
        .collect()
}

/// Splits a query string into decoded pairs (application/x-www-form-urlencoded).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Decodes a query component; one whose escapes are not UTF-8 (`%E9`, Latin-1) is kept as
/// written, so the page's checks name what the URL says.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// Appends the query component `s`, percent-encoded, to `out` (by hand, not with `format!`:
/// the page's bundle).
fn push_encoded(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
}

/// Rewrites `query` with `room` and `name` set (other parameters such as `server` and `ice` kept),
/// for the join form and the copy-link button (which passes `name: None` to drop the name).
pub fn query_with(query: &str, room: &str, name: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = parse_query(query)
        .into_iter()
        .filter(|(k, _)| k != "room" && k != "name")
        .collect();
    pairs.insert(0, ("room".to_owned(), room.to_owned()));
    if let Some(n) = name.filter(|n| !n.is_empty()) {
        pairs.insert(1, ("name".to_owned(), n.to_owned()));
    }
    let mut query = String::new();
    for (k, v) in &pairs {
        query.push(if query.is_empty() { '?' } else { '&' });
        push_encoded(&mut query, k);
        query.push('=');
        push_encoded(&mut query, v);
    }
    query
}

/// Fetches the ICE servers the settings ask for: none, config.json, or the seed's STUN server when
/// config.json is absent or unreadable (a static host without one still works).
pub async fn load_ice_servers(ice: IceSource) -> Vec<IceServer> {
    match ice {
        IceSource::None => Vec::new(),
        IceSource::ConfigJson | IceSource::Relay => match fetch_text("config.json").await {
            Some(text) => parse_config_json(&text).unwrap_or_else(|e| {
                web_sys::console::warn_1(&format!("{e}; using the default STUN server").into());
                seed_ice_servers()
            }),
            None => seed_ice_servers(),
        },
    }
}

/// How long config.json may take, body included: a config server that hangs must not hold the
/// call in `joining`.
const CONFIG_DEADLINE_MS: u32 = 5_000;

/// The text at `url`, or `None` (absent, unreadable, or not there within the deadline: the
/// browser aborts the request then, `AbortSignal.timeout`).
async fn fetch_text(url: &str) -> Option<String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window()?;
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(
        CONFIG_DEADLINE_MS,
    )));
    let timed_out = |e: wasm_bindgen::JsValue| {
        if e.dyn_ref::<web_sys::DomException>()
            .is_some_and(|e| e.name() == "TimeoutError")
        {
            web_sys::console::warn_1(
                &"config.json timed out; using the default STUN server".into(),
            );
        }
    };
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(timed_out)
        .ok()?;
    let response: web_sys::Response = response.dyn_into().ok()?;
    if !response.ok() {
        return None;
    }
    let text = JsFuture::from(response.text().ok()?)
        .await
        .map_err(timed_out)
        .ok()?;
    text.as_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_url_contract() {
        let s = Settings::from_query(
            "?room=abc&name=Ann%20Lee&server=http://127.0.0.1:9000&ice=none",
            "http://localhost:8080",
        )
        .unwrap();
        assert_eq!(s.room.as_deref(), Some("abc"));
        assert_eq!(s.name, "Ann Lee");
        // UTF-8 escapes decode; others are kept as written.
        let pairs = parse_query("?name=Z%C3%A9lie+M&room=caf%E9");
        assert_eq!(pairs[0], ("name".into(), "Zélie M".into()));
        assert_eq!(pairs[1], ("room".into(), "caf%E9".into()));
        assert_eq!(
            s.signaling_url,
            "ws://127.0.0.1:9000/socket.io/?EIO=3&transport=websocket"
        );
        assert_eq!(s.ice, IceSource::None);

        let s = Settings::from_query("", "https://duet.example").unwrap();
        assert_eq!(s.room, None);
        assert_eq!(
            s.signaling_url,
            "wss://duet.example/socket.io/?EIO=3&transport=websocket"
        );
        assert_eq!(s.ice, IceSource::ConfigJson);
        assert!(!s.bad_room);
        assert!(!s.ice.relay_only());

        let s = Settings::from_query("?room=r&ice=relay", "http://x").unwrap();
        assert_eq!(s.ice, IceSource::Relay);
        assert!(s.ice.relay_only());
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let s = Settings::from_query("?room=a%2Fb", "http://x").unwrap();
        assert_eq!(s.room, None);
        assert!(s.bad_room);
        assert!(Settings::from_query("?server=ftp://x", "http://x").is_err());
        assert_eq!(
            parse_query("a=%&b=%zz&c=%4"),
            vec![
                ("a".into(), "%".into()),
                ("b".into(), "%zz".into()),
                ("c".into(), "%4".into())
            ]
        );
        assert_eq!(
            parse_query("x=%E2%82%AC+1"),
            vec![("x".into(), "€ 1".into())]
        );
    }

    #[test]
    fn config_json_shapes() {
        let servers = parse_config_json(
            r#"{"iceServers":[{"urls":["turn:t.example:3478"],"username":"u","credential":"c"},{"urls":"stun:s.example"}]}"#,
        )
        .unwrap();
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[1].urls, Urls::One("stun:s.example".into()));
        assert_eq!(
            servers[0],
            IceServer {
                urls: Urls::Many(vec!["turn:t.example:3478".into()]),
                username: Some("u".into()),
                credential: Some("c".into()),
            }
        );
        assert_eq!(parse_config_json("{}").unwrap(), vec![]);
        assert!(parse_config_json("nope").is_err());
        assert!(parse_config_json(r#"{"iceServers":{}}"#).is_err());
        assert!(parse_config_json(r#"{"iceServers":[{"username":"u"}]}"#).is_err());
        assert!(parse_config_json(r#"{"iceServers":[{"urls":[1]}]}"#).is_err());
        assert_eq!(
            seed_ice_servers(),
            vec![IceServer {
                urls: Urls::One(SEED_STUN.into()),
                username: None,
                credential: None,
            }]
        );
    }

    #[test]
    fn builds_share_links() {
        assert_eq!(
            query_with("?server=http://h:1&name=x&room=old", "new", Some("Bo B")),
            "?room=new&name=Bo%20B&server=http%3A%2F%2Fh%3A1"
        );
        assert_eq!(query_with("?name=x", "r", None), "?room=r");
        let back = Settings::from_query(&query_with("", "r", Some("Bo B")), "http://x").unwrap();
        assert_eq!(back.name, "Bo B");
    }

    /// One rule for rooms and names, duet-protocol's: the URL takes the rooms the protocol takes
    /// (letters of any script) and passes names on whole, so the join refuses an over-long one
    /// in the server's words instead of cutting it to another limit.
    #[test]
    fn the_url_follows_the_protocols_rules() {
        let s = Settings::from_query("?room=caf%C3%A9-%E6%9D%B1%E4%BA%AC", "http://x").unwrap();
        assert_eq!(s.room.as_deref(), Some("café-東京"));
        let long = "n".repeat(300);
        let s = Settings::from_query(&format!("?room=r&name={long}"), "http://x").unwrap();
        assert_eq!(s.name, long);
        let s = Settings::from_query("?room=a%20b", "http://x").unwrap();
        assert!(s.bad_room && s.room.is_none());
    }

    /// index.html starts the camera and the socket early only for rooms the app accepts: its
    /// regex is duet-protocol's [`ROOM_PATTERN`] (the browser tests prove that JavaScript reads
    /// that pattern as [`validate_room`](duet_protocol::signaling::validate_room) does).
    #[test]
    fn index_html_checks_rooms_with_the_protocols_pattern() {
        use duet_protocol::signaling::ROOM_PATTERN;
        let html = include_str!("../index.html");
        let regex = format!("/^{ROOM_PATTERN}$/u.test(room.trim())");
        assert!(
            html.contains(&regex),
            "index.html should test rooms with {regex}"
        );
    }
}
