//! Setting a call up and ending it: joining, offer and answer, glare, the offer made or received
//! before the camera is ready, hang-up and rejoin, room_full, refused joins.

use super::*;

#[test]
fn joining_starts_the_camera_and_the_connection_together() {
    let mut p = Page::new();
    let a = p.join("r1", "ann");
    assert_eq!(
        a,
        [
            Action::AcquireMedia(p.media),
            Action::OpenSignaling(p.signaling)
        ]
    );
    assert_eq!(p.phase(), Phase::Media);
    // The connection first: join_room goes out at once, then the link opens.
    let a = p.signaling_up();
    assert!(sends_join(&a, "r1", "ann"));
    assert_eq!(a.last(), Some(&Action::OpenLink(p.link)));
    assert_eq!(p.phase(), Phase::Media);
    // Alone in the room before the camera is on: `waiting` only once it is.
    p.server(all_users(&[]));
    assert_eq!(p.phase(), Phase::Media);
    let a = p.media_ready();
    assert_eq!(a, [Action::Mark("duet:media-ready"), Action::AttachMedia]);
    assert_eq!(p.phase(), Phase::Waiting);
    assert!(p.m.polite());
    assert_eq!(
        p.text(),
        "Waiting for someone to join room r1. Share the link to invite them."
    );
}

#[test]
fn first_in_room_answers_and_learns_the_name() {
    let mut p = Page::waiting();
    p.server(user_joined("bo"));
    assert_eq!(p.m.view().peer_name(), Some("bo"));
    assert_eq!(p.text(), "Connecting to bo…");
    let a = p.server(ServerMessage::Offer(offer("B")));
    assert_eq!(a, [Action::AcceptOffer(offer("B"))]);
    // Candidates go to the link, which holds early ones itself.
    assert_eq!(
        p.server(ServerMessage::Candidate(candidate())),
        [Action::AddCandidate(candidate())]
    );
    let a = p.link(LinkInput::Described(answer("A")));
    assert_eq!(a[0], Action::Send(ClientMessage::Answer(answer("A"))));
    let a = p.link(LinkInput::Candidate(candidate()));
    assert_eq!(a, [Action::Send(ClientMessage::Candidate(candidate()))]);
    assert_eq!(p.phase(), Phase::Connecting);
    p.state(LinkState::Connected);
    assert_eq!(p.phase(), Phase::Connected);
    assert_eq!(p.text(), "In a call with bo.");
    assert_eq!(p.deadline(), None, "no deadline runs in a quiet call");
}

#[test]
fn second_in_room_offers_on_the_link_it_opened() {
    let mut p = Page::in_room("bob");
    let link = p.link;
    let a = p.server(all_users(&["ann"]));
    assert_eq!(offers(&a), [false]);
    assert!(!a.iter().any(|a| matches!(a, Action::OpenLink(_))), "{a:?}");
    assert_eq!(p.link, link);
    assert!(!p.m.polite());
    assert_eq!(p.text(), "Connecting to ann…");
    let a = p.link(LinkInput::Described(offer("B")));
    assert_eq!(a[0], Action::Send(ClientMessage::Offer(offer("B"))));
    // The answer is applied once; a duplicate (or one for a replaced link) is ignored.
    let a = p.server(ServerMessage::Answer(answer("A")));
    assert!(has(&a, &Action::AcceptAnswer(answer("A"))));
    let a = p.server(ServerMessage::Answer(answer("A")));
    assert!(!a.iter().any(|a| matches!(a, Action::AcceptAnswer(_))));
}

#[test]
fn glare_the_polite_side_yields_and_the_impolite_side_ignores() {
    // Bob joined second (impolite) and his offer is out when Ann's arrives: ignored.
    let mut bob = Page::in_room("bob");
    bob.server(all_users(&["ann"]));
    assert_eq!(accepts(&bob.server(ServerMessage::Offer(offer("A")))), 0);
    // Ann (polite) has an offer of her own out (an ICE restart) when Bob's arrives: she rolls
    // back (the link does it) and answers his.
    let mut ann = Page::waiting();
    ann.server(ServerMessage::Offer(offer("B")));
    ann.state(LinkState::Connected);
    ann.state(LinkState::Failed);
    assert_eq!(ann.m.phase(), Phase::Reconnecting);
    assert_eq!(accepts(&ann.server(ServerMessage::Offer(offer("B")))), 1);
    // Her own offer is no longer out: a late answer to it is ignored.
    let a = ann.server(ServerMessage::Answer(answer("B")));
    assert!(!a.iter().any(|a| matches!(a, Action::AcceptAnswer(_))));
}

