//! The monitor's records: [`MonitorStore`] for any backend.

use serde_json::json;

use super::{Backend, Conn, Row, Sql, audit, limit};
use crate::monitor::{
    Delivery, DeliveryAttempt, DeliveryStatus, FetchRecord, FetchState, MonitorStore, NewAlert,
    NewSighting, NewSource, Sighting, SightingMatch, Source, Webhook, liveness_columns,
    liveness_from_columns,
};
use crate::{Error, Liveness, unix_now};

/// The columns [`to_source`] reads.
macro_rules! source_columns {
    () => {
        "id, name, kind, location, interval_ms, ignore_robots, created_at, last_polled_at, \
         last_error"
    };
}

/// The columns [`to_sighting`] reads, and a query of them.
macro_rules! sighting_select {
    ($rest:literal) => {
        concat!("SELECT ", sighting_columns!(), " FROM sighting ", $rest)
    };
}

macro_rules! sighting_columns {
    () => {
        "id, url, host, host_class, source_id, post_key, post_url, posted_at, first_seen_at, \
         state, reason, final_url, media_kind, signals, matched, liveness, ladder_step, \
         next_check_at, last_checked_at, removed_at, removal_reason, resurfaced_from"
    };
}

fn to_source(row: &Row<'_>) -> Result<Source, Error> {
    let kind: String = row.get(2)?;
    Ok(Source {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: kind
            .parse()
            .map_err(|_| Error::Corrupt(format!("source kind {kind:?}")))?,
        location: row.get(3)?,
        interval_ms: row.get(4)?,
        ignore_robots: row.get(5)?,
        created_at: row.get(6)?,
        last_polled_at: row.get(7)?,
        last_error: row.get(8)?,
    })
}

fn to_sighting(row: &Row<'_>) -> Result<Sighting, Error> {
    let state: String = row.get(9)?;
    let liveness: String = row.get(15)?;
    Ok(Sighting {
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
        state: FetchState::parse(&state)?,
        reason: row.get(10)?,
        final_url: row.get(11)?,
        media_kind: row.get(12)?,
        signals: row.get(13)?,
        matched: row.get(14)?,
        liveness: liveness_from_columns(
            &liveness,
            row.get(16)?,
            row.get(17)?,
            row.get(19)?,
            row.get(20)?,
        )?,
        last_checked_at: row.get(18)?,
        resurfaced_from: row.get(21)?,
    })
}

fn to_webhook(row: &Row<'_>) -> Result<Webhook, Error> {
    Ok(Webhook {
        id: row.get(0)?,
        name: row.get(1)?,
        url: row.get(2)?,
    })
}

fn insert_matches(conn: &mut dyn Conn, id: i64, matches: &[SightingMatch]) -> Result<(), Error> {
    for found in matches {
        conn.execute(
            sql!(
                "INSERT INTO sighting_match (sighting_id, content_id, bank, signal_type, distance) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING"
            ),
            args![
                id,
                found.content_id,
                found.bank,
                found.signal_type,
                found.distance
            ],
        )?;
    }
    Ok(())
}

fn update_liveness(
    conn: &mut dyn Conn,
    id: i64,
    liveness: &Liveness,
    checked_at: Option<i64>,
) -> Result<(), Error> {
    let (name, step, next, removed_at, reason) = liveness_columns(liveness);
    conn.execute(
        sql!(
            "UPDATE sighting SET liveness = ?2, ladder_step = ?3, next_check_at = ?4, \
             removed_at = ?5, removal_reason = ?6, \
             last_checked_at = COALESCE(?7, last_checked_at) WHERE id = ?1"
        ),
        args![id, name, step, next, removed_at, reason, checked_at],
    )?;
    Ok(())
}

/// Removes the named row of `sql` and audits it; returns whether it existed.
fn remove_named(
    backend: &impl Backend,
    sql: &Sql,
    name: &str,
    actor: &str,
    action: &str,
    target: String,
) -> Result<bool, Error> {
    backend.write(|conn| {
        let removed = conn.execute(sql, args![name])? > 0;
        if removed {
            audit(conn, actor, action, &target, json!({}))?;
        }
        Ok(removed)
    })
}

impl<B: Backend> MonitorStore for B {
    fn add_source(&self, source: &NewSource, actor: &str) -> Result<Source, Error> {
        crate::monitor::validate_source(source)?;
        self.write(|conn| {
            let added = conn.opt(
                sql!(concat!(
                    "INSERT INTO monitor_source (name, kind, location, interval_ms, \
                     ignore_robots, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (name) DO NOTHING RETURNING ",
                    source_columns!()
                )),
                args![
                    source.name,
                    source.kind.as_str(),
                    source.location,
                    source.interval_ms,
                    source.ignore_robots,
                    unix_now() * 1000
                ],
                to_source,
            )?;
            let Some(added) = added else {
                return Err(Error::Invalid(format!(
                    "a source named {:?} exists",
                    source.name
                )));
            };
            audit(
                conn,
                actor,
                "monitor.source.add",
                &format!("source:{}", source.name),
                json!({ "kind": source.kind.as_str(), "location": source.location,
                        "interval_ms": source.interval_ms, "ignore_robots": source.ignore_robots }),
            )?;
            Ok(added)
        })
    }

