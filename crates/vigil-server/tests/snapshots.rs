//! The JSON HMA clients and `/v1` callers read, pinned field by field: a
//! change to a name, an order, a string-versus-number or null-versus-missing
//! shows up as a snapshot diff (`tests/snapshots/`), reviewed like code.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::Server;
use serde_json::{Value, json};

const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
const PDQ_NEAR: &str = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";

/// `(status, body)` as one value, so a snapshot pins both.
fn answer((status, body): (u16, Value)) -> Value {
    json!({ "status": status, "body": body })
}

#[test]
fn hma_answers_keep_their_shape() {
    let server = Server::start();
    insta::assert_json_snapshot!("signal_types", answer(server.get("/c/signal_type")));
    insta::assert_json_snapshot!("content_types", answer(server.get("/c/content_type")));
    insta::assert_json_snapshot!(
        "bank_created",
        answer(server.send("POST", "/c/banks", &json!({ "name": "SNAP" })))
    );
    insta::assert_json_snapshot!(
        "bank_exists",
        answer(server.send("POST", "/c/banks", &json!({ "name": "SNAP" })))
    );
    insta::assert_json_snapshot!(
        "signal_banked",
        answer(server.send("POST", "/c/bank/SNAP/signal", &json!({ "pdq": PDQ })))
    );
    let near = format!("signal_type=pdq&signal={PDQ_NEAR}");
    insta::assert_json_snapshot!(
        "lookup",
        answer(server.get(&format!("/m/lookup?{near}&bypass_coinflip=true")))
    );
    insta::assert_json_snapshot!(
        "raw_lookup_with_distance",
        answer(server.get(&format!("/m/raw_lookup?{near}&include_distance=true")))
    );
    insta::assert_json_snapshot!(
        "compare",
        answer(server.send(
            "POST",
            "/m/compare",
            &json!({ "pdq": [PDQ, PDQ_NEAR], "md5": ["d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427f"] })
        ))
    );
    insta::assert_json_snapshot!(
        "unknown_signal_type",
        answer(server.get("/m/lookup?signal_type=tlsh&signal=x"))
    );
    insta::assert_json_snapshot!(
        "v1_lookup",
        answer(server.get(&format!("/v1/lookup?{near}")))
    );
}
