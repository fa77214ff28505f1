//! JSON with binary parts, and the placeholder scheme Socket.IO uses to send it.
//!
//! Socket.IO sends binary data out of band: on encode every binary part is replaced by
//! `{"_placeholder":true,"num":N}` and sent as the N-th attachment; on decode the placeholders
//! are swapped back. [`Data`] is a JSON value that may hold bytes.

#[cfg(feature = "serde_json")]
use serde_json::{Map, Value};

use crate::json::Json;

/// A placeholder names an attachment that does not exist. Its own type, so this module does
/// not depend on [`crate::socketio`], which builds on it (and turns it into its
/// `DecodeError::BadPlaceholder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPlaceholder {
    /// The number in the placeholder (`u64::MAX` when it has none).
    pub num: u64,
    /// How many attachments the packet has.
    pub count: usize,
}

#[cfg(feature = "serde_json")]
/// A JSON value that may also hold binary data.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Data>),
    /// An object, keys in order.
    Object(Vec<(String, Data)>),
    /// Bytes (an ArrayBuffer or Buffer on the JavaScript side).
    Binary(Vec<u8>),
}

#[cfg(feature = "serde_json")]
impl From<Value> for Data {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => Data::Null,
            Value::Bool(b) => Data::Bool(b),
            Value::Number(n) => Data::Number(n),
            Value::String(s) => Data::String(s),
            Value::Array(a) => Data::Array(a.into_iter().map(Data::from).collect()),
            Value::Object(o) => Data::Object(o.into_iter().map(|(k, v)| (k, v.into())).collect()),
        }
    }
}

#[cfg(feature = "serde_json")]
/// Replaces every binary part by a placeholder; returns the JSON and the attachments in order.
pub fn deconstruct(data: &Data) -> (Value, Vec<Vec<u8>>) {
    let mut attachments = Vec::new();
    let value = deconstruct_into(data, &mut attachments);
    (value, attachments)
}

#[cfg(feature = "serde_json")]
fn deconstruct_into(data: &Data, attachments: &mut Vec<Vec<u8>>) -> Value {
    match data {
        Data::Null => Value::Null,
        Data::Bool(b) => Value::Bool(*b),
        Data::Number(n) => Value::Number(n.clone()),
        Data::String(s) => Value::String(s.clone()),
        Data::Array(a) => {
            Value::Array(a.iter().map(|d| deconstruct_into(d, attachments)).collect())
        }
        Data::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), deconstruct_into(v, attachments)))
                .collect::<Map<_, _>>(),
        ),
        Data::Binary(b) => {
            let num = attachments.len();
            attachments.push(b.clone());
            let mut m = Map::new();
            m.insert("_placeholder".into(), Value::Bool(true));
            m.insert("num".into(), Value::from(num));
            Value::Object(m)
        }
    }
}

/// The attachment number if `value` is a placeholder object.
fn placeholder_num<J: Json>(value: &J) -> Option<Option<u64>> {
    if !value.field("_placeholder")?.is_true() {
        return None;
    }
    Some(value.field("num").and_then(|n| n.as_u64()))
}

#[cfg(feature = "serde_json")]
/// Puts attachments back where their placeholders are. With `binary` false (a plain event) the
/// JSON is taken as it is.
pub fn reconstruct(
    value: &Value,
    attachments: &[Vec<u8>],
    binary: bool,
) -> Result<Data, BadPlaceholder> {
    if binary && let Some(num) = placeholder_num(value) {
        let count = attachments.len();
        let num = num.ok_or(BadPlaceholder {
            num: u64::MAX,
            count,
        })?;
        return usize::try_from(num)
            .ok()
            .and_then(|i| attachments.get(i))
            .map(|b| Data::Binary(b.clone()))
            .ok_or(BadPlaceholder { num, count });
    }
    Ok(match value {
        Value::Array(a) => Data::Array(
            a.iter()
                .map(|v| reconstruct(v, attachments, binary))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Data::Object(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), reconstruct(v, attachments, binary)?)))
                .collect::<Result<_, BadPlaceholder>>()?,
        ),
        other => other.clone().into(),
    })
}

/// Checks that every placeholder names an existing attachment.
pub fn check_placeholders<J: Json>(value: &J, count: usize) -> Result<(), BadPlaceholder> {
    if let Some(num) = placeholder_num(value) {
        return match num {
            Some(n) if (n as usize) < count && n <= usize::MAX as u64 => Ok(()),
            Some(n) => Err(BadPlaceholder { num: n, count }),
            None => Err(BadPlaceholder {
                num: u64::MAX,
                count,
            }),
        };
    }
    value
        .children()
        .iter()
        .try_for_each(|v| check_placeholders(v, count))
}

#[cfg(all(test, feature = "serde_json"))]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_binary_round_trips() {
        let data = Data::Array(vec![
            Data::String("ev".into()),
            Data::Object(vec![
                ("a".into(), Data::Binary(vec![1])),
                (
                    "b".into(),
                    Data::Array(vec![Data::Binary(vec![2, 3]), Data::Null]),
                ),
            ]),
        ]);
        let (value, attachments) = deconstruct(&data);
        assert_eq!(
            value,
            json!(["ev", {"a": {"_placeholder": true, "num": 0},
                          "b": [{"_placeholder": true, "num": 1}, null]}])
        );
        assert_eq!(attachments, vec![vec![1], vec![2, 3]]);
        assert_eq!(reconstruct(&value, &attachments, true).unwrap(), data);
        check_placeholders(&value, 2).unwrap();
        assert!(check_placeholders(&value, 1).is_err());
    }

    #[test]
    fn placeholder_without_number_is_an_error() {
        let v = json!([{"_placeholder": true, "num": "x"}]);
        assert!(check_placeholders(&v, 3).is_err());
        assert!(reconstruct(&v, &[vec![1]], true).is_err());
        // In a plain event it is ordinary JSON.
        assert!(reconstruct(&v, &[], false).is_ok());
    }
}
