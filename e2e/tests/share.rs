//! Sharing in the call (issue 14): the screen replaces the camera at the other side and in
//! the sharer's own preview without a new offer, Duet's button and the browser's own "stop
//! sharing" both put the camera back, and a camera turned off before sharing is still off
//! after.
//!
//!   cargo test -p duet-e2e --test share [-- NAME] [--nocapture]

use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use duet_e2e::probes::describe;
use duet_e2e::{App, Page, Permission, Server, ServerKind, Test, ensure, run};

/// Page load, wasm start, media, signaling and ICE on a busy 2-core machine.
const CALL_WITHIN: Duration = Duration::from_secs(30);
/// Something the page should show promptly.
const SHOW_WITHIN: Duration = Duration::from_secs(15);

macro_rules! scenario {
    ($name:ident, $body:expr) => {
        #[tokio::test]
        async fn $name() {
            run(stringify!($name), |t| Box::pin($body(t))).await;
        }
    };
}

/// Two Duet pages in `room` through `server`, both connected and playing.
async fn duet_pair(t: &mut Test, server: &Server, room: &str) -> Result<(Rc<Page>, Rc<Page>)> {
    let a = t
        .open("alice", App::Duet, server, room, Permission::Grant)
        .await?;
    a.wait_state(&["waiting"], CALL_WITHIN).await?;
    let b = t
        .open("bob", App::Duet, server, room, Permission::Grant)
        .await?;
    for p in [&a, &b] {
        p.wait_state(&["connected"], CALL_WITHIN).await?;
        p.wait_playing(CALL_WITHIN).await?;
    }
    Ok((a, b))
}

/// Waits until `page`'s remote picture is `size` and moving.
async fn wait_remote_size(page: &Page, size: (u32, u32)) -> Result<()> {
    let what = format!("showing a {}x{} picture", size.0, size.1);
    page.wait_for(&what, SHOW_WITHIN, |s| {
        s.remote_playing()
            && s.remote
                .as_ref()
                .is_some_and(|v| (v.width, v.height) == size)
    })
    .await?;
    Ok(())
}

async fn pressed(page: &Page, css: &str) -> Result<String> {
    let v = page
        .eval(
            &format!("return document.querySelector('{css}').getAttribute('aria-pressed');"),
            vec![],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

/// Screen share: alice's screen replaces her camera at bob's and in her own preview, without a
/// new offer; her button stops it; the browser's own "stop sharing" (the track ends) stops it
/// too; a camera turned off before sharing is still off afterwards.
async fn screen_share(t: &mut Test) -> Result<()> {
    let server = t.server(ServerKind::Duet).await?;
    let (a, b) = duet_pair(t, &server, "screen").await?;
    let camera = b
        .snapshot(Duration::from_millis(100))
        .await?
        .remote
        .map(|v| (v.width, v.height))
        .unwrap_or_default();
    let offers = a
        .snapshot(Duration::from_millis(100))
        .await?
        .sent
        .get("offer")
        .copied();

    // Duet's button, there and back. The fake screen's size depends on the headless window
    // (800x450 here, not the 1280x720 the issue expected): alice's own preview says it, and it
    // must differ from the camera's.
    a.click("#screenshare").await?;
    let own = a
        .wait_for("previewing its screen", SHOW_WITHIN, |s| {
            s.local
                .as_ref()
                .is_some_and(|v| v.width > 0 && (v.width, v.height) != camera)
        })
        .await?;
    let screen = own.local.map(|v| (v.width, v.height)).unwrap_or_default();
    wait_remote_size(&b, screen).await?;
    ensure(pressed(&a, "#screenshare").await? == "true", || {
        "#screenshare not pressed".into()
    })?;
    println!("  bob sees the screen {screen:?} (camera was {camera:?})");
    a.click("#screenshare").await?;
    wait_remote_size(&b, camera).await?;
    ensure(pressed(&a, "#screenshare").await? == "false", || {
        "#screenshare still pressed".into()
    })?;

    // The browser's "stop sharing": the screen track ends.
    a.click("#screenshare").await?;
    wait_remote_size(&b, screen).await?;
    a.eval(
        "const t = document.getElementById('localvideo').srcObject.getVideoTracks()[0];
         t.stop(); t.dispatchEvent(new Event('ended'));",
        vec![],
    )
    .await?;
    wait_remote_size(&b, camera).await?;
    ensure(pressed(&a, "#screenshare").await? == "false", || {
        "still sharing after the track ended".into()
    })?;
    println!("  the browser's stop brought the camera back");

    // Camera off, share, stop: the camera is still off.
    a.click("#camera").await?;
    a.click("#screenshare").await?;
    wait_remote_size(&b, screen).await?;
    a.click("#screenshare").await?;
    let back = a
        .wait_for("showing its own camera, turned off", SHOW_WITHIN, |s| {
            s.local.as_ref().is_some_and(|v| {
                v.tracks
                    .iter()
                    .any(|t| t.kind == "video" && !t.enabled && t.ready_state == "live")
            })
        })
        .await?;
    ensure(pressed(&a, "#camera").await? == "true", || {
        "the camera button says on".into()
    })?;
    b.wait_for("seeing alice's camera off", SHOW_WITHIN, |s| {
        s.remote_dark_or_stopped()
    })
    .await?;
    println!("  camera still off after sharing: {}", describe(&back));
    let after = a
        .snapshot(Duration::from_millis(100))
        .await?
        .sent
        .get("offer")
        .copied();
    ensure(after == offers, || {
        format!("sharing renegotiated: offers {offers:?} -> {after:?}")
    })
}
scenario!(screen_share_switches_and_comes_back, screen_share);
