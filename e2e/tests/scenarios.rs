//! The end-to-end scenarios of issue 5, each with its own servers and browsers. Every call is
//! checked on media, from the other side: the remote `<video>` has a size, its time and frames
//! advance, its picture is not black and its sound carries the fake microphone's beeps.
//!
//! Run one or a few with cargo's name filter (a substring of the test name):
//!   cargo test -p duet-e2e --test scenarios -- room_full
//!   cargo test -p duet-e2e --test scenarios -- through_seed_server --nocapture

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use duet_e2e::probes::describe;
use duet_e2e::{App, Page, Permission, ServerKind, Snapshot, Test, ensure, page_url, run};

/// Page load, wasm start, media, signaling and ICE on a busy 2-core machine.
const CALL_WITHIN: Duration = Duration::from_secs(30);
/// A state change the page should show promptly.
const STATE_WITHIN: Duration = Duration::from_secs(15);

/// Calls between `first` and `second` (joining in that order) through `kind`, and checks
/// that each plays the other; Duet pages must also say `connected`.
async fn call(t: &mut Test, kind: ServerKind, first: App, second: App) -> Result<()> {
    let server = t.server(kind).await?;
    let a = t
        .open("first", first, &server, "room1", Permission::Grant)
        .await?;
    // The second page joins once the first is in the room, so the roles are known: the
    // second receives a non-empty `all_users` (and makes the offer, but see below).
    a.wait_in_room(first, CALL_WITHIN).await?;
    let b = t
        .open("second", second, &server, "room1", Permission::Grant)
        .await?;
    for (page, app) in [(&a, first), (&b, second)] {
        if app == App::Duet {
            page.wait_state(&["connected"], CALL_WITHIN).await?;
        }
        page.wait_playing(CALL_WITHIN).await?;
    }
    // Who offers: the joiner, as in the original; but two Duet pages through duet-server
    // (which relays the `warmOffer` capability) turn it round: the first offers as soon as it
    // hears `user_joined`, and the joiner only answers.
    let warm = kind == ServerKind::Duet && first == App::Duet && second == App::Duet;
    let (first_sends, second_sends) = if warm {
        ("offer", "answer")
    } else {
        ("answer", "offer")
    };
    // Duet speaks only WebSocket, so its page counts every event it sent.
    for (page, app, role, not) in [
        (&a, first, first_sends, second_sends),
        (&b, second, second_sends, first_sends),
    ] {
        if app == App::Duet {
            let s = page.snapshot(Duration::from_millis(100)).await?;
            let sent = |e: &str| s.sent.get(e).copied().unwrap_or(0);
            ensure(sent(role) >= 1 && sent(not) == 0, || {
                format!(
                    "{} should have sent the {role} and no {not}: {}",
                    page.label,
                    describe(&s)
                )
            })?;
        }
    }
    Ok(())
}

macro_rules! scenario {
    ($name:ident, $body:expr) => {
        #[tokio::test]
        async fn $name() {
            run(stringify!($name), |t| Box::pin($body(t))).await;
        }
    };
}

/// A [`call`] scenario: `server` relays, `first` joins, `second` joins; the joiner offers,
/// unless both are Duet through duet-server (the warm offer).
macro_rules! call_scenario {
    ($name:ident, $server:ident, $first:ident, $second:ident) => {
        scenario!($name, |t| call(
            t,
            ServerKind::$server,
            App::$first,
            App::$second
        ));
    };
}

// The harness and the peers, without the Duet frontend.
call_scenario!(seed_clients_through_seed_server, Seed, Seed, Seed);
call_scenario!(seed_clients_through_duet_server, Duet, Seed, Seed);

// 1, 2: Duet and Duet.
call_scenario!(duet_pair_through_duet_server, Duet, Duet, Duet);
call_scenario!(duet_pair_through_seed_server, Seed, Duet, Duet);

// 3: a Duet page and the seed's client, each server, each making the offer once.
call_scenario!(
    duet_answers_seed_client_through_duet_server,
    Duet,
    Duet,
    Seed
);
call_scenario!(
    duet_offers_to_seed_client_through_duet_server,
    Duet,
    Seed,
    Duet
);
call_scenario!(
    duet_answers_seed_client_through_seed_server,
    Seed,
    Duet,
    Seed
);
call_scenario!(
    duet_offers_to_seed_client_through_seed_server,
    Seed,
    Seed,
    Duet
);

