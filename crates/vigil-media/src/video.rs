//! Video → vPDQ frames, through FFmpeg's command-line programs.
//!
//! `ffprobe` reads the stream's size and frame rate; `ffmpeg` decodes the
//! first video stream and writes raw RGB24 frames to a pipe, in decoder
//! order, one frame per `width × height × 3` bytes; each sampled frame is
//! hashed by [`PdqHasher::hash_frame`]. This reproduces Meta's reference
//! (`vpdq-hash-video`, libavcodec + `sws_scale` to RGB24, `SWS_AREA` when
//! scaling) bit for bit: golden-tested over every frame of the reference
//! vectors.
//!
//! The programs rather than the libraries: a fresh machine gets them with
//! `apt-get install ffmpeg` and no headers, bindings or version pinning,
//! and a decoder crash or hang on hostile input kills a child process, not
//! Vigil. Every run is bounded ([`VideoLimits`]): frame size and duration
//! are checked from the probe before decoding, frames are counted while
//! reading, and a watchdog kills FFmpeg at the wall-clock deadline.
//!
//! FFmpeg never chooses what to open: the container is sniffed from the
//! file's first bytes ([`video_container`](crate::video_container)), both
//! programs get that one demuxer with `-f` and `-format_whitelist`, only the
//! `file` protocol, and the path as an explicit `file:` URL, so playlists
//! and manifests that name other files are refused before FFmpeg runs.

use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use vigil_signal::{PdqHasher, RgbView, VpdqFrame};

use crate::{Container, Error};

/// Bounds on one video's hashing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoLimits {
    /// Largest frame width or height, in pixels.
    pub max_side: u32,
    /// Longest duration, in seconds, as the container declares it.
    pub max_duration_seconds: f64,
    /// Most frames decoded.
    pub max_frames: u64,
    /// Deadline for the whole run.
    pub max_wall_time: Duration,
}

impl Default for VideoLimits {
    /// 8K frames, 4 hours, 4 hours of frames at 60 fps, 30 minutes.
    fn default() -> Self {
        Self {
            max_side: 8192,
            max_duration_seconds: 4.0 * 3600.0,
            max_frames: 4 * 3600 * 60,
            max_wall_time: Duration::from_secs(30 * 60),
        }
    }
}

/// How frames are sampled and prepared, as the reference's options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoOptions {
    /// Hash one frame per this many seconds (frames whose number is a
    /// multiple of `int(seconds × fps)`); 0 hashes every frame (`-r 0`).
    pub seconds_per_hash: f64,
    /// Scale frames to N×N (area scaling) before hashing (`-s N`).
    pub downscale: Option<u32>,
    /// Bounds.
    pub limits: VideoLimits,
}

impl Default for VideoOptions {
    /// Every frame at native size, as the reference's sample hashes.
    fn default() -> Self {
        Self {
            seconds_per_hash: 0.0,
            downscale: None,
            limits: VideoLimits::default(),
        }
    }
}

/// What the probe says of the video stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoInfo {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frames per second (average frame rate, else the base rate).
    pub fps: f32,
    /// Declared duration in seconds, if any.
    pub duration_seconds: Option<f64>,
}

/// A hashed video.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoHash {
    /// The stream's properties.
    pub info: VideoInfo,
    /// Frames decoded (hashed or not).
    pub frames_decoded: u64,
    /// The hashed frames, in order.
    pub frames: Vec<VpdqFrame>,
}

