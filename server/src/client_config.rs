//! `GET /config.json`: the browser's runtime configuration, so a deployment can change its
//! STUN/TURN servers without rebuilding the wasm, and so each visitor can get short-lived TURN
//! credentials.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::config::Config;
use crate::turn::{TurnSecret, TurnSecretError};

/// One entry of RTCConfiguration.iceServers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IceServer {
    /// A stun:, turn: or turns: URL.
    pub urls: String,
    /// TURN username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// The JSON served at `/config.json`, shaped like RTCConfiguration so the client can pass its
/// `iceServers` straight through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfig {
    /// STUN and TURN servers.
    pub ice_servers: Vec<IceServer>,
}

/// How the browser authenticates to the turn:/turns: servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnAuth {
    /// No credentials (STUN only, or a TURN server that needs none).
    None,
    /// `--turn-username`/`--turn-credential`: the same pair for every visitor, forever.
    Static {
        /// TURN username.
        username: String,
        /// TURN credential.
        credential: String,
    },
    /// `--turn-secret`: a fresh pair per request, valid for `ttl` (see [`crate::turn`]).
    Shared {
        /// The secret shared with the TURN server.
        secret: TurnSecret,
        /// How long each minted pair stays valid.
        ttl: Duration,
    },
}

/// What the flags say about ICE servers, from which each `/config.json` is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceSettings {
    urls: Vec<String>,
    turn: TurnAuth,
}

impl IceSettings {
    /// Reads the ICE flags (and `--turn-secret-file`). A static TURN pair logs a warning: every
    /// visitor can read it from `/config.json` and use the relay for anything, until it is
    /// changed on the TURN server.
    pub fn from_config(config: &Config) -> Result<Self, TurnSecretError> {
        let urls: Vec<String> = config
            .ice_servers
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
        let turn = if let Some(secret) = &config.turn_secret {
            TurnAuth::Shared {
                secret: TurnSecret::new(secret)?,
                ttl: config.turn_ttl,
            }
        } else if let Some(path) = &config.turn_secret_file {
            TurnAuth::Shared {
                secret: TurnSecret::from_file(path)?,
                ttl: config.turn_ttl,
            }
        } else if config.turn_username.is_some() || config.turn_credential.is_some() {
            tracing::warn!(
                "--turn-username/--turn-credential: every visitor gets this fixed TURN pair from \
                 /config.json and can use the relay with it for anything; prefer --turn-secret \
                 (short-lived credentials, coturn's use-auth-secret)"
            );
            TurnAuth::Static {
                username: config.turn_username.clone().unwrap_or_default(),
                credential: config.turn_credential.clone().unwrap_or_default(),
            }
        } else {
            TurnAuth::None
        };
        Ok(Self { urls, turn })
    }

    /// Whether `/config.json` carries TURN credentials (it must then never be cached).
    pub fn carries_credentials(&self) -> bool {
        self.turn != TurnAuth::None && self.urls.iter().any(|u| is_turn(u))
    }

    /// The client config for a request at `now`: credentials go to turn:/turns: URLs only (STUN
    /// needs none, and browsers reject credentials on entries that do not use them). With a
    /// shared secret every request gets its own pair, one for all TURN URLs.
    pub fn client_config(&self, now: SystemTime) -> ClientConfig {
        let pair = match &self.turn {
            TurnAuth::None => None,
            TurnAuth::Static {
                username,
                credential,
            } => Some((username.clone(), credential.clone())),
            TurnAuth::Shared { secret, ttl } => {
                let minted = secret.mint(now, *ttl);
                Some((minted.username, minted.credential))
            }
        };
        let ice_servers = self
            .urls
            .iter()
            .map(|url| {
                let pair = pair.as_ref().filter(|_| is_turn(url));
                IceServer {
                    urls: url.clone(),
                    username: pair.map(|p| p.0.clone()).filter(|u| !u.is_empty()),
                    credential: pair.map(|p| p.1.clone()).filter(|c| !c.is_empty()),
                }
            })
            .collect();
        ClientConfig { ice_servers }
    }
}

fn is_turn(url: &str) -> bool {
    url.starts_with("turn:") || url.starts_with("turns:")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(c: &Config) -> IceSettings {
        IceSettings::from_config(c).unwrap()
    }

    #[test]
    fn defaults_to_the_seed_stun_and_credentials_only_on_turn() {
        let c = Config::from_args(["duet-server"]).unwrap();
        let json = serde_json::to_value(settings(&c).client_config(SystemTime::now())).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"iceServers": [{"urls": crate::config::DEFAULT_ICE_SERVER}]})
        );
        let c = Config::from_args([
            "duet-server",
            "--ice-server",
            "stun:s:3478",
            "--ice-server",
            "turns:t:5349",
            "--turn-username",
            "u",
            "--turn-credential",
            "p",
        ])
        .unwrap();
        let json = serde_json::to_value(settings(&c).client_config(SystemTime::now())).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"iceServers": [
                {"urls": "stun:s:3478"},
                {"urls": "turns:t:5349", "username": "u", "credential": "p"}
            ]})
        );
    }

    #[test]
    fn a_shared_secret_mints_a_fresh_pair_per_request_and_never_sends_the_secret() {
        let c = Config::from_args([
            "duet-server",
            "--ice-server",
            "stun:s:3478",
            "--ice-server",
            "turn:t:3478",
            "--turn-secret",
            "s3cret",
            "--turn-ttl",
            "10m",
        ])
        .unwrap();
        let ice = settings(&c);
        assert!(ice.carries_credentials());
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let a = ice.client_config(now);
        let b = ice.client_config(now);
        assert_eq!(a.ice_servers[0].username, None);
        let turn = &a.ice_servers[1];
        let username = turn.username.as_deref().unwrap();
        assert!(username.starts_with("1700000600:"), "{username}");
        assert_eq!(
            turn.credential.as_deref(),
            Some(
                TurnSecret::new("s3cret")
                    .unwrap()
                    .credential(username)
                    .as_str()
            )
        );
        assert_ne!(a, b, "each request gets its own username");
        assert!(!serde_json::to_string(&a).unwrap().contains("s3cret"));

        let plain = settings(&Config::from_args(["duet-server"]).unwrap());
        assert!(!plain.carries_credentials());
    }

    #[test]
    fn the_secret_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("turn-secret");
        std::fs::write(&path, "s3cret\n").unwrap();
        let path = path.to_str().unwrap();
        let args = [
            "duet-server",
            "--ice-server",
            "turn:t",
            "--turn-secret-file",
            path,
        ];
        let ice = settings(&Config::from_args(args).unwrap());
        let pair = &ice.client_config(SystemTime::now()).ice_servers[0];
        assert_eq!(
            pair.credential.as_deref(),
            Some(
                TurnSecret::new("s3cret")
                    .unwrap()
                    .credential(pair.username.as_deref().unwrap())
                    .as_str()
            )
        );
        let missing = [
            "duet-server",
            "--turn-secret-file",
            "/nonexistent/turn-secret",
        ];
        assert!(IceSettings::from_config(&Config::from_args(missing).unwrap()).is_err());
    }
}