/// Scenario 4: A third page is turned away with `room-full` and gets no media; the call goes on.
async fn room_full(t: &mut Test) -> Result<()> {
    let server = t.server(ServerKind::Duet).await?;
    let (a, b) = t.duet_pair(&server, "room1", CALL_WITHIN).await?;
    let c = t
        .open("carol", App::Duet, &server, "room1", Permission::Grant)
        .await?;
    let turned_away = c.wait_state(&["room-full"], STATE_WITHIN).await?;
    println!("  carol sees: {:?}", turned_away.status_text);
    // Give a wrongly admitted third party time to get media, then check it has none.
    let c_snap = c.watch(Duration::from_secs(3)).await?;
    ensure(
        c_snap.state.as_deref() == Some("room-full")
            && c_snap
                .remote
                .as_ref()
                .is_none_or(|v| v.width == 0 && v.tracks.is_empty()),
        || format!("carol got into the call: {}", describe(&c_snap)),
    )?;
    for p in [&a, &b] {
        let s = p.wait_playing(STATE_WITHIN).await?;
        ensure(s.state.as_deref() == Some("connected"), || {
            format!("{} left `connected`: {}", p.label, describe(&s))
        })?;
    }
    Ok(())
}
scenario!(room_full_turns_the_third_away, room_full);

/// Scenario 5: One page closes; the other notices; a new page joins and both play within 2 s of it
/// starting to signal.
async fn peer_leaves_and_new_joins(t: &mut Test, kind: ServerKind) -> Result<()> {
    let server = t.server(kind).await?;
    let (a, b) = t.duet_pair(&server, "room1", CALL_WITHIN).await?;
    t.close(&b).await?;
    // duet-server says `user_exit` at once; the seed's server never does, so there the page
    // must notice from its peer connection, which takes ICE's consent timeout.
    let notice_within = match kind {
        ServerKind::Duet => STATE_WITHIN,
        ServerKind::Seed => CALL_WITHIN,
    };
    let noticed = Instant::now();
    let left = a
        .wait_for("told that bob left", notice_within, |s| {
            matches!(s.state.as_deref(), Some("peer-left" | "waiting")) && s.remote_gone()
        })
        .await?;
    println!(
        "  alice sees after {:.1} s: {:?}",
        noticed.elapsed().as_secs_f64(),
        left.status_text
    );
    let c = t.launch("carol", Permission::Grant).await?;
    let loading = Instant::now();
    c.goto(&page_url(App::Duet, &server, "room1", "carol"))
        .await?;
    let signaling = c
        .wait_state(
            &["joining", "waiting", "connecting", "connected"],
            CALL_WITHIN,
        )
        .await?;
    let started = Instant::now();
    let first_frames =
        |s: &Snapshot| s.remote.as_ref().is_some_and(|v| v.width > 0) && s.new_frames > 0;
    a.wait_for("showing carol", CALL_WITHIN, first_frames)
        .await?;
    c.wait_for("showing alice", CALL_WITHIN, first_frames)
        .await?;
    let took = started.elapsed();
    println!(
        "  both show the other {:.2} s after carol reached {:?} ({:.2} s after her page began \
         loading)",
        took.as_secs_f64(),
        signaling.state,
        loading.elapsed().as_secs_f64()
    );
    for p in [&a, &c] {
        p.wait_state(&["connected"], STATE_WITHIN).await?;
        p.wait_playing(STATE_WITHIN).await?;
    }
    ensure(took <= Duration::from_secs(2), || {
        format!(
            "the new call took {:.2} s to show pictures (limit 2 s)",
            took.as_secs_f64()
        )
    })
}
scenario!(peer_leaves_and_a_new_one_joins, |t| {
    peer_leaves_and_new_joins(t, ServerKind::Duet)
});
scenario!(peer_leaves_and_a_new_one_joins_through_seed_server, |t| {
    peer_leaves_and_new_joins(t, ServerKind::Seed)
});

