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
