//! Screen sharing as the call machine's inputs and actions: asked for only in a call, shown
//! when granted, stopped by the button, the browser or the call ending, a withdrawn or late
//! grant stopped, and the screen sent again on a fresh link.

use super::*;

/// In a call, sharing: returns the request's number.
fn sharing(p: &mut Page) -> u64 {
    let a = p.feed(Input::ToggleScreen);
    let Some(Action::CaptureScreen(id)) = a.first().cloned() else {
        panic!("no screen request: {a:?}");
    };
    assert_eq!(p.feed(Input::ScreenGranted(id)), [Action::SendScreen]);
    assert!(p.m.view().sharing());
    id
}

#[test]
fn share_and_stop_from_the_button_or_the_browser() {
    let mut p = Page::in_call();
    sharing(&mut p);
    assert_eq!(p.feed(Input::ToggleScreen), [Action::StopScreen]);
    assert!(!p.m.view().sharing());
    let id = sharing(&mut p);
    assert_eq!(p.feed(Input::ScreenEnded(id)), [Action::StopScreen]);
    assert_eq!(
        p.feed(Input::ScreenEnded(id)),
        [],
        "a late `ended` changes nothing"
    );
    assert!(!p.m.view().sharing());
}

#[test]
fn nothing_is_asked_before_the_call_has_a_link_and_media() {
    let mut p = Page::new();
    assert_eq!(p.feed(Input::ToggleScreen), []);
    p.join("r1", "bob");
    assert_eq!(p.feed(Input::ToggleScreen), [], "camera still starting");
}

#[test]
fn refused_withdrawn_or_late_grants() {
    let mut p = Page::in_call();
    let a = p.feed(Input::ToggleScreen);
    let [Action::CaptureScreen(id)] = a[..] else {
        panic!("{a:?}")
    };
    assert_eq!(p.feed(Input::ScreenRefused(id)), []);
    assert!(!p.m.view().sharing());
    // Toggled again while the picker is open: the grant is stopped, not shown.
    let a = p.feed(Input::ToggleScreen);
    let [Action::CaptureScreen(id)] = a[..] else {
        panic!("{a:?}")
    };
    assert_eq!(p.feed(Input::ToggleScreen), []);
    assert_eq!(p.feed(Input::ScreenGranted(id)), [Action::StopScreen]);
    assert!(!p.m.view().sharing());
    // Hung up while the picker is open: the grant that still comes is stopped.
    let a = p.feed(Input::ToggleScreen);
    let [Action::CaptureScreen(id)] = a[..] else {
        panic!("{a:?}")
    };
    p.feed(Input::HangUp);
    assert_eq!(p.feed(Input::ScreenGranted(id)), [Action::StopScreen]);
}

#[test]
fn hanging_up_or_the_other_leaving_stops_the_screen() {
    let mut p = Page::in_call();
    sharing(&mut p);
    assert!(has(&p.feed(Input::HangUp), &Action::StopScreen));
    let mut p = Page::in_call();
    sharing(&mut p);
    let a = p.server(user_exit());
    let a = [a, p.link(LinkInput::State(LinkState::Disconnected))].concat();
    let a = [a, p.wait(EXIT_SETTLE + EXIT_CHECK)].concat();
    assert_eq!(p.phase(), Phase::PeerLeft);
    assert!(has(&a, &Action::StopScreen), "{a:?}");
    assert!(!p.m.view().sharing());
}

#[test]
fn a_fresh_link_gets_the_screen_again() {
    let mut p = Page::in_call();
    sharing(&mut p);
    // Their fresh connection: answered on a fresh link of ours, which starts with the camera.
    let a = p.server(ServerMessage::Offer(offer("A2")));
    let open = a.iter().position(|x| matches!(x, Action::OpenLink(_)));
    let send = a.iter().position(|x| *x == Action::SendScreen);
    assert!(open.is_some() && send > open, "{a:?}");
    assert!(p.m.view().sharing());
}
