//! Command-line flags and `DUET_*` environment variables: everything an operator can change
//! without rebuilding.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// The original design's public STUN server: the ICE default when no --ice-server is given.
pub const DEFAULT_ICE_SERVER: &str = "stun:stun.l.google.com:19302";

/// duet-server: Duet's signaling server (Socket.IO 2.x, compatible with socket.io-client 2.3.0)
/// that also serves the built web app, its runtime config and health/metrics endpoints.
///
/// Every flag can also be set by the environment variable shown with it.
#[derive(Debug, Clone, Parser)]
#[command(name = "duet-server", version)]
pub struct Config {
    /// Address to listen on. 127.0.0.1 keeps the server on this machine; 0.0.0.0 (or ::)
    /// exposes it to the LAN, which phones need (with --self-signed or --tls-cert for the camera).
    #[arg(long, env = "DUET_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// TCP port to listen on (0 picks a free one). Also read from PORT, which hosting platforms set.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,

    /// Directory of the built frontend (Trunk's output), served at `/` with an SPA fallback.
    #[arg(long, env = "DUET_STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,

    /// Most people in one room. Duet is a 1:1 call, as the original design.
    #[arg(long, env = "DUET_ROOM_CAPACITY", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub room_capacity: u32,

    /// Most simultaneous Socket.IO connections; further handshakes get 503.
    #[arg(long, env = "DUET_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Relayed events (offer/answer/candidate/join/leave) each connection may send per second,
    /// on average. Bursts up to --relay-burst are allowed (ICE gathering emits many candidates).
    #[arg(long, env = "DUET_RELAY_RATE", default_value_t = 20.0, value_parser = positive_rate)]
    pub relay_rate: f64,

    /// Largest burst of relayed events one connection may send at once.
    #[arg(long, env = "DUET_RELAY_BURST", default_value_t = 100)]
    pub relay_burst: u32,

    /// Largest Engine.IO payload in bytes: one polling POST body or one WebSocket message. The
    /// biggest legitimate message is a 64 KiB SDP; 1 MB leaves room for polling batches.
    #[arg(long, env = "DUET_MAX_PAYLOAD", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1024..))]
    pub max_payload: u64,

    /// Longest a polling POST may take to deliver its body, in milliseconds: a client that
    /// announces a body and trickles it (or never sends it) is cut with 408 after this, instead
    /// of holding a connection and a buffer open. 1 MB takes well under a second on any link a
    /// call could use.
    #[arg(long, env = "DUET_BODY_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..))]
    pub body_timeout_ms: u64,

    /// Engine.IO heartbeat interval in milliseconds (socket.io 2.3.0 uses 25000).
    #[arg(long, env = "DUET_PING_INTERVAL_MS", default_value_t = 25_000,
          value_parser = clap::value_parser!(u64).range(100..))]
    pub ping_interval_ms: u64,

    /// Engine.IO heartbeat timeout in milliseconds (socket.io 2.3.0 uses 5000). A polling client
    /// whose page closed holds its seat until interval + timeout have passed.
    #[arg(long, env = "DUET_PING_TIMEOUT_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(100..))]
    pub ping_timeout_ms: u64,

    /// ICE server URL for the browser (stun:, turn: or turns:). Repeat for several. Default:
    /// the original design's public STUN server.
    #[arg(
        long = "ice-server",
        env = "DUET_ICE_SERVERS",
        value_delimiter = ',',
        default_value = DEFAULT_ICE_SERVER
    )]
    pub ice_servers: Vec<String>,

    /// Username for the turn:/turns: ICE servers.
    #[arg(long, env = "DUET_TURN_USERNAME")]
    pub turn_username: Option<String>,

    /// Credential for the turn:/turns: ICE servers. A fixed pair is handed to every visitor in
    /// `/config.json`, so anyone can use the relay with it: prefer --turn-secret.
    #[arg(long, env = "DUET_TURN_CREDENTIAL", hide_env_values = true)]
    pub turn_credential: Option<String>,

    /// Secret shared with the TURN server (coturn's `use-auth-secret` + `static-auth-secret`):
    /// each `/config.json` then carries a fresh username `<expiry>:<tag>` and its HMAC-SHA1
    /// credential, valid for --turn-ttl; the secret itself never leaves the server.
    /// --turn-secret-file keeps it out of `ps`.
    #[arg(
        long,
        env = "DUET_TURN_SECRET",
        hide_env_values = true,
        conflicts_with_all = ["turn_secret_file", "turn_username", "turn_credential"]
    )]
    pub turn_secret: Option<String>,

    /// File holding the TURN shared secret (one line), instead of --turn-secret.
    #[arg(
        long,
        env = "DUET_TURN_SECRET_FILE",
        conflicts_with_all = ["turn_username", "turn_credential"]
    )]
    pub turn_secret_file: Option<PathBuf>,

    /// How long a minted TURN credential stays valid: seconds, or with a unit (`90m`, `1h`,
    /// `1d`). A call keeps its relay past expiry; only new allocations are refused.
    #[arg(long, env = "DUET_TURN_TTL", default_value = "1h", value_parser = crate::turn::parse_ttl)]
    pub turn_ttl: Duration,

    /// PEM certificate chain for HTTPS (with --tls-key).
    #[arg(
        long,
        env = "DUET_TLS_CERT",
        requires = "tls_key",
        conflicts_with = "self_signed"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for HTTPS (with --tls-cert).
    #[arg(long, env = "DUET_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve HTTPS with a certificate made at start for localhost and this machine's addresses.
    /// Browsers only allow the camera in a secure context; this lets a phone on the LAN join
    /// (after accepting the warning). Not for production.
    #[arg(long, env = "DUET_SELF_SIGNED")]
    pub self_signed: bool,

    /// Origin allowed to open the signaling socket, e.g. `https://duet.example`. Repeatable.
    /// Same-origin and localhost pages are always allowed; requests without an Origin header
    /// (non-browser clients) too.
    #[arg(
        long = "allowed-origin",
        env = "DUET_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Redis shared by several duet-server nodes, e.g. `redis://10.0.0.5:6379/0`. Rooms, their
    /// capacity and relays then span every node using the same Redis; without it this process
    /// is alone and keeps rooms in memory. Needs Redis 6 or later (RESP3), standalone.
    #[arg(long, env = "DUET_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// This node's id among the nodes sharing --redis-url (default: random at start).
    #[arg(long, env = "DUET_NODE_ID", requires = "redis_url")]
    pub node_id: Option<String>,

    /// Node lease in milliseconds: a node that has not refreshed its lease for this long is
    /// taken for dead, its members are removed and their peers told `user_exit`. The lease is
    /// refreshed every fifth of it; a dead node's members go within about 1.2 leases.
    #[arg(long, env = "DUET_NODE_LEASE_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(200..))]
    pub node_lease_ms: u64,
}

