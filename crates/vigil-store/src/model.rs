//! The records the store keeps, validated on construction.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use vigil_signal::{PdqHash, SignalType, SignalValue};

use crate::Error;

/// A bank's name: `UPPER_SNAKE` as HMA requires (`[A-Z_][A-Z0-9_]*`, at most
/// 255 characters), so names move between Vigil and HMA unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BankName(String);

impl BankName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for BankName {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        let mut chars = name.chars();
        let valid = name.len() <= 255
            && chars
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
            && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(Error::Invalid(format!(
                "bank name {name:?} must be UPPER_WITH_UNDERSCORE ([A-Z_][A-Z0-9_]*, at most 255 characters)"
            )))
        }
    }
}

impl TryFrom<String> for BankName {
    type Error = Error;

    fn try_from(name: String) -> Result<Self, Error> {
        name.parse()
    }
}

impl From<BankName> for String {
    fn from(name: BankName) -> Self {
        name.0
    }
}

impl fmt::Display for BankName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A bank: a named collection of known content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bank {
    /// Store-assigned id.
    pub id: i64,
    /// Unique name.
    pub name: BankName,
    /// Share of lookups this bank takes part in (HMA's
    /// `matching_enabled_ratio`): 1.0 always, 0.0 never unless bypassed.
    pub enabled_ratio: f64,
}

/// What a piece of content shows, in the field's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Behaviour {
    /// Praise of attacks, attackers or the group.
    Glorification,
    /// Calls to join or support.
    Recruitment,
    /// How-to material (weapons, tactics).
    Instruction,
    /// Threats of violence.
    Threat,
    /// A claim of responsibility for an attack.
    AttackClaim,
    /// Anything else.
    Other,
}

/// How urgent content of this kind is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// Imminent threat to life.
    ThreatToLife,
    /// Material of an ongoing crisis (e.g. attacker-produced footage).
    Crisis,
    /// Produced by a designated terrorist organisation.
    Designated,
    /// Promotional material.
    Promotional,
}

macro_rules! kebab_parse {
    ($type:ty, $what:literal, [$($variant:ident = $text:literal),+ $(,)?]) => {
        impl FromStr for $type {
            type Err = Error;
            fn from_str(text: &str) -> Result<Self, Error> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    other => Err(Error::Invalid(format!(
                        concat!("unknown ", $what, " {:?}; expected one of: ", $($text, " "),+),
                        other
                    ))),
                }
            }
        }
        impl $type {
            /// The label's text form.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)+ }
            }
        }
    };
}

kebab_parse!(
    Behaviour,
    "behaviour",
    [
        Glorification = "glorification",
        Recruitment = "recruitment",
        Instruction = "instruction",
        Threat = "threat",
        AttackClaim = "attack-claim",
        Other = "other",
    ]
);
kebab_parse!(
    Tier,
    "tier",
    [
        ThreatToLife = "threat-to-life",
        Crisis = "crisis",
        Designated = "designated",
        Promotional = "promotional",
    ]
);

