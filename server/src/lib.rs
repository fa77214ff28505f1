//! # duet-server
//!
//! Duet's signaling server: the socket.io 2.3.0 protocol of the original design (Engine.IO v3,
//! Socket.IO protocol v4, websocket and polling) with room-scoped relays, plus the built web app,
//! its runtime config, `/healthz` and `/metrics`, on one port.
//!
//! [`serve`] runs it on a listener you bind, so tests use an ephemeral port in-process; the
//! `duet-server` binary adds flags, logging and signal handling around it.
//!
//! Modules: [`config`] (flags), [`addresses`] (where to reach it), [`rooms`] (membership, the only shared state), [`cluster`]
//! (several nodes over Redis), [`signaling`]
//! (event handlers), [`limits`] (rate and connection limits), [`origin`] (socket Origin policy),
//! [`static_files`] (the frontend and security headers), [`client_config`] (`/config.json`),
//! [`tls`] (HTTPS), [`turn`] (short-lived TURN credentials), [`metrics`] (Prometheus text).

pub mod addresses;
pub mod client_config;
pub mod cluster;
pub mod config;
mod endpoints;
pub mod limits;
pub mod metrics;
pub mod origin;
pub mod rooms;
pub mod signaling;
pub mod static_files;
pub mod tls;
pub mod turn;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state, map_request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{StatusCode, header};
use socketioxide::SocketIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_http::compression::CompressionLayer;

pub use addresses::{local_addresses, urls_to_open};
pub use config::Config;

use client_config::IceSettings;
use cluster::{Cluster, ClusterAdapter, ClusterConfig};
use limits::ConnectionGate;
use metrics::Metrics;
use origin::OriginPolicy;
use rooms::RoomRegistry;
use signaling::Signaling;
use static_files::{HeaderPolicy, StaticSite};

