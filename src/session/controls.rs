//! What the controls bar asks for beyond mute: another camera or microphone, a device plugged in
//! or out, and the room link on the clipboard.

use leptos::prelude::*;

use super::{Session, current_query, secure_url};
use crate::config;
use crate::media::{self, Kind};

impl Session {
    pub(super) async fn switch_device(&mut self, kind: Kind, id: &str) {
        let Some(media) = &self.media else { return };
        match media.switch_device(kind, id).await {
            // While the screen is shared, the new camera waits for the sharing to stop (which
            // sends the media's camera track, now this one).
            Ok(_) if kind == Kind::Video && self.screen.is_some() => {
                self.view.camera_id.set(media.device_id(kind));
            }
            Ok(track) => {
                if let Some((_, link)) = &self.link
                    && let Err(e) = link.replace_track(&track).await
                {
                    web_sys::console::warn_1(&format!("replaceTrack: {e}").into());
                }
                // The element keeps the same stream object; re-set it so it shows the new track.
                self.view
                    .local_stream
                    .set(Some(Clone::clone(media.stream())));
                let current = media.device_id(kind);
                match kind {
                    Kind::Audio => self.view.mic_id.set(current),
                    Kind::Video => self.view.camera_id.set(current),
                }
            }
            Err(e) => {
                let problem = e.to_problem(secure_url());
                self.view.flash.set(Some(format!(
                    "Could not switch {}: {problem}",
                    kind.as_str()
                )));
            }
        }
    }

    /// A device was plugged in or out: refresh the pickers, and if the device in use vanished
    /// (its track ended), switch to another of the same kind.
    pub(super) async fn on_devices_changed(&mut self) {
        let list = media::devices().await;
        self.view.devices.set(list.clone());
        for kind in [Kind::Audio, Kind::Video] {
            let ended = self
                .media
                .as_ref()
                .and_then(|m| m.track(kind))
                .is_some_and(|t| t.ready_state() == web_sys::MediaStreamTrackState::Ended);
            let other = list
                .as_ref()
                .and_then(|l| media::device_list(l).find(|d| d.kind == kind && !d.output));
            if ended && let Some(d) = other {
                self.switch_device(kind, &d.id).await;
            }
        }
    }

    /// Copies the current room's link.
    pub(super) fn copy_link(&self) {
        let room = self
            .view
            .call
            .with_untracked(|c| c.room().map(str::to_owned));
        if let Some(room) = room.filter(|r| !r.is_empty()) {
            self.copy_room_link(
                &room,
                "Link copied. Send it to the person you want to call.",
            );
        }
    }

    /// "New room": an unguessable room name in the form, and its link on the clipboard.
    pub(super) fn new_room(&self) {
        let Some(room) = crate::room_name::generate() else {
            self.view.flash.set(Some(
                "This browser cannot make a random room name: type one.".to_owned(),
            ));
            return;
        };
        self.view.room_input.set(Some(room.clone()));
        self.copy_room_link(
            &room,
            "New room: link copied. Send it to the person you want to call, then press Join.",
        );
    }

    /// Puts `room`'s link on the clipboard and says `copied`, or shows the link to copy by hand.
    /// The clipboard answers off the session loop (the loop's future stays small).
    fn copy_room_link(&self, room: &str, copied: &'static str) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let loc = window.location();
        let link = format!(
            "{}{}{}",
            loc.origin().unwrap_or_default(),
            loc.pathname().unwrap_or_default(),
            config::query_with(&current_query(), room, None)
        );
        let written = window.navigator().clipboard().write_text(&link);
        let flash = self.view.flash;
        wasm_bindgen_futures::spawn_local(async move {
            let done = wasm_bindgen_futures::JsFuture::from(written).await.is_ok();
            flash.set(Some(if done {
                copied.to_owned()
            } else {
                format!("Copy this link: {link}")
            }));
        });
    }
}
