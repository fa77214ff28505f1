//! Keeping a call through trouble: the other person's signaling drop told from a hang-up,
//! our own signaling loss, ICE restart, fresh connections after a long outage, and when the
//! page may say the other person left.

use super::*;

const MS: Duration = Duration::from_millis(1);

#[test]
fn user_exit_with_media_still_flowing_keeps_the_call() {
    let mut p = Page::in_call();
    p.server(user_exit());
    assert_eq!(p.phase(), Phase::Connected);
    assert_eq!(p.wait(EXIT_SETTLE), [Action::CountPackets]);
    assert_eq!(p.link(LinkInput::Packets(100)), []);
    assert_eq!(p.wait(EXIT_CHECK), [Action::CountPackets]);
    // Packets still arrive: only their signaling dropped; they will rejoin.
    assert_eq!(p.link(LinkInput::Packets(160)), []);
    assert_eq!(p.phase(), Phase::Connected);
    assert_eq!(p.deadline(), None);
    // They rejoin; the call was never interrupted.
    p.server(user_joined("ann"));
    assert_eq!(p.phase(), Phase::Connected);
}

#[test]
fn user_exit_after_a_hang_up_says_left_and_waits_on_a_fresh_link() {
    let mut p = Page::in_call();
    let link = p.link;
    p.server(user_exit());
    p.wait(EXIT_SETTLE);
    p.link(LinkInput::Packets(100));
    p.wait(EXIT_CHECK);
    let a = p.link(LinkInput::Packets(100));
    assert_eq!(a, [Action::CloseLink, Action::OpenLink(p.link)]);
    assert_ne!(p.link, link);
    assert_eq!(p.phase(), Phase::PeerLeft);
    assert_eq!(p.problem(), None, "they left: no problem to report");
    assert_eq!(
        p.text(),
        "The other person left. Waiting for someone to join again…"
    );
    assert_eq!(p.m.view().peer_name(), None);
    // Now the one in the room first: polite, and a newcomer's offer is answered.
    assert!(p.m.polite());
    assert_eq!(accepts(&p.server(ServerMessage::Offer(offer("C")))), 1);
    assert_eq!(p.phase(), Phase::Connecting);
}

#[test]
fn user_exit_without_media_says_left_at_once() {
    let mut p = Page::in_room("bob");
    p.server(all_users(&["ann"]));
    p.server(user_exit());
    assert_eq!(p.phase(), Phase::PeerLeft);
    // Nobody was there: ignored.
    let mut p = Page::waiting();
    assert_eq!(p.server(user_exit()), []);
    assert_eq!(p.phase(), Phase::Waiting);
}

#[test]
fn signaling_loss_mid_call_keeps_the_call_and_rejoins() {
    let mut p = Page::in_call();
    p.feed(Input::SignalingDown(
        p.signaling,
        Duration::from_millis(800),
    ));
    assert_eq!(p.phase(), Phase::Reconnecting);
    assert_eq!(p.problem(), Some(Problem::SignalingLostInCall));
    assert!(p.text().contains("continues"), "{}", p.text());
    p.feed(Input::SignalingDown(p.signaling, Duration::from_secs(2)));
    assert_eq!(p.problem(), Some(Problem::SignalingLostInCall));
    // Back: join_room again, and the call is shown as it is.
    let a = p.signaling_up();
    assert!(sends_join(&a, "r1", "bob"));
    assert!(!a.iter().any(|a| matches!(a, Action::OpenLink(_))));
    assert_eq!(p.phase(), Phase::Connected);
    assert_eq!(p.problem(), None);
    // Alone (the server restarted) or not, nothing is renegotiated.
    assert!(offers(&p.server(all_users(&[]))).is_empty());
    assert!(offers(&p.server(all_users(&["ann"]))).is_empty());
    assert_eq!(p.phase(), Phase::Connected);
    assert!(!p.m.polite(), "the role stays as it was");
}

#[test]
fn signaling_loss_before_the_call_reconnects_and_rejoins() {
    let mut p = Page::waiting();
    p.feed(Input::SignalingDown(
        p.signaling,
        Duration::from_millis(1500),
    ));
    assert_eq!(p.phase(), Phase::Reconnecting);
    assert_eq!(p.text(), "Reconnecting to the call server…");
    assert_eq!(p.problem(), Some(Problem::SignalingUnreachable(2)));
    p.signaling_up();
    assert_eq!(p.phase(), Phase::Joining);
    assert_eq!(offers(&p.server(all_users(&["bob"]))), [false]);
    assert!(!p.m.polite());
}

