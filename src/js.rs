//! Plain JS values for the browser's dictionaries, built and read directly: a serializer would
//! cost the bundle far more than these few lines.

use wasm_bindgen::JsValue;

/// A plain JS object with these properties, for the browser's dictionaries.
pub fn js_object(props: &[(&str, JsValue)]) -> js_sys::Object {
    let obj = js_sys::Object::new();
    for (k, v) in props {
        let _ = js_sys::Reflect::set(&obj, &JsValue::from_str(k), v);
    }
    obj
}

/// A string property of a JS object (through prototype getters too), if it is a string.
pub fn js_string(obj: &JsValue, key: &str) -> Option<String> {
    js_sys::Reflect::get(obj, &JsValue::from_str(key))
        .ok()?
        .as_string()
}
