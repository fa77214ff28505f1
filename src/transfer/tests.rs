//! Two [`Transfers`] over a simulated ordered channel with a bandwidth, fake time, and pages
//! that do what the actions say with real bytes, so content, memory and cleanup are checked.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use super::*;

const STEP: Duration = Duration::from_millis(10);

enum Msg {
    Text(String),
    Bin(Vec<u8>),
}

#[derive(Default)]
struct Page {
    m: Transfers,
    files: HashMap<u32, Vec<u8>>,
    slice: Option<(u32, u64, u64)>,
    pending_read: Option<(u32, u64, u64)>,
    kept: Vec<u8>,
    assembled: Vec<(u64, Vec<u8>)>,
    discarded: Vec<u64>,
    wire: VecDeque<Msg>,
    buffered: u64,
    max_buffered: u64,
    max_held: u64,
    max_read: u64,
    stray: u64,
    /// Bytes the simulated link may still carry from this page (a token bucket).
    credit: u64,
}

impl Page {
    fn send(&mut self, data: Vec<u8>, now: Duration) -> u32 {
        let id = self
            .m
            .send_file("data.bin", data.len() as u64, "application/x-test", now)
            .unwrap();
        self.files.insert(id, data);
        self.run(now);
        id
    }

    /// Does what the machine asks, then reports bufferedAmount, until it asks nothing more.
    fn run(&mut self, now: Duration) {
        loop {
            let mut any = false;
            while let Some(a) = self.m.poll_action() {
                any = true;
                self.act(a);
            }
            if !any {
                break;
            }
            self.m.handle(Input::Buffered(self.buffered), now);
        }
    }

    fn act(&mut self, a: Action) {
        match a {
            Action::Text(t) => {
                self.buffered += t.len() as u64;
                self.wire.push_back(Msg::Text(t));
            }
            Action::Read { id, start, end } => {
                assert!(self.pending_read.is_none(), "one read at a time");
                assert!(end - start <= READ_BYTES);
                self.max_read = self.max_read.max(end - start);
                self.pending_read = Some((id, start, end));
            }
            Action::Chunk { id, start, end } => {
                let (sid, s, e) = self.slice.expect("a chunk of a slice that was read");
                assert!(sid == id && s <= start && end <= e && end - start <= CHUNK_BYTES);
                let bytes = self.files[&id][start as usize..end as usize].to_vec();
                self.buffered += bytes.len() as u64;
                self.wire.push_back(Msg::Bin(bytes));
            }
            Action::Release(id) => {
                self.files.remove(&id);
                if self.slice.is_some_and(|s| s.0 == id) {
                    self.slice = None;
                }
            }
            Action::Assemble(key) => self.assembled.push((key, std::mem::take(&mut self.kept))),
            Action::Discard(key) => {
                self.kept.clear();
                self.discarded.push(key);
            }
        }
        self.max_buffered = self.max_buffered.max(self.buffered);
        let slice = self.slice.map_or(0, |s| s.2 - s.1);
        self.max_held = self.max_held.max(self.buffered + slice);
    }

    /// The read asked for completes (the browser's arrayBuffer() resolved).
    fn finish_read(&mut self, now: Duration) {
        if let Some((id, start, end)) = self.pending_read.take() {
            self.slice = Some((id, start, end));
            self.m.handle(Input::Read { id, start, end }, now);
            self.run(now);
        }
    }

    fn receive(&mut self, msg: Msg, now: Duration) {
        match msg {
            Msg::Text(t) => self.m.handle(Input::Text(&t), now),
            Msg::Bin(b) => {
                if self.m.handle_chunk(b.len() as u64, now) {
                    self.kept.extend_from_slice(&b);
                } else {
                    self.stray += b.len() as u64;
                }
            }
        }
        self.run(now);
    }
}

/// Moves up to `bytes_per_step` from `from`'s channel buffer to `to`; fires
/// `bufferedamountlow` when the buffer falls to [`LOW_WATER`] from above.
fn carry(from: &mut Page, to: &mut Page, bytes_per_step: u64, now: Duration) {
    let before = from.buffered;
    from.credit = (from.credit + bytes_per_step).min(bytes_per_step + CHUNK_BYTES);
    loop {
        let len = match from.wire.front() {
            Some(Msg::Text(t)) => t.len() as u64,
            Some(Msg::Bin(b)) => b.len() as u64,
            None => break,
        };
        if len > from.credit {
            break;
        }
        let msg = from.wire.pop_front().unwrap();
        from.credit -= len;
        from.buffered -= len;
        to.receive(msg, now);
    }
    if before > LOW_WATER && from.buffered <= LOW_WATER {
        from.m.handle(Input::Buffered(from.buffered), now);
        from.run(now);
    }
}

