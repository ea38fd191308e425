//! The `/v1` answers. Distances are numbers; labels are Vigil's own. Each
//! type is its schema in `/openapi.json`; values the store already writes
//! (a behaviour, a tier) are serialised by the store's own types, so the
//! answers stay what they were.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use vigil_store::{Behaviour, Tier};

pub(crate) use crate::hma::answers::Metadata;

/// What a content is, who made it, how urgent it is.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Labels {
    /// The producing group, free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) entity: Option<String>,
    /// glorification, recruitment, instruction, threat, attack-claim or
    /// other.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub(crate) behaviour: Option<Behaviour>,
    /// threat-to-life, crisis, designated or promotional.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub(crate) tier: Option<Tier>,
    /// Who reported or shared it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) source: Option<String>,
    /// Free tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tags: Vec<String>,
}

impl From<vigil_store::Labels> for Labels {
    fn from(labels: vigil_store::Labels) -> Self {
        Self {
            entity: labels.entity,
            behaviour: labels.behaviour,
            tier: labels.tier,
            source: labels.source,
            tags: labels.tags,
        }
    }
}

/// Where a content came from when it was not added by hand.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Provenance {
    /// The exchange it was fetched from.
    pub(crate) exchange: String,
    /// The exchange's id for the record.
    pub(crate) fetch_id: String,
}

/// A content with everything known about it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Content {
    /// Content id.
    pub(crate) id: i64,
    /// Its bank.
    pub(crate) bank: String,
    /// Signal type → signal, Vigil's banked variants included.
    pub(crate) signals: BTreeMap<String, String>,
    /// Its labels.
    pub(crate) labels: Labels,
    /// HMA's metadata fields that are set.
    pub(crate) metadata: Metadata,
    /// Its note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) note: Option<String>,
    /// Where it came from, when fetched from an exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) provenance: Option<Provenance>,
    /// 0 disabled, 1 enabled, or a Unix time until which it is disabled.
    pub(crate) disable_until_ts: i64,
    /// Unix time it was added.
    pub(crate) created_at: i64,
}

impl From<vigil_store::Content> for Content {
    fn from(content: vigil_store::Content) -> Self {
        let fields = content.fields;
        Self {
            id: content.id,
            bank: content.bank.to_string(),
            signals: fields
                .signals
                .iter()
                .map(|(t, v)| (t.to_string(), v.to_owned()))
                .collect(),
            labels: fields.labels.into(),
            metadata: (&fields.metadata).into(),
            note: fields.note,
            provenance: fields.provenance.map(|p| Provenance {
                exchange: p.exchange,
                fetch_id: p.fetch_id,
            }),
            disable_until_ts: content.disable_until_ts,
            created_at: content.created_at,
        }
    }
}

/// `/v1/lookup`: matches, nearest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Matches {
    /// Each match with its content's labels.
    pub(crate) matches: Vec<Match>,
}

/// A match with the labels of its content.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Match {
    /// The matching content.
    pub(crate) content_id: i64,
    /// Its bank.
    pub(crate) bank: String,
    /// The signal type that matched.
    pub(crate) signal_type: String,
    /// PDQ: Hamming distance; exact types 0; vPDQ: percent of the query not
    /// found; text: percent of the banked text not found.
    pub(crate) distance: u32,
    /// Its content's labels.
    pub(crate) labels: Labels,
    /// vPDQ: percent of the query's frames found in the video.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) query_pct: Option<f64>,
    /// vPDQ: percent of the video's frames found in the query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) compared_pct: Option<f64>,
    /// Text: estimated share (0–1) of the banked text found in the query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) containment: Option<f64>,
    /// Text: estimated resemblance (0–1) of the two texts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) similarity: Option<f64>,
}

impl From<vigil_engine::LabelledMatch> for Match {
    fn from(found: vigil_engine::LabelledMatch) -> Self {
        Self {
            content_id: found.content_id,
            bank: found.bank.to_string(),
            signal_type: found.signal_type.to_string(),
            distance: found.distance,
            labels: found.labels.into(),
            query_pct: found.query_pct,
            compared_pct: found.compared_pct,
            containment: found.containment,
            similarity: found.similarity,
        }
    }
}
