//! Mounts Duet on the page; everything else lives in the library so tests can mount it too.
//!
//! In the browser there is no `fn main`: wasm-bindgen's start function calls [`duet::start`]
//! directly. A Rust `main` goes through std's runtime entry (`lang_start`), which names the main
//! thread and sets up stdout for flushing at exit, none of which a page uses: 375 B gzip before
//! the first frame (measured). Natively (clippy, `cargo build`) it is a plain `main`.
#![cfg_attr(all(target_arch = "wasm32", not(test)), no_main)]

// Not in the test harness, which has a `main` of its own and must not mount the app.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
fn start() {
    duet::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    duet::start();
}