fn tick(p: &mut Page, now: Duration) {
    if p.m.poll_timeout().is_some_and(|t| now >= t) {
        p.m.handle_timeout(now);
    }
    p.finish_read(now);
}

/// Two open pages.
fn pair() -> (Page, Page) {
    let (mut a, mut b) = (Page::default(), Page::default());
    a.m.handle(Input::ChannelOpen, Duration::ZERO);
    b.m.handle(Input::ChannelOpen, Duration::ZERO);
    (a, b)
}

/// Runs the link at 2 MB/s each way until `until` says stop or 60 s pass; returns the time.
fn run_until(
    a: &mut Page,
    b: &mut Page,
    mut now: Duration,
    mut until: impl FnMut(&Page, &Page, Duration) -> bool,
) -> Duration {
    let limit = now + Duration::from_secs(60);
    while !until(a, b, now) {
        assert!(now < limit, "stuck");
        now += STEP;
        tick(a, now);
        tick(b, now);
        carry(a, b, 20_000, now);
        carry(b, a, 20_000, now);
    }
    now
}

fn data(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn state(p: &Page, i: usize) -> State {
    p.m.list()[i].state
}

#[test]
fn five_megabytes_arrive_intact_with_bounded_sender_memory() {
    let (mut a, mut b) = pair();
    let file = data(5 * 1024 * 1024 + 123);
    a.send(file.clone(), Duration::ZERO);
    let mut speed_seen = 0;
    let now = run_until(&mut a, &mut b, Duration::ZERO, |a, b, _| {
        if let Some(t) = b.m.list().first() {
            speed_seen = speed_seen.max(t.rate.bytes_per_s());
        }
        a.m.list().first().is_some_and(|t| !t.is_live())
    });
    let (sent, got) = (&a.m.list()[0], &b.m.list()[0]);
    assert_eq!(sent.state, State::Complete);
    assert_eq!(got.state, State::Complete);
    assert_eq!(
        (got.name.as_str(), got.mime.as_str()),
        ("data.bin", "application/x-test")
    );
    assert_eq!(
        (sent.done, got.done),
        (file.len() as u64, file.len() as u64)
    );
    assert_eq!(b.assembled.len(), 1);
    assert!(b.assembled[0].1 == file, "same bytes");
    assert!(
        a.files.is_empty() && a.slice.is_none(),
        "sender let go of the file"
    );
    // Memory: the channel never held more than the high-water mark and a chunk, and the page
    // never more than that and one slice.
    assert!(
        a.max_buffered <= HIGH_WATER + CHUNK_BYTES,
        "{}",
        a.max_buffered
    );
    assert!(
        a.max_held <= HIGH_WATER + CHUNK_BYTES + READ_BYTES,
        "{}",
        a.max_held
    );
    assert_eq!(a.max_read, READ_BYTES);
    // 2 MB/s link: about 2.6 s, and the speed shown was about the link's.
    assert!(now < Duration::from_secs(4), "{now:?}");
    assert!(
        (1_500_000..=2_500_000).contains(&speed_seen),
        "{speed_seen}"
    );
    assert_eq!(sent.status(), "Sent");
    assert_eq!(got.status(), "Received");
    // Nothing moves: no more ticks.
    assert_eq!(a.m.poll_timeout(), None);
    assert_eq!(b.m.poll_timeout(), None);
}

#[test]
fn sender_cancels_midway_and_both_sides_are_clean() {
    let (mut a, mut b) = pair();
    a.send(data(5_000_000), Duration::ZERO);
    let now = run_until(&mut a, &mut b, Duration::ZERO, |_, b, _| {
        b.m.list().first().is_some_and(|t| t.done > 1_000_000)
    });
    let key = a.m.list()[0].key;
    a.m.handle(Input::Cancel(key), now);
    a.run(now);
    assert_eq!(state(&a, 0), State::Cancelled { by_me: true });
    assert!(a.files.is_empty() && a.slice.is_none());
    let now = run_until(&mut a, &mut b, now, |a, b, _| {
        a.wire.is_empty() && b.wire.is_empty()
    });
    assert_eq!(state(&b, 0), State::Cancelled { by_me: false });
    assert!(b.kept.is_empty() && b.assembled.is_empty());
    assert_eq!(b.discarded, [b.m.list()[0].key]);
    // The next file after a cancel arrives whole.
    let next = data(300_000);
    a.send(next.clone(), now);
    run_until(&mut a, &mut b, now, |a, _, _| !a.m.list()[1].is_live());
    assert_eq!(state(&b, 1), State::Complete);
    assert!(b.assembled[0].1 == next);
}

#[test]
fn receiver_cancels_midway_and_late_bytes_are_dropped() {
    let (mut a, mut b) = pair();
    a.send(data(5_000_000), Duration::ZERO);
    let now = run_until(&mut a, &mut b, Duration::ZERO, |_, b, _| {
        b.m.list().first().is_some_and(|t| t.done > 1_000_000)
    });
    let key = b.m.list()[0].key;
    b.m.handle(Input::Cancel(key), now);
    b.run(now);
    assert_eq!(state(&b, 0), State::Cancelled { by_me: true });
    assert!(b.kept.is_empty());
    let now = run_until(&mut a, &mut b, now, |a, b, _| {
        a.wire.is_empty() && b.wire.is_empty()
    });
    assert_eq!(state(&a, 0), State::Cancelled { by_me: false });
    assert!(a.files.is_empty() && a.slice.is_none());
    assert!(
        b.stray > 0,
        "bytes in flight at the cancel were dropped, not kept"
    );
    assert!(b.kept.is_empty() && b.assembled.is_empty());
    let next = data(40_000);
    a.send(next.clone(), now);
    run_until(&mut a, &mut b, now, |a, _, _| !a.m.list()[1].is_live());
    assert!(b.assembled[0].1 == next);
}

#[test]
fn queued_files_go_one_after_the_other_and_an_empty_file_works() {
    let (mut a, mut b) = pair();
    let files = [data(700_000), Vec::new(), data(33_333)];
    for f in &files {
        a.send(f.clone(), Duration::ZERO);
    }
    assert_eq!(state(&a, 1), State::Queued);
    run_until(&mut a, &mut b, Duration::ZERO, |a, _, _| {
        a.m.list().iter().all(|t| !t.is_live())
    });
    assert!(b.m.list().iter().all(|t| t.state == State::Complete));
    let got: Vec<&Vec<u8>> = b.assembled.iter().map(|(_, d)| d).collect();
    assert_eq!(got, files.iter().collect::<Vec<_>>());
}

#[test]
fn cancelling_a_queued_file_tells_nobody() {
    let (mut a, mut b) = pair();
    a.send(data(100_000), Duration::ZERO);
    a.send(data(100_000), Duration::ZERO);
    let key = a.m.list()[1].key;
    a.m.handle(Input::Cancel(key), Duration::ZERO);
    a.run(Duration::ZERO);
    run_until(&mut a, &mut b, Duration::ZERO, |a, _, _| {
        !a.m.list()[0].is_live()
    });
    assert_eq!(b.m.list().len(), 1, "the other page never heard of it");
    assert_eq!(state(&a, 1), State::Cancelled { by_me: true });
}

#[test]
fn hostile_senders_are_refused_and_nothing_else_breaks() {
    let (_, mut b) = pair();
    let now = Duration::ZERO;
    // Bytes with no offer are dropped.
    assert!(!b.m.handle_chunk(100, now));
    // Garbage frames change nothing.
    for t in ["", "hello", "1o1", "1zz", "2o1\n1\na/b\nx", "1d99"] {
        b.m.handle(Input::Text(t), now);
    }
    assert!(b.m.list().is_empty() && b.m.poll_action().is_none());
    // Too large: refused at once.
    let huge = Control::Offer {
        id: 1,
        size: MAX_FILE_BYTES + 1,
        mime: "a/b".into(),
        name: "x".into(),
    };
    b.m.handle(Input::Text(&huge.encode()), now);
    assert_eq!(state(&b, 0), State::Failed(Failure::TooLarge));
    assert_eq!(
        b.m.poll_action(),
        Some(Action::Text(Control::Refuse(1, Refusal::TooLarge).encode()))
    );
    assert!(!b.m.handle_chunk(10, now));
    // More bytes than offered: refused, discarded.
    let offer = |id: u32, size: u64| {
        Control::Offer {
            id,
            size,
            mime: "a/b".into(),
            name: "x".into(),
        }
        .encode()
    };
    b.m.handle(Input::Text(&offer(2, 10)), now);
    assert!(b.m.handle_chunk(6, now));
    assert!(!b.m.handle_chunk(6, now));
    assert_eq!(state(&b, 1), State::Failed(Failure::Malformed));
    assert_eq!(b.m.poll_action(), Some(Action::Discard(b.m.list()[1].key)));
    assert_eq!(
        b.m.poll_action(),
        Some(Action::Text(
            Control::Refuse(2, Refusal::Malformed).encode()
        ))
    );
    // Done with bytes missing.
    b.m.handle(Input::Text(&offer(3, 10)), now);
    assert!(b.m.handle_chunk(4, now));
    b.m.handle(Input::Text(&Control::Done(3).encode()), now);
    assert_eq!(state(&b, 2), State::Failed(Failure::Malformed));
    // A new offer in the middle of one: the first fails, the second proceeds.
    b.m.handle(Input::Text(&offer(4, 10)), now);
    b.m.handle(Input::Text(&offer(5, 3)), now);
    assert_eq!(state(&b, 3), State::Failed(Failure::Malformed));
    assert!(b.m.handle_chunk(3, now));
    b.m.handle(Input::Text(&Control::Done(5).encode()), now);
    assert_eq!(state(&b, 4), State::Complete);
}

#[test]
fn a_closed_channel_fails_everything_live_and_lets_go() {
    let (mut a, mut b) = pair();
    a.send(data(2_000_000), Duration::ZERO);
    a.send(data(10), Duration::ZERO);
    let now = run_until(&mut a, &mut b, Duration::ZERO, |_, b, _| {
        b.m.list().first().is_some_and(|t| t.done > 100_000)
    });
    a.m.handle(Input::ChannelClosed, now);
    a.run(now);
    b.m.handle(Input::ChannelClosed, now);
    b.run(now);
    assert!(
        a.m.list()
            .iter()
            .all(|t| t.state == State::Failed(Failure::Closed))
    );
    assert_eq!(state(&b, 0), State::Failed(Failure::Closed));
    assert!(a.files.is_empty() && b.kept.is_empty());
    assert_eq!(a.m.poll_timeout(), None);
    assert_eq!(a.m.send_file("x", 1, "", now), Err(SendError::NotConnected));
}

#[test]
fn unreadable_file_fails_and_the_receiver_is_told() {
    let (mut a, mut b) = pair();
    let id = a.send(data(1_000_000), Duration::ZERO);
    a.pending_read = None;
    a.m.handle(Input::ReadFailed(id), Duration::ZERO);
    a.run(Duration::ZERO);
    assert_eq!(state(&a, 0), State::Failed(Failure::Unreadable));
    run_until(&mut a, &mut b, Duration::ZERO, |a, _, _| a.wire.is_empty());
    assert_eq!(state(&b, 0), State::Cancelled { by_me: false });
    let mut p = Transfers::new();
    p.handle(Input::ChannelOpen, Duration::ZERO);
    assert_eq!(
        p.send_file("big", MAX_FILE_BYTES + 1, "", Duration::ZERO),
        Err(SendError::TooLarge)
    );
}

#[test]
fn status_in_words() {
    let mut t = Transfer {
        key: 1,
        id: 1,
        direction: Direction::Receive,
        name: "a".into(),
        mime: "a/b".into(),
        size: 5_000_000,
        done: 1_200_000,
        rate: Rate::default(),
        state: State::Active,
    };
    assert_eq!(t.status(), "1.2 MB of 5.0 MB");
    t.rate.sample(Duration::ZERO, 0);
    t.rate.sample(Duration::from_secs(1), 800_000);
    assert_eq!(t.status(), "1.2 MB of 5.0 MB · 800.0 kB/s");
    t.state = State::Cancelled { by_me: false };
    assert_eq!(t.status(), "Cancelled by the other person");
    t.state = State::Failed(Failure::Closed);
    assert!(t.status().contains("connection closed"));
}
