/// An error from parsing or constructing a signal value.
///
/// Computing a signal never fails: only text forms and pixel buffers given by
/// a caller can be malformed. Each message names the offending input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hex digest had the wrong number of characters.
    #[error("{kind} must be {expected} hex characters, got {actual}: {input:?}")]
    HexLength {
        /// The signal type being parsed (`pdq`, `md5`, …).
        kind: &'static str,
        /// The number of hex characters the type needs.
        expected: usize,
        /// The number of characters given.
        actual: usize,
        /// The input, truncated to 80 characters.
        input: String,
    },
    /// A hex digest contained a character outside `0-9a-fA-F`.
    #[error("{kind} contains a non-hex character {character:?} at position {position}")]
    HexDigit {
        /// The signal type being parsed.
        kind: &'static str,
        /// The offending character.
        character: char,
        /// Its 0-based character position.
        position: usize,
    },
    /// A vPDQ text form (reference file line or HMA signal) is malformed.
    #[error("{0}")]
    Vpdq(String),
    /// A text sketch's text form is malformed.
    #[error("invalid text signal: {0}")]
    TextSketch(String),
    /// A name that is not one of the [`SignalType`](crate::SignalType)s.
    #[error(
        "no such signal type {0:?}; expected one of md5, pdq, pdq_variants, sha256, text, video_md5, vpdq"
    )]
    UnknownSignalType(String),
    /// A signal's text form is not valid for its type.
    #[error("invalid {signal_type} signal: {reason}")]
    InvalidSignal {
        /// The type it was parsed as.
        signal_type: crate::SignalType,
        /// What is wrong with it.
        reason: String,
    },
    /// A pixel or luma buffer's length does not match its declared size.
    #[error(
        "buffer of {actual} elements does not fit a {width}x{height} image ({expected} expected)"
    )]
    PixelBuffer {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Elements needed (3 per pixel for RGB, 1 for luma).
        expected: usize,
        /// Elements given.
        actual: usize,
    },
}

/// Parses `text` as exactly `N` bytes of hex (either case).
pub(crate) fn parse_hex<const N: usize>(kind: &'static str, text: &str) -> Result<[u8; N], Error> {
    let expected = N * 2;
    let actual = text.chars().count();
    if text.len() != expected || actual != expected {
        return Err(Error::HexLength {
            kind,
            expected,
            actual,
            input: text.chars().take(80).collect(),
        });
    }
    let mut out = [0u8; N];
    for (position, character) in text.chars().enumerate() {
        let nibble = character.to_digit(16).ok_or(Error::HexDigit {
            kind,
            character,
            position,
        })? as u8;
        out[position / 2] |= nibble << if position % 2 == 0 { 4 } else { 0 };
    }
    Ok(out)
}

/// Writes `bytes` as lowercase hex.
pub(crate) fn write_hex(f: &mut std::fmt::Formatter<'_>, bytes: &[u8]) -> std::fmt::Result {
    for byte in bytes {
        write!(f, "{byte:02x}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_cases() {
        assert_eq!(parse_hex::<2>("md5", "aB0f"), Ok([0xab, 0x0f]));
    }

    #[test]
    fn rejects_wrong_length_and_bad_digit() {
        assert_eq!(
            parse_hex::<2>("md5", "abc").unwrap_err().to_string(),
            "md5 must be 4 hex characters, got 3: \"abc\""
        );
        assert_eq!(
            parse_hex::<2>("md5", "abcg").unwrap_err().to_string(),
            "md5 contains a non-hex character 'g' at position 3"
        );
        // Multi-byte characters must not be mistaken for the right length.
        assert!(parse_hex::<2>("md5", "ééé").is_err());
    }
}
