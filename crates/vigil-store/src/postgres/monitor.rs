//! The monitor's records on PostgreSQL.

use postgres::GenericClient;
use serde_json::json;

use super::{Params, PostgresStore, audit};
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

fn to_source(row: &postgres::Row) -> Result<Source, Error> {
    let kind: String = row.get(2);
    Ok(Source {
        id: row.get(0),
        name: row.get(1),
        kind: kind
            .parse()
            .map_err(|_| Error::Corrupt(format!("source kind {kind:?}")))?,
        location: row.get(3),
        interval_ms: row.get(4),
        ignore_robots: row.get(5),
        created_at: row.get(6),
        last_polled_at: row.get(7),
        last_error: row.get(8),
    })
}

fn to_sighting(row: &postgres::Row) -> Result<Sighting, Error> {
    let state: String = row.get(9);
    let liveness: String = row.get(15);
    Ok(Sighting {
        id: row.get(0),
        seen: NewSighting {
            url: row.get(1),
            host: row.get(2),
            host_class: row.get(3),
            source_id: row.get(4),
            post_key: row.get(5),
            post_url: row.get(6),
            posted_at: row.get(7),
            first_seen_at: row.get(8),
        },
        state: FetchState::parse(&state)?,
        reason: row.get(10),
        final_url: row.get(11),
        media_kind: row.get(12),
        signals: row.get(13),
        matched: row.get(14),
        liveness: crate::monitor::liveness_from_columns(
            &liveness,
            row.get(16),
            row.get(17),
            row.get(19),
            row.get(20),
        )?,
        last_checked_at: row.get(18),
        resurfaced_from: row.get(21),
    })
}

fn query_sightings(
    client: &mut impl GenericClient,
    filter: &str,
    params: &Params<'_>,
) -> Result<Vec<Sighting>, Error> {
    let rows = client.query(
        &format!("SELECT {SIGHTING_COLUMNS} FROM sighting {filter}"),
        params,
    )?;
    rows.iter().map(to_sighting).collect()
}

fn limit(limit: usize) -> i64 {
    limit.min(i64::MAX as usize) as i64
}

fn insert_matches(
    client: &mut impl GenericClient,
    id: i64,
    matches: &[SightingMatch],
) -> Result<(), Error> {
    for found in matches {
        client.execute(
            "INSERT INTO sighting_match (sighting_id, content_id, bank, signal_type, distance) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &id,
                &found.content_id,
                &found.bank,
                &found.signal_type,
                &i64::from(found.distance),
            ],
        )?;
    }
    Ok(())
}

fn update_liveness(
    client: &mut impl GenericClient,
    id: i64,
    liveness: &Liveness,
    checked_at: Option<i64>,
) -> Result<(), Error> {
    let (name, step, next, removed_at, reason) = crate::monitor::liveness_columns(liveness);
    client.execute(
        "UPDATE sighting SET liveness = $2, ladder_step = $3, next_check_at = $4, removed_at = $5, \
         removal_reason = $6, last_checked_at = COALESCE($7, last_checked_at) WHERE id = $1",
        &[&id, &name, &step, &next, &removed_at, &reason, &checked_at],
    )?;
    Ok(())
}

fn to_webhook(row: &postgres::Row) -> Webhook {
    Webhook {
        id: row.get(0),
        name: row.get(1),
        url: row.get(2),
    }
}

impl MonitorStore for PostgresStore {
    fn add_source(&self, source: &NewSource, actor: &str) -> Result<Source, Error> {
        crate::monitor::validate_source(source)?;
        self.write(|transaction| {
            let row = transaction.query_opt(
                &format!(
                    "INSERT INTO monitor_source (name, kind, location, interval_ms, ignore_robots, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING \
                     RETURNING {SOURCE_COLUMNS}"
                ),
                &[
                    &source.name,
                    &source.kind.as_str(),
                    &source.location,
                    &source.interval_ms,
                    &source.ignore_robots,
                    &(unix_now() * 1000),
                ],
            )?;
            let Some(row) = row else {
                return Err(Error::Invalid(format!(
                    "a source named {:?} exists",
                    source.name
                )));
            };
            audit(
                transaction,
                actor,
                "monitor.source.add",
                &format!("source:{}", source.name),
                json!({ "kind": source.kind.as_str(), "location": source.location,
                        "interval_ms": source.interval_ms, "ignore_robots": source.ignore_robots }),
            )?;
            to_source(&row)
        })
    }

    fn sources(&self) -> Result<Vec<Source>, Error> {
        let rows = self.lock().query(
            &format!("SELECT {SOURCE_COLUMNS} FROM monitor_source ORDER BY name"),
            &[],
        )?;
        rows.iter().map(to_source).collect()
    }

    fn remove_source(&self, name: &str, actor: &str) -> Result<bool, Error> {
        self.write(|transaction| {
            let removed =
                transaction.execute("DELETE FROM monitor_source WHERE name = $1", &[&name])?;
            if removed > 0 {
                audit(
                    transaction,
                    actor,
                    "monitor.source.remove",
                    &format!("source:{name}"),
                    json!({}),
                )?;
            }
            Ok(removed > 0)
        })
    }

