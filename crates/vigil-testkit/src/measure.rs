//! Running a child process and measuring what it cost.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What [`run_measured`] saw.
#[derive(Debug)]
pub struct Measured {
    /// The child's exit status, stdout and stderr.
    pub output: std::process::Output,
    /// Wall-clock time from spawn to exit.
    pub elapsed: Duration,
    /// The child's peak resident set (`VmHWM`), in bytes, as last read
    /// before it exited (read every few milliseconds; the mark only rises).
    pub peak_rss: u64,
}

/// Runs `command` to completion, collecting its output and watching its
/// peak memory through `/proc/PID/status`.
///
/// # Panics
///
/// When the command cannot be started.
pub fn run_measured(command: &mut Command) -> Measured {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_rss = 0;
    let status = loop {
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|status| vm_hwm_kib(&status))
        {
            peak_rss = peak_rss.max(kib * 1024);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => panic!("cannot wait for {command:?}: {e}"),
        }
    };
    let elapsed = started.elapsed();
    Measured {
        output: std::process::Output {
            status,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        },
        elapsed,
        peak_rss,
    }
}

fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_that_holds_memory_is_seen_holding_it() {
        // 64 MiB touched and held for a moment.
        let measured = run_measured(
            Command::new("sh").args(["-c", "head -c 67108864 /dev/zero | tail -c 1 >/dev/null; x=$(head -c 40000000 /dev/zero | tr '\\0' a); sleep 0.2; echo ${#x}"]),
        );
        assert!(measured.output.status.success());
        assert_eq!(
            String::from_utf8_lossy(&measured.output.stdout).trim(),
            "40000000"
        );
        assert!(measured.peak_rss > 40_000_000, "{}", measured.peak_rss);
    }
}
