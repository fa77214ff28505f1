//! A Duet page against a hostile signaling server (issue 16): the server (`duet_e2e::hostile`)
//! gets two real pages into a call and relays it, then sends one of them garbage. Everything a
//! page receives comes from a server it does not control; a panic in wasm would end the app.
//!
//! Checked after every attack: nothing "panicked at" or "unreachable" in the console, the page
//! answers a click and a key (the microphone button and `m`), and either the call's media keeps
//! playing (harmless garbage) or the page says in words that the call cannot go on and shows a
//! way out (the join form, or the hang-up button).
//!
//!   cargo test -p duet-e2e --test hostile [-- NAME]

use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use duet_e2e::hostile::{HostileServer, Out};
use duet_e2e::probes::describe;
use duet_e2e::{Page, Permission, Test, ensure, run};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use serde_json::{Value, json};

/// Page load, wasm start, media, signaling and ICE on a busy 2-core machine.
const CALL_WITHIN: Duration = Duration::from_secs(30);
/// A page reaction that should be prompt.
const REACT_WITHIN: Duration = Duration::from_secs(10);

/// Two Duet pages in a call relayed by the hostile server; returns them with their sids.
async fn call(
    t: &mut Test,
    server: &HostileServer,
) -> Result<(Rc<Page>, String, Rc<Page>, String)> {
    let a = t.launch("alice", Permission::Grant).await?;
    a.goto(&server.page_url("r1", "alice")).await?;
    a.wait_state(&["waiting"], CALL_WITHIN).await?;
    let b = t.launch("bob", Permission::Grant).await?;
    b.goto(&server.page_url("r1", "bob")).await?;
    for p in [&a, &b] {
        p.wait_state(&["connected"], CALL_WITHIN).await?;
        p.wait_playing(CALL_WITHIN).await?;
    }
    let members = server.members();
    ensure(members.len() == 2, || format!("members: {members:?}"))?;
    Ok((a, members[0].clone(), b, members[1].clone()))
}

/// Fails when the page's console shows a wasm panic since the last call (chromedriver hands
/// each entry out once), or the page's own record of its console does.
async fn no_panic(page: &Page, after: &str) -> Result<()> {
    let mut lines = page.browser.console_log().await?;
    let own = page
        .eval("return window.__e2e ? window.__e2e.console : [];", vec![])
        .await?;
    lines.extend(
        own.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned),
    );
    let bad: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("panicked at") || l.contains("unreachable"))
        .collect();
    ensure(bad.is_empty(), || {
        format!("{}: wasm panic after {after}: {:?}", page.label, bad)
    })
}

/// The microphone button's `aria-pressed` ("true" when muted).
async fn mic_pressed(page: &Page) -> Result<String> {
    let v = page
        .eval(
            "const b = document.getElementById('mic'); return b ? b.getAttribute('aria-pressed') : null;",
            vec![],
        )
        .await?;
    Ok(v.as_str().unwrap_or("missing").to_owned())
}

async fn wait_mic(page: &Page, want: &str, how: &str) -> Result<()> {
    let deadline = Instant::now() + REACT_WITHIN;
    loop {
        let now = mic_pressed(page).await?;
        if now == want {
            return Ok(());
        }
        ensure(Instant::now() < deadline, || {
            format!(
                "{}: {how} did not toggle the microphone within {REACT_WITHIN:?} (aria-pressed {now})",
                page.label
            )
        })?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The page answers a click (mute) and a key (`m`, unmute), each within [`REACT_WITHIN`].
async fn answers_click_and_key(page: &Page) -> Result<()> {
    let before = mic_pressed(page).await?;
    ensure(before == "false", || {
        format!(
            "{}: microphone should be on, aria-pressed {before}",
            page.label
        )
    })?;
    page.click("#mic").await?;
    wait_mic(page, "true", "a click").await?;
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: 'm' })
        .then(KeyAction::Up { value: 'm' });
    page.browser
        .client()
        .perform_actions(keys)
        .await
        .context("key press")?;
    wait_mic(page, "false", "the key m").await
}

