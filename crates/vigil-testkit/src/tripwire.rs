//! A file that must never be read: a named pipe that notices readers.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A FIFO at a path that hostile input names (a playlist segment, a
/// manifest's base URL), watched until [`Tripwire::finish`].
///
/// Opening a FIFO's write end without blocking succeeds exactly when some
/// process holds its read end, even one still blocked in `open`, so the
/// watcher sees any reader however briefly it looks; it then closes the
/// write end, giving that reader an end of file so it cannot hang.
pub struct Tripwire {
    path: PathBuf,
    opened: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Tripwire {
    /// Makes the FIFO at `path` (with `mkfifo`) and starts watching it.
    ///
    /// # Panics
    ///
    /// When the FIFO cannot be made.
    pub fn arm(path: &Path) -> Self {
        let made = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap_or_else(|e| panic!("cannot run mkfifo: {e}"));
        assert!(made.success(), "mkfifo {} failed", path.display());
        let opened = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (path, opened, stop) = (path.to_owned(), Arc::clone(&opened), Arc::clone(&stop));
            std::thread::spawn(move || {
                use std::os::unix::fs::OpenOptionsExt;
                while !stop.load(Ordering::SeqCst) {
                    let writer = std::fs::OpenOptions::new()
                        .write(true)
                        .custom_flags(libc::O_NONBLOCK)
                        .open(&path);
                    if writer.is_ok() {
                        opened.store(true, Ordering::SeqCst);
                    }
                    drop(writer);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        Self {
            path: path.to_owned(),
            opened,
            stop,
            thread: Some(thread),
        }
    }

    /// The FIFO's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops watching, after one last look; whether anything opened the
    /// FIFO for reading while it was armed.
    pub fn finish(mut self) -> bool {
        std::thread::sleep(Duration::from_millis(50));
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.opened.load(Ordering::SeqCst)
    }
}

impl Drop for Tripwire {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Playlists and manifests naming `target` (a local path), as an attacker
/// would upload them as a video: `(name, bytes)`.
pub fn playlists_naming(target: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let path = target.display();
    vec![
        (
            "hls-file-url",
            format!("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{path}\n#EXT-X-ENDLIST\n")
                .into_bytes(),
        ),
        (
            "hls-path",
            format!("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{path}\n#EXT-X-ENDLIST\n")
                .into_bytes(),
        ),
        (
            "dash-base-url",
            format!(
                "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" \
                 mediaPresentationDuration=\"PT10S\" profiles=\"urn:mpeg:dash:profile:isoff-on-demand:2011\">\
                 <BaseURL>file://{path}</BaseURL><Period><AdaptationSet mimeType=\"video/mp4\">\
                 <Representation id=\"1\" bandwidth=\"1000\"><BaseURL>file://{path}</BaseURL>\
                 </Representation></AdaptationSet></Period></MPD>\n"
            )
            .into_bytes(),
        ),
        (
            "ffconcat",
            format!("ffconcat version 1.0\nfile '{path}'\n").into_bytes(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_trips_it_and_nothing_else_does() {
        let dir = std::env::temp_dir().join(format!("tripwire-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let quiet = Tripwire::arm(&dir.join("quiet"));
        let _ = std::fs::metadata(quiet.path());
        assert!(!quiet.finish());
        let read = Tripwire::arm(&dir.join("read"));
        let contents = std::fs::read(read.path()).unwrap();
        assert!(contents.is_empty());
        assert!(read.finish());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
