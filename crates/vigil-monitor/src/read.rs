//! Reading a source: fetching a feed or page (or opening a channel
//! export), parsing its posts, and recording every URL they link to as a
//! pending sighting.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Component, Path};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use url::Url;
use vigil_store::{NewSighting, Source, SourceKind, unix_now_ms};

use crate::MonitorError;
use crate::posts::{Post, check_feed, parse_feed, parse_page_bytes, read_telegram_export};
use crate::state::{ExportStamp, Shared, blocking, host_of};

/// Reads one source and records the URLs its posts link to.
pub(crate) async fn read_source(shared: Arc<Shared>, source: Source) -> Result<(), MonitorError> {
    let started = unix_now_ms();
    let result = read_posts(&shared, &source).await;
    shared.counters.reads.fetch_add(1, Ordering::Relaxed);
    let posts = match result {
        Ok(posts) => posts,
        Err(e) => {
            shared.counters.read_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(source = %source.name, error = %e, "cannot read source");
            let error = e.to_string();
            let id = source.id;
            blocking(&shared, move |shared| {
                Ok(shared.store.source_polled(id, started, Some(&error))?)
            })
            .await?;
            mark_polled(&shared, source.id, started);
            return Ok(());
        }
    };
    shared
        .counters
        .posts
        .fetch_add(posts.len() as u64, Ordering::Relaxed);
    let seen_at = unix_now_ms();
    let mut seen = Vec::new();
    for post in posts.iter().take(shared.options.max_posts_per_read) {
        for url in post.links.iter().cloned().chain(attachments(&source, post)) {
            seen.push(NewSighting {
                host: host_of(&url),
                host_class: shared.options.host_rules.classify(&url).as_str().to_owned(),
                url: url.into(),
                source_id: source.id,
                post_key: post.key.clone(),
                post_url: post.url.clone(),
                posted_at: post.published_at,
                first_seen_at: seen_at,
            });
        }
    }
    let id = source.id;
    let added = blocking(&shared, move |shared| {
        let added = shared.store.add_sightings(&seen)?;
        shared.store.source_polled(id, started, None)?;
        Ok(added)
    })
    .await?;
    shared
        .counters
        .links
        .fetch_add(added.len() as u64, Ordering::Relaxed);
    if !added.is_empty() {
        tracing::debug!(source = %source.name, new = added.len(), "new links");
    }
    mark_polled(&shared, source.id, started);
    Ok(())
}

/// Notes the read in the cached source list, so it is not read again
/// before its interval even if the list was loaded before the read ended.
fn mark_polled(shared: &Shared, id: i64, at: i64) {
    if let Some(source) = shared
        .sources
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_mut(&id)
    {
        source.last_polled_at = Some(at);
    }
}

async fn read_posts(shared: &Arc<Shared>, source: &Source) -> Result<Vec<Post>, MonitorError> {
    if source.kind == SourceKind::TelegramExport {
        return read_export(shared, source).await;
    }
    let url = Url::parse(&source.location)
        .map_err(|e| MonitorError::Source(format!("bad source URL {}: {e}", source.location)))?;
    if shared.options.obey_robots && !source.ignore_robots {
        let verdict = shared.robots.check(&url, &shared.gate).await;
        if !verdict.allowed {
            return Err(MonitorError::Source(format!(
                "robots.txt of {} disallows reading it",
                host_of(&url)
            )));
        }
    }
    let fetched = {
        let host = host_of(&url);
        let _permit = shared.gate.enter(&host, None).await;
        // The operator added this source by hand: `--allow-host` limits
        // where its links lead, not whether it is read.
        let result = shared
            .fetcher
            .get_also_allowing(url.as_str(), Some(&host))
            .await;
        shared.heard_from_network(&result);
        result?
    };
    let kind = source.kind;
    let max_feed_bytes = shared.options.max_feed_bytes;
    let html = shared.options.hash.html;
    let name = source.name.clone();
    // Parsing what strangers wrote is CPU-heavy: off the async threads.
    blocking(shared, move |_| {
        if kind == SourceKind::Feed {
            check_feed(&fetched.bytes, max_feed_bytes)?;
            parse_feed(&fetched.bytes, &fetched.url)
        } else {
            let (post, truncated) = parse_page_bytes(&fetched.bytes, &fetched.url, &html);
            if let Some(limit) = truncated {
                tracing::warn!(source = %name, %limit, "page read in part");
            }
            Ok(vec![post])
        }
    })
    .await
}

/// Reads a channel export as a stream, on a blocking thread, keeping the
/// newest posts a read takes. An export whose size and modification time
/// are those of its last good read has nothing new and is not read again.
async fn read_export(shared: &Arc<Shared>, source: &Source) -> Result<Vec<Post>, MonitorError> {
    let cannot =
        |e: std::io::Error| MonitorError::Source(format!("cannot read {}: {e}", source.location));
    let path = Path::new(&source.location).to_path_buf();
    let metadata = tokio::fs::metadata(&path).await.map_err(cannot)?;
    let (size, limit) = (metadata.len(), shared.options.max_export_bytes);
    if size > limit {
        return Err(MonitorError::Source(format!(
            "{} is {size} bytes, more than {limit}",
            source.location
        )));
    }
    let stamp = (size, metadata.modified().ok());
    let unchanged = |seen: &HashMap<i64, ExportStamp>| seen.get(&source.id) == Some(&stamp);
    if unchanged(
        &shared
            .exports_read
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    ) {
        return Ok(Vec::new());
    }
    let max_posts = shared.options.max_posts_per_read;
    let location = source.location.clone();
    let posts = blocking(shared, move |_| {
        // The size checked above bounds the read even if the file grows.
        let file = std::fs::File::open(&path)
            .map_err(|e| MonitorError::Source(format!("cannot read {location}: {e}")))?;
        read_telegram_export(file.take(limit), max_posts)
    })
    .await?;
    shared
        .exports_read
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(source.id, stamp);
    Ok(posts)
}

/// A channel export's attachments as `file:` URLs inside the export's
/// directory; paths that would leave it are dropped.
fn attachments(source: &Source, post: &Post) -> Vec<Url> {
    let Some(directory) = Path::new(&source.location).parent() else {
        return Vec::new();
    };
    let directory = std::path::absolute(directory).unwrap_or_else(|_| directory.to_path_buf());
    post.attachments
        .iter()
        .filter(|relative| {
            Path::new(relative.as_str())
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        })
        .filter_map(|relative| Url::from_file_path(directory.join(relative)).ok())
        .collect()
}