/// After harmless garbage: no panic, still `connected` and playing, answering input.
async fn survives(page: &Page, after: &str) -> Result<()> {
    no_panic(page, after).await?;
    let s = page
        .wait_state(&["connected"], REACT_WITHIN)
        .await
        .with_context(|| format!("after {after}"))?;
    // The page's own state now, not the 100 ms history, whose last sample may predate the
    // reconnection the garbage asked for.
    ensure(s.state.as_deref() == Some("connected"), || {
        format!("{}: after {after}: {}", page.label, describe(&s))
    })?;
    page.wait_playing(REACT_WITHIN)
        .await
        .with_context(|| format!("after {after}"))?;
    answers_click_and_key(page).await?;
    no_panic(page, after).await?;
    println!("  {} survived {after}", page.label);
    Ok(())
}

fn text(s: impl Into<String>) -> Out {
    Out::Text(s.into())
}

/// Malformed Engine.IO and Socket.IO frames, text and binary.
fn malformed_frames() -> Vec<Out> {
    let mut v: Vec<Out> = [
        "",
        "7",
        "9hello",
        "x",
        "b",
        "b4%%%",
        "3",
        "4",
        "40/",
        "41/nope,",
        "42",
        "42[",
        "42{}",
        "42[]",
        "42[1]",
        "42[null]",
        "42[\"getOffer\"",
        "43",
        "43[]",
        "44",
        "44\"x\"",
        "45",
        "45-[\"getOffer\",{\"_placeholder\":true,\"num\":0}]",
        "451-",
        "46-[]",
        "47",
        "4a",
        "4299999999999999999999999[\"x\"]",
        "42/other,[\"getOffer\",{}]",
        "6",
        "5",
    ]
    .into_iter()
    .map(text)
    .collect();
    // A binary event's header promising an attachment, then garbage and an unexpected binary.
    v.push(text("451-[\"getOffer\",{\"_placeholder\":true,\"num\":0}]"));
    v.push(Out::Binary(vec![0xff, 0xfe, 0x00]));
    v.push(Out::Binary(vec![4, 1, 2, 3]));
    v.push(Out::Binary(Vec::new()));
    v.push(Out::Binary(vec![0xde, 0xad]));
    // Last: frames after which the page must drop the transport and reconnect (a second open,
    // a broken one, an Engine.IO close with junk).
    v.extend(["0", "0{", "0{\"sid\":1}", "1x"].map(text));
    v
}

