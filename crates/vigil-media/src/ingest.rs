//! Reading an item once: digests on the way, bytes kept within a limit.

use std::io::{ErrorKind, Read};

use vigil_signal::{ExactDigests, ExactHasher};

/// An item read from a stream.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// `md5` and `sha256` of every byte read, whatever the limit.
    pub digests: ExactDigests,
    /// Total bytes read.
    pub len: u64,
    /// The bytes, or `None` when there were more than the limit (the
    /// digests still cover them all).
    pub bytes: Option<Vec<u8>>,
}

/// Reads `reader` to the end in 64 KiB pieces, digesting every piece and
/// keeping the bytes only while they total at most `max_bytes`.
///
/// Memory stays bounded by `max_bytes` whatever the stream's length, so a
/// multi-gigabyte file still gets its exact digests.
pub fn ingest(mut reader: impl Read, max_bytes: u64) -> std::io::Result<Ingested> {
    let mut hasher = ExactHasher::new();
    let mut kept = Some(Vec::new());
    let mut piece = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut piece) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&piece[..n]);
        if hasher.len() > max_bytes {
            kept = None;
        } else if let Some(bytes) = kept.as_mut() {
            bytes.extend_from_slice(&piece[..n]);
        }
    }
    let len = hasher.len();
    Ok(Ingested {
        digests: hasher.finish(),
        len,
        bytes: kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bytes_within_limit_and_digests_all() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        let within = ingest(&data[..], 200_000).unwrap();
        assert_eq!(within.bytes.as_deref(), Some(&data[..]));
        let over = ingest(&data[..], 199_999).unwrap();
        assert_eq!(over.bytes, None);
        assert_eq!(over.len, 200_000);
        assert_eq!(over.digests, ExactDigests::of(&data));
        assert_eq!(within.digests, over.digests);
    }
}
