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

fn chat(p: &mut Page, ev: ChannelEvent) -> Vec<Action> {
    p.link(LinkInput::Chat(ev))
}

#[test]
fn hello_then_messages_both_ways() {
    let mut p = Page::in_call();
    assert_eq!(frames(&chat(&mut p, ChannelEvent::Open)), ["1h"]);
    assert_eq!(p.m.chat_view().available, None, "no hello from them yet");
    chat(&mut p, ChannelEvent::Text("1h".into()));
    assert_eq!(p.m.chat_view().available, Some(true));
    assert_eq!(
        frames(&p.feed(Input::SendChat("hi <b>x</b>".into()))),
        ["1mhi <b>x</b>"]
    );
    chat(&mut p, ChannelEvent::Text("1mback".into()));
    let v = p.m.chat_view();
    let texts: Vec<_> = v.entries.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts, ["hi <b>x</b>", "back"]);
    assert_eq!((v.unread, v.sent, v.error), (1, 1, None));
    p.feed(Input::ChatPanel(true));
    assert_eq!(p.m.chat_view().unread, 0);
}

#[test]
fn a_refused_message_says_why_and_sends_nothing() {
    let mut p = Page::in_call();
    chat(&mut p, ChannelEvent::Open);
    chat(&mut p, ChannelEvent::Text("1h".into()));
    let a = p.feed(Input::SendChat("x".repeat(2001)));
    assert_eq!(frames(&a), Vec::<String>::new());
    let v = p.m.chat_view();
    assert!(
        v.error.as_deref().is_some_and(|e| e.contains("2001")),
        "{v:?}"
    );
    assert_eq!(v.sent, 0);
    chat(&mut p, ChannelEvent::Binary);
    chat(&mut p, ChannelEvent::Oversized);
    assert_eq!(
        p.m.chat_view().entries.len(),
        2,
        "two notices, nothing lost"
    );
}

#[test]
fn a_page_without_a_chat_is_noticed_after_the_call_connects() {
    let mut p = Page::in_call();
    chat(&mut p, ChannelEvent::Open);
    p.wait(HELLO_WAIT);
    assert_eq!(p.m.chat_view().available, Some(false));
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
    let v = p.m.chat_view();
    assert_eq!(v.entries.len(), 1);
    assert_eq!(
        v.available, None,
        "the new link's page must say hello again"
    );
    // A rejoin starts a fresh chat.
    p.feed(Input::HangUp);
    p.join("r1", "bob");
    assert!(p.m.chat_view().entries.is_empty());
}
