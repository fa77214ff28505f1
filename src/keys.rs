//! The keyboard and the small view controls: every key the page answers to ([`KEYS`], which
//! the help lists, so the list cannot miss one), the help dialog (`?`), fullscreen (`f`) and
//! picture-in-picture for the other person's video.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::KeyboardEvent;

use crate::dom::{definitions, find, flag};
use crate::media;
use crate::view::{CallView, Commands, UiCommand};

/// Every key, and what it does (the help's list and the README's).
pub const KEYS: [(&str, &str); 7] = [
    ("m", "Mute or unmute the microphone"),
    ("c", "Turn the camera off or on"),
    ("s", "Share your screen, or stop"),
    ("i", "Show or hide the call statistics"),
    ("f", "Fullscreen, or leave it"),
    ("?", "Show or hide this list"),
    ("Esc", "Close the statistics and this list"),
];

/// Answers a key press, unless typing in a field or a modifier is held. The call's keys work
/// only in a room; `?` and `Esc` everywhere.
pub fn on_key(ev: &KeyboardEvent, view: CallView, commands: &Commands) {
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
        return;
    }
    let typing = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"));
    if typing {
        return;
    }
    let in_room = view.call.with_untracked(|c| c.phase().in_room());
    match ev.key().as_str() {
        "?" => show_help(None),
        "Escape" => {
            show_help(Some(false));
            commands.send(UiCommand::Stats(false));
        }
        _ if !in_room => {}
        "m" | "M" => commands.send(UiCommand::ToggleMic),
        "c" | "C" => commands.send(UiCommand::ToggleCamera),
        "i" | "I" => commands.send(UiCommand::Stats(
            !view.panels.with_untracked(|p| p.insight.panel),
        )),
        "s" | "S" if media::screen_supported() => commands.send(UiCommand::ToggleScreen),
        "f" | "F" => toggle_fullscreen(),
        _ => {}
    }
}

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// Shows the help, hides it, or (`None`) toggles it.
pub fn show_help(show: Option<bool>) {
    let Some(help) = document().and_then(|d| d.get_element_by_id("keyhelp")) else {
        return;
    };
    let show = show.unwrap_or_else(|| help.has_attribute("hidden"));
    if show
        && let Some(list) = find(&help, "dl")
        && list.child_element_count() == 0
    {
        definitions(&list, &KEYS);
    }
    flag(&help, "hidden", !show);
}

/// The video stage fullscreen, or back.
pub fn toggle_fullscreen() {
    let Some(doc) = document() else { return };
    if doc.fullscreen_element().is_some() {
        doc.exit_fullscreen();
    } else if let Some(stage) = doc.document_element().and_then(|r| find(&r, ".stage")) {
        let _ = stage.request_fullscreen();
    }
}

/// `obj.name()` when the browser has that method.
fn call(obj: &JsValue, name: &str) {
    if let Ok(f) = js_sys::Reflect::get(obj, &name.into())
        && let Ok(f) = f.dyn_into::<js_sys::Function>()
    {
        let _ = f.call0(obj);
    }
}

/// Whether the browser offers picture-in-picture (Firefox has its own control instead).
pub fn pip_supported() -> bool {
    document().is_some_and(|d| {
        js_sys::Reflect::get(&d, &"pictureInPictureEnabled".into()).is_ok_and(|v| v.is_truthy())
    })
}

/// The other person's video in a floating window, or back.
pub fn toggle_pip() {
    let Some(doc) = document() else { return };
    let open =
        js_sys::Reflect::get(&doc, &"pictureInPictureElement".into()).is_ok_and(|v| v.is_truthy());
    if open {
        call(&doc, "exitPictureInPicture");
    } else if let Some(video) = doc.get_element_by_id("remotevideo") {
        call(&video, "requestPictureInPicture");
    }
}

/// The list of keys (`?`), a dialog closed with `Esc`, `?` or the `?` button. Static markup
/// (Leptos renders it as one inert template); the list is written from [`KEYS`] when first
/// shown.
#[component]
pub fn KeyHelp() -> impl IntoView {
    view! {
        <section id="keyhelp" class="keyhelp" role="dialog" aria-label="Keyboard keys" hidden>
            <h2>"Keys"</h2>
            <dl></dl>
        </section>
    }
}
