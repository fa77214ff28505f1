//! The file components: "Send file" (or drop a file on the call), and
//! the list of the call's files both ways, each with its progress, size and speed, Cancel
//! while it moves, and a download link with the original name and type once it arrived.
//! Static markup; one effect rebuilds the list's items ([`crate::dom`]). Hooks: `#sendfile`,
//! `#fileinput`, `#transfers li[data-state=live|complete|cancelled|failed]` with `progress`,
//! `.filestatus`, `.cancel` and `a.download`.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement};

use super::{Direction, State};
use crate::dom::{Mounted, attr, find, flag, text};
use crate::view::{CallView, Commands, UiCommand};

fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    list.map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
        .unwrap_or_default()
}

/// A new list item for transfer `t`: its name, a progress bar, its status and Cancel.
fn new_item(doc: &web_sys::Document, t: &super::Transfer, key: &str) -> Option<Element> {
    let li = doc.create_element("li").ok()?;
    attr(&li, "class", Some("transfer"));
    attr(&li, "data-key", Some(key));
    let arrow = if t.direction == Direction::Send {
        "↑ "
    } else {
        "↓ "
    };
    let name = doc.create_element("span").ok()?;
    attr(&name, "class", Some("filename"));
    name.set_text_content(Some(&(arrow.to_owned() + &t.name)));
    let bar = doc.create_element("progress").ok()?;
    attr(&bar, "max", Some(&t.size.max(1).to_string()));
    let status = doc.create_element("span").ok()?;
    attr(&status, "class", Some("filestatus"));
    let cancel = doc.create_element("button").ok()?;
    attr(&cancel, "class", Some("cancel"));
    attr(&cancel, "type", Some("button"));
    attr(&cancel, "data-key", Some(key));
    cancel.set_text_content(Some("Cancel"));
    for part in [&name, &bar, &status, &cancel] {
        let _ = li.append_child(part);
    }
    Some(li)
}

/// See the module documentation.
#[component]
pub fn FilesPanel(view: CallView, commands: Commands) -> impl IntoView {
    let root = Mounted::default();
    Effect::new(move |_| {
        let ready = view.panels.with(|p| p.chat.available == Some(true))
            && view.call.with(|c| c.phase().in_room());
        let (list, links) = view
            .files
            .with(|f| (f.transfers.clone(), f.downloads.clone()));
        let Some(root) = root.get() else { return };
        let root: &Element = &root;
        let (Some(button), Some(ul)) = (find(root, "#sendfile"), find(root, "#transfers")) else {
            return;
        };
        flag(&button, "hidden", !ready);
        flag(&ul, "hidden", list.is_empty());
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        // Items are kept by key and updated in place (a Cancel button found by the user, or
        // a test, stays the same element while the progress moves); a rejoin empties the list.
        if ul.child_element_count() as usize > list.len() {
            ul.set_text_content(None);
        }
        for t in &list {
            let key = t.key.to_string();
            let li = match find(&ul, &format!("li[data-key=\"{key}\"]")) {
                Some(li) => li,
                None => match new_item(&doc, t, &key) {
                    Some(li) => {
                        let _ = ul.append_child(&li);
                        li
                    }
                    None => continue,
                },
            };
            let state = match t.state {
                State::Queued | State::Active => "live",
                State::Complete => "complete",
                State::Cancelled { .. } => "cancelled",
                State::Failed(_) => "failed",
            };
            attr(&li, "data-state", Some(state));
            if let Some(bar) = find(&li, "progress") {
                attr(&bar, "value", Some(&t.done.to_string()));
            }
            if let Some(status) = find(&li, ".filestatus") {
                text(&status, &t.status());
            }
            if let Some(cancel) = find(&li, ".cancel") {
                flag(&cancel, "hidden", !t.is_live());
            }
            if let Some((_, url)) = links.iter().find(|(k, _)| *k == t.key)
                && find(&li, "a.download").is_none()
                && let Ok(a) = doc.create_element("a")
            {
                attr(&a, "class", Some("download"));
                attr(&a, "href", Some(url));
                attr(&a, "download", Some(&t.name));
                attr(&a, "type", Some(super::wire::blob_type(&t.mime)));
                a.set_text_content(Some("Download"));
                let _ = li.append_child(&a);
            }
        }
    });
    let pick = move |_| {
        if let Some(input) = root.find_untracked("#fileinput") {
            input.unchecked_into::<web_sys::HtmlElement>().click();
        }
    };
    let chosen = commands.clone();
    let cancel = commands;
    view! {
        <div class="files" node_ref=root>
            <button id="sendfile" type="button" title="Send a file (or drop it on the call)"
                hidden on:click=pick>"Send file"</button>
            <input id="fileinput" type="file" multiple hidden
                on:change=move |ev| {
                    let input: HtmlInputElement = event_target(&ev);
                    chosen.send(UiCommand::SendFiles(files_of(input.files())));
                    input.set_value("");
                } />
            // One handler for every Cancel button: the list is rebuilt, its buttons are not
            // Leptos's.
            <ul id="transfers" class="transfers" aria-label="Files" hidden
                on:click=move |ev| {
                    let key = ev
                        .target()
                        .and_then(|t| t.dyn_into::<Element>().ok())
                        .filter(|el| el.class_name() == "cancel")
                        .and_then(|el| el.get_attribute("data-key"))
                        .and_then(|k| k.parse().ok());
                    if let Some(key) = key {
                        cancel.send(UiCommand::CancelFile(key));
                    }
                }></ul>
        </div>
    }
}
