//! The warm offer: when both pages have the `warmOffer` capability, the member already in the
//! room offers as soon as it hears `user_joined`, and the joiner answers instead of offering
//! (issue 11: the joiner's offer left the call set-up's critical path). With the original
//! client or server on either side, the original flow. The roles of perfect negotiation stay
//! those of join order, so a joiner that offers anyway still gets its call.

use super::*;

/// Ann waiting; Bob (warm) joins: she offers at once on the link she holds, and his answer
/// brings the call up.
#[test]
fn the_member_offers_as_soon_as_a_warm_joiner_arrives() {
    let mut ann = Page::waiting();
    let link = ann.link;
    let a = ann.server(user_joined_with("bob", true));
    assert_eq!(offers(&a), [false]);
    assert_eq!(ann.link, link, "the waiting link is used: {a:?}");
    assert!(ann.m.polite(), "the roles stay: first in the room, polite");
    assert_eq!(ann.text(), "Connecting to bob…");
    let a = ann.link(LinkInput::Described(offer("A")));
    assert_eq!(a[0], Action::Send(ClientMessage::Offer(offer("A"))));
    let a = ann.server(ServerMessage::Answer(answer("B")));
    assert!(has(&a, &Action::AcceptAnswer(answer("B"))));
    ann.state(LinkState::Connected);
    assert_eq!(ann.phase(), Phase::Connected);
}

/// Bob did not wait for Ann's offer (a server that relays the capability in `user_joined` but
/// does not list it in `all_users`, such as duet-server before it did): the offers cross,
/// Ann yields as the polite side, and the call comes up on Bob's.
#[test]
fn a_joiner_that_did_not_wait_wins_the_glare() {
    let mut ann = Page::waiting();
    ann.server(user_joined_with("bob", true));
    ann.link(LinkInput::Described(offer("A")));
    let a = ann.server(ServerMessage::Offer(offer("B")));
    assert_eq!(a, [Action::AcceptOffer(offer("B"))]);
    let mut bob = Page::in_room("bob");
    bob.server(all_users(&["ann"]));
    bob.link(LinkInput::Described(offer("B")));
    let a = bob.server(ServerMessage::Offer(offer("A")));
    assert_eq!(
        accepts(&a),
        0,
        "the impolite side ignores the crossing offer"
    );
}

/// The original client as the joiner: no capability, so Ann waits for its offer as before.
#[test]
fn a_joiner_without_the_capability_gets_the_original_flow() {
    let mut ann = Page::waiting();
    let a = ann.server(user_joined("seed"));
    assert_eq!(offers(&a), Vec::<bool>::new());
    assert!(ann.m.polite());
    let a = ann.server(ServerMessage::Offer(offer("S")));
    assert_eq!(a, [Action::AcceptOffer(offer("S"))]);
}

/// Ann still starting her camera when Bob arrives: the offer goes out at once with senders
/// that get their tracks when the camera is ready.
#[test]
fn a_member_without_camera_yet_offers_with_declared_senders() {
    let mut ann = Page::new();
    ann.join("r1", "ann");
    ann.signaling_up();
    ann.server(all_users(&[]));
    let a = ann.server(user_joined_with("bob", true));
    assert!(has(&a, &Action::DeclareSenders));
    assert_eq!(offers(&a), [false]);
    let a = ann.media_ready();
    assert!(has(&a, &Action::AttachMedia));
}

/// Bob joins a room whose member advertised the capability: he opens his link and waits; the
/// offer (normally already in his early socket) is answered, as the polite side.
#[test]
fn the_joiner_answers_the_members_offer_instead_of_offering() {
    let mut bob = Page::in_room("bob");
    let link = bob.link;
    let a = bob.server(all_users_with(&["ann"], true));
    assert_eq!(offers(&a), Vec::<bool>::new());
    assert_eq!(bob.link, link, "the link opened at join_room is used");
    assert!(!bob.m.polite());
    assert_eq!(bob.text(), "Connecting to ann…");
    assert!(bob.deadline().is_some(), "the wait for her offer");
    let a = bob.server(ServerMessage::Offer(offer("A")));
    assert_eq!(a, [Action::AcceptOffer(offer("A"))]);
    assert_eq!(bob.deadline(), None);
    let a = bob.link(LinkInput::Described(answer("B")));
    assert_eq!(a[0], Action::Send(ClientMessage::Answer(answer("B"))));
    bob.state(LinkState::Connected);
    assert_eq!(bob.phase(), Phase::Connected);
    assert_eq!(bob.wait(WARM_OFFER_WAIT * 2), []);
}