#[test]
fn an_offer_before_the_camera_is_held_and_answered_with_media() {
    let mut p = Page::new();
    p.join("r1", "ann");
    p.signaling_up();
    p.server(all_users(&[]));
    let a = p.server(ServerMessage::Offer(offer("B1")));
    assert_eq!(accepts(&a), 0, "held while the camera starts");
    assert_eq!(p.phase(), Phase::Connecting);
    // A newer offer replaces the held one.
    p.server(ServerMessage::Offer(offer("B2")));
    let a = p.media_ready();
    assert_eq!(
        a,
        [
            Action::Mark("duet:media-ready"),
            Action::AttachMedia,
            Action::AcceptOffer(offer("B2"))
        ]
    );
}

#[test]
fn offering_before_the_camera_declares_senders_that_get_tracks_later() {
    let mut p = Page::new();
    p.join("r1", "bob");
    p.signaling_up();
    let a = p.server(all_users(&["ann"]));
    assert_eq!(
        a[1..],
        [
            Action::DeclareSenders,
            Action::MakeOffer { ice_restart: false }
        ]
    );
    assert_eq!(p.phase(), Phase::Connecting);
    let a = p.feed(Input::MediaReady(p.media, Some(Problem::NoCamera)));
    assert!(has(&a, &Action::AttachMedia));
    assert_eq!(p.phase(), Phase::Connecting);
    assert_eq!(p.problem(), Some(Problem::NoCamera));
    assert!(!p.problem().unwrap().is_fatal());
}

#[test]
fn hang_up_releases_everything_and_join_again_starts_afresh() {
    let mut p = Page::in_call();
    let (old_link, old_sig, old_media) = (p.link, p.signaling, p.media);
    let a = p.feed(Input::HangUp);
    assert_eq!(
        a,
        [
            Action::Send(ClientMessage::LeaveRoom),
            Action::CloseSignaling,
            Action::CloseLink,
            Action::ReleaseMedia
        ]
    );
    assert_eq!(p.phase(), Phase::Idle);
    assert_eq!(p.m.view(), Call::new());
    // Late events of what was closed change nothing.
    for input in [
        Input::Link(old_link, LinkInput::State(LinkState::Failed)),
        Input::Server(old_sig, ServerMessage::Offer(offer("A"))),
        Input::MediaReady(old_media, None),
    ] {
        p.m.handle(input, p.now);
    }
    assert_eq!(p.drain(), []);
    assert_eq!(p.phase(), Phase::Idle);
    // Join again: new numbers, and the old ones stay stale.
    p.join("r1", "bob");
    assert_ne!(p.signaling, old_sig);
    p.m.handle(Input::SignalingUp(old_sig), p.now);
    assert_eq!(p.drain(), []);
    p.media_ready();
    p.signaling_up();
    assert_eq!(offers(&p.server(all_users(&["ann"]))), [false]);
}

#[test]
fn room_full_releases_and_late_events_change_nothing() {
    let mut p = Page::in_room("cat");
    let a = p.server(ServerMessage::RoomFull);
    assert!(has(&a, &Action::ReleaseMedia) && has(&a, &Action::CloseLink));
    assert_eq!(p.phase(), Phase::RoomFull);
    assert!(
        p.problem()
            .unwrap()
            .to_string()
            .contains("Pick another room")
    );
    assert_eq!(p.text(), "Room r1 is full.");
    p.server(ServerMessage::Offer(offer("A")));
    p.state(LinkState::Connected);
    assert_eq!(p.drain(), []);
    assert_eq!(p.phase(), Phase::RoomFull);
    // The form picks another room.
    p.join("r2", "cat");
    assert_eq!(p.phase(), Phase::Media);
}

