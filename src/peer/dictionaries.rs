//! duet-protocol's descriptions, candidates and ICE servers as the browser's WebRTC
//! dictionaries, and back.

use duet_protocol::signaling::{IceCandidate, SdpType, SessionDescription};
use wasm_bindgen::prelude::*;
use web_sys::{RtcIceCandidateInit, RtcSdpType, RtcSessionDescriptionInit};

use super::PeerError;
use crate::config::{IceServer, Urls};
use crate::js::{js_object, js_string};

/// A JS description (RTCSessionDescription or the init dictionary createOffer resolves to) as
/// duet-protocol's type.
pub(super) fn description_from_js(desc: &JsValue) -> Result<SessionDescription, PeerError> {
    // Reflect.get reads RTCSessionDescription's prototype getters and plain init objects alike.
    let kind = match js_string(desc, "type").as_deref() {
        Some("offer") => SdpType::Offer,
        Some("answer") => SdpType::Answer,
        Some("pranswer") => SdpType::Pranswer,
        Some("rollback") => SdpType::Rollback,
        _ => return Err(PeerError::Malformed("session description")),
    };
    Ok(SessionDescription {
        kind,
        sdp: js_string(desc, "sdp").unwrap_or_default(),
    })
}

pub(super) fn description_to_js(desc: &SessionDescription) -> RtcSessionDescriptionInit {
    let kind = match desc.kind {
        SdpType::Offer => RtcSdpType::Offer,
        SdpType::Answer => RtcSdpType::Answer,
        SdpType::Pranswer => RtcSdpType::Pranswer,
        SdpType::Rollback => RtcSdpType::Rollback,
    };
    let init = RtcSessionDescriptionInit::new(kind);
    init.set_sdp(&desc.sdp);
    init
}

pub(super) fn candidate_to_js(c: &IceCandidate) -> RtcIceCandidateInit {
    let init = RtcIceCandidateInit::new(&c.candidate);
    init.set_sdp_mid(c.sdp_mid.as_deref());
    init.set_sdp_m_line_index(c.sdp_m_line_index);
    if let Some(u) = &c.username_fragment {
        let _ = js_sys::Reflect::set(&init, &"usernameFragment".into(), &u.into());
    }
    init
}

/// RTCConfiguration.iceServers: `[{urls, username?, credential?}]`.
pub(super) fn ice_servers_to_js(ice: &[IceServer]) -> js_sys::Array {
    ice.iter()
        .map(|s| {
            let urls: JsValue = match &s.urls {
                Urls::One(u) => u.into(),
                Urls::Many(list) => list
                    .iter()
                    .map(JsValue::from)
                    .collect::<js_sys::Array>()
                    .into(),
            };
            let mut props = vec![("urls", urls)];
            if let Some(u) = &s.username {
                props.push(("username", u.into()));
            }
            if let Some(c) = &s.credential {
                props.push(("credential", c.into()));
            }
            JsValue::from(js_object(&props))
        })
        .collect()
}
