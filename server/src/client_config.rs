//! `GET /config.json`: the browser's runtime configuration, so a deployment can change its
//! STUN/TURN servers without rebuilding the wasm.

use serde::Serialize;

use crate::config::Config;

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

impl ClientConfig {
    /// Builds the client config from the flags: TURN credentials go to turn:/turns: URLs only
    /// (STUN needs none, and browsers reject credentials on entries that do not use them).
    pub fn from_config(config: &Config) -> Self {
        let ice_servers = config
            .ice_servers
            .iter()
            .filter(|u| !u.trim().is_empty())
            .map(|url| {
                let url = url.trim().to_owned();
                let is_turn = url.starts_with("turn:") || url.starts_with("turns:");
                IceServer {
                    username: is_turn.then(|| config.turn_username.clone()).flatten(),
                    credential: is_turn.then(|| config.turn_credential.clone()).flatten(),
                    urls: url,
                }
            })
            .collect();
        Self { ice_servers }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_the_seed_stun_and_credentials_only_on_turn() {
        let c = Config::from_args(["duet-server"]).unwrap();
        let json = serde_json::to_value(ClientConfig::from_config(&c)).unwrap();
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
        let json = serde_json::to_value(ClientConfig::from_config(&c)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"iceServers": [
                {"urls": "stun:s:3478"},
                {"urls": "turns:t:5349", "username": "u", "credential": "p"}
            ]})
        );
    }
}
