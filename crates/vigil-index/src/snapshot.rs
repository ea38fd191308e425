//! Saving a [`HammingIndex`] to a file and loading it back without
//! rebuilding anything.
//!
//! # Format (version 1, little-endian)
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `VIGILHX1` |
//! | 4, 4 | format version, number of substrings `m` |
//! | 8, 8 | slots `n`, slots covered by the tables `t` |
//! | 4·m, padded to 8 | substring widths in bits |
//! | 32·n | codes |
//! | 8·n | ids |
//! | 8·⌈n/64⌉ | deleted flags |
//! | per substring: 4·(2^bits + 1), 4·t, each padded to 8 | table offsets and slots |
//! | 8 | XXH3-64 of everything above |
//!
//! Loading reads each array straight into its final vector (no second
//! copy), checks the declared sizes against the file's length *before*
//! allocating, verifies the checksum at the end and the tables' internal
//! consistency, and only then returns an index: a truncated or damaged file
//! is an error and nothing of it is used. Saving writes a temporary file in
//! the same folder and renames it over the target, so a crash mid-save
//! leaves the previous snapshot intact.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use bytemuck::Pod;
use xxhash_rust::xxh3::Xxh3;

use crate::mih::{Layout, Tables};
use crate::{Code256, Error, HammingIndex};

const MAGIC: &[u8; 8] = b"VIGILHX1";
const VERSION: u32 = 1;

#[cfg(not(target_endian = "little"))]
compile_error!("snapshots are little-endian; big-endian targets need byte swapping here");

/// Writes `index` to `path` (atomically: temporary file, then rename).
pub fn save(index: &HammingIndex, path: &Path) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let temporary = temporary_path(path);
    // Owner-only, as the store it mirrors.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&temporary).map_err(io)?;
    let mut out = HashingWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Xxh3::new(),
    };
    let (ids, codes, deleted, tables) = index.parts();
    let widths: Vec<u32> = tables.layout().parts().iter().map(|p| p.bits).collect();
    let written = (|| -> std::io::Result<()> {
        out.write_all(MAGIC)?;
        out.write_all(&VERSION.to_le_bytes())?;
        out.write_all(&(widths.len() as u32).to_le_bytes())?;
        out.write_all(&(codes.len() as u64).to_le_bytes())?;
        out.write_all(&(tables.len() as u64).to_le_bytes())?;
        out.write_padded(bytemuck::cast_slice(&widths))?;
        out.write_padded(bytemuck::cast_slice(codes))?;
        out.write_padded(bytemuck::cast_slice(ids))?;
        out.write_padded(bytemuck::cast_slice(deleted))?;
        for (offsets, slots) in tables.offsets().iter().zip(tables.slots()) {
            out.write_padded(bytemuck::cast_slice(offsets))?;
            out.write_padded(bytemuck::cast_slice(slots))?;
        }
        let checksum = out.hasher.digest();
        out.inner.write_all(&checksum.to_le_bytes())?;
        let file = out
            .inner
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        file.sync_all()
    })();
    if let Err(source) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(io(source));
    }
    std::fs::rename(&temporary, path).map_err(io)
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Loads an index saved by [`save`].
pub fn load(path: &Path) -> Result<HammingIndex, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let corrupt = |reason: &str| Error::Corrupt {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let format = |reason: String| Error::Format {
        path: path.to_owned(),
        expected: VERSION,
        reason,
    };
    let file = File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let mut input = HashingReader {
        inner: BufReader::with_capacity(1 << 20, file),
        hasher: Xxh3::new(),
    };
    let truncated = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            corrupt("the file ends early (truncated)")
        } else {
            io(e)
        }
    };

    let mut header = [0u8; 32];
    input.read_exact(&mut header).map_err(truncated)?;
    if &header[..8] != MAGIC {
        return Err(format("wrong magic bytes".to_owned()));
    }
    let word = |at: usize| {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let long = |at: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&header[at..at + 8]);
        u64::from_le_bytes(bytes)
    };
    let (version, parts, slots, tabled) = (word(8), word(12) as usize, long(16), long(24));
    if version != VERSION {
        return Err(format(format!("file has version {version}")));
    }
    if parts == 0 || parts > 256 || tabled > slots || slots > u64::from(u32::MAX) {
        return Err(corrupt("impossible header values"));
    }
    let widths: Vec<u32> = input.read_vec(parts).map_err(truncated)?;
    let layout = Layout::from_widths(&widths)
        .ok_or_else(|| corrupt("substring widths do not tile 256 bits"))?;

    // Refuse before allocating if the declared sizes cannot match the file.
    let padded = |bytes: u64| bytes.div_ceil(8) * 8;
    let (n, t) = (slots, tabled);
    let mut expected = 32 + padded(4 * parts as u64) + 32 * n + 8 * n + 8 * n.div_ceil(64) + 8;
    for part in layout.parts() {
        expected += padded(4 * ((1u64 << part.bits) + 1)) + padded(4 * t);
    }
    if expected != file_len {
        return Err(corrupt(&format!(
            "the header describes {expected} bytes but the file has {file_len} (truncated or damaged)"
        )));
    }
    let (n, t) = (n as usize, t as usize);
    let codes: Vec<Code256> = input.read_vec(n).map_err(truncated)?;
    let ids: Vec<u64> = input.read_vec(n).map_err(truncated)?;
    let deleted: Vec<u64> = input.read_vec(n.div_ceil(64)).map_err(truncated)?;
    let mut offsets = Vec::with_capacity(parts);
    let mut table_slots = Vec::with_capacity(parts);
    for part in layout.parts() {
        offsets.push(
            input
                .read_vec::<u32>((1usize << part.bits) + 1)
                .map_err(truncated)?,
        );
        table_slots.push(input.read_vec::<u32>(t).map_err(truncated)?);
    }
    let computed = input.hasher.digest();
    let mut stored = [0u8; 8];
    input.inner.read_exact(&mut stored).map_err(truncated)?;
    if u64::from_le_bytes(stored) != computed {
        return Err(corrupt("checksum mismatch (the file was damaged)"));
    }
    let tables = Tables::from_parts(layout, offsets, table_slots, t)
        .ok_or_else(|| corrupt("the tables are inconsistent with the codes"))?;
    Ok(HammingIndex::from_snapshot(ids, codes, deleted, tables))
}

struct HashingWriter<W> {
    inner: W,
    hasher: Xxh3,
}

impl<W: Write> HashingWriter<W> {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hasher.update(bytes);
        self.inner.write_all(bytes)
    }

    /// Writes `bytes` and zero padding up to a multiple of 8.
    fn write_padded(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.write_all(bytes)?;
        let padding = bytes.len().next_multiple_of(8) - bytes.len();
        self.write_all(&[0u8; 8][..padding])
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Xxh3,
}

impl<R: Read> HashingReader<R> {
    fn read_exact(&mut self, bytes: &mut [u8]) -> std::io::Result<()> {
        self.inner.read_exact(bytes)?;
        self.hasher.update(bytes);
        Ok(())
    }

    /// Reads `len` values written by `write_padded`, straight into a vector.
    fn read_vec<T: Pod>(&mut self, len: usize) -> std::io::Result<Vec<T>> {
        let mut values = vec![T::zeroed(); len];
        self.read_exact(bytemuck::cast_slice_mut(&mut values))?;
        let bytes = len * std::mem::size_of::<T>();
        let padding = bytes.next_multiple_of(8) - bytes;
        self.read_exact(&mut [0u8; 8][..padding])?;
        Ok(values)
    }
}
