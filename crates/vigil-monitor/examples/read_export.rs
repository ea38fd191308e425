//! Reads a Telegram channel export the way the monitor does, for measuring
//! time and peak memory (`/usr/bin/time -v`) against the old whole-tree
//! read: `cargo run -p vigil-monitor --example read_export -- FILE [tree]`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A measuring tool.

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("an export file");
    if args.next().as_deref() == Some("tree") {
        // The old read: the whole file, then a tree of it.
        let bytes = std::fs::read(&path).unwrap();
        let tree: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        println!(
            "{} messages",
            tree["messages"].as_array().map_or(0, Vec::len)
        );
        return;
    }
    let file = std::fs::File::open(&path).unwrap();
    let posts = vigil_monitor::posts::read_telegram_export(file, 1_000).unwrap();
    println!("{} posts kept", posts.len());
}
