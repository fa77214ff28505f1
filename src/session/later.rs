//! The session's work that no call needs before its first frame: the screen share, the file
//! transfers' browser side, switching devices and the room link. Its code loads with the
//! panels' module ([`crate::extras`]); the session reaches it through [`Hook`], a plain
//! function pointer, so nothing in the main module calls it directly.
//!
//! Each of these starts from the person (a button, a picker, a dropped file) or from a file
//! transfer or screen share the module itself started, so the session fetches the module then
//! if it is not there yet. The one exception is a device plugged in or out
//! during set-up: that waits for the module instead of fetching it early.

use futures::future::LocalBoxFuture;
use leptos::prelude::*;

use super::{Event, Session};
use crate::call::Action;
use crate::extras;
use crate::view::UiCommand;

/// What the session hands the module.
pub(super) enum Work {
    Command(UiCommand),
    Event(Event),
    Action(Action),
}

/// The entry point, built in the split-off module ([`hook`]). One function, so the session's
/// own code has one call site that awaits the module. Opaque outside the session.
pub struct Hook(for<'a> fn(&'a mut Session, Work) -> LocalBoxFuture<'a, ()>);

/// Called only from the split-off module's entry ([`crate::extras`]).
pub fn hook() -> Hook {
    Hook(run)
}

fn run(s: &mut Session, work: Work) -> LocalBoxFuture<'_, ()> {
    Box::pin(async move {
        match work {
            Work::Command(UiCommand::SendFiles(list)) => s.send_files(list),
            Work::Command(UiCommand::SelectDevice { kind, id }) => {
                s.switch_device(kind, &id).await;
            }
            Work::Command(UiCommand::CopyLink) => s.copy_link(),
            Work::Command(UiCommand::NewRoom) => s.new_room(),
            Work::Event(Event::DevicesChanged) => s.on_devices_changed().await,
            Work::Event(Event::Screen(id, stream)) => s.on_screen(id, stream),
            Work::Event(Event::Chunk(id, buf)) => s.on_chunk(id, buf),
            Work::Event(Event::Slice(id, start, bytes)) => s.on_slice(id, start, bytes),
            Work::Action(Action::Files(a)) => s.file_action(a),
            Work::Action(Action::CaptureScreen(id)) => s.capture_screen(id),
            Work::Action(Action::SendScreen) => s.send_screen().await,
            Work::Action(Action::StopScreen) => s.stop_screen().await,
            // The session hands over only the above.
            Work::Command(_) | Work::Event(_) | Work::Action(_) => {}
        }
    })
}

impl Session {
    /// Hands `work` to the module, fetching it now if need be. When it cannot be loaded the
    /// page says so and the work does not happen. A device plugged in or out before the module
    /// is there is handled once it is (the pickers then refresh): set-up neither waits for the
    /// module nor fetches it early.
    pub(super) async fn later(&mut self, work: Work) {
        if matches!(work, Work::Event(Event::DevicesChanged)) && !extras::is_loaded() {
            let tx = self.tx.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if extras::loaded().await.is_some() {
                    let _ = tx.unbounded_send(Event::DevicesChanged);
                }
            });
            return;
        }
        match extras::load().await {
            Ok(later) => {
                // Before the work, which may start a transfer (the `Loaded` event may not be
                // handled yet).
                self.machine.install_parts(later.parts);
                (later.session.0)(self, work).await;
            }
            Err(_) => self.view.flash.set(Some(extras::UNAVAILABLE.into())),
        }
    }
}
