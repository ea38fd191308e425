//! Banks, contents, the change log and the audit log: [`Store`] for any
//! backend.

use serde_json::json;

use super::{Backend, Conn, Row, Sql, Value, audit, limit};
use crate::{
    AuditEntry, Bank, BankName, Change, Content, ContentUpdate, Error, IndexedContent, NewContent,
    Provenance, Signals, Store,
};

/// Contents read, validated and inserted at a time by an import: memory
/// stays flat, and PostgreSQL inserts each batch in a few round trips.
const BATCH: usize = 5_000;

pub(crate) fn log_change(conn: &mut dyn Conn, kind: &str, object_id: i64) -> Result<(), Error> {
    conn.execute(
        sql!("INSERT INTO change_log (kind, object_id) VALUES (?1, ?2)"),
        args![kind, object_id],
    )?;
    Ok(())
}

fn to_bank(row: &Row<'_>) -> Result<Bank, Error> {
    let name: String = row.get(1)?;
    Ok(Bank {
        id: row.get(0)?,
        name: name
            .parse()
            .map_err(|_| Error::Corrupt(format!("bank name {name:?}")))?,
        enabled_ratio: row.get(2)?,
    })
}

pub(crate) fn find_bank(conn: &mut dyn Conn, name: &BankName) -> Result<Option<Bank>, Error> {
    conn.opt(
        sql!("SELECT id, name, enabled_ratio FROM bank WHERE name = ?1"),
        args![name.as_str()],
        to_bank,
    )
}

/// Creates a bank inside a transaction (shared by banks and exchanges).
pub(crate) fn insert_bank(
    conn: &mut dyn Conn,
    name: &BankName,
    enabled_ratio: f64,
    actor: &str,
) -> Result<Bank, Error> {
    crate::validate::ratio(enabled_ratio)?;
    if find_bank(conn, name)?.is_some() {
        return Err(Error::BankExists(name.to_string()));
    }
    let id = conn.one(
        sql!("INSERT INTO bank (name, enabled_ratio, created_at) VALUES (?1, ?2, ?3) RETURNING id"),
        args![name.as_str(), enabled_ratio, crate::unix_now()],
    )?;
    audit(
        conn,
        actor,
        "bank.create",
        &format!("bank:{name}"),
        json!({ "enabled_ratio": enabled_ratio }),
    )?;
    Ok(Bank {
        id,
        name: name.clone(),
        enabled_ratio,
    })
}

/// Labels or metadata as stored: JSON text.
pub(crate) fn json_text(value: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Invalid(e.to_string()))
}

/// The columns [`to_content`] reads, over `content c JOIN bank b`.
macro_rules! content_select {
    ($where:literal) => {
        concat!(
            "SELECT c.id, b.name, c.disable_until_ts, c.labels, c.metadata, c.note, \
             c.provenance_exchange, c.provenance_fetch_id, c.created_at \
             FROM content c JOIN bank b ON b.id = c.bank_id WHERE ",
            $where
        )
    };
}

fn to_content(row: &Row<'_>) -> Result<Content, Error> {
    let id: i64 = row.get(0)?;
    let corrupt = |what: &str, e: String| Error::Corrupt(format!("content {id} {what}: {e}"));
    let bank: String = row.get(1)?;
    let labels: String = row.get(3)?;
    let metadata: String = row.get(4)?;
    let exchange: Option<String> = row.get(6)?;
    let fetch_id: Option<String> = row.get(7)?;
    Ok(Content {
        id,
        bank: bank.parse().map_err(|_| corrupt("bank", bank.clone()))?,
        fields: NewContent {
            signals: Signals::default(),
            labels: serde_json::from_str(&labels).map_err(|e| corrupt("labels", e.to_string()))?,
            metadata: serde_json::from_str(&metadata)
                .map_err(|e| corrupt("metadata", e.to_string()))?,
            note: row.get(5)?,
            provenance: exchange
                .zip(fetch_id)
                .map(|(exchange, fetch_id)| Provenance { exchange, fetch_id }),
        },
        disable_until_ts: row.get(2)?,
        created_at: row.get(8)?,
    })
}