#[test]
fn a_disconnected_link_gets_a_grace_period_then_an_ice_restart() {
    let mut p = Page::in_call();
    p.state(LinkState::Disconnected);
    assert_eq!(p.phase(), Phase::Reconnecting);
    assert_eq!(
        p.text(),
        "The connection to ann was interrupted. Reconnecting…"
    );
    assert_eq!(p.wait(DISCONNECT_GRACE - MS), []);
    assert_eq!(offers(&p.wait(MS)), [true]);
    let a = p.link(LinkInput::Described(offer("B1")));
    assert!(has(&a, &Action::Send(ClientMessage::Offer(offer("B1")))));
    p.server(ServerMessage::Answer(answer("A1")));
    p.state(LinkState::Connected);
    assert_eq!(p.phase(), Phase::Connected);
    assert_eq!(p.deadline(), None, "recovered: no deadline left");
}

#[test]
fn a_link_that_comes_back_within_the_grace_period_needs_only_a_key_frame() {
    let mut p = Page::in_call();
    p.state(LinkState::Disconnected);
    p.wait(DISCONNECT_GRACE / 2);
    let a = p.state(LinkState::Connected);
    assert!(has(&a, &Action::RefreshVideo), "{a:?}");
    assert_eq!(p.wait(RESTART_DEADLINE * 2), []);
    assert_eq!(p.phase(), Phase::Connected);
}

#[test]
fn only_a_link_back_from_an_outage_refreshes_the_video() {
    // The first connection starts with a key frame anyway.
    let mut p = Page::in_room("bob");
    p.server(all_users(&["ann"]));
    p.link(LinkInput::Described(offer("B1")));
    p.server(ServerMessage::Answer(answer("A1")));
    let a = p.state(LinkState::Connected);
    assert!(!has(&a, &Action::RefreshVideo), "{a:?}");
    // Connected again without having been away: nothing to refresh.
    assert!(!has(&p.state(LinkState::Connected), &Action::RefreshVideo));
    // Back after an ICE restart.
    p.state(LinkState::Failed);
    p.link(LinkInput::Described(offer("B2")));
    p.server(ServerMessage::Answer(answer("A2")));
    assert!(has(&p.state(LinkState::Connected), &Action::RefreshVideo));
}

#[test]
fn a_failed_link_restarts_ice_at_once() {
    let mut p = Page::in_call();
    assert_eq!(offers(&p.state(LinkState::Failed)), [true]);
    assert_eq!(p.phase(), Phase::Reconnecting);
    // The polite side gives the other side's restart time to come first.
    let mut ann = polite_in_call();
    assert_eq!(ann.state(LinkState::Failed), []);
    assert_eq!(ann.wait(RESTART_YIELD - MS), []);
    assert_eq!(offers(&ann.wait(MS)), [true]);
}

/// Ann, first in the room (polite), in a call with Bob's offer answered.
fn polite_in_call() -> Page {
    let mut ann = Page::waiting();
    ann.server(ServerMessage::Offer(offer("B1")));
    ann.state(LinkState::Connected);
    assert!(ann.m.polite());
    ann
}

/// Issue 12, the 15 s cut: both sides saw the outage and both offered an ICE restart at once;
/// the polite side rolled its own back, and Chromium then kept that connection "connected"
/// with no media from the other side (1 run in 5). Now only the impolite side's restart
/// offer goes out, and the polite side answers it.
#[test]
fn in_an_outage_the_polite_side_answers_the_other_sides_restart_instead_of_offering() {
    let mut bob = Page::in_call();
    let mut ann = polite_in_call();
    bob.state(LinkState::Disconnected);
    ann.state(LinkState::Disconnected);
    assert_eq!(offers(&bob.wait(DISCONNECT_GRACE)), [true]);
    assert_eq!(ann.wait(DISCONNECT_GRACE), []);
    // Bob's restart (same certificate) arrives before Ann's own would go out: she answers it on
    // the same link, and makes no offer of her own.
    let link = ann.link;
    assert_eq!(
        ann.server(ServerMessage::Offer(offer("B1"))),
        [Action::AcceptOffer(offer("B1"))]
    );
    assert_eq!(ann.link, link);
    assert!(offers(&ann.wait(RESTART_DEADLINE - MS)).is_empty());
    assert_eq!(ann.phase(), Phase::Reconnecting);
    ann.state(LinkState::Connected);
    assert_eq!(ann.phase(), Phase::Connected);
    assert_eq!(ann.deadline(), None, "recovered: no deadline left");
}

