//! Live answers against `/openapi.json`: every route of the document is
//! called on the real server, for a success and (where it declares one) a
//! typical refusal, and each answer must have a status the document
//! declares for that route and a body its schema accepts. A route added
//! without a schema, or without a call here, fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{Server, Site, encode, vector};
use serde_json::{Value, json};
use vigil_fetch::UrlPolicy;

const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
const PDQ_NEAR: &str = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";
const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

/// Where the document is registered with the validator.
const DOCUMENT: &str = "http://vigil.test/openapi.json";

/// Routes whose answers are still described as any object: the monitor's,
/// whose records the monitor crate will describe.
// TODO(#18): give them schemas when the monitor lives in `vigil-monitor`.
const UNDESCRIBED: [&str; 2] = ["/v1/sightings", "/v1/reports/takedowns"];

/// The document, compiled schemas of the responses met so far, and which
/// (method, route, status) were answered.
struct Spec {
    api: Value,
    compiler: boon::Compiler,
    schemas: boon::Schemas,
    compiled: HashMap<String, boon::SchemaIndex>,
    answered: BTreeSet<(String, String, u16)>,
}

/// A JSON pointer token inside a URI fragment.
fn token(text: &str) -> String {
    text.replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

impl Spec {
    fn load(server: &Server) -> Self {
        let (status, api) = server.get("/openapi.json");
        assert_eq!(status, 200);
        let mut compiler = boon::Compiler::new();
        compiler.add_resource(DOCUMENT, api.clone()).unwrap();
        Self {
            api,
            compiler,
            schemas: boon::Schemas::new(),
            compiled: HashMap::new(),
            answered: BTreeSet::new(),
        }
    }

    /// Every (method, route) of the document.
    fn operations(&self) -> Vec<(String, String)> {
        let mut operations = Vec::new();
        for (route, methods) in self.api["paths"].as_object().unwrap() {
            for method in methods.as_object().unwrap().keys() {
                operations.push((method.clone(), route.clone()));
            }
        }
        operations
    }

    /// The declared response of `method route` with `status`, and where
    /// its schema is.
    fn response(&self, method: &str, route: &str, status: u16) -> Option<(&Value, String)> {
        let response = self.api["paths"][route][method]["responses"].get(status.to_string())?;
        let (media_type, _) = response["content"].as_object()?.iter().next()?;
        let location = format!(
            "{DOCUMENT}#/paths/{}/{method}/responses/{status}/content/{}/schema",
            token(route),
            token(media_type)
        );
        Some((response, location))
    }

    /// Checks one answer of `method route`; returns its body.
    fn check(&mut self, method: &str, route: &str, (status, body): (u16, Value)) -> Value {
        let method = method.to_ascii_lowercase();
        let location = self
            .response(&method, route, status).map_or_else(|| {
                panic!("{method} {route} answered {status}, which the document does not declare with a schema: {body}")
            }, |(_, location)| location);
        let index = if let Some(index) = self.compiled.get(&location) {
            *index
        } else {
            let index = self
                .compiler
                .compile(&location, &mut self.schemas)
                .unwrap_or_else(|e| panic!("{location}: {e:#}"));
            self.compiled.insert(location, index);
            index
        };
        if let Err(error) = self.schemas.validate(&body, index) {
            panic!("{method} {route} {status}: {body} does not match its schema: {error:#}");
        }
        self.answered.insert((method, route.to_owned(), status));
        body
    }
}

fn site() -> Site {
    Site::start(vec![
        (
            "/photo.jpg",
            "image/jpeg",
            vector("bridge-mods/aaa-orig.jpg"),
        ),
        (
            "/page.txt",
            "text/plain",
            b"a plain text page with a few words in it".to_vec(),
        ),
    ])
}

/// Calls every route of the document; `spec` checks each answer.
fn call_every_route(server: &Server, site: &Site, spec: &mut Spec) {
    let photo = vector("bridge-mods/aaa-orig.jpg");
    let photo_url = encode(&site.url("/photo.jpg"));
    let text_url = encode(&site.url("/page.txt"));
    let get = |path: &str| server.get(path);
    let send = |method: &str, path: &str, body: Value| server.send(method, path, &body);

    spec.check("GET", "/status", get("/status"));
    spec.check("GET", "/status/live", get("/status/live"));

    // Banks.
    let route = "/c/banks";
    spec.check("POST", route, send("POST", route, json!({"name": "KNOWN"})));
    spec.check(
        "POST",
        route,
        send("POST", route, json!({"name": "bad name"})),
    );
    spec.check("POST", route, send("POST", route, json!({"name": "OTHER"})));
    spec.check("GET", route, get(route));
    let route = "/c/bank/{name}";
    spec.check("GET", route, get("/c/bank/KNOWN"));
    spec.check("GET", route, get("/c/bank/NOPE"));
    let ratio = json!({"enabled_ratio": 1.0});
    spec.check("PUT", route, send("PUT", "/c/bank/KNOWN", ratio.clone()));
    spec.check("PUT", route, send("PUT", "/c/bank/NOPE", ratio));
    spec.check(
        "DELETE",
        route,
        send("DELETE", "/c/bank/OTHER", json!(null)),
    );

    // Contents.
    let route = "/c/bank/{name}/signal";
    let signal = json!({"pdq": PDQ, "md5": MD5, "note": "benign test"});
    spec.check(
        "POST",
        route,
        send("POST", "/c/bank/KNOWN/signal", signal.clone()),
    );
    spec.check("POST", route, send("POST", "/c/bank/NOPE/signal", signal));
    let route = "/c/bank/{name}/content";
    let metadata = [("metadata", r#"{"content_id": "post-1"}"#)];
    let files = [("photo", "photo.jpg", &photo[..])];
    let upload = |path: &str| server.upload(path, &files, &metadata);
    let added = spec.check("POST", route, upload("/c/bank/KNOWN/content"));
    spec.check("POST", route, upload("/c/bank/NOPE/content"));
    let photo_id = added["id"].as_i64().unwrap();
    let route = "/c/bank/{name}/content/{id}";
    let content = format!("/c/bank/KNOWN/content/{photo_id}?include_signals=true");
    spec.check("GET", route, get(&content));
    spec.check("GET", route, get("/c/bank/KNOWN/content/999"));
    let note = json!({"note": "seen twice", "disable_until_ts": 1});
    let path = format!("/c/bank/KNOWN/content/{photo_id}");
    spec.check("PUT", route, send("PUT", &path, note));
    let bad = json!({"disable_until_ts": "soon"});
    spec.check("PUT", route, send("PUT", &path, bad));
    spec.check(
        "DELETE",
        route,
        send("DELETE", "/c/bank/NOPE/content/1", json!(null)),
    );

    // Configuration.
    spec.check("GET", "/c/signal_type", get("/c/signal_type"));
    let route = "/c/signal_type/index";
    spec.check("GET", route, get(route));
    spec.check("GET", route, get("/c/signal_type/index?signal_type=nope"));
    spec.check("GET", "/c/content_type", get("/c/content_type"));

    // Exchanges.
    spec.check("GET", "/c/exchanges/apis", get("/c/exchanges/apis"));
    let route = "/c/exchanges/api/{api}";
    spec.check("GET", route, get("/c/exchanges/api/sample"));
    spec.check("GET", route, get("/c/exchanges/api/nope"));
    let none = json!({"credential_json": {}});
    spec.check("POST", route, send("POST", "/c/exchanges/api/sample", none));
    let some = json!({"credential_json": {"token": "x"}});
    spec.check("POST", route, send("POST", "/c/exchanges/api/sample", some));
    let route = "/c/exchanges/api/{api}/schema";
    spec.check("GET", route, get("/c/exchanges/api/local_file/schema"));
    spec.check("GET", route, get("/c/exchanges/api/nope/schema"));
    let route = "/c/exchanges";
    let exchange = json!({"bank": "SEED_SAMPLE", "api": "sample", "api_json": {}});
    spec.check("POST", route, send("POST", route, exchange.clone()));
    spec.check("POST", route, send("POST", route, exchange));
    spec.check("GET", route, get(route));
    let route = "/c/exchange/{name}";
    spec.check("GET", route, get("/c/exchange/SEED_SAMPLE"));
    spec.check("GET", route, get("/c/exchange/NOPE"));
    let off = json!({"enabled": false});
    spec.check(
        "PUT",
        route,
        send("PUT", "/c/exchange/SEED_SAMPLE", off.clone()),
    );
    spec.check("PUT", route, send("PUT", "/c/exchange/NOPE", off));
    let route = "/c/exchange/{name}/status";
    spec.check("GET", route, get("/c/exchange/SEED_SAMPLE/status"));
    spec.check("GET", route, get("/c/exchange/NOPE/status"));
    let route = "/c/exchange/{name}/fetch";
    spec.check(
        "POST",
        route,
        send("POST", "/c/exchange/SEED_SAMPLE/fetch", json!({})),
    );
    spec.check(
        "POST",
        route,
        send("POST", "/c/exchange/NOPE/fetch", json!({})),
    );
    let route = "/c/exchange/{name}";
    spec.check(
        "DELETE",
        route,
        send("DELETE", "/c/exchange/SEED_SAMPLE", json!(null)),
    );

    // Matching.
    let route = "/m/raw_lookup";
    let raw = format!("/m/raw_lookup?signal_type=pdq&signal={PDQ}");
    let ids = spec.check("GET", route, get(&raw));
    assert!(!ids["matches"].as_array().unwrap().is_empty(), "{ids}");
    spec.check("GET", route, get(&format!("{raw}&include_distance=true")));
    spec.check(
        "GET",
        route,
        get(&format!("/m/raw_lookup?signal_type=nope&signal={PDQ}")),
    );
    let route = "/m/lookup";
    let by_bank = spec.check(
        "GET",
        route,
        get(&format!("/m/lookup?signal_type=pdq&signal={PDQ}")),
    );
    assert!(by_bank["KNOWN"].is_array(), "{by_bank}");
    let by_type = spec.check("GET", route, get(&format!("/m/lookup?url={photo_url}")));
    assert!(by_type["pdq"]["KNOWN"].is_array(), "{by_type}");
    let defended = format!("/m/lookup?url={photo_url}&signal_type=pdq&defend=all");
    spec.check("GET", route, get(&defended));
    spec.check("GET", route, get(&format!("/m/lookup?url={text_url}")));
    spec.check("GET", route, get("/m/lookup"));
    let files = [("photo", "photo.jpg", &photo[..])];
    spec.check("POST", route, server.upload(route, &files, &[]));
    spec.check(
        "POST",
        route,
        server.upload(route, &[], &[("note", "no file")]),
    );
    let route = "/m/compare";
    let pairs = json!({"pdq": [PDQ, PDQ_NEAR], "md5": [MD5, MD5.replace('d', "e")]});
    let compared = spec.check("POST", route, send("POST", route, pairs));
    assert_eq!(compared["md5"], json!([false, {"distance": null}]));
    spec.check("POST", route, send("POST", route, json!({"pdq": [PDQ]})));
    let route = "/m/index/status";
    spec.check("GET", route, get(route));
    spec.check("GET", route, get("/m/index/status?signal_type=nope"));

    // Hashing.
    let route = "/h/hash";
    spec.check("GET", route, get(&format!("/h/hash?url={photo_url}")));
    spec.check("GET", route, get("/h/hash"));
    spec.check("POST", route, server.upload(route, &files, &[]));
    let two = [files[0], ("video", "clip.mp4", &b"not a video"[..])];
    spec.check("POST", route, server.upload(route, &two, &[]));

    // The native API.
    let route = "/v1/bank/{name}/content";
    let content = json!({
        "signals": {"md5": "0123456789abcdef0123456789abcdef"},
        "labels": {"entity": "Example Group", "tier": "designated", "tags": ["logo"]},
        "metadata": {"content_uri": "https://example.org/post/1"},
        "note": "from a partner",
    });
    let added = spec.check(
        "POST",
        route,
        send("POST", "/v1/bank/KNOWN/content", content.clone()),
    );
    spec.check(
        "POST",
        route,
        send("POST", "/v1/bank/NOPE/content", content),
    );
    let id = added["id"].as_i64().unwrap();
    let route = "/v1/content/{id}";
    spec.check("GET", route, get(&format!("/v1/content/{id}")));
    spec.check("GET", route, get("/v1/content/999"));
    let route = "/v1/content/{id}/labels";
    spec.check("GET", route, get(&format!("/v1/content/{id}/labels")));
    spec.check("GET", route, get("/v1/content/999/labels"));
    let labels =
        json!({"entity": "Example Group", "behaviour": "recruitment", "tags": ["nasheed"]});
    let path = format!("/v1/content/{id}/labels");
    spec.check("PUT", route, send("PUT", &path, labels));
    spec.check("PUT", route, send("PUT", &path, json!({"tier": "nope"})));
    let route = "/v1/lookup";
    let found = spec.check(
        "GET",
        route,
        get(&format!("/v1/lookup?signal_type=pdq&signal={PDQ}")),
    );
    assert!(!found["matches"].as_array().unwrap().is_empty(), "{found}");
    spec.check("GET", route, get("/v1/lookup?signal_type=nope&signal=x"));
    spec.check("GET", "/v1/sightings", get("/v1/sightings"));
    let route = "/v1/reports/takedowns";
    spec.check("GET", route, get(route));

    // Last, so the contents above stay for the lookups.
    let route = "/c/bank/{name}/content/{id}";
    let path = format!("/c/bank/KNOWN/content/{photo_id}");
    spec.check("DELETE", route, send("DELETE", &path, json!(null)));
}

#[test]
fn every_answer_matches_the_openapi_document() {
    let site = site();
    let server = Server::start_with_policy(
        UrlPolicy {
            allow_private: true,
            ..UrlPolicy::default()
        },
        |_| {},
    );
    let mut spec = Spec::load(&server);
    call_every_route(&server, &site, &mut spec);

    let mut missing = Vec::new();
    for (method, route) in spec.operations() {
        let responses = spec.api["paths"][&route][&method]["responses"]
            .as_object()
            .unwrap()
            .clone();
        for (status, response) in &responses {
            let Some((_, location)) = status
                .parse()
                .ok()
                .and_then(|status| spec.response(&method, &route, status))
            else {
                missing.push(format!("{method} {route} {status}: no schema"));
                continue;
            };
            let schema = &response["content"]
                .as_object()
                .unwrap()
                .values()
                .next()
                .unwrap()["schema"];
            if *schema == json!({"type": "object"}) && !UNDESCRIBED.contains(&route.as_str()) {
                missing.push(format!(
                    "{method} {route} {status}: any object ({location})"
                ));
            }
        }
        let answered = |success: bool| {
            spec.answered.iter().any(|(m, r, status)| {
                *m == method && *r == route && (200..300).contains(status) == success
            })
        };
        if !answered(true) {
            missing.push(format!("{method} {route}: no success called"));
        }
        let refuses = responses.keys().any(|s| s.starts_with('4'));
        if refuses && !answered(false) {
            missing.push(format!("{method} {route}: no refusal called"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn a_wrong_answer_fails_its_schema() {
    // The check itself: a body its schema refuses is caught.
    let server = Server::start();
    let mut spec = Spec::load(&server);
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        spec.check("GET", "/c/banks", (200, json!([{"name": 1}])));
    }));
    assert!(refused.is_err());
    let undeclared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        spec.check("GET", "/c/banks", (418, json!({"message": "teapot"})));
    }));
    assert!(undeclared.is_err());
    let banks = json!([{"name": "A", "matching_enabled_ratio": 0.5}]);
    assert_eq!(spec.check("GET", "/c/banks", (200, banks.clone())), banks);
}