/// Hashes the video at `path`. Bytes in no whitelisted container are
/// refused before FFmpeg runs: [`Error::VideoRefused`] for playlists and
/// manifests, [`Error::UnsupportedVideo`] for the rest.
pub fn hash_video_file(path: &Path, options: &VideoOptions) -> Result<VideoHash, Error> {
    let started = Instant::now();
    let container = sniff_file(path)?;
    let info = probe(path, container)?;
    let limits = &options.limits;
    if info.width > limits.max_side || info.height > limits.max_side {
        return Err(Error::VideoLimit(format!(
            "frames are {}x{}, over the limit of {} pixels a side",
            info.width, info.height, limits.max_side
        )));
    }
    if let Some(duration) = info.duration_seconds
        && duration > limits.max_duration_seconds
    {
        return Err(Error::VideoLimit(format!(
            "{duration:.0} s long, over the limit of {:.0} s",
            limits.max_duration_seconds
        )));
    }
    let (width, height) = match options.downscale {
        Some(side) if side > 0 => (side, side),
        _ => (info.width, info.height),
    };
    let interval = if options.seconds_per_hash > 0.0 {
        ((options.seconds_per_hash * f64::from(info.fps)) as u64).max(1)
    } else {
        1
    };

    let mut child = decode_command(path, container, options.downscale)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::VideoTool {
            program: "ffmpeg",
            message: e.to_string(),
        })?;
    let (Some(mut stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(Error::VideoDecode(
            "ffmpeg's output pipes are missing".into(),
        ));
    };
    let errors = std::thread::spawn(move || read_capped(stderr, 64 * 1024));
    let deadline = limits.max_wall_time.saturating_sub(started.elapsed());
    let watchdog = Watchdog::start(child, deadline);

    let frame_bytes = width as usize * height as usize * 3;
    let mut buffer = vec![0u8; frame_bytes];
    let mut frames = Vec::new();
    let mut decoded = 0u64;
    let outcome = loop {
        match read_frame(&mut stdout, &mut buffer) {
            Ok(true) => {}
            Ok(false) => break Ok(()),
            Err(e) => break Err(Error::Io(e)),
        }
        if decoded.is_multiple_of(interval) {
            let image = match RgbView::new(width, height, &buffer) {
                Ok(image) => image,
                Err(e) => break Err(Error::VideoDecode(e.to_string())),
            };
            let pdq = PdqHasher::hash_frame(&image);
            frames.push(VpdqFrame {
                frame_number: decoded,
                quality: pdq.quality,
                hash: pdq.hash,
                timestamp: VpdqFrame::timestamp_of(decoded, info.fps),
            });
        }
        decoded += 1;
        if decoded > limits.max_frames {
            break Err(Error::VideoLimit(format!(
                "more than {} frames",
                limits.max_frames
            )));
        }
    };
    drop(stdout);
    let (status, timed_out) = watchdog.finish(outcome.is_err());
    let stderr_text = errors.join().unwrap_or_default();
    if timed_out {
        return Err(Error::VideoLimit(format!(
            "not hashed within {} s",
            limits.max_wall_time.as_secs()
        )));
    }
    outcome?;
    match status {
        Some(status) if status.success() => {}
        _ => {
            return Err(Error::VideoDecode(first_line(
                &stderr_text,
                "ffmpeg failed",
            )));
        }
    }
    if decoded == 0 {
        return Err(Error::VideoDecode("no frame could be decoded".into()));
    }
    Ok(VideoHash {
        info,
        frames_decoded: decoded,
        frames,
    })
}

/// The container of the file at `path`, from its first bytes.
fn sniff_file(path: &Path) -> Result<Container, Error> {
    let mut head = Vec::with_capacity(crate::CONTAINER_SNIFF_BYTES);
    std::fs::File::open(path)?
        .take(crate::CONTAINER_SNIFF_BYTES as u64)
        .read_to_end(&mut head)?;
    if head.is_empty() {
        return Err(Error::Empty);
    }
    crate::video_container(&head)
}

/// The input options both programs take: the one demuxer sniffed, the one
/// protocol, and the path as a `file:` URL (a path such as `http:x` or
/// `concat:a|b` would otherwise name a protocol).
fn input_args(path: &Path, container: Container) -> Vec<OsString> {
    let demuxer = container.demuxer();
    let mut url = OsString::from("file:");
    url.push(path.as_os_str());
    [
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        demuxer,
        "-f",
        demuxer,
        "-i",
    ]
    .into_iter()
    .map(OsString::from)
    .chain([url])
    .collect()
}

/// `ffmpeg` decoding the first video stream to raw RGB24 frames on stdout.
fn decode_command(path: &Path, container: Container, downscale: Option<u32>) -> Command {
    let mut command = Command::new("ffmpeg");
    command
        .args(["-v", "error", "-nostdin"])
        .args(input_args(path, container))
        .args(["-map", "0:v:0", "-fps_mode", "passthrough"]);
    if let Some(side) = downscale.filter(|s| *s > 0) {
        command
            .args(["-s", &format!("{side}x{side}")])
            .args(["-sws_flags", "area"]);
    }
    command.args(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
    command
}

/// `ffprobe` printing the first video stream's size, rate and duration.
fn probe_command(path: &Path, container: Container) -> Command {
    let mut command = Command::new("ffprobe");
    command
        .args(["-v", "error", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=width,height,avg_frame_rate,r_frame_rate,duration:format=duration",
        ])
        .args(["-of", "json"])
        .args(input_args(path, container));
    command
}

/// Fills `buffer` with the next frame; `false` at a clean end of stream.
fn read_frame(input: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<bool> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "ffmpeg stopped in the middle of a frame",
                ));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn read_capped(mut input: impl Read, cap: u64) -> String {
    let mut text = String::new();
    let _ = (&mut input).take(cap).read_to_string(&mut text);
    // Drain the rest so FFmpeg never blocks on a full pipe.
    let _ = std::io::copy(&mut input, &mut std::io::sink());
    text
}

fn first_line(text: &str, fallback: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(fallback)
        .to_owned()
}