#[test]
fn a_polite_side_whose_peer_never_restarts_restarts_itself_later_then_tries_fresh_links() {
    // The original client never restarts ICE; Duet, polite, does it for both.
    let mut ann = polite_in_call();
    ann.state(LinkState::Disconnected);
    assert_eq!(ann.wait(DISCONNECT_GRACE + RESTART_YIELD - MS), []);
    assert_eq!(offers(&ann.wait(MS)), [true]);
    ann.link(LinkInput::Described(offer("A1")));
    ann.server(ServerMessage::Answer(answer("B1")));
    // The restart does not bring it back either: a fresh connection, as on the impolite side.
    assert_eq!(offers(&ann.wait(RESTART_DEADLINE)), [false]);
}

/// Issue 12: a 40 s UDP outage with signaling up. The ICE restart cannot work; the page
/// starts fresh connections on its own, every RESTART_DEADLINE, for as long as the other person
/// answers, never says they left, and the call comes back on the attempt after the link does.
#[test]
fn a_long_outage_retries_fresh_links_and_never_says_left() {
    let mut p = Page::in_call();
    p.state(LinkState::Disconnected);
    p.wait(DISCONNECT_GRACE);
    p.link(LinkInput::Described(offer("B1")));
    p.server(ServerMessage::Answer(answer("A1")));
    p.state(LinkState::Failed);
    let mut fresh = 0;
    let mut cert = 2;
    let start = p.now;
    while p.now < start + Duration::from_secs(40) {
        let a = p.wait(Duration::from_secs(1));
        if offers(&a) == [false] {
            // A fresh connection: the old one closed, a new one opened, a new offer made.
            assert!(has(&a, &Action::CloseLink) && has(&a, &Action::OpenLink(p.link)));
            fresh += 1;
            p.link(LinkInput::Described(offer(&format!("B{cert}"))));
            p.server(ServerMessage::Answer(answer(&format!("A{cert}"))));
            cert += 1;
        }
        assert_eq!(p.phase(), Phase::Reconnecting, "at {:?}", p.now - start);
        assert_eq!(p.problem(), None);
    }
    assert!(fresh >= 4, "{fresh} fresh connections in 40 s");
    // The network is back: the current attempt connects and retries stop.
    p.state(LinkState::Connected);
    assert_eq!(p.phase(), Phase::Connected);
    assert_eq!(p.deadline(), None);
}

#[test]
fn the_other_sides_fresh_connection_gets_a_fresh_link() {
    let mut p = Page::waiting();
    p.server(ServerMessage::Offer(offer("B1")));
    p.state(LinkState::Connected);
    let link = p.link;
    // An ICE restart offer comes from the same connection: same link.
    assert_eq!(
        p.server(ServerMessage::Offer(offer("B1"))),
        [Action::AcceptOffer(offer("B1"))]
    );
    assert_eq!(p.link, link);
    // An offer with another certificate is a new connection of theirs: answered on a new one.
    p.state(LinkState::Failed);
    let a = p.server(ServerMessage::Offer(offer("B2")));
    assert_eq!(
        a,
        [
            Action::CloseLink,
            Action::OpenLink(p.link),
            Action::AcceptOffer(offer("B2"))
        ]
    );
    assert_ne!(p.link, link);
    p.state(LinkState::Connected);
    assert_eq!(p.phase(), Phase::Connected);
}

#[test]
fn a_fresh_offer_answered_by_a_fresh_link_pushes_our_own_retry_back() {
    // Ann (polite) is recovering; Bob's fresh offer comes before her own deadline: she answers
    // it on a fresh link and gives that one the whole time, instead of replacing it.
    let mut ann = Page::waiting();
    ann.server(ServerMessage::Offer(offer("B1")));
    ann.state(LinkState::Connected);
    ann.state(LinkState::Failed);
    ann.wait(RESTART_DEADLINE - Duration::from_secs(1));
    ann.server(ServerMessage::Offer(offer("B2")));
    assert!(offers(&ann.wait(Duration::from_secs(2))).is_empty());
    assert_eq!(offers(&ann.wait(RESTART_DEADLINE)), [false]);
}

