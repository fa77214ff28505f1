//! Camera and microphone: getUserMedia with fallbacks, device lists, devicechange.
//!
//! This module owns every local track: [`LocalMedia`] stops its tracks when dropped. With the
//! `test-seams` feature (tests only, never the release bundle), a process-wide count of live
//! tracks (`live_tracks`) lets tests prove that nothing leaks, and `simulate_failure` makes
//! getUserMedia fail as a browser would.

#[cfg(feature = "test-seams")]
use std::cell::{Cell, RefCell};

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaDeviceInfo, MediaDeviceKind, MediaStream, MediaStreamTrack};

use crate::call::Problem;
use crate::js::{js_object, js_string};

#[cfg(feature = "test-seams")]
thread_local! {
    static LIVE_TRACKS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static FAKE_FAILURE: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// How many tracks this module handed out and has not stopped yet.
#[cfg(feature = "test-seams")]
pub fn live_tracks() -> usize {
    LIVE_TRACKS.with(|t| t.borrow().len())
}

/// Test seam: the next getUserMedia calls fail with this DOMException name (e.g.
/// `"NotAllowedError"`), as a browser would; `None` restores the real behaviour. Fake-media
/// Chromium always grants permission, so this is how tests reach the denial paths end to end.
#[cfg(feature = "test-seams")]
pub fn simulate_failure(name: Option<&'static str>) {
    FAKE_FAILURE.with(|f| f.set(name));
}

/// Why local media is unavailable, from the browser's DOMException.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// NotAllowedError / SecurityError.
    #[error("permission denied")]
    PermissionDenied,
    /// NotFoundError: no such device.
    #[error("no device found")]
    NotFound,
    /// NotReadableError / AbortError: the hardware is busy or failed.
    #[error("device busy")]
    Busy,
    /// OverconstrainedError: the chosen device cannot satisfy the request.
    #[error("device cannot satisfy {0}")]
    Overconstrained(String),
    /// Not https or localhost.
    #[error("insecure context")]
    InsecureContext,
    /// No mediaDevices at all.
    #[error("unsupported")]
    Unsupported,
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl MediaError {
    /// Maps a DOMException name (and message) to an error; pure so it is tested natively.
    pub fn classify(name: &str, message: &str) -> Self {
        match name {
            "NotAllowedError" | "PermissionDeniedError" | "SecurityError" => Self::PermissionDenied,
            "NotFoundError" | "DevicesNotFoundError" => Self::NotFound,
            "NotReadableError" | "TrackStartError" | "AbortError" => Self::Busy,
            "OverconstrainedError" | "ConstraintNotSatisfiedError" => {
                Self::Overconstrained(message.to_owned())
            }
            "TypeError" if message.is_empty() => Self::Unsupported,
            _ => Self::Other(format!("{name}: {message}")),
        }
    }

    fn from_js(err: &JsValue) -> Self {
        let get = |k: &str| js_string(err, k).unwrap_or_default();
        let mut message = get("message");
        if message.is_empty() {
            message = get("constraint");
        }
        Self::classify(&get("name"), &message)
    }

    /// What the user sees.
    pub fn to_problem(&self, secure_url: Option<String>) -> Problem {
        match self {
            Self::PermissionDenied => Problem::PermissionDenied,
            Self::NotFound => Problem::NoDevices,
            Self::Busy => Problem::DeviceBusy,
            Self::Overconstrained(c) => Problem::DeviceUnavailable(c.clone()),
            Self::InsecureContext => Problem::InsecureContext(secure_url),
            Self::Unsupported => Problem::Unsupported,
            Self::Other(m) => Problem::MediaFailed(m.clone()),
        }
    }
}

/// Which devices to ask for; `None` lets the browser pick.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaRequest {
    /// Camera deviceId.
    pub video_device: Option<String>,
    /// Microphone deviceId.
    pub audio_device: Option<String>,
}

/// The camera and microphone in use. Stops its tracks when dropped.
#[derive(Debug)]
pub struct LocalMedia {
    stream: MediaStream,
}

/// What acquiring media got: the media and, when degraded, a notice.
#[derive(Debug)]
pub struct Acquired {
    /// The local media (possibly without tracks: receive-only).
    pub media: LocalMedia,
    /// Set when a camera or microphone is missing.
    pub notice: Option<Problem>,
}

fn media_devices() -> Result<web_sys::MediaDevices, MediaError> {
    let window = web_sys::window().ok_or(MediaError::Unsupported)?;
    if !window.is_secure_context() {
        return Err(MediaError::InsecureContext);
    }
    let devices = window
        .navigator()
        .media_devices()
        .map_err(|_| MediaError::Unsupported)?;
    if devices.is_undefined() {
        return Err(MediaError::Unsupported);
    }
    Ok(devices)
}

