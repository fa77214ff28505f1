//! Writing attributes and text from one effect per component. The usual Leptos way, a reactive
//! closure per attribute or text, makes each its own render-effect type in the wasm (about
//! 0.5 KB raw apiece, measured with twiggy: bench/BYTES.md); a component whose markup is static
//! and whose one [`Effect`](leptos::prelude::Effect) calls these costs one.

use std::marker::PhantomData;

use leptos::prelude::*;
use leptos::tachys::html::{element::ElementType, node_ref::NodeRefContainer};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

/// A browser object (an element, a media stream) in a signal. Every kind shares one signal
/// type, `Option<JsValue>`, so the bundle has one copy of Leptos' signal code for all of them
/// (about 1 KB raw per type); reading casts the object back to `T`, which only `set` and the
/// node ref put there.
pub struct JsSignal<T>(
    RwSignal<Option<JsValue>, LocalStorage>,
    PhantomData<fn() -> T>,
);

impl<T> Clone for JsSignal<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for JsSignal<T> {}

impl<T> Default for JsSignal<T> {
    fn default() -> Self {
        Self(RwSignal::new_local(None), PhantomData)
    }
}

impl<T: JsCast> JsSignal<T> {
    /// The object, or `None` before one is set (and once its owner is gone, for a task that
    /// outlived it). Tracked: an effect that reads it runs again when it changes.
    pub fn get(self) -> Option<T> {
        self.0.try_get().flatten().map(JsCast::unchecked_into)
    }

    /// The object, without tracking.
    pub fn get_untracked(self) -> Option<T> {
        self.0
            .try_get_untracked()
            .flatten()
            .map(JsCast::unchecked_into)
    }

    /// Replaces the object (`None`: no object).
    pub fn set(self, value: Option<T>) {
        self.0.set(value.map(Into::into));
    }
}

/// A component's root element once it is mounted (`node_ref=`). Leptos' own `NodeRef<E>` is a
/// signal type per tag (`<div>`, `<nav>`, `<form>`…), each about 1.5 KB raw in the bundle; this
/// is one type for every tag, and the same signal type as the media streams.
pub type Mounted = JsSignal<Element>;

impl Mounted {
    /// The first element under the root matching `css`, without tracking (for event handlers).
    pub fn find_untracked(self, css: &str) -> Option<Element> {
        find(&self.get_untracked()?, css)
    }
}

impl<E: ElementType> NodeRefContainer<E> for Mounted {
    fn load(self, el: &Element) {
        self.set(Some(el.clone()));
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