/// A rate in events per second: a finite number above zero.
fn positive_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "{s:?} is not a positive number of events per second"
        )),
    }
}

impl Config {
    /// The heartbeat interval as a duration.
    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }

    /// The heartbeat timeout as a duration.
    pub fn ping_timeout(&self) -> Duration {
        Duration::from_millis(self.ping_timeout_ms)
    }

    /// Whether the server speaks HTTPS.
    pub fn tls_enabled(&self) -> bool {
        self.self_signed || self.tls_cert.is_some()
    }

    /// Parses these arguments (the first is the program name). `DUET_*` and `PORT` from the
    /// environment still apply to flags not given, as for the binary.
    pub fn from_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_parse_from(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Config::command().debug_assert();
    }

    #[test]
    fn repeatable_flags_collect() {
        let c = Config::from_args([
            "duet-server",
            "--ice-server",
            "stun:a:3478",
            "--ice-server",
            "turn:b:3478",
            "--allowed-origin",
            "https://x.example",
        ])
        .unwrap();
        assert_eq!(c.ice_servers, vec!["stun:a:3478", "turn:b:3478"]);
        assert_eq!(c.allowed_origins, vec!["https://x.example"]);
    }

    #[test]
    fn nonsense_limits_are_refused() {
        for bad in [
            ["--ping-interval-ms", "0"],
            ["--ping-timeout-ms", "5"],
            ["--max-payload", "10"],
            ["--relay-rate", "0"],
            ["--relay-rate", "NaN"],
            ["--room-capacity", "0"],
        ] {
            let args = ["duet-server", bad[0], bad[1]];
            assert!(Config::from_args(args).is_err(), "{bad:?} accepted");
        }
        assert!(Config::from_args(["duet-server", "--relay-rate", "0.5"]).is_ok());
    }

    #[test]
    fn turn_secret_excludes_the_static_pair() {
        let c = Config::from_args(["duet-server", "--turn-secret", "s"]).unwrap();
        assert_eq!(c.turn_ttl, Duration::from_secs(3600));
        let c = Config::from_args(["duet-server", "--turn-secret-file", "f", "--turn-ttl", "5m"])
            .unwrap();
        assert_eq!(c.turn_ttl, Duration::from_secs(300));
        for bad in [
            &["--turn-secret", "s", "--turn-username", "u"][..],
            &["--turn-secret", "s", "--turn-secret-file", "f"],
            &["--turn-secret-file", "f", "--turn-credential", "c"],
            &["--turn-secret", "s", "--turn-ttl", "0"],
        ] {
            let args = std::iter::once("duet-server").chain(bad.iter().copied());
            assert!(Config::from_args(args).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn tls_flags_need_each_other() {
        assert!(Config::from_args(["duet-server", "--tls-cert", "c.pem"]).is_err());
        assert!(Config::from_args(["duet-server", "--tls-cert", "c", "--tls-key", "k"]).is_ok());
    }
}
