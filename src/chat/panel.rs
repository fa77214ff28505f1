//! The chat's components: the toggle with the unread count, the panel with the history (each
//! message a list item whose text is set as text, so markup in it is shown, never interpreted)
//! and the box (Enter sends; a refused message stays in the box with the reason), and, against
//! a page without a chat (the original client), why there is none. Static markup written by
//! one effect ([`crate::dom`]). Hooks: `#chattoggle`, `#chatunread`, `#chat` (`li.me`,
//! `li.peer`, `li.notice`), `#chatinput`, `#sharenotice`, `#chatunavailable`.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement};

use super::Author;
use crate::dom::{Mounted, attr, find, flag, text};
use crate::view::{CallView, Commands, UiCommand};

/// What the effect has drawn: the first entry's number, how many, and the sent count seen.
#[derive(Clone, Copy, Default)]
struct Drawn {
    first: u64,
    count: usize,
    sent: u64,
}

/// See the module documentation.
#[component]
pub fn ChatPanel(view: CallView, commands: Commands) -> impl IntoView {
    let root = Mounted::default();
    Effect::new(move |drawn: Option<Drawn>| {
        let mut drawn = drawn.unwrap_or_default();
        let in_room = view.call.with(|c| c.phase().in_room());
        let Some(root) = root.get() else {
            return drawn;
        };
        let root: &Element = &root;
        let parts = (
            find(root, "#chattoggle"),
            find(root, "#chatunread"),
            find(root, "#chatunavailable"),
            find(root, "#chatpanel"),
            find(root, "#chat"),
            find(root, "#sharenotice"),
        );
        let (Some(toggle), Some(unread), Some(missing), Some(panel), Some(list), Some(notice)) =
            parts
        else {
            return drawn;
        };
        view.panels.with(|p| {
            let c = &p.chat;
            let ready = in_room && c.available == Some(true);
            flag(&toggle, "hidden", !ready);
            attr(
                &toggle,
                "aria-expanded",
                Some(if c.panel { "true" } else { "false" }),
            );
            flag(&unread, "hidden", c.panel || c.unread == 0);
            text(&unread, &c.unread.to_string());
            flag(&missing, "hidden", !in_room || c.available != Some(false));
            flag(&panel, "hidden", !(ready && c.panel));
            flag(&notice, "hidden", c.error.is_none());
            text(&notice, c.error.as_deref().unwrap_or(""));
            // The history: append what is new; start over when old entries were dropped (a
            // rejoin, or the history's limit).
            let first = c.entries.first().map_or(0, |e| e.seq);
            if first != drawn.first || c.entries.len() < drawn.count {
                list.set_text_content(None);
                drawn = Drawn {
                    first,
                    count: 0,
                    sent: drawn.sent,
                };
            }
            let doc = web_sys::window().and_then(|w| w.document());
            for entry in c.entries.iter().skip(drawn.count) {
                if let Some(li) = doc.as_ref().and_then(|d| d.create_element("li").ok()) {
                    let class = match entry.author {
                        Author::Me => "me",
                        Author::Peer => "peer",
                        Author::Notice => "notice",
                    };
                    attr(&li, "class", Some(class));
                    li.set_text_content(Some(&entry.text));
                    let _ = list.append_child(&li);
                }
            }
            drawn.count = c.entries.len();
            // Sent: the box empties.
            if c.sent != drawn.sent {
                drawn.sent = c.sent;
                if let Some(input) = find(root, "#chatinput") {
                    input.unchecked_into::<HtmlInputElement>().set_value("");
                }
            }
        });
        drawn
    });
    let toggle = commands.clone();
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = root.find_untracked("#chatinput");
        if let Some(input) = input {
            let text = input.unchecked_into::<HtmlInputElement>().value();
            commands.send(UiCommand::SendChat(text));
        }
    };
    view! {
        <div class="chat" node_ref=root>
            <button id="chattoggle" type="button" aria-controls="chatpanel" aria-expanded="false"
                hidden on:click=move |_| {
                    toggle.send(UiCommand::ChatPanel(!view.panels.with_untracked(|p| p.chat.panel)))
                }>"Chat "<span id="chatunread" class="badge" hidden></span></button>
            <p id="chatunavailable" hidden>
                "No chat in this call: the other person's app has none (it is not Duet)."</p>
            <section id="chatpanel" class="chatpanel" aria-label="Chat" hidden>
                <ul id="chat" role="log" aria-live="polite"></ul>
                <form on:submit=send>
                    <input id="chatinput" aria-label="Message" autocomplete="off"
                        placeholder="Message (Enter sends)" />
                    <button type="submit">"Send"</button>
                </form>
                <p id="sharenotice" role="alert" hidden></p>
            </section>
        </div>
    }
}
