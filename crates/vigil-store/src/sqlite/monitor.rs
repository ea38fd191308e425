//! The monitor's records on SQLite.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use super::{SqliteStore, audit};
use crate::monitor::{
    Delivery, DeliveryAttempt, DeliveryStatus, FetchRecord, FetchState, Liveness, MonitorStore,
    NewAlert, NewSighting, NewSource, Sighting, SightingMatch, Source, Webhook,
};
use crate::{Error, unix_now};

const SOURCE_COLUMNS: &str = "id, name, kind, location, interval_ms, ignore_robots, created_at, \
     last_polled_at, last_error";

const SIGHTING_COLUMNS: &str = "id, url, host, host_class, source_id, post_key, post_url, \
     posted_at, first_seen_at, state, reason, final_url, media_kind, signals, matched, liveness, \
     ladder_step, next_check_at, last_checked_at, removed_at, removal_reason, resurfaced_from";

fn source_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Source, String)> {
    Ok((
        Source {
            id: row.get(0)?,
            name: row.get(1)?,
            kind: crate::SourceKind::Feed,
            location: row.get(3)?,
            interval_ms: row.get(4)?,
            ignore_robots: row.get(5)?,
            created_at: row.get(6)?,
            last_polled_at: row.get(7)?,
            last_error: row.get(8)?,
        },
        row.get(2)?,
    ))
}

fn to_source((mut source, kind): (Source, String)) -> Result<Source, Error> {
    source.kind = kind
        .parse()
        .map_err(|_| Error::Corrupt(format!("source kind {kind:?}")))?;
    Ok(source)
}

/// A sighting row before its text columns are checked.
struct SightingRow {
    sighting: Sighting,
    state: String,
    liveness: String,
    step: Option<i64>,
    next_check_at: Option<i64>,
    removed_at: Option<i64>,
    removal_reason: Option<String>,
}

fn sighting_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SightingRow> {
    Ok(SightingRow {
        sighting: Sighting {
            id: row.get(0)?,
            seen: NewSighting {
                url: row.get(1)?,
                host: row.get(2)?,
                host_class: row.get(3)?,
                source_id: row.get(4)?,
                post_key: row.get(5)?,
                post_url: row.get(6)?,
                posted_at: row.get(7)?,
                first_seen_at: row.get(8)?,
            },
            state: FetchState::Pending,
            reason: row.get(10)?,
            final_url: row.get(11)?,
            media_kind: row.get(12)?,
            signals: row.get(13)?,
            matched: row.get(14)?,
            liveness: Liveness::Untracked,
            last_checked_at: row.get(18)?,
            resurfaced_from: row.get(21)?,
        },
        state: row.get(9)?,
        liveness: row.get(15)?,
        step: row.get(16)?,
        next_check_at: row.get(17)?,
        removed_at: row.get(19)?,
        removal_reason: row.get(20)?,
    })
}

fn to_sighting(row: SightingRow) -> Result<Sighting, Error> {
    let mut sighting = row.sighting;
    sighting.state = FetchState::parse(&row.state)?;
    sighting.liveness = crate::monitor::liveness_from_columns(
        &row.liveness,
        row.step,
        row.next_check_at,
        row.removed_at,
        row.removal_reason,
    )?;
    Ok(sighting)
}