/// One getUserMedia constraint: `false`, `true` or `{deviceId: {exact: id}}`, built as JS values
/// directly (a JSON library would cost the bundle far more than these few lines).
fn constraint(want: bool, device: Option<&str>) -> JsValue {
    match (want, device) {
        (false, _) => JsValue::FALSE,
        (true, None) => JsValue::TRUE,
        (true, Some(id)) => {
            let exact = js_object(&[("exact", id.into())]);
            js_object(&[("deviceId", exact.into())]).into()
        }
    }
}

/// One getUserMedia call; registers the tracks it got.
async fn get_user_media(
    audio: bool,
    video: bool,
    request: &MediaRequest,
) -> Result<MediaStream, MediaError> {
    #[cfg(feature = "test-seams")]
    {
        if let Some(name) = FAKE_FAILURE.with(Cell::get) {
            return Err(MediaError::classify(name, "simulated"));
        }
    }
    let devices = media_devices()?;
    let early = if audio && video && *request == MediaRequest::default() {
        crate::early::take_media()
    } else {
        None
    };
    let promise = match early {
        Some(p) => p,
        None => request_media(&devices, audio, video, request)?,
    };
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(|e| MediaError::from_js(&e))?
        .unchecked_into();
    #[cfg(feature = "test-seams")]
    for track in tracks(&stream) {
        let id = track.id();
        LIVE_TRACKS.with(|t| {
            let mut t = t.borrow_mut();
            if !t.contains(&id) {
                t.push(id);
            }
        });
    }
    Ok(stream)
}

fn request_media(
    devices: &web_sys::MediaDevices,
    audio: bool,
    video: bool,
    request: &MediaRequest,
) -> Result<js_sys::Promise, MediaError> {
    let constraints = js_object(&[
        ("audio", constraint(audio, request.audio_device.as_deref())),
        ("video", constraint(video, request.video_device.as_deref())),
    ]);
    devices
        .get_user_media_with_constraints(constraints.unchecked_ref())
        .map_err(|e| MediaError::from_js(&e))
}

/// Asks for camera and microphone. A missing device is not an error: without a camera the call is
/// audio-only, without a microphone video-only, without both receive-only, each with a notice.
pub async fn acquire(request: &MediaRequest) -> Result<Acquired, MediaError> {
    let attempts: [(bool, bool, Option<Problem>); 3] = [
        (true, true, None),
        (true, false, Some(Problem::NoCamera)),
        (false, true, Some(Problem::NoMicrophone)),
    ];
    for (audio, video, notice) in attempts {
        match get_user_media(audio, video, request).await {
            Ok(stream) => {
                return Ok(Acquired {
                    media: LocalMedia { stream },
                    notice,
                });
            }
            Err(MediaError::NotFound) => continue,
            Err(e) => return Err(e),
        }
    }
    let stream = MediaStream::new().map_err(|e| MediaError::from_js(&e))?;
    Ok(Acquired {
        media: LocalMedia { stream },
        notice: Some(Problem::NoDevices),
    })
}

/// Which kind of track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Microphone.
    Audio,
    /// Camera.
    Video,
}

impl Kind {
    /// The MediaStreamTrack.kind string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
        }
    }
}

pub(crate) fn tracks(stream: &MediaStream) -> Vec<MediaStreamTrack> {
    stream
        .get_tracks()
        .iter()
        .map(|t| t.unchecked_into())
        .collect()
}

fn stop_track(track: &MediaStreamTrack) {
    track.stop();
    #[cfg(feature = "test-seams")]
    {
        let id = track.id();
        LIVE_TRACKS.with(|t| t.borrow_mut().retain(|x| *x != id));
    }
}

impl LocalMedia {
    /// The stream shown in `#localvideo` and sent to the peer.
    pub fn stream(&self) -> &MediaStream {
        &self.stream
    }

    /// The first track of a kind.
    pub fn track(&self, kind: Kind) -> Option<MediaStreamTrack> {
        tracks(&self.stream)
            .into_iter()
            .find(|t| t.kind() == kind.as_str())
    }

    /// All tracks.
    pub fn tracks(&self) -> Vec<MediaStreamTrack> {
        tracks(&self.stream)
    }

    /// Mutes or unmutes a kind (track.enabled: the sender keeps its slot and sends silence/black).
    pub fn set_enabled(&self, kind: Kind, enabled: bool) {
        if let Some(t) = self.track(kind) {
            t.set_enabled(enabled);
        }
    }

    /// Opens another device of `kind` and swaps it into the stream, stopping the old track.
    /// Returns the new track for the peer's replaceTrack.
    pub async fn switch_device(
        &self,
        kind: Kind,
        device_id: &str,
    ) -> Result<MediaStreamTrack, MediaError> {
        let request = match kind {
            Kind::Audio => MediaRequest {
                audio_device: Some(device_id.to_owned()),
                video_device: None,
            },
            Kind::Video => MediaRequest {
                audio_device: None,
                video_device: Some(device_id.to_owned()),
            },
        };
        let fresh = get_user_media(kind == Kind::Audio, kind == Kind::Video, &request).await?;
        let Some(new_track) = tracks(&fresh).into_iter().next() else {
            return Err(MediaError::NotFound);
        };
        let enabled = self.track(kind).map(|t| t.enabled()).unwrap_or(true);
        if let Some(old) = self.track(kind) {
            self.stream.remove_track(&old);
            stop_track(&old);
        }
        new_track.set_enabled(enabled);
        self.stream.add_track(&new_track);
        Ok(new_track)
    }