    fn sources(&self) -> Result<Vec<Source>, Error> {
        self.rows(
            sql!(concat!(
                "SELECT ",
                source_columns!(),
                " FROM monitor_source ORDER BY name"
            )),
            &[],
            to_source,
        )
    }

    fn remove_source(&self, name: &str, actor: &str) -> Result<bool, Error> {
        remove_named(
            self,
            sql!("DELETE FROM monitor_source WHERE name = ?1"),
            name,
            actor,
            "monitor.source.remove",
            format!("source:{name}"),
        )
    }

    fn source_polled(&self, id: i64, at: i64, error: Option<&str>) -> Result<(), Error> {
        self.execute(
            sql!("UPDATE monitor_source SET last_polled_at = ?2, last_error = ?3 WHERE id = ?1"),
            args![id, at, error],
        )?;
        Ok(())
    }

    fn add_sightings(&self, seen: &[NewSighting]) -> Result<Vec<Sighting>, Error> {
        self.write_unordered(|conn| {
            let mut added = Vec::new();
            for item in seen {
                added.extend(conn.opt(
                    sql!(concat!(
                        "INSERT INTO sighting (url, host, host_class, source_id, post_key, \
                         post_url, posted_at, first_seen_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                         ON CONFLICT (url) DO NOTHING RETURNING ",
                        sighting_columns!()
                    )),
                    args![
                        item.url,
                        item.host,
                        item.host_class,
                        item.source_id,
                        item.post_key,
                        item.post_url,
                        item.posted_at,
                        item.first_seen_at
                    ],
                    to_sighting,
                )?);
            }
            Ok(added)
        })
    }

    fn pending_sightings(&self, limit_to: usize) -> Result<Vec<Sighting>, Error> {
        self.rows(
            sql!(sighting_select!(
                "WHERE state = 'pending' ORDER BY id LIMIT ?1"
            )),
            args![limit(limit_to)],
            to_sighting,
        )
    }

