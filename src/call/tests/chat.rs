//! The chat as the call machine's inputs and actions: hello on the channel, messages both
//! ways as frames, a page without a chat noticed, the history kept across a fresh link, and a
//! rejoin starting a fresh chat.

use super::*;
use crate::chat::rules::HELLO_WAIT;

fn frames(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendChat(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

/// What the page would show of the chat now.
fn shown(p: &Page) -> crate::call::ChatView {
    let mut view = crate::call::ChatView::default();
    p.m.show_chat(&mut view);
    view
}

fn chat(p: &mut Page, ev: ChannelEvent) -> Vec<Action> {
    p.link(LinkInput::Chat(ev))
}

#[test]
fn hello_then_messages_both_ways() {
    let mut p = Page::in_call();
    assert_eq!(frames(&chat(&mut p, ChannelEvent::Open)), ["1h"]);
    assert_eq!(shown(&p).available, None, "no hello from them yet");
    chat(&mut p, ChannelEvent::Text("1h".into()));
    assert_eq!(shown(&p).available, Some(true));
    assert_eq!(
        frames(&p.feed(Input::SendChat("hi <b>x</b>".into()))),
        ["1mhi <b>x</b>"]
    );
    chat(&mut p, ChannelEvent::Text("1mback".into()));
    let v = shown(&p);
    let texts: Vec<_> = v.entries.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts, ["hi <b>x</b>", "back"]);
    assert_eq!((v.unread, v.sent, v.error), (1, 1, None));
    p.feed(Input::ChatPanel(true));
    assert_eq!(shown(&p).unread, 0);
}

#[test]
fn a_refused_message_says_why_and_sends_nothing() {
    let mut p = Page::in_call();
    chat(&mut p, ChannelEvent::Open);
    chat(&mut p, ChannelEvent::Text("1h".into()));
    let a = p.feed(Input::SendChat("x".repeat(2001)));
    assert_eq!(frames(&a), Vec::<String>::new());
    let v = shown(&p);
    assert!(
        v.error.as_deref().is_some_and(|e| e.contains("2001")),
        "{v:?}"
    );
    assert_eq!(v.sent, 0);
    chat(&mut p, ChannelEvent::Binary);
    chat(&mut p, ChannelEvent::Oversized);
    assert_eq!(shown(&p).entries.len(), 2, "two notices, nothing lost");
}

#[test]
fn a_page_without_a_chat_is_noticed_after_the_call_connects() {
    let mut p = Page::in_call();
    chat(&mut p, ChannelEvent::Open);
    p.wait(HELLO_WAIT);
    assert_eq!(shown(&p).available, Some(false));
}

#[test]
fn a_fresh_link_keeps_the_history_and_ignores_the_old_channel() {
    let mut p = Page::in_call();
    chat(&mut p, ChannelEvent::Open);
    chat(&mut p, ChannelEvent::Text("1h".into()));
    chat(&mut p, ChannelEvent::Text("1mone".into()));
    let old = p.link;
    p.server(ServerMessage::Offer(offer("A2")));
    assert_ne!(p.link, old);
    p.feed(Input::Link(
        old,
        LinkInput::Chat(ChannelEvent::Text("1mstale".into())),
    ));
    let v = shown(&p);
    assert_eq!(v.entries.len(), 1);
    assert_eq!(
        v.available, None,
        "the new link's page must say hello again"
    );
    // A rejoin starts a fresh chat.
    p.feed(Input::HangUp);
    p.join("r1", "bob");
    assert!(shown(&p).entries.is_empty());
}

/// The release bundle's machine starts without the chat's code (it loads after the first
/// frame): the channel's events and the call connecting wait for it, in order, each at the
/// time it came. Then the hello goes out, the other page's hello counts and its message is in
/// the history, unread.
#[test]
fn chat_events_before_the_code_wait_for_it() {
    let mut p = Page::before_parts().called();
    assert_eq!(
        frames(&chat(&mut p, ChannelEvent::Open)),
        Vec::<String>::new()
    );
    chat(&mut p, ChannelEvent::Text("1h".into()));
    chat(&mut p, ChannelEvent::Text("1mearly".into()));
    p.feed(Input::SendChat("too soon".into()));
    assert_eq!(
        shown(&p),
        crate::call::ChatView::default(),
        "nothing to show yet"
    );
    p.wait(HELLO_WAIT);

    p.m.install_parts(crate::call::PartsCode::new());
    assert_eq!(frames(&p.drain()), ["1h", "1mtoo soon"]);
    let v = shown(&p);
    let texts: Vec<_> = v.entries.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts, ["early", "too soon"]);
    assert_eq!((v.available, v.unread, v.sent), (Some(true), 1, 1));
}

/// A fresh link before the code came: the old channel's hello and frames it queued do not go
/// out on the new one, and the old page's hello does not count for the new link, but what the
/// other person wrote on the old one stays in the history.
#[test]
fn held_chat_of_a_replaced_link_keeps_only_its_history() {
    let mut p = replaced_before_the_code(1);
    assert_eq!(shown(&p).entries.len(), 1);
    chat(&mut p, ChannelEvent::Text("1h".into()));
    assert_eq!(shown(&p).available, Some(true));
}

/// Before the chat's code: the old channel opens, the other page says hello and writes
/// `messages` times; then a fresh link, whose channel opens. Then the code comes: one hello goes
/// out, the new channel's, and the old page's hello does not count for the new link.
fn replaced_before_the_code(messages: usize) -> Page {
    let mut p = Page::before_parts().called();
    chat(&mut p, ChannelEvent::Open);
    chat(&mut p, ChannelEvent::Text("1h".into()));
    for _ in 0..messages {
        chat(&mut p, ChannelEvent::Text("1mold".into()));
    }
    p.server(ServerMessage::Offer(offer("A2")));
    chat(&mut p, ChannelEvent::Open);
    p.drain();

    p.m.install_parts(crate::call::PartsCode::new());
    assert_eq!(frames(&p.drain()), ["1h"], "one hello, the new channel's");
    assert_eq!(
        shown(&p).available,
        None,
        "the new link's page must say hello again"
    );
    p
}

/// Without the hello, the wait that began when the call connected runs out as it would have:
/// replayed at the time it came, the deadline is already past.
#[test]
fn a_held_call_connect_still_ends_the_hello_wait() {
    let mut p = Page::before_parts().called();
    chat(&mut p, ChannelEvent::Open);
    p.wait(HELLO_WAIT);
    p.m.install_parts(crate::call::PartsCode::new());
    assert_eq!(shown(&p).available, None, "not yet looked at the clock");
    p.wait(Duration::ZERO);
    assert_eq!(shown(&p).available, Some(false));
}

/// A flood of frames before the code came fills what is kept, but not what says where the
/// channels stand: a fresh link after it still closes the old channel in the replay, and the
/// only hello that goes out is the new channel's.
#[test]
fn a_flood_before_the_code_does_not_hide_a_replaced_channel() {
    let p = replaced_before_the_code(100);
    let kept = shown(&p).entries.len();
    assert!(kept < 100, "not every frame of the flood is kept: {kept}");
}