    /// The deviceId a kind's track is using, for the device pickers.
    pub fn device_id(&self, kind: Kind) -> Option<String> {
        let track = self.track(kind)?;
        let settings = track.get_settings();
        js_string(&settings, "deviceId")
    }

    /// Stops every track (the camera light goes off).
    pub fn stop(&self) {
        for t in tracks(&self.stream) {
            self.stream.remove_track(&t);
            stop_track(&t);
        }
    }
}

impl Drop for LocalMedia {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A camera or microphone the user can pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// deviceId.
    pub id: String,
    /// Label (empty before permission is granted; a fallback name is used then).
    pub label: String,
    /// Camera or microphone, or (with `output`) a speaker.
    pub kind: Kind,
    /// An audio output (a speaker or headphones), for the remote audio's `setSinkId`.
    pub output: bool,
}

/// The browser's list of cameras, microphones and audio outputs (`enumerateDevices`), as it
/// gave it; read it with [`device_list`]. Kept as the browser's array so the view holds it in
/// the signal type it already has for browser objects ([`crate::dom::JsSignal`]). `None` when
/// the browser cannot list them.
pub async fn devices() -> Option<js_sys::Array> {
    let promise = media_devices().ok()?.enumerate_devices().ok()?;
    JsFuture::from(promise)
        .await
        .ok()
        .map(JsCast::unchecked_into)
}

/// The cameras, microphones and audio outputs in a list from [`devices`].
pub fn device_list(list: &js_sys::Array) -> impl Iterator<Item = Device> + '_ {
    list.iter().enumerate().filter_map(|(i, info)| {
        let info: MediaDeviceInfo = info.unchecked_into();
        let (kind, output, name) = match info.kind() {
            MediaDeviceKind::Audioinput => (Kind::Audio, false, "Microphone"),
            MediaDeviceKind::Videoinput => (Kind::Video, false, "Camera"),
            MediaDeviceKind::Audiooutput => (Kind::Audio, true, "Speaker"),
            _ => return None,
        };
        let mut label = info.label();
        if label.is_empty() {
            label = format!("{name} {}", i + 1);
        }
        Some(Device {
            id: info.device_id(),
            label,
            kind,
            output,
        })
    })
}

/// Listens for devicechange (a camera plugged in or out) until dropped.
pub struct DeviceWatcher {
    target: Option<web_sys::MediaDevices>,
    callback: Closure<dyn FnMut()>,
}

impl DeviceWatcher {
    /// Calls `on_change` on every devicechange.
    pub fn new(on_change: impl FnMut() + 'static) -> Self {
        let callback = Closure::<dyn FnMut()>::new(on_change);
        let target = media_devices().ok();
        if let Some(t) = &target {
            let _ = t.add_event_listener_with_callback(
                "devicechange",
                callback.as_ref().unchecked_ref(),
            );
        }
        Self { target, callback }
    }
}

impl Drop for DeviceWatcher {
    fn drop(&mut self) {
        if let Some(t) = &self.target {
            let _ = t.remove_event_listener_with_callback(
                "devicechange",
                self.callback.as_ref().unchecked_ref(),
            );
        }
    }
}

/// Whether this browser can send audio to a chosen output (`HTMLMediaElement.setSinkId`;
/// Safari and phones cannot): the speaker picker is left out where it cannot work.
pub fn sink_supported() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &"HTMLMediaElement".into())
        .and_then(|c| js_sys::Reflect::get(&c, &"prototype".into()))
        .is_ok_and(|p| js_sys::Reflect::has(&p, &"setSinkId".into()).unwrap_or(false))
}

/// Whether this browser can share a screen at all (phones cannot): the control is left out
/// where it cannot work.
pub fn screen_supported() -> bool {
    web_sys::window()
        .and_then(|w| w.navigator().media_devices().ok())
        .is_some_and(|md| js_sys::Reflect::has(&md, &"getDisplayMedia".into()).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_dom_exceptions() {
        assert_eq!(
            MediaError::classify("NotAllowedError", ""),
            MediaError::PermissionDenied
        );
        assert_eq!(
            MediaError::classify("NotFoundError", "x"),
            MediaError::NotFound
        );
        assert_eq!(
            MediaError::classify("NotReadableError", "x"),
            MediaError::Busy
        );
        assert_eq!(
            MediaError::classify("OverconstrainedError", "deviceId"),
            MediaError::Overconstrained("deviceId".into())
        );
        assert!(matches!(
            MediaError::classify("Weird", "y"),
            MediaError::Other(_)
        ));
        assert_eq!(
            MediaError::PermissionDenied.to_problem(None),
            Problem::PermissionDenied
        );
        assert_eq!(MediaError::Busy.to_problem(None), Problem::DeviceBusy);
    }
}