#[test]
fn media_failure_ends_the_attempt() {
    let mut p = Page::new();
    p.join("r", "ann");
    p.signaling_up();
    let a = p.feed(Input::MediaFailed(p.media, Problem::PermissionDenied));
    assert!(has(&a, &Action::CloseSignaling) && has(&a, &Action::ReleaseMedia));
    assert_eq!(p.phase(), Phase::Error);
    assert!(p.problem().unwrap().is_fatal());
    assert!(p.problem().unwrap().to_string().contains("Allow"));
    p.feed(Input::HangUp);
    assert_eq!(p.m.view(), Call::new());
}

#[test]
fn a_link_that_cannot_open_ends_the_attempt() {
    let mut p = Page::in_room("ann");
    p.link(LinkInput::OpenFailed("no".into()));
    assert_eq!(p.phase(), Phase::Error);
    assert_eq!(p.problem(), Some(Problem::PeerFailed("no".into())));
}

#[test]
fn the_server_closing_the_session_ends_it() {
    let mut p = Page::in_room("ann");
    p.feed(Input::SignalingClosed(p.signaling, "bye".into()));
    assert_eq!(p.phase(), Phase::Error);
    assert_eq!(p.problem(), Some(Problem::ServerRejected("bye".into())));
}

#[test]
fn an_unavailable_service_refusing_the_join_asks_to_retry() {
    let mut p = Page::in_room("ann");
    let a = p.server(error("unavailable"));
    assert!(has(&a, &Action::CloseSignaling));
    assert_eq!(p.phase(), Phase::Error);
    assert!(
        !p.phase().in_room(),
        "the join form (and its Join button) shows"
    );
    let problem = p.problem().unwrap();
    assert_eq!(problem, Problem::ServiceUnavailable);
    assert!(problem.to_string().contains("press Join to try again"));
    // Join again a few seconds later: the notice goes, the call proceeds.
    p.join("r1", "ann");
    p.media_ready();
    p.signaling_up();
    p.server(all_users(&[]));
    assert_eq!(p.phase(), Phase::Waiting);
    assert_eq!(p.problem(), None);
}

#[test]
fn an_unavailable_service_in_a_call_is_a_notice() {
    let mut p = Page::in_room("bob");
    p.server(all_users(&["ann"]));
    p.server(error("unavailable"));
    assert_eq!(p.phase(), Phase::Connecting);
    assert_eq!(p.problem(), Some(Problem::ServiceUnavailableInCall));
    p.state(LinkState::Connected);
    assert_eq!(p.phase(), Phase::Connected);
    // A rejoin refused after a signaling blip keeps the media that still flows.
    p.feed(Input::SignalingDown(p.signaling, Duration::from_secs(1)));
    p.signaling_up();
    p.server(error("unavailable"));
    assert!(p.phase().in_room());
    assert_eq!(p.problem(), Some(Problem::ServiceUnavailableInCall));
}

#[test]
fn refused_joins_end_the_attempt_and_dropped_messages_do_not() {
    for (code, problem) in [
        ("server_full", Problem::ServerFull),
        ("bad_room", Problem::BadRoom),
        ("bad_name", Problem::BadName),
    ] {
        let mut p = Page::in_room("ann");
        p.server(error(code));
        assert_eq!(p.phase(), Phase::Error, "{code}");
        assert_eq!(p.problem(), Some(problem), "{code}");
    }
    let mut p = Page::in_room("bob");
    p.server(all_users(&["ann"]));
    p.server(error("rate_limited"));
    assert_eq!(p.phase(), Phase::Connecting);
    assert!(!p.problem().unwrap().is_fatal());
}

#[test]
fn the_protocol_rules_refuse_a_join_before_anything_starts() {
    let mut p = Page::new();
    assert_eq!(p.join("no spaces", "ann"), []);
    assert_eq!(p.phase(), Phase::Error);
    assert_eq!(p.problem(), Some(Problem::BadRoom));
    let long = "n".repeat(duet_protocol::signaling::MAX_EMAIL_CHARS + 1);
    assert_eq!(p.join("r1", &long), []);
    assert_eq!(p.problem(), Some(Problem::BadName));
    // The same rule accepts what the server accepts: letters of any script, the longest name.
    let longest = "ñ".repeat(duet_protocol::signaling::MAX_EMAIL_CHARS);
    assert_eq!(p.join("café-Zürich.東京", &longest).len(), 2);
    assert_eq!(p.phase(), Phase::Media);
}