    fn source_polled(&self, id: i64, at: i64, error: Option<&str>) -> Result<(), Error> {
        self.lock().execute(
            "UPDATE monitor_source SET last_polled_at = $2, last_error = $3 WHERE id = $1",
            &[&id, &at, &error],
        )?;
        Ok(())
    }

    fn add_sightings(&self, seen: &[NewSighting]) -> Result<Vec<Sighting>, Error> {
        let mut client = self.lock();
        let mut transaction = client.transaction()?;
        let mut added = Vec::new();
        for item in seen {
            let row = transaction.query_opt(
                &format!(
                    "INSERT INTO sighting (url, host, host_class, source_id, post_key, post_url, \
                     posted_at, first_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (url) DO NOTHING RETURNING {SIGHTING_COLUMNS}"
                ),
                &[
                    &item.url,
                    &item.host,
                    &item.host_class,
                    &item.source_id,
                    &item.post_key,
                    &item.post_url,
                    &item.posted_at,
                    &item.first_seen_at,
                ],
            )?;
            if let Some(row) = row {
                added.push(to_sighting(&row)?);
            }
        }
        transaction.commit()?;
        Ok(added)
    }

    fn pending_sightings(&self, limit_to: usize) -> Result<Vec<Sighting>, Error> {
        query_sightings(
            &mut *self.lock(),
            "WHERE state = 'pending' ORDER BY id LIMIT $1",
            &[&limit(limit_to)],
        )
    }

    fn record_fetch(&self, id: i64, record: &FetchRecord) -> Result<(), Error> {
        let mut client = self.lock();
        let mut transaction = client.transaction()?;
        transaction.execute(
            "UPDATE sighting SET state = $2, reason = $3, final_url = $4, media_kind = $5, \
             signals = $6, matched = $7, resurfaced_from = $8, host = COALESCE($9, host), \
             host_class = COALESCE($10, host_class) WHERE id = $1",
            &[
                &id,
                &record.state.as_str(),
                &record.reason,
                &record.final_url,
                &record.media_kind,
                &record.signals,
                &!record.matches.is_empty(),
                &record.resurfaced_from,
                &record.host.as_ref().map(|(host, _)| host.as_str()),
                &record.host.as_ref().map(|(_, class)| class.as_str()),
            ],
        )?;
        insert_matches(&mut transaction, id, &record.matches)?;
        update_liveness(&mut transaction, id, &record.liveness, None)?;
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
        let mut client = self.lock();
        let mut transaction = client.transaction()?;
        insert_matches(&mut transaction, id, matches)?;
        transaction.execute(
            "UPDATE sighting SET matched = TRUE, resurfaced_from = COALESCE(resurfaced_from, $2) \
             WHERE id = $1",
            &[&id, &resurfaced_from],
        )?;
        update_liveness(&mut transaction, id, liveness, None)?;
        transaction.commit()?;
        Ok(())
    }

    fn due_checks(&self, now: i64, limit_to: usize) -> Result<Vec<Sighting>, Error> {
        query_sightings(
            &mut *self.lock(),
            "WHERE liveness = 'live' AND next_check_at <= $1 ORDER BY next_check_at LIMIT $2",
            &[&now, &limit(limit_to)],
        )
    }

    fn record_check(&self, id: i64, at: i64, liveness: &Liveness) -> Result<(), Error> {
        update_liveness(&mut *self.lock(), id, liveness, Some(at))
    }

    fn sighting(&self, id: i64) -> Result<Option<Sighting>, Error> {
        Ok(query_sightings(&mut *self.lock(), "WHERE id = $1", &[&id])?
            .into_iter()
            .next())
    }

    fn sightings_after(&self, after: i64, limit_to: usize) -> Result<Vec<Sighting>, Error> {
        query_sightings(
            &mut *self.lock(),
            "WHERE id > $1 ORDER BY id LIMIT $2",
            &[&after, &limit(limit_to)],
        )
    }

    fn sighting_matches(&self, id: i64) -> Result<Vec<SightingMatch>, Error> {
        let rows = self.lock().query(
            "SELECT content_id, bank, signal_type, distance FROM sighting_match \
             WHERE sighting_id = $1 ORDER BY distance, content_id",
            &[&id],
        )?;
        rows.iter()
            .map(|row| {
                let distance: i64 = row.get(3);
                Ok(SightingMatch {
                    content_id: row.get(0),
                    bank: row.get(1),
                    signal_type: row.get(2),
                    distance: u32::try_from(distance)
                        .map_err(|_| Error::Corrupt(format!("match distance {distance}")))?,
                })
            })
            .collect()
    }