/// Reads the signals of contents with ids `ids` (sorted), all in one query
/// (one round trip on PostgreSQL), handing each to `insert` with the
/// content's place in `ids`; `bank` narrows the query to a page's bank.
fn read_signals(
    conn: &mut dyn Conn,
    ids: &[i64],
    bank: Option<&BankName>,
    mut insert: impl FnMut(usize, &str, &str) -> Result<(), Error>,
) -> Result<(), Error> {
    let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else {
        return Ok(());
    };
    let each = &mut |row: &Row<'_>| {
        let id: i64 = row.get(0)?;
        // Contents outside the page (deleted since, or between its ids) are
        // skipped.
        if let Ok(at) = ids.binary_search(&id) {
            insert(at, row.str(1)?, row.str(2)?)
                .map_err(|e| Error::Corrupt(format!("content {id} signal: {e}")))?;
        }
        Ok(())
    };
    match bank {
        // Through the bank's index: other banks' contents in the same id
        // range are never read.
        Some(bank) => conn.for_each_row(
            sql!(
                "SELECT s.content_id, s.signal_type, s.value FROM content c \
                 JOIN bank b ON b.id = c.bank_id JOIN content_signal s ON s.content_id = c.id \
                 WHERE b.name = ?1 AND c.id BETWEEN ?2 AND ?3"
            ),
            args![bank.as_str(), first, last],
            each,
        ),
        None => conn.for_each_row(
            sql!(
                "SELECT content_id, signal_type, value FROM content_signal \
                 WHERE content_id BETWEEN ?1 AND ?2"
            ),
            args![first, last],
            each,
        ),
    }
}

