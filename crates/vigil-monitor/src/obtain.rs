//! Getting what a URL points to, under every rule the monitor keeps: what
//! may be fetched at all, robots.txt, the per-host limits, and `file:`
//! URLs only inside the channel export they came from.

use std::path::Path;

use url::Url;
use vigil_fetch::FetchError;
use vigil_store::SourceKind;

use crate::state::{Shared, host_of, is_refusal};

/// What trying to get a URL's bytes came to.
pub(crate) enum Obtained {
    /// The body, and the URL it came from after redirects.
    Bytes(Vec<u8>, Url),
    /// Deliberately not fetched, and why.
    Refused(String),
    /// The fetch failed.
    Failed(FetchError),
}

/// Gets what `url` points to, under every rule: onion and ZeroNet never,
/// `file:` only inside the channel export it came from, the URL policy,
/// robots.txt, the per-host limits.
pub(crate) async fn obtain(shared: &Shared, url: &Url, source_id: i64) -> Obtained {
    let source = shared.source(source_id);
    if url.scheme() == "file" {
        return read_attachment(url, source.as_ref()).await;
    }
    let class = shared.options.host_rules.classify(url);
    if !class.fetchable() {
        return Obtained::Refused(format!("{class} address: recorded, never fetched"));
    }
    if matches!(url.scheme(), "ipfs" | "ipns") {
        return Obtained::Refused("an ipfs:// address needs a gateway: recorded only".into());
    }
    if let Err(e) = shared.fetcher.policy().check_url(url.as_str()) {
        return Obtained::Refused(e.to_string());
    }
    if shared.options.obey_robots && !source.as_ref().is_some_and(|s| s.ignore_robots) {
        let verdict = shared.robots.check(url, &shared.gate).await;
        if !verdict.allowed {
            return Obtained::Refused(format!("robots.txt of {} disallows it", host_of(url)));
        }
        let _permit = shared.gate.enter(&host_of(url), verdict.crawl_delay).await;
        return get(shared, url).await;
    }
    let _permit = shared.gate.enter(&host_of(url), None).await;
    get(shared, url).await
}

async fn get(shared: &Shared, url: &Url) -> Obtained {
    let _slot = shared.fetch_slots.acquire().await.ok();
    let result = shared.fetcher.get(url.as_str()).await;
    shared.heard_from_network(&result);
    match result {
        Ok(fetched) => Obtained::Bytes(fetched.bytes, fetched.url),
        Err(e) if is_refusal(&e) => Obtained::Refused(e.to_string()),
        Err(e) => Obtained::Failed(e),
    }
}

async fn read_attachment(url: &Url, source: Option<&vigil_store::Source>) -> Obtained {
    let Some(source) = source.filter(|s| s.kind == SourceKind::TelegramExport) else {
        return Obtained::Refused("local files are read only from a channel export".into());
    };
    let (Ok(path), Some(directory)) = (url.to_file_path(), Path::new(&source.location).parent())
    else {
        return Obtained::Refused("not a file in the export".into());
    };
    let directory = std::path::absolute(directory).unwrap_or_else(|_| directory.to_path_buf());
    if !path.starts_with(&directory) {
        return Obtained::Refused("the file is outside the export's directory".into());
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => Obtained::Bytes(bytes, url.clone()),
        Err(e) => Obtained::Failed(FetchError::Transport {
            url: url.to_string(),
            reason: e.to_string(),
        }),
    }
}