/// Socket.IO's path, as socket.io-client 2.3.0 expects it.
const SOCKET_PATH: &str = "/socket.io";
/// Initial WebSocket read buffer per socket (see `app`).
const WS_READ_BUFFER: usize = 1024;
/// How long shutdown waits for connections to finish before closing them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Socket-level failure (listener, accept loop).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// TLS setup failed.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The server task panicked or was cancelled.
    #[error("server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// `--redis-url` was given and Redis is unusable.
    #[error(transparent)]
    Cluster(#[from] cluster::ClusterError),
    /// `--turn-secret`/`--turn-secret-file` is unusable.
    #[error(transparent)]
    Turn(#[from] turn::TurnSecretError),
    /// The Redis adapter could not subscribe to its channels.
    #[error("redis adapter: {0}")]
    Adapter(String),
}

/// The Socket.IO handle: one process, or a node of a cluster with its lease task.
enum IoHandle {
    Local(SocketIo),
    Cluster(
        SocketIo<ClusterAdapter>,
        Arc<Signaling<Cluster>>,
        Box<cluster::LeaseTask<ClusterAdapter>>,
    ),
}

#[derive(Clone)]
struct AppState {
    /// Counters.
    metrics: Arc<Metrics>,
    /// Live connections and their limit.
    gate: ConnectionGate,
    /// This process's room members (a cluster node's own), for the gauges.
    rooms: Arc<RoomRegistry>,
    /// With `--redis-url`: the node, for /healthz and the node gauges.
    cluster: Option<Arc<Cluster>>,
    /// The ICE servers handed out by `/config.json` (TURN credentials minted per request).
    ice: Arc<IceSettings>,
    origins: OriginPolicy,
}

/// A running server. Dropping it leaves the server running; call [`shutdown`](Self::shutdown).
pub struct RunningServer {
    addr: SocketAddr,
    https: bool,
    io: IoHandle,
    handle: axum_server::Handle<SocketAddr>,
    task: JoinHandle<std::io::Result<()>>,
    rooms: Arc<RoomRegistry>,
    metrics: Arc<Metrics>,
    certificate_pem: Option<String>,
}

impl RunningServer {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` or `https://ADDR`.
    pub fn base_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The room registry (for tests and embedding programs).
    pub fn rooms(&self) -> &RoomRegistry {
        &self.rooms
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The PEM of the certificate made by `--self-signed`.
    pub fn self_signed_certificate(&self) -> Option<&str> {
        self.certificate_pem.as_deref()
    }

    /// Stops accepting, closes every socket's transport, lets in-flight requests finish for a
    /// few seconds, then returns. Transports are closed with an Engine.IO close rather than a
    /// Socket.IO disconnect: socket.io-client treats the latter as final, the former as a
    /// reason to reconnect, which is what a restart needs.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        // First refuse newcomers, so closed clients cannot reconnect to a server on its way out.
        self.handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        let close = match &self.io {
            IoHandle::Local(io) => tokio::time::timeout(SHUTDOWN_GRACE, io.close()).await,
            IoHandle::Cluster(io, ..) => tokio::time::timeout(SHUTDOWN_GRACE, io.close()).await,
        };
        if close.is_err() {
            tracing::warn!("sockets did not close in time");
        }
        if let IoHandle::Cluster(_, signaling, lease) = self.io {
            cluster::retire(&signaling, *lease, SHUTDOWN_GRACE).await;
        }
        self.task.await??;
        Ok(())
    }
}

/// Starts the server on `listener` with `config` (its host/port fields are ignored: the
/// listener is already bound). Returns once the server accepts connections.
pub async fn serve(config: Config, listener: TcpListener) -> Result<RunningServer, ServeError> {
    let addr = listener.local_addr()?;
    let (tls, certificate_pem) = if config.self_signed {
        let mut addresses = local_addresses(addr.ip());
        addresses.push(addr.ip());
        let (tls, pem) = tls::self_signed(&addresses).await?;
        (Some(tls), Some(pem))
    } else if let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) {
        (Some(tls::from_files(cert, key).await?), None)
    } else {
        (None, None)
    };

    let cluster = match &config.redis_url {
        Some(url) => Some(
            Cluster::connect(&ClusterConfig {
                url: url.clone(),
                node: config.node_id.clone(),
                capacity: config.room_capacity as usize,
                lease: Duration::from_millis(config.node_lease_ms),
            })
            .await?,
        ),
        None => None,
    };
    let metrics = Arc::new(Metrics::default());
    let gate = ConnectionGate::new(config.max_connections);
    let rooms = match &cluster {
        Some(c) => c.local().clone(),
        None => Arc::new(RoomRegistry::new(config.room_capacity as usize)),
    };
    let state = AppState {
        metrics: metrics.clone(),
        gate: gate.clone(),
        rooms: rooms.clone(),
        cluster: cluster.clone(),
        ice: Arc::new(IceSettings::from_config(&config)?),
        origins: OriginPolicy::new(&config.allowed_origins),
    };
    let (socket_layer, io) = socket_layer(&config, state.clone()).await?;
    let app = app(&config, state, socket_layer);

    let handle = axum_server::Handle::new();
    let std_listener = listener.into_std()?;
    let make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let task = match tls {
        Some(tls) => {
            // TCP_NODELAY: signaling messages are small and latency-bound; without it Nagle's
            // algorithm and delayed ACKs hold relays back by up to 40 ms.
            let server = axum_server::from_tcp(std_listener)?
                .acceptor(
                    axum_server::tls_rustls::RustlsAcceptor::new(tls)
                        .acceptor(axum_server::accept::NoDelayAcceptor::new()),
                )
                .handle(handle.clone());
            tokio::spawn(server.serve(make_service))
        }
        None => {
            let server = axum_server::from_tcp(std_listener)?
                .acceptor(axum_server::accept::NoDelayAcceptor::new())
                .handle(handle.clone());
            tokio::spawn(server.serve(make_service))
        }
    };
    // The listener was bound before we were called, so this resolves at once; it only confirms
    // the accept loop started (or reports that it died).
    if handle.listening().await.is_none() {
        return match task.await? {
            Ok(()) => Err(ServeError::Io(std::io::Error::other(
                "server stopped at start",
            ))),
            Err(e) => Err(e.into()),
        };
    }
    Ok(RunningServer {
        addr,
        https: config.tls_enabled(),
        io,
        handle,
        task,
        rooms,
        metrics,
        certificate_pem,
    })
}

/// The Socket.IO layer, either over one process's rooms or over the cluster's.
type SocketLayer = tower::util::Either<
    socketioxide::layer::SocketIoLayer,
    socketioxide::layer::SocketIoLayer<ClusterAdapter>,
>;

