//! Checks shared by every backend, run before a transaction starts.

use crate::{ChangeKind, ContentUpdate, Error, NewContent};

/// An enabled ratio must be a share: 0 to 1.
pub(crate) fn ratio(ratio: f64) -> Result<(), Error> {
    if (0.0..=1.0).contains(&ratio) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "enabled ratio {ratio} must be between 0 and 1"
        )))
    }
}

/// Every content of an import, naming the first bad one by position.
pub(crate) fn contents(contents: &[NewContent]) -> Result<(), Error> {
    for (index, content) in contents.iter().enumerate() {
        content.validate().map_err(|e| {
            Error::Invalid(format!("content {} of {}: {e}", index + 1, contents.len()))
        })?;
    }
    Ok(())
}

/// A content update's new values.
pub(crate) fn update(update: &ContentUpdate) -> Result<(), Error> {
    if let Some(Some(note)) = &update.note
        && note.chars().count() > 255
    {
        return Err(Error::Invalid(
            "the note is longer than 255 characters".to_owned(),
        ));
    }
    if let Some(labels) = &update.labels {
        labels.validate()?;
    }
    if update.disable_until_ts.is_some_and(|ts| ts < 0) {
        return Err(Error::Invalid(
            "disable_until_ts must be 0, 1 or a Unix time".to_owned(),
        ));
    }
    Ok(())
}

/// A change-log row's kind and object id, as stored.
pub(crate) fn change_kind(seq: i64, kind: &str, id: i64) -> Result<ChangeKind, Error> {
    match kind {
        "content" => Ok(ChangeKind::Content { content_id: id }),
        "content_deleted" => Ok(ChangeKind::ContentDeleted { content_id: id }),
        "bank_deleted" => Ok(ChangeKind::BankDeleted { bank_id: id }),
        other => Err(Error::Corrupt(format!(
            "change {seq} has unknown kind {other:?}"
        ))),
    }
}

/// Refuses a checkpoint that moves an exchange's progress backwards.
pub(crate) fn checkpoint_progress(
    current: &crate::ExchangeStatus,
    new: &crate::ExchangeStatus,
) -> Result<(), Error> {
    match (current.checkpoint_ts, new.checkpoint_ts) {
        (Some(old), Some(new)) if new < old => Err(Error::Invalid(format!(
            "checkpoint moves back from {old} to {new}"
        ))),
        _ => Ok(()),
    }
}