/// Scenario 6: Two rooms joined at the same moment: each page plays its own partner, and no relayed
/// message crossed rooms (every ICE fragment a page received was sent by its partner, and it
/// received exactly as many relays as its partner sent).
async fn two_rooms(t: &mut Test) -> Result<()> {
    let server = t.server(ServerKind::Duet).await?;
    let mut pages = Vec::new();
    for (label, room) in [
        ("a1", "roomA"),
        ("b1", "roomB"),
        ("a2", "roomA"),
        ("b2", "roomB"),
    ] {
        pages.push((t.launch(label, Permission::Grant).await?, room));
    }
    let urls: Vec<String> = pages
        .iter()
        .map(|(p, room)| page_url(App::Duet, &server, room, &p.label))
        .collect();
    let loads = pages.iter().zip(&urls).map(|((p, _), url)| p.goto(url));
    futures::future::try_join_all(loads).await?;
    for (p, _) in &pages {
        p.wait_state(&["connected"], CALL_WITHIN).await?;
        p.wait_playing(CALL_WITHIN).await?;
    }
    let pairs = [(&pages[0].0, &pages[2].0), (&pages[1].0, &pages[3].0)];
    for (x, y) in pairs {
        for (me, partner) in [(x, y), (y, x)] {
            // Read the receiver first, then the sender: anything the receiver has, the sender
            // has sent by then, so a fragment or a count the sender lacks came from elsewhere.
            // Counts may still be in flight, so they are compared until equal or a deadline.
            let deadline = Instant::now() + STATE_WITHIN;
            let (mine, theirs) = loop {
                let mine = me.snapshot(Duration::from_secs(1)).await?;
                let theirs = partner.snapshot(Duration::from_secs(1)).await?;
                if mine.relays_received() == theirs.relays_sent() || Instant::now() >= deadline {
                    break (mine, theirs);
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            };
            let sent: BTreeSet<_> = theirs.ufrags_sent.iter().collect();
            let foreign: Vec<_> = mine
                .ufrags_received
                .iter()
                .filter(|f| !sent.contains(f))
                .collect();
            ensure(
                foreign.is_empty() && !mine.ufrags_received.is_empty(),
                || {
                    format!(
                        "{} received ICE fragments {foreign:?} that {} never sent ({:?})",
                        me.label, partner.label, theirs.ufrags_sent
                    )
                },
            )?;
            ensure(mine.relays_received() == theirs.relays_sent(), || {
                format!(
                    "{} received {} relays but {} sent {}: messages crossed rooms or were lost",
                    me.label,
                    mine.relays_received(),
                    partner.label,
                    theirs.relays_sent()
                )
            })?;
            println!(
                "  {} received {} relays, all {} sent by {}",
                me.label,
                mine.relays_received(),
                theirs.relays_sent(),
                partner.label
            );
        }
    }
    Ok(())
}
scenario!(two_rooms_at_once_do_not_cross, two_rooms);

/// A control for scenario 6: the seed's server broadcasts every relay to every socket, so the
/// same check must see fragments from the other room there. Proves the check can fail.
async fn cross_room_control(t: &mut Test) -> Result<()> {
    let server = t.server(ServerKind::Seed).await?;
    let mut pages = Vec::new();
    for (label, room) in [
        ("a1", "roomA"),
        ("b1", "roomB"),
        ("a2", "roomA"),
        ("b2", "roomB"),
    ] {
        let page = t
            .open(label, App::Duet, &server, room, Permission::Grant)
            .await?;
        // One at a time, so each room has a first and a second (who offers).
        page.wait_for("in its room", CALL_WITHIN, |s| {
            s.received.contains_key("all_users")
        })
        .await?;
        pages.push(page);
    }
    // a1 is in roomA and so never hears from b1 or b2 on a room-scoped server.
    let a1 = &pages[0];
    let others: BTreeSet<String> = {
        let mut set = BTreeSet::new();
        for p in [&pages[1], &pages[3]] {
            set.extend(p.snapshot(Duration::from_secs(1)).await?.ufrags_sent);
        }
        set
    };
    let seen = a1
        .wait_for("receiving roomB's relays", CALL_WITHIN, |s| {
            s.ufrags_received.iter().any(|f| others.contains(f))
        })
        .await?;
    println!(
        "  a1 (roomA) received roomB fragments: {:?}",
        seen.ufrags_received
            .iter()
            .filter(|f| others.contains(*f))
            .collect::<Vec<_>>()
    );
    Ok(())
}
scenario!(
    cross_room_check_sees_the_seed_servers_broadcast,
    cross_room_control
);

/// Scenario 7: The signaling server dies mid-call: media keeps flowing while both pages say
/// `reconnecting`; it comes back on the same port: both return to `connected`, and after one
/// leaves a new page can still join.
async fn server_restart(t: &mut Test) -> Result<()> {
    let mut server = t.server(ServerKind::Duet).await?;
    let (a, b) = t.duet_pair(&server, "room1", CALL_WITHIN).await?;
    server.kill().await?;
    // Issue 5 asks for `reconnecting` here. The rest of the scenario runs even when a page
    // shows something else, so one report says everything that is off.
    let mut problems = Vec::new();
    for p in [&a, &b] {
        // The socket closes at once when the server dies; the page should say so promptly.
        if let Err(e) = p
            .wait_state(&["reconnecting"], Duration::from_secs(5))
            .await
        {
            problems.push(format!("{e:#}"));
        }
    }
    for p in [&a, &b] {
        let s = p.wait_playing(STATE_WITHIN).await?;
        println!(
            "  server down: {} shows {:?} ({:?}) and plays on",
            p.label, s.state, s.problem
        );
    }
    server.restart().await?;
    let restarted = Instant::now();
    for p in [&a, &b] {
        // Back means: joined the room again on the new server, and `connected`.
        p.wait_for("rejoined and connected", CALL_WITHIN, |s| {
            s.sent.get("join_room").copied().unwrap_or(0) >= 2
                && s.received.get("all_users").copied().unwrap_or(0) >= 2
                && s.state.as_deref() == Some("connected")
        })
        .await?;
        p.wait_playing(STATE_WITHIN).await?;
    }
    println!(
        "  both rejoined and connected {:.1} s after the restart",
        restarted.elapsed().as_secs_f64()
    );
    t.close(&b).await?;
    a.wait_for("told that bob left", STATE_WITHIN, |s| {
        matches!(s.state.as_deref(), Some("peer-left" | "waiting"))
    })
    .await?;
    let c = t
        .open("carol", App::Duet, &server, "room1", Permission::Grant)
        .await?;
    for p in [&a, &c] {
        p.wait_state(&["connected"], CALL_WITHIN).await?;
        p.wait_playing(CALL_WITHIN).await?;
    }
    ensure(problems.is_empty(), || problems.join("\n"))
}
scenario!(signaling_server_killed_mid_call, server_restart);

/// Waits until the page's local `kind` track has `enabled == enabled` (the click goes through
/// the app's command queue, so it takes effect a moment later).
async fn wait_local_enabled(p: &Page, kind: &str, enabled: bool) -> Result<Snapshot> {
    let what = format!("showing its local {kind} track enabled={enabled}");
    p.wait_for(&what, STATE_WITHIN, |s| {
        s.local
            .as_ref()
            .and_then(|v| v.tracks.iter().find(|t| t.kind == kind))
            .is_some_and(|t| t.enabled == enabled)
    })
    .await
}

/// Scenario 8: Mute, camera off, camera switch and hang-up on one side, observed on the other.
async fn controls(t: &mut Test) -> Result<()> {
    let server = t.server(ServerKind::Duet).await?;
    let (a, b) = t.duet_pair(&server, "room1", CALL_WITHIN).await?;
    let two_s = Duration::from_secs(2);

    // Mute: bob's sound goes silent, the picture goes on; unmute: the beeps come back.
    a.click("#mic").await?;
    wait_local_enabled(&a, "audio", false).await?;
    let silent = b
        .wait_for_window("hearing silence", STATE_WITHIN, two_s, |s| {
            s.window_ms >= 1800.0
                && s.audio_peak
                    .is_some_and(|p| p < duet_e2e::probes::SILENT_PEAK)
        })
        .await?;
    println!("  muted: bob hears peak {:?}", silent.audio_peak);
    b.wait_for(
        "still seeing alice while she is muted",
        STATE_WITHIN,
        Snapshot::remote_playing,
    )
    .await?;
    a.click("#mic").await?;
    b.wait_for_window(
        "hearing alice again",
        STATE_WITHIN,
        two_s,
        Snapshot::remote_audible,
    )
    .await?;

    // Camera off: bob's picture goes black or stops; on again: it moves again.
    a.click("#camera").await?;
    wait_local_enabled(&a, "video", false).await?;
    let dark = b
        .wait_for_window(
            "seeing a black or frozen picture",
            STATE_WITHIN,
            two_s,
            |s| s.window_ms >= 1500.0 && s.remote_dark_or_stopped(),
        )
        .await?;
    println!("  camera off: bob sees {}", describe(&dark));
    a.click("#camera").await?;
    b.wait_for("seeing alice again", STATE_WITHIN, Snapshot::remote_playing)
        .await?;

    // Camera switch: alice's local track changes device; bob keeps playing without a new call.
    let before = a.snapshot(Duration::from_millis(100)).await?;
    let other = a
        .eval(
            "const s = document.getElementById('camera-select');\
             const o = s && [...s.options].find(o => o.value && o.value !== s.value);\
             return o ? o.value : null;",
            vec![],
        )
        .await?;
    let other = other
        .as_str()
        .context("alice's #camera-select offers no second camera")?
        .to_owned();
    let select = a
        .browser
        .client()
        .find(fantoccini::Locator::Id("camera-select"))
        .await?;
    select.select_by_value(&other).await?;
    let label_of = |s: &Snapshot| {
        s.local
            .as_ref()
            .and_then(|v| v.tracks.iter().find(|t| t.kind == "video"))
            .map(|t| t.label.clone())
    };
    let old_label = label_of(&before);
    let switched = a
        .wait_for("showing the other camera", STATE_WITHIN, |s| {
            label_of(s).is_some() && label_of(s) != old_label
        })
        .await?;
    println!(
        "  camera switch: {:?} -> {:?}",
        old_label,
        label_of(&switched)
    );
    let offers_before = b
        .snapshot(Duration::from_millis(100))
        .await?
        .received
        .clone();
    b.wait_playing(STATE_WITHIN).await?;
    let offers_after = b
        .snapshot(Duration::from_millis(100))
        .await?
        .received
        .clone();
    ensure(
        offers_before.get("getOffer") == offers_after.get("getOffer"),
        || "the camera switch renegotiated (a new offer reached bob)".to_owned(),
    )?;

    // Hang up: bob's picture goes away and he is told; alice releases her camera.
    a.click("#hangup").await?;
    let hung_up = Instant::now();
    let gone = b
        .wait_for("told that alice hung up", STATE_WITHIN, |s| {
            matches!(s.state.as_deref(), Some("peer-left" | "waiting")) && s.remote_gone()
        })
        .await?;
    println!(
        "  hang-up: after {:.1} s bob sees {:?}",
        hung_up.elapsed().as_secs_f64(),
        gone.status_text
    );
    a.wait_for("releasing the camera", STATE_WITHIN, |s| {
        s.local
            .as_ref()
            .is_none_or(|v| v.tracks.iter().all(|t| t.ready_state == "ended"))
    })
    .await?;
    Ok(())
}
scenario!(mute_camera_switch_and_hang_up_seen_by_the_other, controls);

/// Scenario 9: Camera and microphone refused: the page says so (`error`) and has no media.
async fn permission_denied(t: &mut Test) -> Result<()> {
    let server = t.server(ServerKind::Duet).await?;
    let p = t
        .open("denied", App::Duet, &server, "room1", Permission::Deny)
        .await?;
    let s = p.wait_state(&["error"], STATE_WITHIN).await?;
    println!("  the page says: {:?}", s.status_text);
    let problem = p
        .eval(
            "const e = document.getElementById('callproblem'); return e ? e.textContent : null;",
            vec![],
        )
        .await?;
    println!("  and: {problem}");
    ensure(s.local.as_ref().is_none_or(|v| v.tracks.is_empty()), || {
        format!(
            "a page without camera permission has media: {}",
            describe(&s)
        )
    })
}
scenario!(permission_denied_shows_the_error, permission_denied);

/// Issue 7: the two pages on two duet-server nodes sharing rooms through Redis: the offer,
/// answer and candidates cross nodes, and the call plays both ways.
async fn two_nodes(t: &mut Test) -> Result<()> {
    let redis = t.redis().await?;
    let first = t.duet_node(&redis).await?;
    let second = t.duet_node(&redis).await?;
    let a = t
        .open("first", App::Duet, &first, "room1", Permission::Grant)
        .await?;
    a.wait_in_room(App::Duet, CALL_WITHIN).await?;
    let b = t
        .open("second", App::Duet, &second, "room1", Permission::Grant)
        .await?;
    for page in [&a, &b] {
        page.wait_state(&["connected"], CALL_WITHIN).await?;
        page.wait_playing(CALL_WITHIN).await?;
    }
    Ok(())
}
scenario!(duet_pair_on_two_nodes_over_redis, two_nodes);
