//! JSON request bodies read straight into typed structs, never into
//! `serde_json::Value` trees: a tree costs tens of times the body's size,
//! while a typed struct fails at the first token of the wrong shape and
//! holds only the strings and numbers it keeps.
//!
//! HMA parses some bodies with pydantic (a wrong type is a 422) and others
//! by hand (a wrong shape is a 400); [`Typed`] and [`HandParsed`] answer
//! each way, and both refuse a body that is not a JSON object. Both answer `{"message"}` naming the field at fault, and the
//! field types below accept the lax forms HMA accepts (numbers as numeric
//! strings, booleans as `"yes"` or `1`, notes that are any falsy value).

use std::fmt;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, Visitor};

use crate::ApiError;

/// A JSON body of an HMA route that pydantic validates: a wrong type or a
/// missing field is a 422.
pub(crate) struct Typed<T>(pub(crate) T);

/// A JSON body of an HMA route parsed by hand: a wrong shape is a 400.
pub(crate) struct HandParsed<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Typed<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        let bytes = read(request, state).await?;
        require_object(&bytes, status)?;
        parse(&bytes, status).map(Self)
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for HandParsed<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let status = StatusCode::BAD_REQUEST;
        let bytes = read(request, state).await?;
        require_object(&bytes, status)?;
        parse(&bytes, status).map(Self)
    }
}

/// A JSON body read whole but not parsed, for a route whose type answers a
/// non-object body itself (`/m/compare` has HMA's own message for it).
pub(crate) struct JsonBytes(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        read(request, state).await.map(Self)
    }
}

/// Refuses a body that is not a JSON object before serde reads it: a
/// derived struct would also take a JSON array of its fields.
fn require_object(bytes: &[u8], status: StatusCode) -> Result<(), ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => Ok(()),
        Some(_) => Err(ApiError::new(status, "the body must be a JSON object")),
    }
}

/// Reads a JSON body whole, under the router's body limit; 415 unless its
/// Content-Type is JSON.
async fn read<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        });
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.",
        ));
    }
    Bytes::from_request(request, state)
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))
}

/// Parses `bytes` as `T`: malformed JSON is a 400, a wrong shape
/// `shape_status`, each with a message naming where it went wrong.
pub(crate) fn parse<T: DeserializeOwned>(
    bytes: &[u8],
    shape_status: StatusCode,
) -> Result<T, ApiError> {
    // Syntax first, in a pass that keeps nothing: an error of the typed
    // pass is then always one of shape (serde_json reports some wrong
    // values, such as a number for an enum, as syntax errors).
    serde_json::from_slice::<IgnoredAny>(bytes).map_err(|e| decode_error(&e))?;
    let mut json = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut json).map_err(|error| {
        let field = match error.path().to_string() {
            path if path == "." => String::new(),
            path => format!("{path}: "),
        };
        let inner = error.into_inner();
        ApiError::new(
            shape_status,
            format!("Invalid request body: {field}{inner}"),
        )
    })
}

fn decode_error(error: &serde_json::Error) -> ApiError {
    ApiError::bad_request(format!("Failed to decode JSON object: {error}"))
}

/// A field that may be absent, sent as `null`, or sent with a value:
/// HMA tells the three apart (e.g. `enabled_ratio` defaults to 1.0 unless
/// sent as `null`). Use with `#[serde(default)]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Sent<T> {
    /// Not in the body.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A value.
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sent<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map_or(Self::Null, Self::Value))
    }
}

/// A number as pydantic's lax `float` takes it: a JSON number, a numeric
/// string (spaces around it allowed) or a boolean (1 or 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LaxFloat(pub(crate) f64);