    fn record_fetch(&self, id: i64, record: &FetchRecord) -> Result<(), Error> {
        self.write_unordered(|conn| {
            conn.execute(
                sql!(
                    "UPDATE sighting SET state = ?2, reason = ?3, final_url = ?4, \
                     media_kind = ?5, signals = ?6, matched = ?7, resurfaced_from = ?8, \
                     host = COALESCE(?9, host), host_class = COALESCE(?10, host_class) \
                     WHERE id = ?1"
                ),
                args![
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
            insert_matches(conn, id, &record.matches)?;
            update_liveness(conn, id, &record.liveness, None)
        })
    }

    fn add_matches(
        &self,
        id: i64,
        matches: &[SightingMatch],
        liveness: &Liveness,
        resurfaced_from: Option<i64>,
    ) -> Result<(), Error> {
        self.write_unordered(|conn| {
            insert_matches(conn, id, matches)?;
            conn.execute(
                sql!(
                    "UPDATE sighting SET matched = TRUE, \
                     resurfaced_from = COALESCE(resurfaced_from, ?2) WHERE id = ?1"
                ),
                args![id, resurfaced_from],
            )?;
            update_liveness(conn, id, liveness, None)
        })
    }

    fn due_checks(&self, now: i64, limit_to: usize) -> Result<Vec<Sighting>, Error> {
        self.rows(
            sql!(sighting_select!(
                "WHERE liveness = 'live' AND next_check_at <= ?1 \
                 ORDER BY next_check_at LIMIT ?2"
            )),
            args![now, limit(limit_to)],
            to_sighting,
        )
    }

    fn record_check(&self, id: i64, at: i64, liveness: &Liveness) -> Result<(), Error> {
        self.read(|conn| update_liveness(conn, id, liveness, Some(at)))
    }

    fn sighting(&self, id: i64) -> Result<Option<Sighting>, Error> {
        self.opt(
            sql!(sighting_select!("WHERE id = ?1")),
            args![id],
            to_sighting,
        )
    }

    fn sightings_after(&self, after: i64, limit_to: usize) -> Result<Vec<Sighting>, Error> {
        self.rows(
            sql!(sighting_select!("WHERE id > ?1 ORDER BY id LIMIT ?2")),
            args![after, limit(limit_to)],
            to_sighting,
        )
    }

    fn sighting_matches(&self, id: i64) -> Result<Vec<SightingMatch>, Error> {
        self.rows(
            sql!(
                "SELECT content_id, bank, signal_type, distance FROM sighting_match \
                     WHERE sighting_id = ?1 ORDER BY distance, content_id"
            ),
            args![id],
            |row| {
                let distance: i64 = row.get(3)?;
                Ok(SightingMatch {
                    content_id: row.get(0)?,
                    bank: row.get(1)?,
                    signal_type: row.get(2)?,
                    distance: u32::try_from(distance)
                        .map_err(|_| Error::Corrupt(format!("match distance {distance}")))?,
                })
            },
        )
    }

    fn gone_sightings_of(&self, content_id: i64) -> Result<Vec<Sighting>, Error> {
        self.rows(
            sql!(sighting_select!(
                "WHERE liveness = 'gone' AND id IN \
                 (SELECT sighting_id FROM sighting_match WHERE content_id = ?1) \
                 ORDER BY removed_at, id"
            )),
            args![content_id],
            to_sighting,
        )
    }

    fn add_webhook(&self, name: &str, url: &str, actor: &str) -> Result<Webhook, Error> {
        crate::monitor::validate_webhook(name, url)?;
        self.write(|conn| {
            let Some(webhook) = conn.opt(
                sql!(
                    "INSERT INTO webhook (name, url, created_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (name) DO NOTHING RETURNING id, name, url"
                ),
                args![name, url, unix_now() * 1000],
                to_webhook,
            )?
            else {
                return Err(Error::Invalid(format!("a webhook named {name:?} exists")));
            };
            audit(
                conn,
                actor,
                "monitor.webhook.add",
                &format!("webhook:{name}"),
                json!({ "url": url }),
            )?;
            Ok(webhook)
        })
    }

    fn webhooks(&self) -> Result<Vec<Webhook>, Error> {
        self.rows(
            sql!("SELECT id, name, url FROM webhook ORDER BY name"),
            &[],
            to_webhook,
        )
    }

    fn remove_webhook(&self, name: &str, actor: &str) -> Result<bool, Error> {
        remove_named(
            self,
            sql!("DELETE FROM webhook WHERE name = ?1"),
            name,
            actor,
            "monitor.webhook.remove",
            format!("webhook:{name}"),
        )
    }

    fn add_alert(&self, alert: &NewAlert) -> Result<bool, Error> {
        // The write lock orders alerts: `seq` is taken under it. (`WHERE
        // true` tells SQLite's parser that ON CONFLICT is not a join's ON.)
        self.write(|conn| {
            let inserted = conn.execute(
                sql!(
                    "INSERT INTO alert (id, seq, sighting_id, kind, body, created_at) \
                     SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4, ?5 FROM alert WHERE true \
                     ON CONFLICT (id) DO NOTHING"
                ),
                args![
                    alert.id,
                    alert.sighting_id,
                    alert.kind,
                    alert.body,
                    alert.created_at
                ],
            )? > 0;
            if inserted {
                conn.execute(
                    sql!(
                        "INSERT INTO alert_delivery (alert_id, webhook_id, next_attempt_at) \
                         SELECT ?1, id, ?2 FROM webhook"
                    ),
                    args![alert.id, alert.created_at],
                )?;
            }
            Ok(inserted)
        })
    }

    fn due_deliveries(&self, now: i64, limit_to: usize) -> Result<Vec<Delivery>, Error> {
        self.rows(
            sql!(
                "SELECT a.id, a.body, w.id, w.name, w.url, d.attempts FROM alert_delivery d \
                     JOIN alert a ON a.id = d.alert_id JOIN webhook w ON w.id = d.webhook_id \
                     WHERE d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= ?1 \
                     ORDER BY d.next_attempt_at, a.seq LIMIT ?2"
            ),
            args![now, limit(limit_to)],
            |row| {
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
            },
        )
    }

    fn record_delivery(
        &self,
        alert_id: &str,
        webhook_id: i64,
        attempt: &DeliveryAttempt,
        retry_at: Option<i64>,
    ) -> Result<(), Error> {
        self.write_unordered(|conn| {
            conn.execute(
                sql!(
                    "INSERT INTO alert_attempt (alert_id, webhook_id, at, status, error, \
                     delivered) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                ),
                args![
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
            conn.execute(
                sql!(
                    "UPDATE alert_delivery SET attempts = attempts + 1, next_attempt_at = ?3, \
                     delivered_at = ?4, last_error = ?5 WHERE alert_id = ?1 AND webhook_id = ?2"
                ),
                args![alert_id, webhook_id, next, delivered_at, attempt.error],
            )?;
            Ok(())
        })
    }

    fn deliveries(&self) -> Result<Vec<DeliveryStatus>, Error> {
        self.rows(
            sql!(
                "SELECT d.alert_id, w.name, d.attempts, d.delivered_at, d.next_attempt_at, \
                     d.last_error FROM alert_delivery d JOIN alert a ON a.id = d.alert_id \
                     JOIN webhook w ON w.id = d.webhook_id ORDER BY a.seq, w.name"
            ),
            &[],
            |row| {
                Ok(DeliveryStatus {
                    alert_id: row.get(0)?,
                    webhook: row.get(1)?,
                    attempts: row.get(2)?,
                    delivered_at: row.get(3)?,
                    next_attempt_at: row.get(4)?,
                    last_error: row.get(5)?,
                })
            },
        )
    }
}