/// Kills the child at the deadline unless finished first.
struct Watchdog {
    child: Arc<Mutex<Child>>,
    done: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    fn start(child: Child, deadline: Duration) -> Self {
        let child = Arc::new(Mutex::new(child));
        let (done, finished) = mpsc::channel::<()>();
        let watched = Arc::clone(&child);
        let thread = std::thread::spawn(move || match finished.recv_timeout(deadline) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = watched
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .kill();
                true
            }
            _ => false,
        });
        Self {
            child,
            done,
            thread,
        }
    }

    /// Stops watching (killing the child first when `abandon`), reaps it,
    /// and says whether the deadline killed it.
    fn finish(self, abandon: bool) -> (Option<std::process::ExitStatus>, bool) {
        let _ = self.done.send(());
        let timed_out = self.thread.join().unwrap_or(false);
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        if abandon {
            let _ = child.kill();
        }
        (child.wait().ok(), timed_out)
    }
}

/// Reads the first video stream's size, frame rate and duration.
fn probe(path: &Path, container: Container) -> Result<VideoInfo, Error> {
    let output = probe_command(path, container)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::VideoTool {
            program: "ffprobe",
            message: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(Error::VideoDecode(first_line(
            &String::from_utf8_lossy(&output.stderr),
            "ffprobe cannot read the file",
        )));
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| Error::VideoDecode(format!("unreadable probe: {e}")))?;
    let stream = json["streams"]
        .get(0)
        .ok_or_else(|| Error::VideoDecode("no video stream".into()))?;
    let side = |key: &str| {
        stream[key]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v > 0)
    };
    let (Some(width), Some(height)) = (side("width"), side("height")) else {
        return Err(Error::VideoDecode(
            "the video stream has no frame size".into(),
        ));
    };
    let fps = rate(&stream["avg_frame_rate"])
        .or_else(|| rate(&stream["r_frame_rate"]))
        .ok_or_else(|| Error::VideoDecode("the video stream has no frame rate".into()))?;
    let duration = |value: &serde_json::Value| {
        value
            .as_str()
            .and_then(|d| d.parse::<f64>().ok())
            .filter(|d| d.is_finite())
    };
    Ok(VideoInfo {
        width,
        height,
        fps,
        duration_seconds: duration(&stream["duration"])
            .or_else(|| duration(&json["format"]["duration"])),
    })
}

/// A positive `num/den` frame rate, as `av_q2d` then `f32`.
fn rate(value: &serde_json::Value) -> Option<f32> {
    let (num, den) = value.as_str()?.split_once('/')?;
    let (num, den): (f64, f64) = (num.parse().ok()?, den.parse().ok()?);
    let fps = (num / den) as f32;
    (fps.is_finite() && fps > 0.0).then_some(fps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(command: &Command) -> Vec<String> {
        command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    /// The options just before `-i` and the input itself.
    fn input_of(args: &[String]) -> (&[String], &str) {
        let at = args.iter().position(|a| a == "-i").unwrap();
        (&args[..at], &args[at + 1])
    }

    #[test]
    fn both_programs_get_one_demuxer_one_protocol_and_a_file_url() {
        let path = Path::new("/tmp/http:upload.mp4");
        for (command, container) in [
            (probe_command(path, Container::Mp4), "mov"),
            (
                decode_command(path, Container::Matroska, Some(64)),
                "matroska",
            ),
            (decode_command(path, Container::MpegTs, None), "mpegts"),
        ] {
            let args = args(&command);
            let (options, input) = input_of(&args);
            let value = |flag: &str| {
                let at = options.iter().position(|a| a == flag);
                at.map(|at| options[at + 1].as_str())
            };
            assert_eq!(value("-protocol_whitelist"), Some("file"), "{args:?}");
            assert_eq!(value("-format_whitelist"), Some(container), "{args:?}");
            assert_eq!(value("-f"), Some(container), "{args:?}");
            assert_eq!(input, "file:/tmp/http:upload.mp4");
        }
    }

    #[test]
    fn a_playlist_is_refused_before_ffmpeg_runs() {
        let dir = tempfile::tempdir().unwrap();
        let playlist = dir.path().join("p.mp4");
        std::fs::write(&playlist, "#EXTM3U\n#EXTINF:1,\n/nonexistent/a.mp4\n").unwrap();
        let refused = hash_video_file(&playlist, &VideoOptions::default());
        assert!(
            matches!(refused, Err(Error::VideoRefused { .. })),
            "{refused:?}"
        );
        let empty = dir.path().join("e.mp4");
        std::fs::write(&empty, "").unwrap();
        assert!(matches!(
            hash_video_file(&empty, &VideoOptions::default()),
            Err(Error::Empty)
        ));
    }
}