#[test]
fn original_server_an_unanswered_offer_while_recovering_means_left() {
    // The original server never sends user_exit: a recovery offer nobody answers is the sign.
    let mut p = Page::in_call();
    p.state(LinkState::Failed);
    p.link(LinkInput::Described(offer("B1")));
    assert_eq!(p.wait(ANSWER_DEADLINE - MS), []);
    let a = p.wait(MS);
    assert!(has(&a, &Action::OpenLink(p.link)));
    assert_eq!(p.phase(), Phase::PeerLeft);
    assert_eq!(p.problem(), Some(Problem::PeerLost));
    assert!(p.problem().unwrap().to_string().contains("lost"));
    assert_eq!(p.deadline(), None);
    // Someone joins: they offer, we answer; the notice goes.
    p.server(ServerMessage::Offer(offer("C")));
    assert_eq!(p.problem(), None);
}

#[test]
fn signaling_gone_too_means_left_after_the_restart_deadline() {
    let mut p = Page::in_call();
    p.feed(Input::SignalingDown(p.signaling, Duration::from_secs(1)));
    // No offer can go out without signaling; the deadline still runs.
    assert!(offers(&p.state(LinkState::Failed)).is_empty());
    assert_eq!(p.problem(), Some(Problem::SignalingUnreachable(1)));
    p.wait(RESTART_DEADLINE);
    assert_eq!(p.m.peer, machine::Peer::Left { lost: true });
    // Signaling back: the room says whether they are there; if so, we offer afresh.
    p.signaling_up();
    assert_eq!(p.phase(), Phase::Joining);
    assert_eq!(offers(&p.server(all_users(&["ann"]))), [false]);
    assert_eq!(p.phase(), Phase::Connecting);
}

#[test]
fn a_failed_secure_handshake_says_so_not_that_they_left() {
    let mut p = Page::in_room("bob");
    p.server(all_users(&["ann"]));
    p.link(LinkInput::Described(offer("B")));
    p.server(ServerMessage::Answer(answer("tampered")));
    let a = p.state(LinkState::HandshakeFailed);
    assert!(has(&a, &Action::CloseLink) && has(&a, &Action::ReleaseMedia));
    assert_eq!(p.phase(), Phase::Error);
    let text = p.problem().unwrap().to_string();
    assert!(text.contains("secure connection"), "{text}");
    assert!(!text.contains("left"), "{text}");
    // After the call was up, the same state is an ordinary loss: restart.
    let mut p = Page::in_call();
    assert_eq!(offers(&p.state(LinkState::HandshakeFailed)), [true]);
}

#[test]
fn a_relay_refusing_our_credentials_is_said_in_words() {
    let mut p = Page::in_room("bob");
    p.server(all_users(&["ann"]));
    p.link(LinkInput::CandidateError(701));
    assert_eq!(p.problem(), None, "an unreachable STUN server is not news");
    p.link(LinkInput::CandidateError(401));
    let text = p.problem().unwrap().to_string();
    assert!(text.contains("relay server refused"), "{text}");
    assert_eq!(p.phase(), Phase::Connecting);
}

#[test]
fn an_offer_without_a_fingerprint_never_replaces_a_working_link() {
    // Found by the hostile-server e2e scenario: garbage in getOffer (no a=fingerprint) was taken
    // for a new connection of theirs, and the working call was torn down for it.
    let mut p = Page::in_call();
    let link = p.link;
    let garbage = SessionDescription {
        kind: SdpType::Offer,
        sdp: "v=0\r\nthis is not SDP\r\n".into(),
    };
    let a = p.server(ServerMessage::Offer(garbage.clone()));
    assert_eq!(a, [Action::AcceptOffer(garbage)]);
    assert_eq!(p.link, link);
    p.link(LinkInput::NegotiationFailed("bad SDP".into()));
    assert_eq!(p.phase(), Phase::Connected);
    // Their real certificate is still the one on record: a real new connection is still told apart.
    let a = p.server(ServerMessage::Offer(offer("A2")));
    assert!(a.contains(&Action::CloseLink), "{a:?}");
}

#[test]
fn a_flood_of_candidates_is_cut_off_and_a_restart_counts_again() {
    let mut p = Page::in_call();
    let added = |p: &mut Page, n: u32| {
        (0..n)
            .map(|_| p.server(ServerMessage::Candidate(candidate())).len())
            .sum::<usize>()
    };
    // in_call's answer set the count to zero; a hostile server sends 10,000.
    assert_eq!(added(&mut p, 10_000), machine::REMOTE_CANDIDATES as usize);
    // A restart's answer is a new ICE session: its candidates are taken again.
    p.state(LinkState::Failed);
    p.link(LinkInput::Described(offer("B1")));
    p.server(ServerMessage::Answer(answer("A1")));
    assert_eq!(added(&mut p, 3), 3);
}
