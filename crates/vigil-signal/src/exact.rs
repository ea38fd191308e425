//! Exact signals: `md5` and `sha256` of the media bytes.
//!
//! Exact digests only match byte-identical files, but they are what most
//! shared hash lists carry (HMA's `md5`/`video_md5`, GIFCT's MD5), and they
//! are cheap. [`ExactHasher`] takes the bytes in pieces so a caller can
//! stream a file of any size without holding it.

use std::fmt;
use std::str::FromStr;

use md5::Digest as _;

use crate::error::{Error, parse_hex, write_hex};

macro_rules! digest_type {
    ($name:ident, $len:expr, $kind:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// The signal type's name, as used in APIs and files.
            pub const SIGNAL_TYPE: &'static str = $kind;

            /// The digest's raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(f, &self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(text: &str) -> Result<Self, Error> {
                parse_hex($kind, text).map(Self)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

digest_type!(
    Md5,
    16,
    "md5",
    "An MD5 digest: 32 lowercase hex characters in text form."
);
digest_type!(
    Sha256,
    32,
    "sha256",
    "A SHA-256 digest: 64 lowercase hex characters in text form."
);

/// Both exact digests of one byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExactDigests {
    /// MD5 of the bytes.
    pub md5: Md5,
    /// SHA-256 of the bytes.
    pub sha256: Sha256,
}

impl ExactDigests {
    /// Digests of `bytes` held in memory.
    pub fn of(bytes: &[u8]) -> Self {
        let mut hasher = ExactHasher::new();
        hasher.update(bytes);
        hasher.finish()
    }
}

/// Computes [`ExactDigests`] over bytes given in any number of pieces.
#[derive(Clone, Default)]
pub struct ExactHasher {
    md5: md5::Md5,
    sha256: sha2::Sha256,
    len: u64,
}

impl ExactHasher {
    /// A hasher that has seen no bytes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next piece of the stream.
    pub fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.sha256.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// How many bytes have been fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no bytes have been fed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digests of everything fed.
    pub fn finish(self) -> ExactDigests {
        ExactDigests {
            md5: Md5(self.md5.finalize().into()),
            sha256: Sha256(self.sha256.finalize().into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_of_abc() {
        let digests = ExactDigests::of(b"abc");
        assert_eq!(digests.md5.to_string(), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            digests.sha256.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn pieces_equal_whole() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut hasher = ExactHasher::new();
        for piece in data.chunks(333) {
            hasher.update(piece);
        }
        assert_eq!(hasher.len(), 10_000);
        assert_eq!(hasher.finish(), ExactDigests::of(&data));
    }

    #[test]
    fn text_round_trip() {
        let md5: Md5 = "900150983CD24FB0D6963F7D28E17F72".parse().unwrap();
        assert_eq!(md5.to_string(), "900150983cd24fb0d6963f7d28e17f72");
        assert!("900150983cd24fb0".parse::<Md5>().is_err());
    }
}
