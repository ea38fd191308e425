//! Files and folders readable by their owner only.
//!
//! What Vigil keeps names what an organisation looks for (banks, labels),
//! holds API token digests, and may hold the media it found: nothing of it
//! is for other users of the machine. Everything Vigil creates on disk goes
//! through these, so a new kind of file cannot forget the mode.

use std::io::Write;
use std::path::Path;

/// Creates `dir` and its missing parents with mode 0700. A folder that
/// exists keeps the mode its owner chose.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `path` with mode 0600, failing if it exists.
pub fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Writes `bytes` to `path` (mode 0600) through a temporary file beside it
/// renamed into place, so a reader never sees a partial file.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let mut file = create_private_file(&partial)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&partial, path)
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)] // Test failures should panic.
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a").join("b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
        let file = dir.join("media");
        write_private_file(&file, b"bytes").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"bytes");
        write_private_file(&file, b"again").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"again");
        assert!(create_private_file(&file).is_err());
    }
}
