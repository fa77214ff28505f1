//! What a call needs only once it is up, loaded then: the insight panel, the chat and the
//! files. In the release bundle (`scripts/bundle.sh` builds with `--cfg duet_split`) their
//! code is a separate wasm module that the page fetches when [`panels`] is first called, so
//! the browser downloads and compiles it after the first remote frame instead of before
//! (issue 11's size target counts only what loads before that frame). Everything they show
//! lives in [`CallView`] in the main module, so a message or file that arrives before the
//! panels load is there when they draw.
//!
//! Every other build (`trunk serve`, the browser tests) links them in as usual and
//! [`panels`] returns at once.

use leptos::prelude::*;

use crate::chat::panel::ChatPanel;
use crate::insight::panel::Insight;
use crate::transfer::panel::FilesPanel;
use crate::view::{CallView, Commands};

/// Builds the panels. A plain function pointer: only it crosses from the split-off module
/// into the main one, so everything it reaches stays in the split-off module.
pub type Panels = fn(CallView, Commands) -> AnyView;

/// The panels' module could not be fetched or started (the network dropped, or a deploy
/// replaced the files). The call goes on without the panels.
#[derive(Debug)]
pub struct Unavailable;

/// What the page says then.
pub const UNAVAILABLE: &str = "Chat, files and call statistics could not be loaded. The call goes on; reload the page to get them.";

#[cfg(duet_split)]
impl From<leptos::wasm_split::SplitLoaderError> for Unavailable {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self
    }
}

/// Loads the panels' module (once; later calls return at once) and returns their builder.
/// `fallible`: a failed fetch is an `Err`, not a trap that would end the call. A later call
/// would fetch again; the page asks once and then says to reload ([`UNAVAILABLE`]).
#[cfg(duet_split)]
#[leptos::wasm_split::wasm_split(duet_panels, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn panels() -> Result<Panels, Unavailable> {
    Ok(build)
}

/// Unsplit builds: the builder is already here.
#[cfg(not(duet_split))]
pub async fn panels() -> Result<Panels, Unavailable> {
    Ok(build)
}

fn build(view: CallView, commands: Commands) -> AnyView {
    view! {
        <Insight view=view commands=commands.clone() />
        <ChatPanel view=view commands=commands.clone() />
        <FilesPanel view=view commands=commands />
    }
    .into_any()
}