/// Contents selected by `sql`, in id order, with their signals.
fn load_contents(
    conn: &mut dyn Conn,
    sql: &Sql,
    args: &[Value<'_>],
    bank: Option<&BankName>,
) -> Result<Vec<Content>, Error> {
    let mut contents = conn.rows(sql, args, to_content)?;
    let ids: Vec<i64> = contents.iter().map(|c| c.id).collect();
    read_signals(conn, &ids, bank, |at, signal_type, value| {
        contents[at].fields.signals.insert_named(signal_type, value)
    })?;
    Ok(contents)
}

impl<B: Backend> Store for B {
    fn create_bank(&self, name: &BankName, enabled_ratio: f64, actor: &str) -> Result<Bank, Error> {
        self.write(|conn| insert_bank(conn, name, enabled_ratio, actor))
    }

    fn banks(&self) -> Result<Vec<Bank>, Error> {
        self.rows(
            sql!("SELECT id, name, enabled_ratio FROM bank ORDER BY name"),
            &[],
            to_bank,
        )
    }

    fn bank(&self, name: &BankName) -> Result<Option<Bank>, Error> {
        self.read(|conn| find_bank(conn, name))
    }

    fn update_bank(
        &self,
        name: &BankName,
        new_name: Option<&BankName>,
        enabled_ratio: Option<f64>,
        actor: &str,
    ) -> Result<Bank, Error> {
        if let Some(ratio) = enabled_ratio {
            crate::validate::ratio(ratio)?;
        }
        self.write(|conn| {
            let mut bank =
                find_bank(conn, name)?.ok_or_else(|| Error::BankNotFound(name.to_string()))?;
            if let Some(new_name) = new_name.filter(|n| *n != name) {
                if find_bank(conn, new_name)?.is_some() {
                    return Err(Error::BankExists(new_name.to_string()));
                }
                conn.execute(
                    sql!("UPDATE bank SET name = ?1 WHERE id = ?2"),
                    args![new_name.as_str(), bank.id],
                )?;
                audit(
                    conn,
                    actor,
                    "bank.rename",
                    &format!("bank:{name}"),
                    json!({ "to": new_name.as_str() }),
                )?;
                bank.name = new_name.clone();
            }
            if let Some(ratio) = enabled_ratio {
                conn.execute(
                    sql!("UPDATE bank SET enabled_ratio = ?1 WHERE id = ?2"),
                    args![ratio, bank.id],
                )?;
                audit(
                    conn,
                    actor,
                    "bank.update",
                    &format!("bank:{}", bank.name),
                    json!({ "enabled_ratio": ratio }),
                )?;
                bank.enabled_ratio = ratio;
            }
            Ok(bank)
        })
    }

    fn delete_bank(&self, name: &BankName, actor: &str) -> Result<bool, Error> {
        self.write(|conn| {
            let Some(bank) = find_bank(conn, name)? else {
                return Ok(false);
            };
            let contents: i64 = conn.one(
                sql!("SELECT COUNT(*) FROM content WHERE bank_id = ?1"),
                args![bank.id],
            )?;
            conn.execute(sql!("DELETE FROM bank WHERE id = ?1"), args![bank.id])?;
            log_change(conn, "bank_deleted", bank.id)?;
            audit(
                conn,
                actor,
                "bank.delete",
                &format!("bank:{name}"),
                json!({ "contents": contents }),
            )?;
            Ok(true)
        })
    }

    fn import(
        &self,
        bank: &BankName,
        next: &mut dyn FnMut() -> Result<Option<NewContent>, Error>,
        added: &mut dyn FnMut(i64),
        actor: &str,
    ) -> Result<u64, Error> {
        self.write(|conn| {
            let bank =
                find_bank(conn, bank)?.ok_or_else(|| Error::BankNotFound(bank.to_string()))?;
            let created_at = crate::unix_now();
            let (mut count, mut first, mut last) = (0u64, None, None);
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                batch.clear();
                while batch.len() < BATCH {
                    let Some(content) = next()? else { break };
                    let number = count + batch.len() as u64 + 1;
                    content
                        .validate()
                        .map_err(|e| Error::Invalid(format!("content {number}: {e}")))?;
                    batch.push(content);
                }
                if batch.is_empty() {
                    break;
                }
                for id in conn.insert_batch(bank.id, created_at, &batch)? {
                    count += 1;
                    first.get_or_insert(id);
                    last = Some(id);
                    added(id);
                }
            }
            audit(
                conn,
                actor,
                "content.add",
                &format!("bank:{}", bank.name),
                json!({ "count": count, "first_id": first, "last_id": last }),
            )?;
            Ok(count)
        })
    }

    fn count_contents(&self, bank: &BankName) -> Result<u64, Error> {
        let count: i64 = self.one(
            sql!(
                "SELECT COUNT(*) FROM content c JOIN bank b ON b.id = c.bank_id WHERE b.name = ?1"
            ),
            args![bank.as_str()],
        )?;
        Ok(count as u64)
    }

    fn content(&self, id: i64) -> Result<Option<Content>, Error> {
        let mut found = self.read(|conn| {
            load_contents(conn, sql!(content_select!("c.id = ?1")), args![id], None)
        })?;
        Ok(found.pop())
    }

    fn update_content(
        &self,
        id: i64,
        update: &ContentUpdate,
        actor: &str,
    ) -> Result<Option<Content>, Error> {
        crate::validate::update(update)?;
        let found = self.write(|conn| {
            let exists = conn.opt(
                sql!("SELECT id FROM content WHERE id = ?1"),
                args![id],
                |_| Ok(()),
            )?;
            if exists.is_none() {
                return Ok(false);
            }
            if let Some(ts) = update.disable_until_ts {
                conn.execute(
                    sql!("UPDATE content SET disable_until_ts = ?1 WHERE id = ?2"),
                    args![ts, id],
                )?;
            }
            if let Some(note) = &update.note {
                conn.execute(
                    sql!("UPDATE content SET note = ?1 WHERE id = ?2"),
                    args![note.as_deref().filter(|n| !n.is_empty()), id],
                )?;
            }
            if let Some(labels) = &update.labels {
                conn.execute(
                    sql!("UPDATE content SET labels = ?1 WHERE id = ?2"),
                    args![json_text(labels)?, id],
                )?;
            }
            log_change(conn, "content", id)?;
            audit(
                conn,
                actor,
                "content.update",
                &format!("content:{id}"),
                json!({
                    "disable_until_ts": update.disable_until_ts,
                    "note": update.note.is_some(),
                    "labels": update.labels.is_some(),
                }),
            )?;
            Ok(true)
        })?;
        if found { self.content(id) } else { Ok(None) }
    }

    fn delete_content(&self, id: i64, actor: &str) -> Result<bool, Error> {
        self.write(|conn| {
            let deleted = conn.execute(sql!("DELETE FROM content WHERE id = ?1"), args![id])? > 0;
            if deleted {
                log_change(conn, "content_deleted", id)?;
                audit(
                    conn,
                    actor,
                    "content.delete",
                    &format!("content:{id}"),
                    json!({}),
                )?;
            }
            Ok(deleted)
        })
    }

    fn contents_after(
        &self,
        bank: Option<&BankName>,
        after: i64,
        limit_to: usize,
    ) -> Result<Vec<Content>, Error> {
        let limit = limit(limit_to);
        self.read(|conn| match bank {
            Some(bank) => load_contents(
                conn,
                sql!(content_select!(
                    "b.name = ?1 AND c.id > ?2 ORDER BY c.id LIMIT ?3"
                )),
                args![bank.as_str(), after, limit],
                Some(bank),
            ),
            None => load_contents(
                conn,
                sql!(content_select!("c.id > ?1 ORDER BY c.id LIMIT ?2")),
                args![after, limit],
                None,
            ),
        })
    }

    fn indexed_after(&self, after: i64, limit_to: usize) -> Result<Vec<IndexedContent>, Error> {
        self.read(|conn| {
            let mut contents = conn.rows(
                sql!(
                    "SELECT id, bank_id, disable_until_ts FROM content WHERE id > ?1 \
                     ORDER BY id LIMIT ?2"
                ),
                args![after, limit(limit_to)],
                |row| {
                    Ok(IndexedContent {
                        id: row.get(0)?,
                        bank_id: row.get(1)?,
                        disable_until_ts: row.get(2)?,
                        signals: Signals::default(),
                    })
                },
            )?;
            let ids: Vec<i64> = contents.iter().map(|c| c.id).collect();
            read_signals(conn, &ids, None, |at, signal_type, value| {
                contents[at].signals.insert_named(signal_type, value)
            })?;
            Ok(contents)
        })
    }

    fn last_change(&self) -> Result<i64, Error> {
        self.read(|conn| conn.one(sql!("SELECT COALESCE(MAX(seq), 0) FROM change_log"), &[]))
    }

    fn changes_after(&self, seq: i64, limit_to: usize) -> Result<Vec<Change>, Error> {
        self.rows(
            sql!(
                "SELECT seq, kind, object_id FROM change_log WHERE seq > ?1 \
                     ORDER BY seq LIMIT ?2"
            ),
            args![seq, limit(limit_to)],
            |row| {
                let seq = row.get(0)?;
                let kind = crate::validate::change_kind(seq, row.str(1)?, row.get(2)?)?;
                Ok(Change { seq, kind })
            },
        )
    }

    fn audit_after(&self, seq: i64, limit_to: usize) -> Result<Vec<AuditEntry>, Error> {
        self.rows(
            sql!(
                "SELECT seq, at, actor, action, target, detail FROM audit_log WHERE seq > ?1 \
                     ORDER BY seq LIMIT ?2"
            ),
            args![seq, limit(limit_to)],
            |row| {
                Ok(AuditEntry {
                    seq: row.get(0)?,
                    at: row.get(1)?,
                    actor: row.get(2)?,
                    action: row.get(3)?,
                    target: row.get(4)?,
                    detail: row.get(5)?,
                })
            },
        )
    }
}
