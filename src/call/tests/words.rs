//! What the page says: every server error code in words, the phase names tests rely on.

use super::*;
use duet_protocol::signaling::ErrorCode;

/// Every code the server sends (duet-protocol's validation codes and the server's own) has
/// words of its own, never the catch-all that only repeats the code.
#[test]
fn every_server_error_code_is_explained() {
    let catch_all = Problem::from_server_error(ErrorCode::Unknown, false).to_string();
    for &code in ErrorCode::ALL {
        for join_refused in [true, false] {
            let text = Problem::from_server_error(code, join_refused).to_string();
            assert_ne!(text, catch_all, "{code}: only the catch-all");
            let lower = text.to_lowercase();
            assert!(
                lower.contains("join") || lower.contains("room names use"),
                "{code}: says what to do? {text:?}"
            );
        }
    }
    assert_eq!(
        Problem::from_server_error("a_new_code".into(), false),
        Problem::MessageDropped("for a reason this page does not know".to_owned())
    );
}

#[test]
fn the_limits_in_the_words_are_the_protocols() {
    use duet_protocol::signaling::{MAX_EMAIL_CHARS, MAX_ROOM_CHARS};
    assert!(
        Problem::BadRoom
            .to_string()
            .contains(&format!("1 to {MAX_ROOM_CHARS} "))
    );
    assert!(
        Problem::BadName
            .to_string()
            .contains(&format!("at most {MAX_EMAIL_CHARS} "))
    );
}

#[test]
fn phase_names_are_stable() {
    let names: Vec<&str> = [
        Phase::Idle,
        Phase::Media,
        Phase::Joining,
        Phase::Waiting,
        Phase::Connecting,
        Phase::Connected,
        Phase::Reconnecting,
        Phase::PeerLeft,
        Phase::RoomFull,
        Phase::Error,
    ]
    .map(Phase::as_str)
    .to_vec();
    assert_eq!(
        names,
        [
            "idle",
            "media",
            "joining",
            "waiting",
            "connecting",
            "connected",
            "reconnecting",
            "peer-left",
            "room-full",
            "error"
        ]
    );
}

#[test]
fn a_nameless_peer_is_the_other_person() {
    let mut p = Page::waiting();
    p.server(user_joined(""));
    p.server(ServerMessage::Offer(offer("B")));
    assert_eq!(p.text(), "Connecting to the other person…");
    p.state(LinkState::Connected);
    p.feed(Input::SignalingDown(p.signaling, Duration::from_secs(1)));
    assert_eq!(
        p.text(),
        "Reconnecting to the call server… Your call with the other person continues."
    );
}

#[test]
fn insecure_context_says_how() {
    let p = Problem::InsecureContext(Some("https://example.org/?room=a".into()));
    assert!(p.to_string().contains("https://example.org/?room=a"));
    assert!(
        Problem::InsecureContext(None)
            .to_string()
            .contains("localhost")
    );
}

#[test]
fn a_page_that_could_not_start_shows_why() {
    let c = Call::failed(Problem::BadRoom);
    assert_eq!(c.phase(), Phase::Error);
    assert_eq!(c.problem(), Some(&Problem::BadRoom));
    assert_eq!(c.status_text(), "The call could not continue.");
}