/// Labels: what content is, who made it, where it came from. They travel
/// with signals in exchanges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    /// The producing group, free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// What the content does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behaviour: Option<Behaviour>,
    /// How urgent it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    /// Who reported or shared it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Free tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Labels {
    /// Sets one label from `key=value` text (`tag` or `tags` appends a tag).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), Error> {
        let value = value.trim();
        if value.is_empty() {
            return Err(Error::Invalid(format!("label {key:?} has an empty value")));
        }
        match key {
            "entity" => self.entity = Some(value.to_owned()),
            "behaviour" | "behavior" => self.behaviour = Some(value.parse()?),
            "tier" => self.tier = Some(value.parse()?),
            "source" => self.source = Some(value.to_owned()),
            "tag" | "tags" => {
                for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    if !self.tags.iter().any(|t| t == tag) {
                        self.tags.push(tag.to_owned());
                    }
                }
            }
            other => {
                return Err(Error::Invalid(format!(
                    "unknown label {other:?}; expected entity, behaviour, tier, source or tag"
                )));
            }
        }
        Ok(())
    }

    /// Checks lengths (free text is bounded so labels stay labels).
    pub fn validate(&self) -> Result<(), Error> {
        let too_long = |what: &str, text: &str| {
            (text.chars().count() > 255)
                .then(|| Error::Invalid(format!("label {what} is longer than 255 characters")))
        };
        for (what, text) in [("entity", &self.entity), ("source", &self.source)] {
            if let Some(err) = text.as_deref().and_then(|t| too_long(what, t)) {
                return Err(err);
            }
        }
        if self.tags.len() > 64 {
            return Err(Error::Invalid("more than 64 tags".to_owned()));
        }
        match self.tags.iter().find_map(|t| too_long("tag", t)) {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

/// HMA's content metadata: exactly these three fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The platform's own id for the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    /// Where the content was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_uri: Option<String>,
    /// Any JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Where a content came from when it was not added by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The exchange (source of shared signals) it was fetched from.
    pub exchange: String,
    /// The exchange's id for the fetched record.
    pub fetch_id: String,
}

/// Signals of one content by signal type: at most one value per type, as in
/// HMA. Values are validated and kept in their canonical text form
/// ([`SignalValue`]'s), which is also how they are stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct Signals(BTreeMap<SignalType, String>);

impl Signals {
    /// Adds or replaces one signal given in text, after validating it.
    pub fn insert(&mut self, signal_type: SignalType, value: &str) -> Result<(), Error> {
        let value = SignalValue::parse(signal_type, value)?;
        self.insert_value(&value)
    }

    /// Adds or replaces one parsed signal. A content's video has at least
    /// one frame hash: an empty `vpdq` list is refused.
    pub fn insert_value(&mut self, value: &SignalValue) -> Result<(), Error> {
        if matches!(value, SignalValue::Vpdq(frames) if frames.is_empty()) {
            return Err(Error::Invalid(
                "invalid vpdq signal: it has no frames".to_owned(),
            ));
        }
        self.0.insert(value.signal_type(), value.to_string());
        Ok(())
    }

    /// The signals of `values`, as hashing produced them (see
    /// `vigil_media::Hashed::signals`).
    pub fn from_values(values: impl IntoIterator<Item = SignalValue>) -> Result<Self, Error> {
        let mut signals = Signals::default();
        for value in values {
            signals.insert_value(&value)?;
        }
        Ok(signals)
    }

    /// These signals as banked and shown: a `text` sketch cut to
    /// [`BANK_SAMPLE`](vigil_signal::text::BANK_SAMPLE) values (lookups use
    /// the whole sketch; banks index only the sample).
    pub fn compacted(&self) -> Signals {
        let mut compact = self.clone();
        if let Some(SignalValue::Text(sketch)) = self.value(SignalType::Text) {
            let cut = SignalValue::Text(sketch.truncated(vigil_signal::text::BANK_SAMPLE));
            compact.0.insert(SignalType::Text, cut.to_string());
        }
        compact
    }

    /// Adds one signal whose type is given by name (a database row, a
    /// file's column).
    pub(crate) fn insert_named(&mut self, signal_type: &str, value: &str) -> Result<(), Error> {
        self.insert(signal_type.parse()?, value)
    }

    /// The value of one type, in text.
    pub fn get(&self, signal_type: SignalType) -> Option<&str> {
        self.0.get(&signal_type).map(String::as_str)
    }

    /// The value of one type, parsed (stored values always parse).
    pub fn value(&self, signal_type: SignalType) -> Option<SignalValue> {
        self.get(signal_type)
            .and_then(|text| SignalValue::parse(signal_type, text).ok())
    }

    /// The PDQ hash, if any.
    pub fn pdq(&self) -> Option<PdqHash> {
        self.get(SignalType::Pdq).and_then(|v| v.parse().ok())
    }

    /// `(type, value)` pairs in type order.
    pub fn iter(&self) -> impl Iterator<Item = (SignalType, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<BTreeMap<String, String>> for Signals {
    type Error = Error;

    fn try_from(map: BTreeMap<String, String>) -> Result<Self, Error> {
        let mut signals = Signals::default();
        for (signal_type, value) in &map {
            signals.insert_named(signal_type, value)?;
        }
        Ok(signals)
    }
}

impl From<Signals> for BTreeMap<String, String> {
    fn from(signals: Signals) -> Self {
        signals
            .0
            .into_iter()
            .map(|(signal_type, value)| (signal_type.as_str().to_owned(), value))
            .collect()
    }
}

/// HMA's enabled state: 0 disabled, 1 enabled, a later Unix time = disabled
/// until then.
pub type DisableUntil = i64;

/// A content to add.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewContent {
    /// Its signals (at least one).
    pub signals: Signals,
    /// Its labels.
    #[serde(default)]
    pub labels: Labels,
    /// HMA metadata.
    #[serde(default)]
    pub metadata: Metadata,
    /// A note of at most 255 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

impl NewContent {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), Error> {
        if self.signals.is_empty() {
            return Err(Error::Invalid("no signals given".to_owned()));
        }
        if self
            .note
            .as_deref()
            .is_some_and(|n| n.chars().count() > 255)
        {
            return Err(Error::Invalid(
                "the note is longer than 255 characters".to_owned(),
            ));
        }
        self.labels.validate()
    }
}

/// A stored content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    /// Global id (one serial across banks, as in HMA).
    pub id: i64,
    /// Its bank.
    pub bank: BankName,
    /// Signals, labels, metadata, note and provenance as added or updated.
    #[serde(flatten)]
    pub fields: NewContent,
    /// Enabled state (see [`DisableUntil`]).
    pub disable_until_ts: DisableUntil,
    /// Unix time it was added.
    pub created_at: i64,
}

impl Content {
    /// Whether it takes part in lookups at Unix time `now`.
    pub fn is_enabled(&self, now: i64) -> bool {
        self.disable_until_ts == 1 || (self.disable_until_ts > 1 && self.disable_until_ts <= now)
    }
}

/// The part of a content an index needs: a lighter read than [`Content`]
/// for building indexes over millions of contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedContent {
    /// Content id.
    pub id: i64,
    /// Its bank's id.
    pub bank_id: i64,
    /// Enabled state (see [`DisableUntil`]).
    pub disable_until_ts: DisableUntil,
    /// Its signals.
    pub signals: Signals,
}

