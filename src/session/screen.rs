//! The screen share's browser side: asking for the screen, holding its track and its `ended`
//! handler, swapping it with the camera on the link's video sender and in the own preview.
//! When to do which is the call machine's ([`crate::call`], `screen.rs`).

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaStream, MediaStreamTrack};

use super::{Event, Session};
use crate::call::Input;
use crate::media::Kind;

impl Session {
    /// Opens the browser's screen picker for request `id`.
    pub(super) fn capture_screen(&mut self, id: u64) {
        self.capturing = id;
        let tx = self.tx.clone();
        let promise = web_sys::window()
            .and_then(|w| w.navigator().media_devices().ok())
            .and_then(|md| md.get_display_media().ok());
        wasm_bindgen_futures::spawn_local(async move {
            let stream = match promise {
                Some(p) => JsFuture::from(p).await.ok().and_then(|s| s.dyn_into().ok()),
                None => None,
            };
            let _ = tx.unbounded_send(Event::Screen(id, stream));
        });
    }

    /// getDisplayMedia answered request `id`: keep the track and tell the machine, which says
    /// whether to show it or stop it.
    pub(super) fn on_screen(&mut self, id: u64, stream: Option<MediaStream>) {
        let track: Option<MediaStreamTrack> =
            stream.and_then(|s| s.get_video_tracks().get(0).dyn_into().ok());
        let track = match track {
            Some(t) if id != self.capturing => return t.stop(), // A request already replaced.
            Some(t) => t,
            None => return self.feed(Input::ScreenRefused(id)),
        };
        // Text stays legible: the encoder keeps the resolution and lowers the frame rate when
        // the link is short of bandwidth.
        let _ = js_sys::Reflect::set(&track, &"contentHint".into(), &"detail".into());
        let tx = self.tx.clone();
        let ended = Closure::<dyn FnMut()>::new(move || {
            let _ = tx.unbounded_send(Event::Call(Input::ScreenEnded(id)));
        });
        track.set_onended(Some(ended.as_ref().unchecked_ref()));
        self.drop_screen();
        self.screen = Some((track, ended));
        self.feed(Input::ScreenGranted(id));
    }

    /// Sends the screen instead of the camera and shows it in the own preview.
    pub(super) async fn send_screen(&mut self) {
        let Some((track, _)) = &self.screen else {
            return;
        };
        if let Some((_, link)) = &self.link
            && let Err(e) = link.replace_track(track).await
        {
            web_sys::console::warn_1(&format!("replaceTrack: {e}").into());
        }
        if let Ok(preview) = MediaStream::new() {
            preview.add_track(track);
            self.view.local_stream.set(Some(preview));
        }
    }

    /// Stops the screen and puts the camera back, as it was (on or off).
    pub(super) async fn stop_screen(&mut self) {
        self.drop_screen();
        let Some(media) = &self.media else { return };
        if let (Some((_, link)), Some(camera)) = (&self.link, media.track(Kind::Video))
            && let Err(e) = link.replace_track(&camera).await
        {
            web_sys::console::warn_1(&format!("replaceTrack: {e}").into());
        }
        self.view
            .local_stream
            .set(Some(Clone::clone(media.stream())));
    }

    fn drop_screen(&mut self) {
        if let Some((track, _)) = self.screen.take() {
            track.set_onended(None);
            track.stop();
        }
    }
}
