//! The insight part (issue 13) as the call machine's inputs and actions: when stats are read,
//! that a reading or code of a replaced link is dropped, the set-up time, and that a session
//! whose secure handshake failed never shows a code.

use super::*;
use crate::insight::monitor::{LIGHT_EVERY, PANEL_EVERY, Reading};
use crate::insight::quality::Level;
use crate::insight::sample::{CandidateType, Counters, Route, Sample};

fn reading(at_ms: f64) -> LinkInput {
    LinkInput::Stats(Some(Reading::new(Sample {
        at_ms: Some(at_ms),
        route: Some(Route {
            local: Some(CandidateType::Host),
            remote: Some(CandidateType::Srflx),
            transport: None,
            relay: None,
        }),
        inbound: Counters {
            bytes: Some(at_ms * 100.0),
            packets: Some(at_ms / 10.0),
            lost: Some(0.0),
        },
        ..Sample::default()
    })))
}

fn take(p: &mut Page) -> Vec<Action> {
    std::mem::take(&mut p.insight)
}

#[test]
fn nothing_is_read_before_the_link_connects_then_the_code_and_a_reading_are_asked_for() {
    let mut p = Page::in_room("bob");
    p.server(all_users(&["ann"]));
    p.link(LinkInput::Described(offer("B1")));
    p.server(ServerMessage::Answer(answer("A1")));
    p.wait(Duration::from_secs(10));
    assert_eq!(take(&mut p), [], "no stats before the link is up");
    p.state(LinkState::Connected);
    p.wait(Duration::ZERO);
    assert_eq!(take(&mut p), [Action::WorkOutSafetyCode, Action::ReadStats]);
    assert_eq!(p.m.insight().level, Some(Level::Good), "indicator shown");
    assert_eq!(p.m.insight().code, None);
}

#[test]
fn readings_come_every_two_seconds_closed_and_every_second_with_the_panel_open() {
    let mut p = Page::in_call();
    p.wait(Duration::ZERO);
    take(&mut p);
    p.link(reading(0.0));
    assert_eq!(p.m.insight().route, Some(CandidateType::Host));
    assert_eq!(
        p.m.insight().stats,
        None,
        "the panel's figures only while it is open"
    );
    assert_eq!(p.m.poll_timeout(), Some(p.now + LIGHT_EVERY));
    p.wait(LIGHT_EVERY);
    assert_eq!(take(&mut p), [Action::ReadStats]);
    p.link(reading(2000.0));
    p.feed(Input::StatsPanel(true));
    assert!(p.m.insight().panel);
    let stats = p.m.insight().stats.expect("figures while open");
    assert_eq!(stats.kbps_in, Some(800.0), "100 bytes a millisecond");
    assert_eq!(p.m.poll_timeout(), Some(p.now), "opening reads at once");
    p.wait(Duration::ZERO);
    assert_eq!(take(&mut p), [Action::ReadStats]);
    p.link(reading(2100.0));
    assert_eq!(p.m.poll_timeout(), Some(p.now + PANEL_EVERY));
    p.feed(Input::StatsPanel(false));
    assert!(!p.m.insight().panel);
}

#[test]
fn a_reading_or_code_of_a_replaced_link_is_dropped() {
    let mut p = Page::in_call();
    p.wait(Duration::ZERO);
    take(&mut p);
    let old = p.link;
    // Their fresh connection replaces the link.
    p.server(ServerMessage::Offer(offer("A2")));
    assert_ne!(p.link, old);
    p.feed(Input::Link(old, reading(0.0)));
    p.feed(Input::Link(old, LinkInput::SafetyCode(Some("123".into()))));
    assert_eq!(p.m.insight().route, None);
    assert_eq!(p.m.insight().code, None);
    assert_eq!(p.m.insight().level, None, "nothing about the new link yet");
}

#[test]
fn the_code_stays_through_an_outage_and_goes_with_the_link() {
    let mut p = Page::in_call();
    p.wait(Duration::ZERO);
    take(&mut p);
    p.link(LinkInput::SafetyCode(Some("1234 5678 9012".into())));
    assert_eq!(p.m.insight().code.as_deref(), Some("1234 5678 9012"));
    p.state(LinkState::Disconnected);
    assert_eq!(p.m.insight().route, None, "no route while disconnected");
    assert_eq!(p.m.insight().code.as_deref(), Some("1234 5678 9012"));
    p.state(LinkState::Connected);
    p.wait(Duration::ZERO);
    assert_eq!(
        take(&mut p),
        [Action::ReadStats],
        "the code is not worked out again"
    );
    p.feed(Input::HangUp);
    assert_eq!(p.m.insight(), Default::default());
}

#[test]
fn set_up_time_runs_from_join_to_the_first_remote_frame_once() {
    let mut p = Page::new();
    p.join("r1", "bob");
    p.now += Duration::from_millis(640);
    p.feed(Input::FirstRemoteFrame);
    assert_eq!(p.m.insight().setup, Some(Duration::from_millis(640)));
    p.now += Duration::from_secs(30);
    p.feed(Input::FirstRemoteFrame);
    assert_eq!(p.m.insight().setup, Some(Duration::from_millis(640)));
}

#[test]
fn a_failed_secure_handshake_leaves_no_code() {
    let mut p = Page::in_room("bob");
    p.server(all_users(&["ann"]));
    p.link(LinkInput::Described(offer("B1")));
    p.server(ServerMessage::Answer(answer("forged")));
    p.state(LinkState::HandshakeFailed);
    assert_eq!(p.problem(), Some(Problem::SecureSetupFailed));
    assert_eq!(
        take(&mut p),
        [],
        "nothing read on a session that never came up"
    );
    p.feed(Input::Link(p.link, LinkInput::SafetyCode(Some("1".into()))));
    assert_eq!(p.m.insight().code, None);
}

#[test]
fn the_camera_off_is_told_to_the_quality_rule_only_in_a_call() {
    let mut p = Page::new();
    assert!(p.feed(Input::Camera(false)).is_empty());
    assert!(p.feed(Input::StatsPanel(true)).is_empty());
    assert_eq!(
        p.m.insight(),
        Default::default(),
        "outside a room nothing changes"
    );
}
