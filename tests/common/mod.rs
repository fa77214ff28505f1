//! Helpers shared by the browser test suites: mounting into a fresh container and waiting for a
//! condition with a deadline (the condition is what synchronises; the deadline only fails the
//! test instead of hanging it).
#![allow(dead_code)]

use std::time::Duration;

use futures::channel::mpsc::UnboundedReceiver;
use futures::{FutureExt, StreamExt};
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

/// A new `<div>` appended to `<body>`, removed again by the caller.
pub fn container() -> HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let div: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&div).unwrap();
    div
}

/// The element matching `selector` inside `root`.
pub fn find(root: &Element, selector: &str) -> Option<Element> {
    root.query_selector(selector).ok().flatten()
}

/// `#callstatus[data-state]` inside `root`.
pub fn state(root: &Element) -> String {
    find(root, "#callstatus")
        .and_then(|e| e.get_attribute("data-state"))
        .unwrap_or_default()
}

/// `#callproblem`'s text inside `root`.
pub fn problem(root: &Element) -> String {
    find(root, "#callproblem")
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

/// Polls `cond` every 20 ms until it holds; panics with `what` after `within`.
pub async fn wait_for(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let start = js_sys::Date::now();
    loop {
        if cond() {
            return;
        }
        if js_sys::Date::now() - start > within.as_millis() as f64 {
            panic!("timed out after {within:?} waiting for {what}");
        }
        if js_sys::Date::now() - start > within.as_millis() as f64 - 100.0 {
            web_sys::console::log_1(&format!("still waiting for {what}").into());
        }
        TimeoutFuture::new(20).await;
    }
}

/// The next item of `rx` for which `pick` returns something, or a panic after `within`.
pub async fn next_matching<T, R>(
    rx: &mut UnboundedReceiver<T>,
    within: Duration,
    what: &str,
    mut pick: impl FnMut(T) -> Option<R>,
) -> R {
    let mut deadline = TimeoutFuture::new(within.as_millis() as u32).fuse();
    loop {
        futures::select! {
            item = rx.next() => match item {
                Some(item) => if let Some(r) = pick(item) { return r },
                None => panic!("channel closed while waiting for {what}"),
            },
            _ = deadline => panic!("timed out after {within:?} waiting for {what}"),
        }
    }
}
