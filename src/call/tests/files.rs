//! File transfer as the call machine's inputs and actions: a file is
//! offered on the file channel and read slice by slice, chunks from a replaced link are
//! dropped, and a fresh link fails what was moving.

use super::*;
use crate::transfer::{Action as T, Direction, State};

fn files(actions: &[Action]) -> Vec<T> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Files(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn file_channel(p: &mut Page, ev: FilesEvent) -> Vec<Action> {
    p.link(LinkInput::Files(ev))
}

#[test]
fn a_file_is_offered_then_read_a_slice_at_a_time() {
    let mut p = Page::in_call();
    assert!(
        p.m.send_file("a.txt", 10, "text/plain", p.now).is_err(),
        "no channel yet"
    );
    file_channel(&mut p, FilesEvent::Open);
    let id =
        p.m.send_file("a.txt", 10, "text/plain", p.now)
            .expect("channel open");
    let a = files(&p.drain());
    assert!(
        matches!(a.first(), Some(T::Text(_))),
        "the offer frame first: {a:?}"
    );
    assert!(
        a.contains(&T::Read {
            id,
            start: 0,
            end: 10
        }),
        "{a:?}"
    );
    let t = &p.m.transfers()[0];
    assert_eq!((t.direction, t.size), (Direction::Send, 10));
}

#[test]
fn chunks_of_a_replaced_link_are_dropped_and_a_fresh_link_fails_what_moved() {
    let mut p = Page::in_call();
    file_channel(&mut p, FilesEvent::Open);
    p.m.send_file("a.bin", 1_000_000, "", p.now).unwrap();
    p.drain();
    let old = p.link;
    p.server(ServerMessage::Offer(offer("A2")));
    assert!(
        !p.m.take_chunk(old, 16_384, p.now),
        "a chunk from the old link"
    );
    assert!(
        matches!(p.m.transfers()[0].state, State::Failed(_)),
        "{:?}",
        p.m.transfers()[0].state
    );
}

/// The release bundle's machine starts without the transfers' code (it loads after the first
/// frame): the file channel's events wait for it, in order, and nothing is lost.
#[test]
fn file_events_before_the_transfers_code_wait_for_it() {
    let mut p = Page::in_call();
    p.m.parts_code = None;
    let offer = crate::transfer::wire::Control::Offer {
        id: 7,
        size: 5,
        mime: "text/plain".into(),
        name: "a.txt".into(),
    }
    .encode();
    file_channel(&mut p, FilesEvent::Open);
    let before = files(&file_channel(&mut p, FilesEvent::Text(offer)));
    assert!(
        before.is_empty(),
        "no transfer without its code: {before:?}"
    );
    assert!(p.m.transfers().is_empty());
    let mut shown = Vec::new();
    assert!(!p.m.show_transfers(&mut shown), "nothing to show yet");
    assert!(
        p.m.send_file("b.txt", 3, "", p.now).is_err(),
        "the channel is not open to transfers that have not seen it"
    );

    p.m.install_parts(crate::call::PartsCode::new());
    let t = &p.m.transfers()[0];
    assert_eq!((t.direction, t.size), (Direction::Receive, 5));
    assert!(
        p.m.show_transfers(&mut shown),
        "the replayed offer is shown"
    );
    assert_eq!(shown, p.m.transfers());
    assert!(
        !p.m.show_transfers(&mut shown),
        "and not copied again unchanged"
    );
    let id =
        p.m.send_file("b.txt", 3, "", p.now)
            .expect("the open channel, replayed");
    assert!(files(&p.drain()).contains(&T::Read {
        id,
        start: 0,
        end: 3
    }));
}

/// Events of a channel that was replaced before the code came are not replayed.
#[test]
fn held_file_events_of_a_replaced_link_are_dropped() {
    let mut p = Page::in_call();
    p.m.parts_code = None;
    file_channel(&mut p, FilesEvent::Open);
    p.server(ServerMessage::Offer(offer("A2")));
    p.m.install_parts(crate::call::PartsCode::new());
    assert!(
        p.m.send_file("b.txt", 3, "", p.now).is_err(),
        "the old link's open channel is gone"
    );
}

/// The code, once there, is not call state: a hang-up keeps it for the next call.
#[test]
fn the_transfers_code_stays_across_a_hang_up() {
    let mut p = Page::in_call();
    p.feed(Input::HangUp);
    assert!(p.m.parts_code.is_some());
}
