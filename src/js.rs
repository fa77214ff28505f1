//! Plain JS values for the browser's dictionaries, built and read directly: a serializer would
//! cost the bundle far more than these few lines. And [`JsJson`], the signaling protocol's JSON
//! over the browser's own `JSON`.

use duet_protocol::json::Json;
use wasm_bindgen::{JsCast, JsValue};

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

/// A JSON value held by the browser, read with `JSON.parse` and printed with `JSON.stringify`:
/// the signaling protocol's [`Json`] for the page, so the bundle carries no JSON library (about
/// 14 KB gzip of serde_json's parser, printer and number tables).
#[derive(Debug, Clone, PartialEq)]
pub struct JsJson(pub JsValue);

impl Json for JsJson {
    fn parse(text: &str) -> Result<Self, String> {
        js_sys::JSON::parse(text).map(JsJson).map_err(|e| {
            e.dyn_ref::<js_sys::Error>()
                .map_or_else(|| "invalid JSON".to_owned(), |e| e.message().into())
        })
    }

    fn to_text(&self) -> String {
        js_sys::JSON::stringify(&self.0)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default()
    }

    fn null() -> Self {
        JsJson(JsValue::NULL)
    }

    fn string(s: &str) -> Self {
        JsJson(JsValue::from_str(s))
    }

    fn uint(n: u64) -> Self {
        JsJson(JsValue::from_f64(n as f64))
    }

    fn from_bool(b: bool) -> Self {
        JsJson(JsValue::from_bool(b))
    }

    fn array(items: Vec<Self>) -> Self {
        let array = js_sys::Array::new();
        for item in items {
            array.push(&item.0);
        }
        JsJson(array.into())
    }

    fn object(fields: Vec<(&str, Self)>) -> Self {
        let obj = js_sys::Object::new();
        for (k, v) in fields {
            let _ = js_sys::Reflect::set(&obj, &JsValue::from_str(k), &v.0);
        }
        JsJson(obj.into())
    }

    fn is_null(&self) -> bool {
        self.0.is_null()
    }

    fn is_true(&self) -> bool {
        self.0.as_bool() == Some(true)
    }

    fn as_string(&self) -> Option<String> {
        self.0.as_string()
    }

    fn as_u64(&self) -> Option<u64> {
        // JSON numbers are doubles here; integers up to 2^53 are exact, which covers every
        // number the protocol reads (intervals in ms, m-line indexes, attachment numbers).
        let n = self.0.as_f64()?;
        (n >= 0.0 && n.fract() == 0.0 && n < 18_446_744_073_709_551_616.0).then_some(n as u64)
    }

    fn items(&self) -> Option<Vec<Self>> {
        js_sys::Array::is_array(&self.0).then(|| {
            self.0
                .unchecked_ref::<js_sys::Array>()
                .iter()
                .map(JsJson)
                .collect()
        })
    }

    fn field(&self, key: &str) -> Option<Self> {
        if !self.is_object() {
            return None;
        }
        let key = JsValue::from_str(key);
        // Own fields only: "constructor" or "toString" must not come from the prototype.
        if !js_sys::Object::has_own(self.0.unchecked_ref::<js_sys::Object>(), &key) {
            return None;
        }
        js_sys::Reflect::get(&self.0, &key).ok().map(JsJson)
    }

    fn is_object(&self) -> bool {
        self.0.is_object() && !js_sys::Array::is_array(&self.0)
    }

    fn children(&self) -> Vec<Self> {
        if let Some(items) = self.items() {
            items
        } else if self.is_object() {
            js_sys::Object::values(self.0.unchecked_ref())
                .iter()
                .map(JsJson)
                .collect()
        } else {
            Vec::new()
        }
    }
}

/// The JSON the page's signaling and config use: the browser's own ([`JsJson`]) in the page;
/// serde_json in native unit tests, where there is no browser.
#[cfg(target_arch = "wasm32")]
pub type PageJson = JsJson;
/// The JSON the page's signaling and config use: the browser's own ([`JsJson`]) in the page;
/// serde_json in native unit tests, where there is no browser.
#[cfg(not(target_arch = "wasm32"))]
pub type PageJson = serde_json::Value;
