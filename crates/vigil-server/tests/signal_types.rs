//! Every route that takes a signal type agrees with the engine on the set
//! of types: each `SignalType` HMA's routes show is accepted, looked up,
//! compared, banked and reported by every one of them, and Vigil's own
//! `pdq_variants` is refused by all of them alike.

mod common;

use common::Server;
use serde_json::{Value, json};
use vigil_signal::text::{QUERY_SAMPLE, normalize};
use vigil_signal::vpdq::{VpdqFrame, to_hma_signal};
use vigil_signal::{PdqHash, SignalType, TextSketch};

const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

/// A valid signal of each type, in its text form.
#[allow(clippy::unwrap_used)]
fn sample(signal_type: SignalType) -> String {
    match signal_type {
        SignalType::Md5 | SignalType::VideoMd5 => "d41d8cd98f00b204e9800998ecf8427e".to_owned(),
        SignalType::Sha256 => {
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_owned()
        }
        SignalType::Pdq => PDQ.to_owned(),
        SignalType::PdqVariants => format!("orig:{PDQ}:100"),
        SignalType::Text => TextSketch::of_normalized(
            &normalize("a neutral sentence about the weather in the valley this week"),
            QUERY_SAMPLE,
        )
        .to_string(),
        SignalType::Vpdq => to_hma_signal(
            &(0..4)
                .map(|i| VpdqFrame {
                    frame_number: i,
                    quality: 100,
                    hash: PDQ.parse::<PdqHash>().unwrap(),
                    timestamp: i as f32,
                })
                .collect::<Vec<_>>(),
        ),
    }
}

fn encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[test]
fn every_route_taking_a_signal_type_agrees_on_the_set() {
    let server = Server::start();
    assert_eq!(
        server
            .send("POST", "/c/banks", &json!({ "name": "TYPES" }))
            .0,
        201
    );
    let (status, listed) = server.get("/c/signal_type");
    assert_eq!(status, 200);
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let served: Vec<&str> = SignalType::ALL
        .iter()
        .filter(|t| t.on_hma_routes())
        .map(|t| t.as_str())
        .collect();
    assert_eq!(listed, served, "/c/signal_type lists HMA's types");

    for signal_type in SignalType::ALL {
        let name = signal_type.as_str();
        let value = sample(signal_type);
        let query = format!("signal_type={name}&signal={}", encoded(&value));
        let routes = [
            ("GET", format!("/m/lookup?{query}"), Value::Null),
            ("GET", format!("/m/raw_lookup?{query}"), Value::Null),
            ("GET", format!("/v1/lookup?{query}"), Value::Null),
            (
                "GET",
                format!("/m/index/status?signal_type={name}"),
                Value::Null,
            ),
            (
                "GET",
                format!("/c/signal_type/index?signal_type={name}"),
                Value::Null,
            ),
            (
                "POST",
                "/m/compare".to_owned(),
                json!({ name: [value.clone(), value.clone()] }),
            ),
            (
                "POST",
                "/c/bank/TYPES/signal".to_owned(),
                json!({ name: value.clone() }),
            ),
        ];
        for (method, path, body) in routes {
            let (status, answer) = if method == "GET" {
                server.get(&path)
            } else {
                server.send(method, &path, &body)
            };
            if signal_type.on_hma_routes() {
                assert!(
                    (200..300).contains(&status),
                    "{method} {path}: {status} {answer}"
                );
            } else {
                assert_eq!(status, 400, "{method} {path}: {answer}");
                let message = answer["message"].as_str().unwrap_or_default();
                assert!(
                    message.contains("No such SignalType")
                        || message.contains("No such signal type"),
                    "{method} {path}: {answer}"
                );
            }
        }
        if signal_type.on_hma_routes() {
            // A signal is as close as can be to itself, and matches it.
            let (_, compared) = server.send(
                "POST",
                "/m/compare",
                &json!({ name: [value.clone(), value.clone()] }),
            );
            assert_eq!(compared[name][0], true, "{name}: {compared}");
            assert_eq!(compared[name][1]["distance"], 0, "{name}: {compared}");
            // The banked signal is found again.
            let (_, found) = server.get(&format!(
                "/m/lookup?signal_type={name}&signal={}&bypass_coinflip=true",
                encoded(&value)
            ));
            assert!(
                found["TYPES"].as_array().is_some_and(|m| !m.is_empty()),
                "{name}: {found}"
            );
        }
    }
}
