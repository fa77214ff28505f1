//! The small HTTP endpoints beside Socket.IO and the site: `/healthz`, `/metrics`,
//! `/config.json`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

use crate::AppState;
use crate::metrics::{Gauges, NodeGauges};

/// `ok`, or 503 when this node's Redis is configured and unreachable (a load balancer should
/// then send new calls elsewhere).
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    match &state.cluster {
        None => "ok\n".into_response(),
        Some(cluster) => match cluster.ping().await {
            Ok(()) => "ok\nredis: ok\n".into_response(),
            Err(e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("unavailable\nredis: {e}\n"),
            )
                .into_response(),
        },
    }
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.metrics.render(Gauges {
        connections: state.gate.live(),
        rooms: state.rooms.room_count(),
        members: state.rooms.member_count(),
        node: state.cluster.as_ref().map(|c| NodeGauges {
            id: c.node_id(),
            redis_up: c.redis_up(),
        }),
    });
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// A fresh client config per request (with `--turn-secret`, a fresh TURN pair). Never stored by
/// the browser or a proxy: it may carry credentials, and a minted pair must not outlive its
/// request in a shared cache (with no credentials it is tiny, so `no-store` costs nothing).
pub(crate) async fn config_json(State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(state.ice.client_config(std::time::SystemTime::now())),
    )
        .into_response()
}
