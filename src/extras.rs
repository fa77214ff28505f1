//! What a call needs only once it is up, loaded then: the insight panel, the chat and the
//! files, and the code behind them that nothing before the first frame runs: reading a
//! connection's stats and its safety code, the call machine's chat and file transfers, and the
//! session's screen share, file side, device switching and room link
//! (`crate::session::later`). In the release bundle (`scripts/bundle.sh` builds
//! with `--cfg duet_split`) that code is a separate wasm module that the page fetches when
//! [`load`] is first called, so the browser downloads and compiles it after the first remote
//! frame instead of before (issue 11's size target counts only what loads before that frame).
//! Everything the panels show lives in [`CallView`] in the main module, so a message or file
//! that arrives before the panels load is there when they draw.
//!
//! Every other build (`trunk serve`, the browser tests) links it in as usual and [`load`]
//! returns at once.

use std::cell::RefCell;
use std::task::{Poll, Waker};

use futures::future::LocalBoxFuture;
use leptos::prelude::*;
use web_sys::RtcPeerConnection;

use crate::call::LinkInput;
use crate::chat::panel::ChatPanel;
use crate::insight::panel::Insight;
use crate::transfer::panel::FilesPanel;
use crate::view::{CallView, Commands};

/// Draws the panels into the given element; what it returns keeps them there (dropped: they
/// are taken down). The module mounts them itself, so the main module holds no view code for
/// them, only this pointer.
pub type Panels = fn(web_sys::HtmlElement, CallView, Commands) -> Box<dyn std::any::Any>;

/// The entry points into the module. Plain function pointers: only they cross from the
/// split-off module into the main one, so everything they reach stays in the split-off module.
pub struct Later {
    pub panels: Panels,
    /// The session's share ([`crate::session::Hook`]).
    pub session: crate::session::Hook,
    /// The call machine's chat and file transfers ([`crate::call::PartsCode`]).
    pub parts: crate::call::PartsCode,
    /// Reads a connection: its stats (`false`) or its safety code (`true`), as the answer the
    /// call machine waits for.
    pub read: fn(RtcPeerConnection, bool) -> LocalBoxFuture<'static, LinkInput>,
}

/// The panels' module could not be fetched or started (the network dropped, or a deploy
/// replaced the files). The call goes on without the panels.
#[derive(Debug)]
pub struct Unavailable;

/// What the page says then.
pub const UNAVAILABLE: &str = "Chat, files, screen sharing, device switching and call statistics could not be loaded. The call goes on; reload the page to get them.";

#[cfg(duet_split)]
impl From<leptos::wasm_split::SplitLoaderError> for Unavailable {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self
    }
}

/// Where the module's loading stands.
enum State {
    /// Not loaded yet; these wait for it ([`loaded`]).
    Waiting(Vec<Waker>),
    Ready(&'static Later),
    /// The fetch failed; the page said so.
    Failed,
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State::Waiting(Vec::new())) };
}

/// Loads the module (the page's one caller is the panels' component, when the call is up)
/// and hands it to whoever waits in [`loaded`].
pub async fn load() -> Result<&'static Later, Unavailable> {
    let later = entry().await;
    let waiting = STATE.with_borrow_mut(|state| {
        let next = match later {
            Ok(later) => State::Ready(later),
            Err(_) => State::Failed,
        };
        match std::mem::replace(state, next) {
            State::Waiting(waiting) => waiting,
            _ => Vec::new(),
        }
    });
    waiting.into_iter().for_each(Waker::wake);
    later
}

/// Whether [`load`] has the module.
pub fn is_loaded() -> bool {
    STATE.with_borrow(|state| matches!(state, State::Ready(_)))
}

/// The module once [`load`] has it, without asking for it: code that may run before the first
/// frame (a stats reading as the link connects) waits here instead of fetching the module
/// early. `None` when the fetch failed.
pub async fn loaded() -> Option<&'static Later> {
    std::future::poll_fn(|cx| {
        STATE.with_borrow_mut(|state| match state {
            State::Ready(later) => Poll::Ready(Some(*later)),
            State::Failed => Poll::Ready(None),
            State::Waiting(waiting) => {
                waiting.push(cx.waker().clone());
                Poll::Pending
            }
        })
    })
    .await
}

/// Fetches and starts the module and returns its entry points. `fallible`: a failed fetch is
/// an `Err`, not a trap that would end the call. The table is built here, at run time, so the
/// functions it names are reached only from the split-off module.
#[cfg(duet_split)]
#[leptos::wasm_split::wasm_split(duet_panels, wasm_split_path = ::leptos::wasm_split, fallible)]
fn entry() -> Result<&'static Later, Unavailable> {
    Ok(table())
}

/// Unsplit builds: everything is already here.
#[cfg(not(duet_split))]
async fn entry() -> Result<&'static Later, Unavailable> {
    Ok(table())
}

fn table() -> &'static Later {
    Box::leak(Box::new(Later {
        panels: build,
        session: crate::session::hook(),
        parts: crate::call::PartsCode::new(),
        read: |pc, safety| {
            Box::pin(async move {
                if safety {
                    LinkInput::SafetyCode(crate::peer::stats::safety_code(&pc).await)
                } else {
                    LinkInput::Stats(
                        crate::peer::stats::read(&pc)
                            .await
                            .map(crate::insight::monitor::Reading::new),
                    )
                }
            })
        },
    }))
}

fn build(
    parent: web_sys::HtmlElement,
    view: CallView,
    commands: Commands,
) -> Box<dyn std::any::Any> {
    Box::new(leptos::mount::mount_to(parent, move || {
        view! {
            <Insight view=view commands=commands.clone() />
            <ChatPanel view=view commands=commands.clone() />
            <FilesPanel view=view commands=commands />
        }
    }))
}
