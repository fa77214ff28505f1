//! Polling POST bodies, bounded in size and in time before engineioxide sees them.
//!
//! engineioxide reads a polling POST as a stream and only counts bytes as they arrive, so a
//! request announcing `Content-Length: 200000000` and sending nothing held its connection open
//! with no end, and a body trickled a byte at a time held it as long as the client liked. This
//! layer answers 413 at once when the announced length is over `--max-payload`, reads the body
//! with that limit (for chunked bodies, which announce nothing), and answers 408 when it has not
//! fully arrived within `--body-timeout-ms`. engineioxide then gets the whole body in memory,
//! which it would have held anyway: every packet of a POST is decoded before the reply.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::metrics::Metrics;

/// The bounds of one polling POST.
#[derive(Debug, Clone)]
pub struct BodyPolicy {
    /// Largest body in bytes (`--max-payload`).
    pub max_bytes: u64,
    /// Longest the whole body may take to arrive (`--body-timeout-ms`).
    pub timeout: Duration,
    /// Where refusals are counted (`duet_rejections_total{reason="body_too_large"|"body_timeout"}`).
    pub metrics: Arc<Metrics>,
}

/// Middleware for the Socket.IO path (`prefix`): bounds POST bodies, passes everything else.
pub async fn bound_polling_body(
    State((policy, prefix)): State<(BodyPolicy, &'static str)>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::POST || !req.uri().path().starts_with(prefix) {
        return next.run(req).await;
    }
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|n| n > policy.max_bytes) {
        return too_large(&policy, announced);
    }
    let (parts, body) = req.into_parts();
    let limit = usize::try_from(policy.max_bytes).unwrap_or(usize::MAX);
    let read = tokio::time::timeout(policy.timeout, Limited::new(body, limit).collect()).await;
    match read {
        Ok(Ok(collected)) => {
            let body = Body::from(collected.to_bytes());
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => too_large(&policy, None),
        Ok(Err(e)) => {
            tracing::debug!("polling POST body failed: {e}");
            (StatusCode::BAD_REQUEST, "bad request body\n").into_response()
        }
        Err(_) => {
            policy.metrics.rejection("body_timeout");
            tracing::warn!(timeout = ?policy.timeout, "polling POST body too slow, cut");
            closing(StatusCode::REQUEST_TIMEOUT, "request body too slow\n")
        }
    }
}

fn too_large(policy: &BodyPolicy, announced: Option<u64>) -> Response {
    policy.metrics.rejection("body_too_large");
    tracing::warn!(
        ?announced,
        max = policy.max_bytes,
        "polling POST body over the payload limit"
    );
    closing(StatusCode::PAYLOAD_TOO_LARGE, "payload too large\n")
}

/// A refusal that also ends the connection: the rest of the body is not worth reading.
fn closing(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CONNECTION, "close")], text).into_response()
}
