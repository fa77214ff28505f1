//! Mounts Duet on the page; everything else lives in the library so tests can mount it too.
//!
//! In the browser there is no `fn main`: wasm-bindgen's start function calls [`duet::start`]
//! directly. A Rust `main` goes through std's runtime entry (`lang_start`), which names the main
//! thread and sets up stdout for flushing at exit, none of which a page uses; that costs about
//! 1 KB of wasm before the first frame. Natively (clippy, `cargo build`) it is a plain `main`.
#![cfg_attr(target_arch = "wasm32", no_main)]

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
fn start() {
    duet::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    duet::start();
}
