//! Every typed HMA body over arbitrary JSON-like input: parsing never
//! panics, and a refusal is always a 4xx with a message (what a fuzz
//! target of these parsers would check; nightly is not needed to run it).

#![allow(clippy::unwrap_used)] // Test failures should panic.

use axum::http::StatusCode;
use proptest::prelude::*;
use serde::de::DeserializeOwned;

use super::banks::{NewBankBody, UpdateBankBody};
use super::body::parse;
use super::contents::{SignalsBody, UpdateContentBody};
use super::exchanges::{CredentialsBody, NewExchangeBody, UpdateExchangeBody};
use super::matching::CompareBody;

/// Parses `bytes` as `T` and checks the refusal, if any.
fn check<T: DeserializeOwned>(bytes: &[u8]) {
    if let Err(error) = parse::<T>(bytes, StatusCode::UNPROCESSABLE_ENTITY) {
        assert!(
            error.status == StatusCode::BAD_REQUEST
                || error.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{error:?}"
        );
        assert!(!error.message.is_empty());
    }
}

fn every_body(bytes: &[u8]) {
    check::<NewBankBody>(bytes);
    check::<UpdateBankBody>(bytes);
    check::<SignalsBody>(bytes);
    check::<UpdateContentBody>(bytes);
    check::<CompareBody>(bytes);
    check::<NewExchangeBody>(bytes);
    check::<UpdateExchangeBody>(bytes);
    check::<CredentialsBody>(bytes);
    check::<vigil_store::Labels>(bytes);
    check::<vigil_store::NewContent>(bytes);
}

/// JSON text built from the tokens and field names these bodies know, so
/// most inputs get past the syntax pass and into the typed one.
fn json_like() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "null",
        "true",
        "false",
        "0",
        "1",
        "-5",
        "2.5",
        "1e400",
        "\"\"",
        "\"yes\"",
        "\"0.5\"",
        "\"x\"",
        "\"name\"",
        "\"enabled\"",
        "\"enabled_ratio\"",
        "\"note\"",
        "\"pdq\"",
        "\"md5\"",
        "\"disable_until_ts\"",
        "\"bank\"",
        "\"api\"",
        "\"api_json\"",
        "\"credential_json\"",
        "\"signals\"",
        "\"tier\"",
        "\"metadata\"",
        "\"d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22\"",
    ]);
    prop::collection::vec(token, 0..40).prop_map(|tokens| tokens.concat())
}

proptest! {
    #[test]
    fn json_like_bodies_are_parsed_or_refused_with_a_message(text in json_like()) {
        every_body(text.as_bytes());
        // The same tokens inside an object reach the fields.
        every_body(format!("{{{text}}}").as_bytes());
    }

    #[test]
    fn arbitrary_bytes_are_refused_with_a_message(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        every_body(&bytes);
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    // serde_json stops at 128 levels; the skipping pass must too.
    let deep = format!(
        "{{\"note\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    every_body(deep.as_bytes());
}
