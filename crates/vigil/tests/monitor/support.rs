//! What the monitor's tests share: the reference images as items, running
//! `vigil monitor run` and stopping it with a signal.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn vector(path: &str) -> PathBuf {
    vigil_testkit::pdq_vectors().join(path)
}

/// A reference image as a simulation item (name, bytes).
pub fn item(path: &str) -> (String, Arc<[u8]>) {
    let name = Path::new(path)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    (name, Arc::from(std::fs::read(vector(path)).unwrap()))
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A running `vigil monitor run`, killed if a failing test leaves it
/// running.
pub struct MonitorProcess(Option<Child>);

impl Drop for MonitorProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn start_monitor(args: &[String]) -> MonitorProcess {
    MonitorProcess(Some(
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(args)
            .env("RUST_LOG", "vigil_monitor=debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ))
}

/// Ctrl-C, then the monitor must stop cleanly and print its counts.
pub fn interrupt(child: MonitorProcess) -> Value {
    stop(child, "INT").0
}

/// Sends `signal` (`INT`, `TERM`); the monitor must exit with success and
/// print its counts. Returns them and the time from the signal to the exit.
/// A monitor still running 30 s after the signal is killed and the test
/// fails.
pub fn stop(mut monitor: MonitorProcess, signal: &str) -> (Value, Duration) {
    let child = monitor.0.take().expect("a monitor is stopped once");
    let pid = child.id().to_string();
    let sent = Instant::now();
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap();
    assert!(status.success());
    // Waited for on a thread of its own, which also drains the pipes, so a
    // monitor that ignores the signal fails the test instead of hanging it.
    let (exited, exit) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited.send(child.wait_with_output());
    });
    let Ok(output) = exit.recv_timeout(Duration::from_secs(30)) else {
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
        panic!("the monitor ignored SIG{signal} for 30 s");
    };
    let output = output.unwrap();
    let took = sent.elapsed();
    assert!(
        output.status.success(),
        "monitor exit {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let last = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .map(str::to_owned)
        .unwrap_or_default();
    (serde_json::from_str(&last).unwrap(), took)
}

pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(ms(100));
    }
}