/// Events of the wrong shape, a 10 MB SDP and JSON nested 10,000 deep.
fn wrong_types() -> Vec<Out> {
    let mut v = Vec::new();
    for name in [
        "getOffer",
        "getAnswer",
        "getCandidate",
        "all_users",
        "user_exit",
        "user_joined",
        "error",
    ] {
        for arg in [
            json!(1),
            Value::Null,
            json!([1, 2]),
            json!("x"),
            json!({}),
            json!({"type": 7}),
            json!(true),
        ] {
            v.push(HostileServer::event_frame(name, vec![arg]));
        }
        v.push(HostileServer::event_frame(name, vec![]));
    }
    let huge = "a".repeat(10 * 1024 * 1024);
    v.push(HostileServer::event_frame(
        "getOffer",
        vec![json!({"type": "offer", "sdp": huge})],
    ));
    let deep = format!(
        "42[\"getOffer\",{}1{}]",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    v.push(text(deep));
    let deep_object = format!(
        "42[\"getCandidate\",{}{}]",
        "{\"a\":".repeat(10_000),
        "1".to_owned() + &"}".repeat(10_000)
    );
    v.push(text(deep_object));
    v
}

/// Sends `frames` to `sid` spread evenly over `over` (all at once when zero).
async fn send_over(
    server: &HostileServer,
    sid: &str,
    frames: Vec<Out>,
    over: Duration,
) -> Result<()> {
    let n = frames.len().max(1) as u32;
    let step = over / n;
    let start = tokio::time::Instant::now();
    for (i, f) in frames.into_iter().enumerate() {
        server.send(sid, f)?;
        if !step.is_zero() {
            tokio::time::sleep_until(start + step * (i as u32 + 1)).await;
        }
    }
    Ok(())
}

async fn harmless_garbage_keeps_the_call(t: &mut Test) -> Result<()> {
    let server = HostileServer::start(t.site()).await?;
    let (a, _, b, _) = call(t, &server).await?;
    // Alice's current connection: some garbage (an Engine.IO close, a second open) makes the
    // page reconnect and rejoin, which is the protocol's answer and must not end the call.
    let alice = || server.wait_joined("alice", REACT_WITHIN);

    server.send_many(&alice().await?, malformed_frames())?;
    survives(&a, "malformed Engine.IO and Socket.IO frames").await?;

    server.send_many(&alice().await?, wrong_types())?;
    survives(
        &a,
        "events of the wrong types, a 10 MB SDP and JSON nested 10,000 deep",
    )
    .await?;

    // 10,000 candidates in a second: half well formed for addresses nobody answers on, half
    // lines the browser refuses.
    let candidates = (0..10_000)
        .map(|i| {
            let line = if i % 2 == 0 {
                format!(
                    "candidate:{i} 1 udp 2122260223 192.0.2.{} {} typ host",
                    i % 250 + 1,
                    10_000 + i
                )
            } else {
                format!("candidate:garbage {i}")
            };
            HostileServer::event_frame(
                "getCandidate",
                vec![json!({"candidate": line, "sdpMid": "0", "sdpMLineIndex": 0})],
            )
        })
        .collect();
    send_over(&server, &alice().await?, candidates, Duration::from_secs(1)).await?;
    survives(&a, "10,000 candidates in a second").await?;

    server.send(
        &alice().await?,
        HostileServer::event_frame("user_exit", vec![json!({"id": "nobody-knows-me"})]),
    )?;
    survives(&a, "user_exit for an unknown id").await?;

    // A storm: 1,000 events a second for 10 s, of names the page does not know and of known
    // names with payloads it must drop.
    let storm = (0..10_000)
        .map(|i| match i % 4 {
            0 => HostileServer::event_frame("storm", vec![json!(i)]),
            1 => HostileServer::event_frame("getAnswer", vec![json!(i)]),
            2 => text(format!("42[\"getCandidate\",{{\"candidate\":{i}}}]")),
            _ => text("4garbage"),
        })
        .collect();
    send_over(&server, &alice().await?, storm, Duration::from_secs(10)).await?;
    survives(&a, "a storm of 1,000 events a second for 10 s").await?;
    // The other side of the call never saw any of it and still plays.
    survives(&b, "its partner's storm").await?;
    Ok(())
}

async fn what_cannot_go_on_is_said_with_a_way_out(t: &mut Test) -> Result<()> {
    let server = HostileServer::start(t.site()).await?;
    let (a, sa, _b, _) = call(t, &server).await?;

    // An offer the browser refuses (a glare-free renegotiation that cannot be parsed): the
    // running call is not touched by it.
    server.send(
        &sa,
        HostileServer::event_frame(
            "getOffer",
            vec![json!({"type": "offer", "sdp": "v=0\r\nthis is not SDP\r\n"})],
        ),
    )?;
    server.send(
        &sa,
        HostileServer::event_frame(
            "getAnswer",
            vec![json!({"type": "answer", "sdp": "v=0\r\nnor this\r\n"})],
        ),
    )?;
    survives(&a, "an SDP the browser rejects").await?;

    // room_full in the middle of a call: the page says so and shows the join form.
    server.send(&sa, HostileServer::event_frame("room_full", vec![]))?;
    let s = a.wait_state(&["room-full"], REACT_WITHIN).await?;
    no_panic(&a, "room_full mid-call").await?;
    ensure(
        s.status_text.as_deref().is_some_and(|t| t.contains("full")),
        || format!("room_full should be said in words: {}", describe(&s)),
    )?;
    a.browser
        .client()
        .find(fantoccini::Locator::Css("#join"))
        .await
        .context("room_full: the join form should be the way out")?;

    // The way out works: joining again through the form reaches the server.
    let joins = server.received("join_room");
    a.click("#join").await?;
    let deadline = Instant::now() + REACT_WITHIN;
    while server.received("join_room") == joins {
        ensure(Instant::now() < deadline, || {
            "the join form sent no join_room".to_owned()
        })?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    no_panic(&a, "joining again").await?;
    Ok(())
}

async fn a_crowd_and_a_final_disconnect(t: &mut Test) -> Result<()> {
    let server = HostileServer::start(t.site()).await?;
    let a = t.launch("alice", Permission::Grant).await?;
    a.goto(&server.page_url("r1", "alice")).await?;
    a.wait_state(&["waiting"], CALL_WITHIN).await?;
    let sa = server.wait_members(1, REACT_WITHIN).await?[0].clone();

    // all_users with 1,000 entries: nobody behind them will ever answer.
    let users: Vec<Value> = (0..1000)
        .map(|i| json!({"id": format!("ghost{i}"), "email": format!("ghost {i}")}))
        .collect();
    server.send(
        &sa,
        HostileServer::event_frame("all_users", vec![Value::Array(users)]),
    )?;
    let s = a
        .wait_for("saying what it is doing", REACT_WITHIN, |s| {
            s.state.as_deref().is_some_and(|st| st != "waiting")
                && s.status_text.as_deref().is_some_and(|t| !t.is_empty())
        })
        .await?;
    no_panic(&a, "all_users with 1,000 entries").await?;
    println!("  alice after 1,000 users: {}", describe(&s));
    answers_click_and_key(&a).await?;
    // The way out: hang up, back to the join form.
    a.click("#hangup").await?;
    a.wait_state(&["idle"], REACT_WITHIN).await?;
    a.browser
        .client()
        .find(fantoccini::Locator::Css("#joinform"))
        .await
        .context("after hanging up, the join form")?;
    no_panic(&a, "hanging up on the crowd").await?;

    // A Socket.IO disconnect from the server is final: said in words, with the form.
    a.click("#join").await?;
    a.wait_state(&["waiting", "connecting"], CALL_WITHIN)
        .await?;
    let sa = server.wait_members(1, REACT_WITHIN).await?[0].clone();
    server.send(&sa, text("41"))?;
    let s = a.wait_state(&["error"], REACT_WITHIN).await?;
    no_panic(&a, "a server disconnect").await?;
    ensure(s.problem.as_deref().is_some_and(|p| !p.is_empty()), || {
        format!("the disconnect should be explained: {}", describe(&s))
    })?;
    a.browser
        .client()
        .find(fantoccini::Locator::Css("#joinform"))
        .await
        .context("after a server disconnect, the join form")?;
    Ok(())
}

/// How long the page gives config.json (src/config.rs), and what a page's set-up may add.
const CONFIG_DEADLINE: Duration = Duration::from_secs(5);

/// A config server that never answers holds no page in `joining`: the page gives up on
/// config.json at its deadline (the browser closes the request), says so in the console, and
/// goes on with the default ICE servers. Alone in its room it opens no peer connection, so the
/// default STUN server is never contacted.
async fn a_config_that_never_comes_holds_nothing_up(t: &mut Test) -> Result<()> {
    let server = HostileServer::start(t.site()).await?;
    server.hang_config();
    let a = t.launch("alice", Permission::Grant).await?;
    let started = Instant::now();
    a.goto(&format!("{}/?room=r1&name=alice", server.origin()))
        .await?;
    a.wait_state(&["waiting"], CALL_WITHIN + CONFIG_DEADLINE)
        .await?;
    println!("  waiting after {:?}", started.elapsed());
    ensure(server.config_abandoned() == 1, || {
        format!(
            "the page should have closed its one config.json request, closed {}",
            server.config_abandoned()
        )
    })?;
    no_panic(&a, "a config.json that never came").await?;
    let lines = a
        .eval("return window.__e2e ? window.__e2e.console : [];", vec![])
        .await?;
    let said = lines
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|l| l.contains("warn: config.json timed out"));
    ensure(said, || {
        format!("alice: no word of the timeout in the console: {lines}")
    })?;
    answers_click_and_key(&a).await
}

macro_rules! scenario {
    ($name:ident, $body:expr) => {
        #[tokio::test]
        async fn $name() {
            run(stringify!($name), |t| Box::pin($body(t))).await;
        }
    };
}

scenario!(
    hostile_garbage_keeps_the_call,
    harmless_garbage_keeps_the_call
);
scenario!(
    hostile_rejected_sdp_and_room_full_mid_call,
    what_cannot_go_on_is_said_with_a_way_out
);
scenario!(
    hostile_crowd_and_server_disconnect,
    a_crowd_and_a_final_disconnect
);
scenario!(
    hostile_config_that_never_comes,
    a_config_that_never_comes_holds_nothing_up
);