fn query_sightings(
    connection: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Sighting>, Error> {
    let mut statement =
        connection.prepare_cached(&format!("SELECT {SIGHTING_COLUMNS} FROM sighting {filter}"))?;
    let rows = statement.query_map(params, sighting_row)?;
    rows.map(|row| to_sighting(row?)).collect()
}

fn limit(limit: usize) -> i64 {
    limit.min(i64::MAX as usize) as i64
}

fn insert_matches(
    connection: &Connection,
    id: i64,
    matches: &[SightingMatch],
) -> Result<(), Error> {
    let mut statement = connection.prepare_cached(
        "INSERT OR IGNORE INTO sighting_match (sighting_id, content_id, bank, signal_type, distance) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for found in matches {
        statement.execute(params![
            id,
            found.content_id,
            found.bank,
            found.signal_type,
            found.distance
        ])?;
    }
    Ok(())
}

fn update_liveness(
    connection: &Connection,
    id: i64,
    liveness: &Liveness,
    checked_at: Option<i64>,
) -> Result<(), Error> {
    let (name, step, next, removed_at, reason) = crate::monitor::liveness_columns(liveness);
    connection.execute(
        "UPDATE sighting SET liveness = ?2, ladder_step = ?3, next_check_at = ?4, removed_at = ?5, \
         removal_reason = ?6, last_checked_at = COALESCE(?7, last_checked_at) WHERE id = ?1",
        params![id, name, step, next, removed_at, reason, checked_at],
    )?;
    Ok(())
}

fn find_webhook(connection: &Connection, name: &str) -> Result<Option<Webhook>, Error> {
    Ok(connection
        .query_row(
            "SELECT id, name, url FROM webhook WHERE name = ?1",
            [name],
            |row| {
                Ok(Webhook {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    url: row.get(2)?,
                })
            },
        )
        .optional()?)
}

impl MonitorStore for SqliteStore {
    fn add_source(&self, source: &NewSource, actor: &str) -> Result<Source, Error> {
        crate::monitor::validate_source(source)?;
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        let inserted = transaction.execute(
            "INSERT INTO monitor_source (name, kind, location, interval_ms, ignore_robots, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO NOTHING",
            params![
                source.name,
                source.kind.as_str(),
                source.location,
                source.interval_ms,
                source.ignore_robots,
                unix_now() * 1000
            ],
        )?;
        if inserted == 0 {
            return Err(Error::Invalid(format!(
                "a source named {:?} exists",
                source.name
            )));
        }
        audit(
            &transaction,
            actor,
            "monitor.source.add",
            &format!("source:{}", source.name),
            json!({ "kind": source.kind.as_str(), "location": source.location,
                    "interval_ms": source.interval_ms, "ignore_robots": source.ignore_robots }),
        )?;
        let added = transaction.query_row(
            &format!("SELECT {SOURCE_COLUMNS} FROM monitor_source WHERE name = ?1"),
            [&source.name],
            source_row,
        )?;
        transaction.commit()?;
        to_source(added)
    }

    fn sources(&self) -> Result<Vec<Source>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(&format!(
            "SELECT {SOURCE_COLUMNS} FROM monitor_source ORDER BY name"
        ))?;
        let rows = statement.query_map([], source_row)?;
        rows.map(|row| to_source(row?)).collect()
    }

    fn remove_source(&self, name: &str, actor: &str) -> Result<bool, Error> {
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        let removed = transaction.execute("DELETE FROM monitor_source WHERE name = ?1", [name])?;
        if removed > 0 {
            audit(
                &transaction,
                actor,
                "monitor.source.remove",
                &format!("source:{name}"),
                json!({}),
            )?;
        }
        transaction.commit()?;
        Ok(removed > 0)
    }

    fn source_polled(&self, id: i64, at: i64, error: Option<&str>) -> Result<(), Error> {
        self.lock().execute(
            "UPDATE monitor_source SET last_polled_at = ?2, last_error = ?3 WHERE id = ?1",
            params![id, at, error],
        )?;
        Ok(())
    }

    fn add_sightings(&self, seen: &[NewSighting]) -> Result<Vec<Sighting>, Error> {
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        let mut ids = Vec::new();
        {
            let mut insert = transaction.prepare_cached(
                "INSERT INTO sighting (url, host, host_class, source_id, post_key, post_url, \
                 posted_at, first_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (url) DO NOTHING",
            )?;
            for item in seen {
                let inserted = insert.execute(params![
                    item.url,
                    item.host,
                    item.host_class,
                    item.source_id,
                    item.post_key,
                    item.post_url,
                    item.posted_at,
                    item.first_seen_at
                ])?;
                if inserted > 0 {
                    ids.push(transaction.last_insert_rowid());
                }
            }
        }
        let mut added = Vec::with_capacity(ids.len());
        for id in ids {
            added.extend(query_sightings(&transaction, "WHERE id = ?1", [id])?);
        }
        transaction.commit()?;
        Ok(added)
    }

    fn pending_sightings(&self, limit_to: usize) -> Result<Vec<Sighting>, Error> {
        query_sightings(
            &self.lock(),
            "WHERE state = 'pending' ORDER BY id LIMIT ?1",
            [limit(limit_to)],
        )
    }

    fn record_fetch(&self, id: i64, record: &FetchRecord) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        transaction.execute(
            "UPDATE sighting SET state = ?2, reason = ?3, final_url = ?4, media_kind = ?5, \
             signals = ?6, matched = ?7, resurfaced_from = ?8, host = COALESCE(?9, host), \
             host_class = COALESCE(?10, host_class) WHERE id = ?1",
            params![
                id,
                record.state.as_str(),
                record.reason,
                record.final_url,
                record.media_kind,
                record.signals,
                !record.matches.is_empty(),
                record.resurfaced_from,
                record.host.as_ref().map(|(host, _)| host),
                record.host.as_ref().map(|(_, class)| class)
            ],
        )?;
        insert_matches(&transaction, id, &record.matches)?;
        update_liveness(&transaction, id, &record.liveness, None)?;
        transaction.commit()?;
        Ok(())
    }

    fn add_matches(
        &self,
        id: i64,
        matches: &[SightingMatch],
        liveness: &Liveness,
        resurfaced_from: Option<i64>,
    ) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        insert_matches(&transaction, id, matches)?;
        transaction.execute(
            "UPDATE sighting SET matched = 1, resurfaced_from = COALESCE(resurfaced_from, ?2) WHERE id = ?1",
            params![id, resurfaced_from],
        )?;
        update_liveness(&transaction, id, liveness, None)?;
        transaction.commit()?;
        Ok(())
    }

    fn due_checks(&self, now: i64, limit_to: usize) -> Result<Vec<Sighting>, Error> {
        query_sightings(
            &self.lock(),
            "WHERE liveness = 'live' AND next_check_at <= ?1 ORDER BY next_check_at LIMIT ?2",
            params![now, limit(limit_to)],
        )
    }

    fn record_check(&self, id: i64, at: i64, liveness: &Liveness) -> Result<(), Error> {
        update_liveness(&self.lock(), id, liveness, Some(at))
    }

    fn sighting(&self, id: i64) -> Result<Option<Sighting>, Error> {
        Ok(query_sightings(&self.lock(), "WHERE id = ?1", [id])?
            .into_iter()
            .next())
    }

    fn sightings_after(&self, after: i64, limit_to: usize) -> Result<Vec<Sighting>, Error> {
        query_sightings(
            &self.lock(),
            "WHERE id > ?1 ORDER BY id LIMIT ?2",
            params![after, limit(limit_to)],
        )
    }

    fn sighting_matches(&self, id: i64) -> Result<Vec<SightingMatch>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT content_id, bank, signal_type, distance FROM sighting_match \
             WHERE sighting_id = ?1 ORDER BY distance, content_id",
        )?;
        let rows = statement.query_map([id], |row| {
            Ok(SightingMatch {
                content_id: row.get(0)?,
                bank: row.get(1)?,
                signal_type: row.get(2)?,
                distance: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn gone_sightings_of(&self, content_id: i64) -> Result<Vec<Sighting>, Error> {
        query_sightings(
            &self.lock(),
            "WHERE liveness = 'gone' AND id IN \
             (SELECT sighting_id FROM sighting_match WHERE content_id = ?1) ORDER BY removed_at, id",
            [content_id],
        )
    }

    fn add_webhook(&self, name: &str, url: &str, actor: &str) -> Result<Webhook, Error> {
        crate::monitor::validate_webhook(name, url)?;
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        let inserted = transaction.execute(
            "INSERT INTO webhook (name, url, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
            params![name, url, unix_now() * 1000],
        )?;
        if inserted == 0 {
            return Err(Error::Invalid(format!("a webhook named {name:?} exists")));
        }
        audit(
            &transaction,
            actor,
            "monitor.webhook.add",
            &format!("webhook:{name}"),
            json!({ "url": url }),
        )?;
        let webhook = find_webhook(&transaction, name)?
            .ok_or_else(|| Error::Corrupt(format!("webhook {name} vanished")))?;
        transaction.commit()?;
        Ok(webhook)
    }

    fn webhooks(&self) -> Result<Vec<Webhook>, Error> {
        let connection = self.lock();
        let mut statement =
            connection.prepare_cached("SELECT id, name, url FROM webhook ORDER BY name")?;
        let rows = statement.query_map([], |row| {
            Ok(Webhook {
                id: row.get(0)?,
                name: row.get(1)?,
                url: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn remove_webhook(&self, name: &str, actor: &str) -> Result<bool, Error> {
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        let removed = transaction.execute("DELETE FROM webhook WHERE name = ?1", [name])?;
        if removed > 0 {
            audit(
                &transaction,
                actor,
                "monitor.webhook.remove",
                &format!("webhook:{name}"),
                json!({}),
            )?;
        }
        transaction.commit()?;
        Ok(removed > 0)
    }

    fn add_alert(&self, alert: &NewAlert) -> Result<bool, Error> {
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        let inserted = transaction.execute(
            "INSERT INTO alert (id, seq, sighting_id, kind, body, created_at) \
             SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4, ?5 FROM alert WHERE true \
             ON CONFLICT (id) DO NOTHING",
            params![
                alert.id,
                alert.sighting_id,
                alert.kind,
                alert.body,
                alert.created_at
            ],
        )?;
        if inserted > 0 {
            transaction.execute(
                "INSERT INTO alert_delivery (alert_id, webhook_id, next_attempt_at) \
                 SELECT ?1, id, ?2 FROM webhook",
                params![alert.id, alert.created_at],
            )?;
        }
        transaction.commit()?;
        Ok(inserted > 0)
    }

    fn due_deliveries(&self, now: i64, limit_to: usize) -> Result<Vec<Delivery>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT a.id, a.body, w.id, w.name, w.url, d.attempts FROM alert_delivery d \
             JOIN alert a ON a.id = d.alert_id JOIN webhook w ON w.id = d.webhook_id \
             WHERE d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= ?1 \
             ORDER BY d.next_attempt_at, a.seq LIMIT ?2",
        )?;
        let rows = statement.query_map(params![now, limit(limit_to)], |row| {
            Ok(Delivery {
                alert_id: row.get(0)?,
                body: row.get(1)?,
                webhook: Webhook {
                    id: row.get(2)?,
                    name: row.get(3)?,
                    url: row.get(4)?,
                },
                attempts: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn record_delivery(
        &self,
        alert_id: &str,
        webhook_id: i64,
        attempt: &DeliveryAttempt,
        retry_at: Option<i64>,
    ) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        transaction.execute(
            "INSERT INTO alert_attempt (alert_id, webhook_id, at, status, error, delivered) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                alert_id,
                webhook_id,
                attempt.at,
                attempt.status,
                attempt.error,
                attempt.delivered
            ],
        )?;
        let next = if attempt.delivered { None } else { retry_at };
        let delivered_at = attempt.delivered.then_some(attempt.at);
        transaction.execute(
            "UPDATE alert_delivery SET attempts = attempts + 1, next_attempt_at = ?3, \
             delivered_at = ?4, last_error = ?5 WHERE alert_id = ?1 AND webhook_id = ?2",
            params![alert_id, webhook_id, next, delivered_at, attempt.error],
        )?;
        transaction.commit()?;
        Ok(())
    }

    fn deliveries(&self) -> Result<Vec<DeliveryStatus>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT d.alert_id, w.name, d.attempts, d.delivered_at, d.next_attempt_at, d.last_error \
             FROM alert_delivery d JOIN alert a ON a.id = d.alert_id \
             JOIN webhook w ON w.id = d.webhook_id ORDER BY a.seq, w.name",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(DeliveryStatus {
                alert_id: row.get(0)?,
                webhook: row.get(1)?,
                attempts: row.get(2)?,
                delivered_at: row.get(3)?,
                next_attempt_at: row.get(4)?,
                last_error: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