/// What changed, in the order the change log recorded it; indexes replay it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    /// A content was added or changed (signals, enabled state, labels).
    Content {
        /// The content.
        content_id: i64,
    },
    /// A content was deleted.
    ContentDeleted {
        /// The content.
        content_id: i64,
    },
    /// A bank and all of its contents were deleted.
    BankDeleted {
        /// The bank.
        bank_id: i64,
    },
}

/// One change-log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Position in the log (increasing).
    pub seq: i64,
    /// What changed.
    #[serde(flatten)]
    pub kind: ChangeKind,
}

/// One audit-log entry: who did what to which object, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Position in the log.
    pub seq: i64,
    /// Unix time.
    pub at: i64,
    /// Who (a user, a token name, `cli`, an exchange).
    pub actor: String,
    /// What, e.g. `bank.create`, `content.add`.
    pub action: String,
    /// Which object, e.g. `bank:NAME` or `content:42`.
    pub target: String,
    /// Details as JSON text.
    pub detail: String,
}

impl From<vigil_signal::Error> for Error {
    fn from(error: vigil_signal::Error) -> Self {
        Error::Invalid(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bank_names_follow_hma() {
        assert!("TERROR_BANK_1".parse::<BankName>().is_ok());
        assert!("_X".parse::<BankName>().is_ok());
        for bad in ["", "1BANK", "bank", "BANK-1", "BÄNK", &"A".repeat(256)] {
            assert!(bad.parse::<BankName>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn labels_parse_and_validate() {
        let mut labels = Labels::default();
        labels.set("behaviour", "attack-claim").unwrap();
        labels.set("tier", "crisis").unwrap();
        labels.set("entity", "Example Group").unwrap();
        labels.set("tag", "video, nasheed").unwrap();
        labels.set("tag", "video").unwrap();
        assert_eq!(labels.tags, ["video", "nasheed"]);
        assert!(
            labels
                .set("behaviour", "cheering")
                .unwrap_err()
                .to_string()
                .contains("attack-claim")
        );
        assert!(labels.set("colour", "red").is_err());
        assert!(labels.set("entity", " ").is_err());
        let json = serde_json::to_string(&labels).unwrap();
        assert_eq!(
            json,
            r#"{"entity":"Example Group","behaviour":"attack-claim","tier":"crisis","tags":["video","nasheed"]}"#
        );
    }

    #[test]
    fn signals_are_validated_and_normalised() {
        let mut signals = Signals::default();
        signals
            .insert(SignalType::Md5, "D41D8CD98F00B204E9800998ECF8427E")
            .unwrap();
        assert_eq!(
            signals.get(SignalType::Md5),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert!(signals.insert(SignalType::Pdq, "abc").is_err());
        assert!(
            signals
                .insert_named("tlsh", "abc")
                .unwrap_err()
                .to_string()
                .contains("no such signal type")
        );
    }

    #[test]
    fn banked_variants_are_checked_item_by_item() {
        let hash = "F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22";
        let mut signals = Signals::default();
        signals
            .insert(
                SignalType::PdqVariants,
                &format!("c90:{hash}:87,tl60:{hash}:50"),
            )
            .unwrap();
        let lower = hash.to_ascii_lowercase();
        assert_eq!(
            signals.get(SignalType::PdqVariants),
            Some(format!("c90:{lower}:87,tl60:{lower}:50").as_str())
        );
        for bad in [
            String::new(),
            format!("c90:{hash}"),
            format!("C90:{hash}:50"),
            format!("c90:{hash}:101"),
            "c90:abc:50".to_owned(),
            format!("c90:{hash}:50,"),
            format!("zz90:{hash}:50"),
        ] {
            let err = signals.insert(SignalType::PdqVariants, &bad).unwrap_err();
            assert!(err.to_string().contains("pdq_variants"), "{bad:?}: {err}");
        }
    }
}
