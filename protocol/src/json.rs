//! The JSON values the Socket.IO framing carries, as a trait, so the framing and the client can
//! run over any JSON implementation.
//!
//! Natively that is `serde_json::Value` (feature `serde_json`, on by default: the server, the
//! tests and the load generator use it). The browser frontend brings its own implementation over
//! the browser's `JSON.parse`/`JSON.stringify`, so its WebAssembly bundle carries no JSON parser,
//! printer or number-formatting tables of its own: that is about 14 KB gzip of a 63 KB budget.
//!
//! The trait is small on purpose: what the framing needs (parse, print, read an array, a string,
//! a number, a field) and what the signaling messages need to be built and read
//! (`ClientMessage::to_json`, `ServerMessage::from_json`).

use std::fmt::Debug;

/// A JSON value: parsed from and printed to JSON text, read and built field by field.
pub trait Json: Clone + Debug + PartialEq + Sized {
    /// Parses JSON text; the error says why, in words.
    fn parse(text: &str) -> Result<Self, String>;
    /// Prints as compact JSON text (object keys in insertion order).
    fn to_text(&self) -> String;

    /// `null`.
    fn null() -> Self;
    /// A string.
    fn string(s: &str) -> Self;
    /// A number that is an unsigned integer.
    fn uint(n: u64) -> Self;
    /// `true` or `false`.
    fn from_bool(b: bool) -> Self;
    /// An array.
    fn array(items: Vec<Self>) -> Self;
    /// An object with these fields, in this order.
    fn object(fields: Vec<(&str, Self)>) -> Self;

    /// Whether this is `null`.
    fn is_null(&self) -> bool;
    /// Whether this is `true`.
    fn is_true(&self) -> bool;
    /// The string, if this is one.
    fn as_string(&self) -> Option<String>;
    /// The number, if this is an integer in `0..=u64::MAX` (as serde reads a `u64`).
    fn as_u64(&self) -> Option<u64>;
    /// The items, if this is an array.
    fn items(&self) -> Option<Vec<Self>>;
    /// The field `key`, if this is an object that has it.
    fn field(&self, key: &str) -> Option<Self>;
    /// Whether this is an object.
    fn is_object(&self) -> bool;
    /// The values of an object's fields, or an array's items (for walks over a whole value).
    fn children(&self) -> Vec<Self>;
}

#[cfg(feature = "serde_json")]
mod serde_impl {
    use serde_json::{Map, Value};

    use super::Json;

    impl Json for Value {
        fn parse(text: &str) -> Result<Self, String> {
            serde_json::from_str(text).map_err(|e| e.to_string())
        }

        fn to_text(&self) -> String {
            // Printing a Value cannot fail: its map keys are strings.
            serde_json::to_string(self).unwrap_or_default()
        }

        fn null() -> Self {
            Value::Null
        }

        fn string(s: &str) -> Self {
            Value::String(s.to_owned())
        }

        fn uint(n: u64) -> Self {
            Value::from(n)
        }

        fn from_bool(b: bool) -> Self {
            Value::Bool(b)
        }

        fn array(items: Vec<Self>) -> Self {
            Value::Array(items)
        }

        fn object(fields: Vec<(&str, Self)>) -> Self {
            Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect::<Map<_, _>>(),
            )
        }

        fn is_null(&self) -> bool {
            self.is_null()
        }

        fn is_true(&self) -> bool {
            self == &Value::Bool(true)
        }

        fn as_string(&self) -> Option<String> {
            self.as_str().map(str::to_owned)
        }

        fn as_u64(&self) -> Option<u64> {
            self.as_u64()
        }

        fn items(&self) -> Option<Vec<Self>> {
            self.as_array().cloned()
        }

        fn field(&self, key: &str) -> Option<Self> {
            self.as_object()?.get(key).cloned()
        }

        fn is_object(&self) -> bool {
            self.is_object()
        }

        fn children(&self) -> Vec<Self> {
            match self {
                Value::Array(a) => a.clone(),
                Value::Object(o) => o.values().cloned().collect(),
                _ => Vec::new(),
            }
        }
    }
}

/// The JSON implementation the framing's types use when none is named: `serde_json::Value`
/// with the `serde_json` feature.
#[cfg(feature = "serde_json")]
pub type DefaultJson = serde_json::Value;

/// The JSON implementation the framing's types use when none is named: none without the
/// `serde_json` feature, so every use names its own.
#[cfg(not(feature = "serde_json"))]
pub type DefaultJson = NoJson;

/// Stands for "no default JSON implementation" (it has no values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoJson {}