/// Builds Socket.IO with the signaling handlers over the right room store (and, with a
/// cluster, starts the node's lease task).
async fn socket_layer(
    config: &Config,
    state: AppState,
) -> Result<(SocketLayer, IoHandle), ServeError> {
    let builder = SocketIo::builder()
        .req_path(SOCKET_PATH)
        .ping_interval(config.ping_interval())
        .ping_timeout(config.ping_timeout())
        // One polling POST or one WebSocket message. socketioxide's 100 KB default makes a
        // polling client that batches a 64 KiB offer with candidates get 413 and drop.
        .max_payload(config.max_payload)
        .ws_max_message_size(config.max_payload as usize)
        .ws_max_frame_size(config.max_payload as usize)
        // Each socket's WebSocket read buffer starts at this size and grows to fit the
        // largest message it receives (and keeps that). 1 KiB holds every event but an SDP;
        // the 4 KiB default cost 3 KiB per idle connection for nothing (bench/RESULTS.md).
        .ws_read_buffer_size(WS_READ_BUFFER);
    fn signaling<R: rooms::Rooms>(
        rooms: Arc<R>,
        state: &AppState,
        config: &Config,
    ) -> Arc<Signaling<R>> {
        Arc::new(Signaling::new(
            rooms,
            state.metrics.clone(),
            state.gate.clone(),
            config.relay_rate,
            config.relay_burst,
        ))
    }
    Ok(match &state.cluster {
        None => {
            let (layer, io) = builder.build_layer();
            signaling(state.rooms.clone(), &state, config).register(&io);
            (tower::util::Either::Left(layer), IoHandle::Local(io))
        }
        Some(cluster) => {
            let (layer, io) = builder
                .with_adapter::<ClusterAdapter>(cluster.adapter())
                .build_layer();
            let signaling = signaling(cluster.clone(), &state, config);
            signaling
                .clone()
                .register(&io)
                .await
                .map_err(|e| ServeError::Adapter(e.to_string()))?;
            let lease = cluster::spawn_lease(signaling.clone(), &io);
            (
                tower::util::Either::Right(layer),
                IoHandle::Cluster(io, signaling, Box::new(lease)),
            )
        }
    })
}

/// Builds the whole HTTP application: Socket.IO, `/healthz`, `/metrics`, `/config.json`, the
/// static site, and the layers around them.
fn app(config: &Config, state: AppState, socket_layer: SocketLayer) -> Router {
    let site = StaticSite::new(&config.static_dir);
    let static_site = Router::new()
        .fallback(static_files::serve)
        .layer(CompressionLayer::new())
        .with_state(site);
    Router::new()
        .route("/healthz", get(endpoints::healthz))
        .route("/metrics", get(endpoints::metrics))
        .route("/config.json", get(endpoints::config_json))
        .fallback_service(static_site)
        .layer(socket_layer)
        .layer(map_request(detach_request_head))
        .layer(from_fn_with_state(state.clone(), socket_gate))
        .layer(from_fn_with_state(
            HeaderPolicy {
                hsts: config.tls_cert.is_some(),
            },
            static_files::security_headers,
        ))
        .with_state(state)
}

/// Copies a Socket.IO request's URI and header values out of hyper's connection read buffer.
///
/// hyper parses them as slices of that buffer (8–16 KB), and engineioxide keeps every
/// socket's request head for the life of the connection, so each idle WebSocket held its
/// whole handshake read buffer: 16 KB of the 38 KB a connection cost (heaptrack, see
/// bench/RESULTS.md). The copies are a few hundred bytes, made once per handshake.
async fn detach_request_head(mut req: Request) -> Request {
    if !req.uri().path().starts_with(SOCKET_PATH) {
        return req;
    }
    if let Ok(uri) = req.uri().to_string().parse() {
        *req.uri_mut() = uri;
    }
    let old = std::mem::take(req.headers_mut());
    let mut headers = http::HeaderMap::with_capacity(old.len());
    for (name, value) in &old {
        let mut copy = http::HeaderValue::from_bytes(value.as_bytes()).unwrap_or(value.clone());
        copy.set_sensitive(value.is_sensitive());
        headers.append(name.clone(), copy);
    }
    *req.headers_mut() = headers;
    req
}

/// Guards the Socket.IO endpoint: refuses foreign origins, and new sessions when the
/// connection limit is reached (existing sessions, which carry `sid=`, pass).
async fn socket_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with(SOCKET_PATH) {
        return next.run(req).await;
    }
    // Headers are read into owned values: a borrow of the request (its body is not Sync)
    // held across the await below would make this future !Send.
    let (origin, host) = {
        let headers = req.headers();
        let get = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        (get(header::ORIGIN), get(header::HOST))
    };
    if !state.origins.allows(origin.as_deref(), host.as_deref()) {
        tracing::warn!(origin, "signaling socket refused: origin not allowed");
        state.metrics.rejection("origin");
        return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
    }
    let new_session = !req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .any(|kv| kv.starts_with("sid="));
    if new_session && state.gate.is_full() {
        state
            .metrics
            .rejection(duet_protocol::signaling::ErrorCode::ServerFull.as_str());
        tracing::warn!("signaling socket refused: too many connections");
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections\n").into_response();
    }
    let mut res = next.run(req).await;
    // Polling from an allowed page on another origin is a credentialed cross-origin XHR (as
    // socket.io 2.x sends it): it needs the origin echoed back, like socket.io 2.3.0 does.
    if let Some(value) = origin.and_then(|o| http::HeaderValue::from_str(&o).ok()) {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            http::HeaderValue::from_static("true"),
        );
        h.append(header::VARY, http::HeaderValue::from_static("origin"));
    }
    res
}
