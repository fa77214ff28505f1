//! Writing attributes and text from one effect per component. The usual Leptos way, a reactive
//! closure per attribute or text, makes each its own render-effect type in the wasm (about
//! 0.5 KB raw apiece, measured with twiggy: bench/BYTES.md); a component whose markup is static
//! and whose one [`Effect`](leptos::prelude::Effect) calls these costs one.

use leptos::prelude::*;
use leptos::tachys::html::{element::ElementType, node_ref::NodeRefContainer};
use web_sys::Element;

/// A component's root element once it is mounted (`node_ref=`). Leptos' own `NodeRef<E>` is a
/// signal type per tag (`<div>`, `<nav>`, `<form>`…), each about 1.5 KB raw in the bundle; this
/// is one type for every tag.
#[derive(Clone, Copy)]
pub struct Mounted(RwSignal<Option<Element>, LocalStorage>);

impl Default for Mounted {
    fn default() -> Self {
        Self(RwSignal::new_local(None))
    }
}

impl Mounted {
    /// The element, or `None` before it is mounted (and once its component is gone, for a task
    /// that outlived it). Tracked: an effect that reads it runs again once the element is there.
    pub fn get(self) -> Option<Element> {
        self.0.try_get().flatten()
    }

    /// The first element under the root matching `css`, without tracking (for event handlers).
    pub fn find_untracked(self, css: &str) -> Option<Element> {
        find(&self.0.get_untracked()?, css)
    }
}

impl<E: ElementType> NodeRefContainer<E> for Mounted {
    fn load(self, el: &Element) {
        self.0.set(Some(el.clone()));
    }
}

/// An effect running `f` now and whenever a signal it reads changes. Every effect of the main
/// view goes through here, so the bundle has one `Effect::new` (its set-up code is about 0.6
/// KB raw per closure type when each calls it directly) and the closures are called through a
/// box.
#[inline(never)]
pub fn effect(mut f: Box<dyn FnMut()>) {
    Effect::new(move |_| f());
}

/// The first element under `root` matching `css`.
pub fn find(root: &Element, css: &str) -> Option<Element> {
    root.query_selector(css).ok().flatten()
}

/// Sets `name` to `value`, or removes it. Not inlined: one copy of the string passing.
#[inline(never)]
pub fn attr(el: &Element, name: &str, value: Option<&str>) {
    let _ = match value {
        Some(v) => el.set_attribute(name, v),
        None => el.remove_attribute(name),
    };
}

/// Sets or removes the boolean attribute `name` (`hidden`, `disabled`).
pub fn flag(el: &Element, name: &str, on: bool) {
    attr(el, name, on.then_some(""));
}

/// Sets the text if it changed (a live region announces every change, even to the same text).
#[inline(never)]
pub fn text(el: &Element, value: &str) {
    if el.text_content().as_deref() != Some(value) {
        el.set_text_content(Some(value));
    }
}

/// Appends a `<dt>` and a `<dd>` to `list` for each (term, description); returns the `<dd>`s,
/// for a caller that writes them later.
pub fn definitions(list: &Element, items: &[(&str, &str)]) -> Vec<Element> {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return Vec::new();
    };
    let mut values = Vec::new();
    for (term, description) in items {
        if let (Ok(dt), Ok(dd)) = (doc.create_element("dt"), doc.create_element("dd")) {
            dt.set_text_content(Some(term));
            dd.set_text_content(Some(description));
            let _ = list.append_child(&dt);
            let _ = list.append_child(&dd);
            values.push(dd);
        }
    }
    values
}