    fn gone_sightings_of(&self, content_id: i64) -> Result<Vec<Sighting>, Error> {
        query_sightings(
            &mut *self.lock(),
            "WHERE liveness = 'gone' AND id IN \
             (SELECT sighting_id FROM sighting_match WHERE content_id = $1) ORDER BY removed_at, id",
            &[&content_id],
        )
    }

    fn add_webhook(&self, name: &str, url: &str, actor: &str) -> Result<Webhook, Error> {
        crate::monitor::validate_webhook(name, url)?;
        self.write(|transaction| {
            let Some(row) = transaction.query_opt(
                "INSERT INTO webhook (name, url, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING RETURNING id, name, url",
                &[&name, &url, &(unix_now() * 1000)],
            )?
            else {
                return Err(Error::Invalid(format!("a webhook named {name:?} exists")));
            };
            audit(
                transaction,
                actor,
                "monitor.webhook.add",
                &format!("webhook:{name}"),
                json!({ "url": url }),
            )?;
            Ok(to_webhook(&row))
        })
    }

    fn webhooks(&self) -> Result<Vec<Webhook>, Error> {
        let rows = self
            .lock()
            .query("SELECT id, name, url FROM webhook ORDER BY name", &[])?;
        Ok(rows.iter().map(to_webhook).collect())
    }

    fn remove_webhook(&self, name: &str, actor: &str) -> Result<bool, Error> {
        self.write(|transaction| {
            let removed = transaction.execute("DELETE FROM webhook WHERE name = $1", &[&name])?;
            if removed > 0 {
                audit(
                    transaction,
                    actor,
                    "monitor.webhook.remove",
                    &format!("webhook:{name}"),
                    json!({}),
                )?;
            }
            Ok(removed > 0)
        })
    }

    fn add_alert(&self, alert: &NewAlert) -> Result<bool, Error> {
        // The write lock orders alerts: `seq` is taken under it.
        self.write(|transaction| {
            let inserted = transaction.execute(
                "INSERT INTO alert (id, seq, sighting_id, kind, body, created_at) \
                 SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM alert \
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &alert.id,
                    &alert.sighting_id,
                    &alert.kind,
                    &alert.body,
                    &alert.created_at,
                ],
            )?;
            if inserted > 0 {
                transaction.execute(
                    "INSERT INTO alert_delivery (alert_id, webhook_id, next_attempt_at) \
                     SELECT $1, id, $2 FROM webhook",
                    &[&alert.id, &alert.created_at],
                )?;
            }
            Ok(inserted > 0)
        })
    }

    fn due_deliveries(&self, now: i64, limit_to: usize) -> Result<Vec<Delivery>, Error> {
        let rows = self.lock().query(
            "SELECT a.id, a.body, w.id, w.name, w.url, d.attempts FROM alert_delivery d \
             JOIN alert a ON a.id = d.alert_id JOIN webhook w ON w.id = d.webhook_id \
             WHERE d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= $1 \
             ORDER BY d.next_attempt_at, a.seq LIMIT $2",
            &[&now, &limit(limit_to)],
        )?;
        Ok(rows
            .iter()
            .map(|row| Delivery {
                alert_id: row.get(0),
                body: row.get(1),
                webhook: Webhook {
                    id: row.get(2),
                    name: row.get(3),
                    url: row.get(4),
                },
                attempts: row.get(5),
            })
            .collect())
    }

    fn record_delivery(
        &self,
        alert_id: &str,
        webhook_id: i64,
        attempt: &DeliveryAttempt,
        retry_at: Option<i64>,
    ) -> Result<(), Error> {
        let mut client = self.lock();
        let mut transaction = client.transaction()?;
        let status = attempt.status.map(i32::from);
        transaction.execute(
            "INSERT INTO alert_attempt (alert_id, webhook_id, at, status, error, delivered) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &alert_id,
                &webhook_id,
                &attempt.at,
                &status,
                &attempt.error,
                &attempt.delivered,
            ],
        )?;
        let next = if attempt.delivered { None } else { retry_at };
        let delivered_at = attempt.delivered.then_some(attempt.at);
        transaction.execute(
            "UPDATE alert_delivery SET attempts = attempts + 1, next_attempt_at = $3, \
             delivered_at = $4, last_error = $5 WHERE alert_id = $1 AND webhook_id = $2",
            &[&alert_id, &webhook_id, &next, &delivered_at, &attempt.error],
        )?;
        transaction.commit()?;
        Ok(())
    }

    fn deliveries(&self) -> Result<Vec<DeliveryStatus>, Error> {
        let rows = self.lock().query(
            "SELECT d.alert_id, w.name, d.attempts, d.delivered_at, d.next_attempt_at, d.last_error \
             FROM alert_delivery d JOIN alert a ON a.id = d.alert_id \
             JOIN webhook w ON w.id = d.webhook_id ORDER BY a.seq, w.name",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| DeliveryStatus {
                alert_id: row.get(0),
                webhook: row.get(1),
                attempts: row.get(2),
                delivered_at: row.get(3),
                next_attempt_at: row.get(4),
                last_error: row.get(5),
            })
            .collect())
    }
}
