//! The built frontend: files from `--static-dir` with the right MIME types, precompressed or
//! compressed on the fly, cache headers that suit Trunk's hashed file names, an SPA fallback to
//! `index.html`, and the security headers every page gets.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use sha2::{Digest, Sha256};
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};

/// Hashed assets never change under their name: cache them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else (index.html above all) is revalidated, so a deploy shows at once.
const REVALIDATE: &str = "no-cache";

/// The static site.
#[derive(Debug, Clone)]
pub struct StaticSite {
    dir: PathBuf,
}

impl StaticSite {
    /// Serves `dir`. A missing `index.html` is only warned about: the signaling still works.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        if !dir.join("index.html").is_file() {
            tracing::warn!(
                dir = %dir.display(),
                "no index.html to serve: build the frontend (trunk build --release) or pass \
                 --static-dir; signaling works without it"
            );
        }
        Self { dir }
    }

    /// The directory served.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The Content-Security-Policy for a response served under `host`: same-origin everything, wasm
/// compilation allowed, camera/mic blobs allowed, the signaling WebSocket, and the inline scripts
/// of the HTML document being served (Trunk boots the wasm from an inline module script, which a
/// plain `script-src 'self'` would block). `script_hashes` are `'sha256-…'` sources.
pub fn content_security_policy(host: Option<&str>, script_hashes: &[String]) -> String {
    let mut scripts = String::from("'self' 'wasm-unsafe-eval'");
    for h in script_hashes {
        scripts.push(' ');
        scripts.push_str(h);
    }
    // 'self' covers ws/wss only in CSP3 browsers; name the socket explicitly for the rest.
    let socket = host
        .filter(|h| is_plain_host(h))
        .map(|h| format!(" ws://{h} wss://{h}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; media-src 'self' blob: mediastream:; \
         connect-src 'self'{socket}; font-src 'self' data:; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The inline-script hashes of the HTML document a response carries, computed when it is served
/// so a rebuilt `dist/` (new file hashes in the boot script) needs no restart.
#[derive(Debug, Clone, Default)]
struct DocumentScripts(Vec<String>);

/// A Host header safe to echo inside a CSP (no spaces, semicolons or quotes).
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// `'sha256-…'` for the body of every `<script>` without a `src` in `html`.
fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_and_more = &after[tag_end + 1..];
        let Some(close) = body_and_more.find("</script>") else {
            break;
        };
        let body = &body_and_more[..close];
        if !tag.contains("src=") && !body.trim().is_empty() {
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &body_and_more[close..];
    }
    hashes
}

/// Whether a file name carries a content hash, as Trunk writes them
/// (`duet-4f9a1c2b3d4e5f60_bg.wasm`, `style-0123456789abcdef.css`): a run of at least 8 hex
/// digits, with at least one letter and one digit, between separators.
pub fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split(['-', '_', '.']).any(|part| {
        part.len() >= 8
            && part.chars().all(|c| c.is_ascii_hexdigit())
            && part.chars().any(|c| c.is_ascii_digit())
            && part.chars().any(|c| c.is_ascii_alphabetic())
    })
}

/// Serves a file from the static directory, or `index.html` for page routes (paths whose last
/// segment has no extension), so client-side routes like `/room/abc` load the app.
pub async fn serve(State(site): State<StaticSite>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return status(StatusCode::METHOD_NOT_ALLOWED);
    }
    let (method, headers) = (req.method().clone(), req.headers().clone());
    let dir = ServeDir::new(&site.dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(true);
    let mut res = match dir.oneshot(req).await {
        Ok(res) => res.map(Body::new),
        Err(never) => match never {},
    };
    let last = path.rsplit('/').next().unwrap_or("");
    let fell_back = res.status() == StatusCode::NOT_FOUND && !last.contains('.');
    if fell_back {
        let mut index_req = Request::new(Body::empty());
        *index_req.method_mut() = method;
        *index_req.headers_mut() = headers;
        let index = ServeFile::new(site.dir.join("index.html"))
            .precompressed_br()
            .precompressed_gzip();
        res = match index.oneshot(index_req).await {
            Ok(res) => res.map(Body::new),
            Err(never) => match never {},
        };
    }
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if res.status().is_success()
        && is_html
        && let Some(file) = html_file(&site.dir, &path, fell_back)
    {
        let html = tokio::fs::read_to_string(&file).await.unwrap_or_default();
        res.extensions_mut()
            .insert(DocumentScripts(inline_script_hashes(&html)));
    }
    // A client route can look hashed (`/room/0123abcd89`); the index served for it must not be
    // cached as immutable.
    let cache = if res.status().is_success() && !fell_back && is_hashed_asset(&path) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// The file behind an HTML response for `path`: the fallback index, the file itself, or the
/// directory's index.html. None for anything that could step outside `dir`.
fn html_file(dir: &Path, path: &str, fell_back: bool) -> Option<PathBuf> {
    if fell_back {
        return Some(dir.join("index.html"));
    }
    let relative = path.trim_start_matches('/');
    if relative
        .split('/')
        .any(|seg| seg == ".." || seg.contains('\\'))
    {
        return None;
    }
    let candidate = dir.join(relative);
    if candidate.is_dir() {
        Some(candidate.join("index.html"))
    } else {
        Some(candidate)
    }
}

fn status(code: StatusCode) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = code;
    res
}

/// Which security headers depend on how the server runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeaderPolicy {
    /// Send Strict-Transport-Security: only with a real certificate (`--tls-cert`). A
    /// self-signed development certificate must not pin browsers to HTTPS for a LAN address.
    pub hsts: bool,
}

/// Adds the security headers to every response.
pub async fn security_headers(
    State(policy): State<HeaderPolicy>,
    req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let mut res = next.run(req).await;
    let scripts = res
        .extensions_mut()
        .remove::<DocumentScripts>()
        .unwrap_or_default();
    let h = res.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(host.as_deref(), &scripts.0)) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(self), microphone=(self), geolocation=(), payment=()",
        ),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    if policy.hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_trunk_hashes() {
        assert!(is_hashed_asset("/duet-4f9a1c2b3d4e5f60_bg.wasm"));
        assert!(is_hashed_asset("/style-0123456789abcdef.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/favicon.ico"));
        assert!(!is_hashed_asset("/deadbeefcafe.js")); // letters only: a word, not a hash
        assert!(!is_hashed_asset("/12345678.js")); // digits only: a date or a number
    }

    #[test]
    fn hashes_inline_scripts_only() {
        let html = r#"<script src="/a.js"></script><script type="module">boot()</script>"#;
        let h = inline_script_hashes(html);
        assert_eq!(h.len(), 1);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"boot()"));
        assert_eq!(h[0], format!("'sha256-{expected}'"));
    }

    #[test]
    fn csp_names_the_socket_but_not_a_hostile_host() {
        let csp = content_security_policy(Some("localhost:8080"), &[]);
        assert!(csp.contains("connect-src 'self' ws://localhost:8080 wss://localhost:8080;"));
        assert!(csp.contains("'wasm-unsafe-eval'"));
        let hostile = content_security_policy(Some("x; script-src *"), &[]);
        assert!(hostile.contains("connect-src 'self';"));
    }
}