/// The member's offer arrives while Bob's camera is starting (his wasm ran before the early
/// camera request answered): answered at once, with senders whose tracks follow, so Ann
/// appears without waiting for his camera.
#[test]
fn the_joiner_answers_the_warm_offer_before_its_camera_is_ready() {
    let mut bob = Page::new();
    bob.join("r1", "bob");
    bob.signaling_up();
    bob.server(all_users_with(&["ann"], true));
    let a = bob.server(ServerMessage::Offer(offer("A")));
    assert_eq!(a, [Action::AcceptOfferBeforeMedia(offer("A"))]);
    let a = bob.link(LinkInput::Described(answer("B")));
    assert_eq!(a[0], Action::Send(ClientMessage::Answer(answer("B"))));
    let a = bob.media_ready();
    assert_eq!(a, [Action::Mark("duet:media-ready"), Action::AttachMedia]);
    assert_eq!(bob.wait(WARM_OFFER_WAIT * 2), []);
}

/// Any other offer before the camera is ready (the original client's, or a Duet page's
/// without the capability) is held and answered with the camera's tracks: the original client
/// shows the stream the answer names, which a sender without a track does not have.
#[test]
fn an_offer_that_is_not_warm_waits_for_the_camera() {
    let mut bob = Page::new();
    bob.join("r1", "bob");
    bob.signaling_up();
    bob.server(all_users(&[]));
    bob.server(user_joined("seed"));
    let a = bob.server(ServerMessage::Offer(offer("S")));
    assert_eq!(accepts(&a), 0);
    let a = bob.media_ready();
    assert!(has(&a, &Action::AcceptOffer(offer("S"))), "{a:?}");
}

/// The same glare while Bob's camera is still starting: Ann's offer is not held for later.
/// Held, it would be answered once the camera is ready, after Ann had rolled it back and taken
/// Bob's: two descriptions that do not match, and a call without sound (the hostile e2e
/// scenario found it).
#[test]
fn a_crossing_offer_is_not_held_while_the_camera_starts() {
    let mut bob = Page::new();
    bob.join("r1", "bob");
    bob.signaling_up();
    let a = bob.server(all_users(&["ann"]));
    assert_eq!(offers(&a), [false]);
    bob.link(LinkInput::Described(offer("B")));
    let a = bob.server(ServerMessage::Offer(offer("A")));
    assert_eq!(accepts(&a), 0);
    bob.server(ServerMessage::Answer(answer("A")));
    let a = bob.media_ready();
    assert_eq!(accepts(&a), 0, "{a:?}");
}

/// The member's offer never comes (its signaling dropped in between): after the wait, Bob
/// offers himself, and his offer wins if hers crosses it.
#[test]
fn the_joiner_offers_itself_when_the_warm_offer_does_not_come() {
    let mut bob = Page::in_room("bob");
    bob.server(all_users_with(&["ann"], true));
    let a = bob.wait(WARM_OFFER_WAIT - Duration::from_millis(1));
    assert_eq!(offers(&a), Vec::<bool>::new());
    let a = bob.wait(Duration::from_millis(1));
    assert_eq!(offers(&a), [false]);
    let a = bob.server(ServerMessage::Offer(offer("A")));
    assert_eq!(accepts(&a), 0, "glare: the impolite side's offer wins");
}

/// Bob's signaling dropped and he rejoined while media still flows: Ann does not renegotiate,
/// and neither does he.
#[test]
fn a_rejoin_with_media_flowing_renegotiates_nothing() {
    let mut ann = Page::waiting();
    ann.server(user_joined_with("bob", true));
    ann.link(LinkInput::Described(offer("A")));
    ann.server(ServerMessage::Answer(answer("B")));
    ann.state(LinkState::Connected);
    ann.server(user_exit());
    let a = ann.server(user_joined_with("bob", true));
    assert_eq!(offers(&a), Vec::<bool>::new());
    assert_eq!(ann.phase(), Phase::Connected);

    let mut bob = Page::in_call();
    bob.feed(Input::SignalingDown(bob.signaling, Duration::from_secs(1)));
    bob.signaling_up();
    let a = bob.server(all_users_with(&["ann"], true));
    assert_eq!(offers(&a), Vec::<bool>::new());
    assert_eq!(
        bob.deadline(),
        None,
        "no wait for an offer in a call that is up"
    );
}

/// Bob rejoins before their first negotiation finished: Ann's warm offer goes out on a fresh
/// link (the joiner would have offered on one), and Bob takes it on a fresh one too.
#[test]
fn a_rejoin_during_set_up_gets_a_warm_offer_on_a_fresh_link() {
    let mut ann = Page::waiting();
    ann.server(user_joined_with("bob", true));
    ann.link(LinkInput::Described(offer("A1")));
    let first = ann.link;
    let a = ann.server(user_joined_with("bob", true));
    assert!(has(&a, &Action::CloseLink));
    assert_ne!(ann.link, first);
    assert_eq!(offers(&a), [false]);
}

/// `join_room` advertises the capability, so a Duet member may offer at once.
#[test]
fn join_room_advertises_the_capability() {
    let mut p = Page::new();
    p.join("r1", "bob");
    let a = p.signaling_up();
    assert!(sends_join(&a, "r1", "bob"));
}