impl<'de> Deserialize<'de> for LaxFloat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LaxFloat;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, a numeric string or a boolean")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LaxFloat, E> {
                Ok(LaxFloat(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LaxFloat, E> {
                Ok(LaxFloat(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LaxFloat, E> {
                Ok(LaxFloat(v as f64))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<LaxFloat, E> {
                Ok(LaxFloat(if v { 1.0 } else { 0.0 }))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LaxFloat, E> {
                v.trim()
                    .parse()
                    .map(LaxFloat)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A boolean as pydantic's lax `bool` takes it: `true`/`false`, 1/0, or
/// one of the strings in [`lax_bool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LaxBool(pub(crate) bool);

/// Pydantic's boolean strings, in any case: `1 on t true y yes` and
/// `0 off f false n no`.
pub(crate) fn lax_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
        "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
        _ => None,
    }
}

impl<'de> Deserialize<'de> for LaxBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LaxBool;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean, 0, 1 or a boolean string")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<LaxBool, E> {
                Ok(LaxBool(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LaxBool, E> {
                match v {
                    0 | 1 => Ok(LaxBool(v == 1)),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LaxBool, E> {
                match v {
                    0 | 1 => Ok(LaxBool(v == 1)),
                    _ => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LaxBool, E> {
                match v {
                    0.0 => Ok(LaxBool(false)),
                    1.0 => Ok(LaxBool(true)),
                    _ => Err(E::invalid_value(de::Unexpected::Float(v), &self)),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LaxBool, E> {
                lax_bool(v)
                    .map(LaxBool)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A `note` as HMA checks it on every route: any falsy JSON value (`null`,
/// `false`, `0`, `""`, `[]`, `{}`) means no note; a string is the note;
/// anything else is refused with [`NoteField::check`]'s 400.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum NoteField {
    /// Not in the body.
    #[default]
    Absent,
    /// A falsy value: no note.
    Empty,
    /// A non-empty string.
    Text(String),
    /// A truthy value that is not a string.
    NotAString,
}

/// Longest note HMA stores.
pub(crate) const MAX_NOTE_CHARS: usize = 255;

impl NoteField {
    /// HMA's `_validate_note`: `None` if absent, `Some(None)` to clear,
    /// `Some(Some(text))` to set; 400 for a non-string or a note longer than
    /// 255 characters.
    pub(crate) fn check(self) -> Result<Option<Option<String>>, ApiError> {
        match self {
            Self::Absent => Ok(None),
            Self::Empty => Ok(Some(None)),
            Self::NotAString => Err(ApiError::bad_request("note should be a string")),
            Self::Text(text) if text.chars().count() > MAX_NOTE_CHARS => {
                Err(ApiError::bad_request("note must be at most 255 characters"))
            }
            Self::Text(text) => Ok(Some(Some(text))),
        }
    }

    /// A note from a form field (always a string).
    pub(crate) fn from_text(text: String) -> Self {
        if text.is_empty() {
            Self::Empty
        } else {
            Self::Text(text)
        }
    }
}

impl<'de> Deserialize<'de> for NoteField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NoteField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_unit<E: de::Error>(self) -> Result<NoteField, E> {
                Ok(NoteField::Empty)
            }
            fn visit_none<E: de::Error>(self) -> Result<NoteField, E> {
                Ok(NoteField::Empty)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<NoteField, E> {
                Ok(if v {
                    NoteField::NotAString
                } else {
                    NoteField::Empty
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NoteField, E> {
                Ok(if v == 0 {
                    NoteField::Empty
                } else {
                    NoteField::NotAString
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NoteField, E> {
                Ok(if v == 0 {
                    NoteField::Empty
                } else {
                    NoteField::NotAString
                })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NoteField, E> {
                Ok(if v == 0.0 {
                    NoteField::Empty
                } else {
                    NoteField::NotAString
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NoteField, E> {
                Ok(NoteField::from_text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<NoteField, E> {
                Ok(NoteField::from_text(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<NoteField, A::Error> {
                // Skipped without keeping anything: only emptiness matters.
                let mut empty = true;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    empty = false;
                }
                Ok(if empty {
                    NoteField::Empty
                } else {
                    NoteField::NotAString
                })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<NoteField, A::Error> {
                let mut empty = true;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
                    empty = false;
                }
                Ok(if empty {
                    NoteField::Empty
                } else {
                    NoteField::NotAString
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// An integer as Python's `int()` takes it (HMA's `disable_until_ts`): a
/// JSON integer, a float (truncated), a boolean, or a string of an integer
/// with optional spaces around it. Anything else keeps its text for HMA's
/// 400 `Invalid int: '…'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PyInt {
    /// The integer.
    Int(i64),
    /// What could not be read as one, as Python would print it.
    Invalid(String),
}

impl<'de> Deserialize<'de> for PyInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PyInt;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer or a string of one")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PyInt, E> {
                Ok(PyInt::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PyInt, E> {
                Ok(i64::try_from(v).map_or_else(|_| PyInt::Invalid(v.to_string()), PyInt::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PyInt, E> {
                if v.is_finite() && v.abs() < 9.2e18 {
                    Ok(PyInt::Int(v.trunc() as i64))
                } else {
                    Ok(PyInt::Invalid(v.to_string()))
                }
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<PyInt, E> {
                Ok(PyInt::Int(i64::from(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PyInt, E> {
                Ok(v.trim()
                    .parse()
                    .map_or_else(|_| PyInt::Invalid(v.to_owned()), PyInt::Int))
            }
            fn visit_unit<E: de::Error>(self) -> Result<PyInt, E> {
                Ok(PyInt::Invalid("None".to_owned()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<PyInt, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(PyInt::Invalid("[…]".to_owned()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<PyInt, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(PyInt::Invalid("{…}".to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug)]
/// A JSON string, or `None` for any other value, skipped without being
/// kept: where HMA refuses a non-string signal, only the fact matters.
pub(crate) struct MaybeString(pub(crate) Option<String>);

impl<'de> Deserialize<'de> for MaybeString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{MapAccess, SeqAccess};
        struct One;
        impl<'de> Visitor<'de> for One {
            type Value = MaybeString;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a signal")
            }
            fn visit_str<E>(self, v: &str) -> Result<MaybeString, E> {
                Ok(MaybeString(Some(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<MaybeString, E> {
                Ok(MaybeString(Some(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MaybeString, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeString(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MaybeString, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(MaybeString(None))
            }
            fn visit_unit<E>(self) -> Result<MaybeString, E> {
                Ok(MaybeString(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<MaybeString, E> {
                Ok(MaybeString(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<MaybeString, E> {
                Ok(MaybeString(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<MaybeString, E> {
                Ok(MaybeString(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<MaybeString, E> {
                Ok(MaybeString(None))
            }
        }
        d.deserialize_any(One)
    }
}

/// Adds one field read from a JSON object as a Python dict would: a
/// repeated key keeps its first place and takes the last value. More than
/// `max` distinct keys is an error, so a body of endless keys is refused
/// before it costs memory.
pub(crate) fn put_field<V, E: de::Error>(
    fields: &mut Vec<(String, V)>,
    key: String,
    value: V,
    max: usize,
) -> Result<(), E> {
    if let Some(at) = fields.iter().position(|(k, _)| *k == key) {
        fields[at].1 = value;
    } else if fields.len() == max {
        return Err(E::custom(format!("more than {max} fields")));
    } else {
        fields.push((key, value));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Test failures should panic.

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default)]
        ratio: Sent<LaxFloat>,
        #[serde(default)]
        on: Option<LaxBool>,
        #[serde(default)]
        note: NoteField,
        #[serde(default)]
        ts: Option<PyInt>,
    }

    fn body(json: &str) -> Result<Body, ApiError> {
        parse(json.as_bytes(), StatusCode::UNPROCESSABLE_ENTITY)
    }

    #[test]
    fn lax_forms_are_read_as_hma_reads_them() {
        assert_eq!(body("{}").unwrap().ratio, Sent::Absent);
        assert_eq!(body(r#"{"ratio": null}"#).unwrap().ratio, Sent::Null);
        for (json, ratio) in [
            ("0.5", 0.5),
            ("\" 0.25 \"", 0.25),
            ("true", 1.0),
            ("0", 0.0),
        ] {
            let parsed = body(&format!(r#"{{"ratio": {json}}}"#)).unwrap();
            assert_eq!(parsed.ratio, Sent::Value(LaxFloat(ratio)), "{json}");
        }
        for (json, on) in [
            ("\"yes\"", true),
            ("\"OFF\"", false),
            ("1", true),
            ("false", false),
        ] {
            let parsed = body(&format!(r#"{{"on": {json}}}"#)).unwrap();
            assert_eq!(parsed.on, Some(LaxBool(on)), "{json}");
        }
        for (json, ts) in [("5", 5), ("\" 7 \"", 7), ("2.9", 2), ("true", 1)] {
            let parsed = body(&format!(r#"{{"ts": {json}}}"#)).unwrap();
            assert_eq!(parsed.ts, Some(PyInt::Int(ts)), "{json}");
        }
        assert_eq!(
            body(r#"{"ts": "1.5"}"#).unwrap().ts,
            Some(PyInt::Invalid("1.5".into()))
        );
    }

    #[test]
    fn notes_follow_hma_truthiness() {
        for falsy in ["null", "false", "0", "\"\"", "[]", "{}"] {
            let note = body(&format!(r#"{{"note": {falsy}}}"#)).unwrap().note;
            assert_eq!(note.check().unwrap(), Some(None), "{falsy}");
        }
        for truthy in ["true", "3", "[1]", "{\"a\": 1}"] {
            let note = body(&format!(r#"{{"note": {truthy}}}"#)).unwrap().note;
            assert_eq!(note.check().unwrap_err().message, "note should be a string");
        }
        let long = format!(r#"{{"note": "{}"}}"#, "é".repeat(256));
        assert_eq!(body(&long).unwrap().note.check().unwrap_err().status, 400);
        assert_eq!(body("{}").unwrap().note.check().unwrap(), None);
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        let error = body(r#"{"ratio": "much"}"#).unwrap_err();
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(error.message.contains("ratio"), "{}", error.message);
        let error = body(r#"{"on": "maybe"}"#).unwrap_err();
        assert!(error.message.contains("on: "), "{}", error.message);
        let error = body(r#"{"ratio": 1"#).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert!(error.message.starts_with("Failed to decode JSON object"));
        assert_eq!(body(r"{} {}").unwrap_err().status, StatusCode::BAD_REQUEST);
    }
}
