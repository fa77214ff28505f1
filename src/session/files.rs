//! The file transfers' browser side: the outgoing `File`s until the
//! machine releases them, the one slice being sent, the incoming file's chunks, and the
//! download links. Reads run off the session loop; what to do is the call machine's.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::{Event, Session};
use crate::call::{FilesEvent, Input, LinkInput};
use crate::transfer::Action;

/// The session's file state.
#[derive(Default)]
pub(super) struct Files {
    /// Outgoing files by their transfer id.
    outgoing: Vec<(u32, web_sys::File)>,
    /// The slice read last: its transfer, first byte and bytes.
    slice: Option<(u32, u64, js_sys::Uint8Array)>,
    /// Chunks kept for the incoming file.
    incoming: Vec<js_sys::ArrayBuffer>,
}

impl Session {
    /// The user picked or dropped files: each is offered, or the reason it cannot be is said.
    pub(super) fn send_files(&mut self, list: Vec<web_sys::File>) {
        for file in list {
            match self.machine.send_file(
                &file.name(),
                file.size() as u64,
                &file.type_(),
                super::now(),
            ) {
                Ok(id) => self.files.outgoing.push((id, file)),
                Err(e) => self.view.flash.set(Some(e.to_string())),
            }
        }
    }

    /// A chunk arrived on link `id`'s file channel: kept if the machine says so.
    pub(super) fn on_chunk(&mut self, id: u64, buf: js_sys::ArrayBuffer) {
        if self
            .machine
            .take_chunk(id, u64::from(buf.byte_length()), super::now())
        {
            self.files.incoming.push(buf);
        }
    }

    /// A slice of outgoing file `id` was read (or not).
    pub(super) fn on_slice(&mut self, id: u32, start: u64, bytes: Option<js_sys::ArrayBuffer>) {
        let input = match bytes {
            Some(buf) => {
                let end = start + u64::from(buf.byte_length());
                self.files.slice = Some((id, start, js_sys::Uint8Array::new(&buf)));
                Input::FileRead { id, start, end }
            }
            None => Input::FileReadFailed(id),
        };
        self.feed(input);
    }

    /// Carries out what the transfers ask for.
    pub(super) fn file_action(&mut self, action: Action) {
        match action {
            Action::Text(frame) => {
                if let Some((_, link)) = &self.link {
                    link.send_file_text(&frame);
                }
            }
            Action::Read { id, start, end } => {
                let Some((_, file)) = self.files.outgoing.iter().find(|(i, _)| *i == id) else {
                    return;
                };
                let slice = file.slice_with_f64_and_f64(start as f64, end as f64);
                let tx = self.tx.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let bytes = match slice {
                        Ok(blob) => JsFuture::from(blob.array_buffer())
                            .await
                            .ok()
                            .and_then(|b| b.dyn_into().ok()),
                        Err(_) => None,
                    };
                    let _ = tx.unbounded_send(Event::Slice(id, start, bytes));
                });
            }
            Action::Chunk { id, start, end } => {
                let (Some((link_id, link)), Some((sid, from, bytes))) =
                    (&self.link, &self.files.slice)
                else {
                    return;
                };
                if *sid != id || start < *from {
                    return;
                }
                let part = bytes.subarray((start - from) as u32, (end - from) as u32);
                let level = link.send_file_bytes(&part);
                let input = Input::Link(*link_id, LinkInput::Files(FilesEvent::Buffered(level)));
                self.machine.handle(input, super::now());
            }
            Action::Release(id) => {
                self.files.outgoing.retain(|(i, _)| *i != id);
                if self.files.slice.as_ref().is_some_and(|(s, ..)| *s == id) {
                    self.files.slice = None;
                }
            }
            Action::Assemble(key) => {
                let parts: js_sys::Array = self.files.incoming.drain(..).collect();
                let mime = self
                    .machine
                    .transfers()
                    .iter()
                    .find(|t| t.key == key)
                    .map(|t| crate::transfer::wire::blob_type(&t.mime).to_owned())
                    .unwrap_or_default();
                let bag = web_sys::BlobPropertyBag::new();
                bag.set_type(&mime);
                if let Ok(blob) =
                    web_sys::Blob::new_with_buffer_source_sequence_and_options(&parts, &bag)
                    && let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob)
                {
                    self.view.files.update(|f| f.downloads.push((key, url)));
                }
            }
            Action::Discard(_) => self.files.incoming.clear(),
        }
    }
}
