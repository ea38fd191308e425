//! Banks from the command line: create, add, import, export, match, and
//! what a crash (SIGKILL) mid-import or mid-delete leaves behind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{json_lines_of_any_run as json_lines, vigil};
use serde_json::Value;
use vigil_signal::PdqHash;
use vigil_store::{BankName, SqliteStore, Store};

fn pypi_pdq(path: &str) -> PdqHash {
    vigil_testkit::pdq_tsv_rows("pdq_pdqhash_pypi.tsv")
        .into_iter()
        .find(|row| row[0] == path)
        .map(|row| row[1].parse().unwrap())
        .unwrap()
}

#[test]
fn banked_bridge_is_found_in_all_its_variants() {
    let data = tempfile::tempdir().unwrap();
    let vectors = vigil_testkit::pdq_vectors();
    assert!(
        vigil(data.path(), &["bank", "create", "BRIDGE"])
            .status
            .success()
    );
    let original = vectors.join("bridge-mods/aaa-orig.jpg");
    let added = json_lines(&vigil(
        data.path(),
        &[
            "bank",
            "add",
            "BRIDGE",
            original.to_str().unwrap(),
            "--label",
            "tier=promotional",
            "--label",
            "entity=Example Group",
        ],
    ));
    let content_id = added[0]["id"].as_i64().unwrap();
    let banked = pypi_pdq("bridge-mods/aaa-orig.jpg");

    let variants: Vec<String> = std::fs::read_dir(vectors.join("bridge-mods"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "aaa-orig.jpg")
        .collect();
    assert!(variants.len() >= 10);
    for variant in &variants {
        let path = vectors.join("bridge-mods").join(variant);
        let lines = json_lines(&vigil(data.path(), &["match", path.to_str().unwrap()]));
        let expected = pypi_pdq(&format!("bridge-mods/{variant}")).distance(&banked);
        let pdq_matches: Vec<&Value> = lines[0]["matches"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["signal_type"] == "pdq")
            .collect();
        assert_eq!(pdq_matches.len(), 1, "{variant}: {}", lines[0]);
        assert_eq!(pdq_matches[0]["distance"], expected, "{variant}");
        assert_eq!(pdq_matches[0]["content_id"], content_id);
        assert_eq!(pdq_matches[0]["bank"], "BRIDGE");
        assert_eq!(pdq_matches[0]["labels"]["tier"], "promotional");
    }
    // The original itself matches exactly, by PDQ and by both digests.
    let lines = json_lines(&vigil(data.path(), &["match", original.to_str().unwrap()]));
    let types: Vec<&str> = lines[0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["signal_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["md5", "pdq", "sha256"]);
    // An unrelated picture matches nothing.
    let unrelated = vectors.join("misc-images/c.png");
    let lines = json_lines(&vigil(data.path(), &["match", unrelated.to_str().unwrap()]));
    assert_eq!(lines[0]["matches"], serde_json::json!([]));
}

#[test]
fn import_export_round_trip_and_bad_lines() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("hashes.csv");
    std::fs::write(
        &file,
        "pdq,tier,tags,note\nd8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22,crisis,a;b,first\nf8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,,,\n",
    )
    .unwrap();
    assert!(
        vigil(data.path(), &["bank", "create", "SHARED"])
            .status
            .success()
    );
    let imported = json_lines(&vigil(
        data.path(),
        &["import", "SHARED", file.to_str().unwrap()],
    ));
    assert_eq!(imported[0]["imported"], 2);
    let exported = vigil(data.path(), &["export", "SHARED"]);
    let lines = json_lines(&exported);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["labels"]["tags"], serde_json::json!(["a", "b"]));
    // The export imports elsewhere unchanged.
    let again = data.path().join("again.jsonl");
    std::fs::write(&again, &exported.stdout).unwrap();
    assert!(
        vigil(data.path(), &["bank", "create", "COPY"])
            .status
            .success()
    );
    assert_eq!(
        json_lines(&vigil(
            data.path(),
            &["import", "COPY", again.to_str().unwrap()]
        ))[0]["imported"],
        2
    );
    let local = vigil(data.path(), &["export", "COPY", "--format", "local-file"]);
    assert_eq!(String::from_utf8_lossy(&local.stdout).lines().count(), 2);

    // A bad line: exit 2, the line named, nothing imported.
    let bad = data.path().join("bad.txt");
    std::fs::write(
        &bad,
        "pdq d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22\nmd5 not-a-digest\n",
    )
    .unwrap();
    let output = vigil(data.path(), &["import", "SHARED", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("line 2"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown = json_lines(&vigil(data.path(), &["bank", "show", "SHARED"]));
    assert_eq!(shown[0]["contents"], 2);
    // Usage errors.
    assert_eq!(
        vigil(data.path(), &["bank", "create", "lower_case"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        vigil(
            data.path(),
            &["import", "NO_SUCH_BANK", file.to_str().unwrap()]
        )
        .status
        .code(),
        Some(2)
    );
}

/// Writes a JSON Lines file of `lines` distinct PDQ contents with labels.
fn big_import(path: &Path, lines: u64) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..lines {
        let limbs = vigil_testkit::random_limbs(i);
        let pdq = PdqHash(limbs);
        writeln!(out, "{{\"signals\":{{\"pdq\":\"{pdq}\"}},\"labels\":{{\"tier\":\"designated\",\"entity\":\"Example\"}}}}").unwrap();
    }
    out.flush().unwrap();
}

/// Kills `vigil args…` with SIGKILL once its write-ahead log shows it is
/// mid-transaction; returns whether it was still running when killed.
fn kill_mid_write(data: &Path, args: &[&str]) -> bool {
    let wal = data.join("vigil.db-wal");
    let before = std::fs::metadata(&wal).map_or(0, |m| m.len());
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let grown = std::fs::metadata(&wal).map_or(0, |m| m.len()) > before + 256 * 1024;
        if grown || started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_killed_import_leaves_none_of_it() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("big.jsonl");
    big_import(&file, 200_000);
    assert!(
        vigil(data.path(), &["bank", "create", "BIG"])
            .status
            .success()
    );
    assert!(
        kill_mid_write(data.path(), &["import", "BIG", file.to_str().unwrap()]),
        "the import finished before it could be killed"
    );
    let store = SqliteStore::open(&data.path().join("vigil.db")).unwrap();
    let count = store
        .count_contents(&"BIG".parse::<BankName>().unwrap())
        .unwrap();
    assert!(
        count == 0 || count == 200_000,
        "a partial import is visible: {count} contents"
    );
    // The store still works: the same import now succeeds whole.
    drop(store);
    let imported = json_lines(&vigil(
        data.path(),
        &["import", "BIG", file.to_str().unwrap()],
    ));
    assert_eq!(imported[0]["imported"], 200_000);
}

#[test]
fn a_killed_bank_delete_leaves_the_bank_whole_or_gone() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("big.jsonl");
    big_import(&file, 200_000);
    assert!(
        vigil(data.path(), &["bank", "create", "BIG"])
            .status
            .success()
    );
    assert_eq!(
        json_lines(&vigil(
            data.path(),
            &["import", "BIG", file.to_str().unwrap()]
        ))[0]["imported"],
        200_000
    );
    let killed = kill_mid_write(data.path(), &["bank", "delete", "BIG"]);
    let store = SqliteStore::open(&data.path().join("vigil.db")).unwrap();
    let name: BankName = "BIG".parse().unwrap();
    let remaining = store.contents_after(None, 0, 10).unwrap().len();
    match store.bank(&name).unwrap() {
        Some(_) => assert_eq!(
            store.count_contents(&name).unwrap(),
            200_000,
            "killed: {killed}"
        ),
        None => assert_eq!(
            remaining, 0,
            "bank gone but {remaining} contents left (killed: {killed})"
        ),
    }
}

#[test]
fn a_banked_video_is_found_from_a_reencoded_clip() {
    let data = tempfile::tempdir().unwrap();
    let source = vigil_testkit::vpdq_vectors().join("videos/chair-orig-22-sd-bar.mp4");
    assert!(
        vigil(data.path(), &["bank", "create", "VIDEOS"])
            .status
            .success()
    );
    let added = json_lines(&vigil(
        data.path(),
        &[
            "bank",
            "add",
            "VIDEOS",
            source.to_str().unwrap(),
            "--label",
            "tier=designated",
        ],
    ));
    assert!(added[0]["signals"]["vpdq"].is_string(), "{}", added[0]);
    let id = added[0]["id"].as_i64().unwrap();

    let clip = data.path().join("clip.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-ss", "6", "-t", "8", "-i"])
        .arg(&source)
        .args(["-vf", "scale=360:-2", "-b:v", "200k", "-an"])
        .arg(&clip)
        .status()
        .unwrap();
    assert!(status.success());
    let unrelated = vigil_testkit::vpdq_vectors().join("videos/pattern-hd-no-bar.mp4");
    let lines = json_lines(&vigil(
        data.path(),
        &["match", clip.to_str().unwrap(), unrelated.to_str().unwrap()],
    ));
    assert_eq!(lines[0]["media"], "video");
    let found = &lines[0]["matches"][0];
    assert_eq!(found["content_id"], id, "{}", lines[0]);
    assert_eq!(found["signal_type"], "vpdq");
    assert!(found["query_pct"].as_f64().unwrap() >= 80.0, "{found}");
    assert_eq!(found["labels"]["tier"], "designated");
    assert_eq!(lines[1]["matches"], serde_json::json!([]), "{}", lines[1]);
    // An 8-second clip covers well under half of the banked video.
    let strict = json_lines(&vigil(
        data.path(),
        &["match", clip.to_str().unwrap(), "--vpdq-compared-pct", "50"],
    ));
    assert!(
        !strict[0]["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["signal_type"] == "vpdq"),
        "{}",
        strict[0]
    );
}

#[test]
fn a_banked_arabic_statement_is_found_edited_and_inside_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let statement = dir.path().join("statement.txt");
    std::fs::write(
        &statement,
        "أعلنت الإدارة المحلية يوم الثلاثاء أن محطة المياه الجديدة ستفتح أبوابها في الربيع \
         بعد عامين من أعمال البناء وخلاف طويل حول كلفة الأنابيب التي تنقل الماء من النهر إلى المدينة",
    )
    .unwrap();
    // Diacritics added, look-alike letters, punctuation and a bidi mark, in
    // a web page between unrelated paragraphs.
    let page = dir.path().join("page.html");
    std::fs::write(
        &page,
        "<!doctype html><html><head><title>اخبار</title></head><body><p>الطقس اليوم مشمس مع رياح خفيفة.</p>\
         <div>\u{200F}أعلنَت الإدارةُ المحلية، يوم الثلاثاء: أن محطة المياه الجديدة ستفتح أبوابها في الربيع \
         بعد عامين من أعمال البناء وخلاف طويل حول كلفة الأنابيب التی تنقل الماء من النهر إلى المدينة</div>\
         <script>var x = 1;</script></body></html>",
    )
    .unwrap();
    let unrelated = dir.path().join("unrelated.txt");
    std::fs::write(
        &unrelated,
        "وصفة الخبز تحتاج إلى الدقيق والماء والملح والخميرة وتعجن عشر دقائق",
    )
    .unwrap();
    assert!(
        vigil(&data, &["bank", "create", "STATEMENTS"])
            .status
            .success()
    );
    let added = vigil(
        &data,
        &[
            "bank",
            "add",
            "STATEMENTS",
            statement.to_str().unwrap(),
            "--label",
            "tier=crisis",
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let added = &json_lines(&added)[0];
    assert!(
        added["signals"]["text"]
            .as_str()
            .unwrap()
            .starts_with("v1."),
        "{added}"
    );

    let found = vigil(
        &data,
        &["match", page.to_str().unwrap(), unrelated.to_str().unwrap()],
    );
    assert!(
        found.status.success(),
        "{}",
        String::from_utf8_lossy(&found.stderr)
    );
    let lines = json_lines(&found);
    assert_eq!(lines[0]["media"], "text");
    let matches = lines[0]["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "{}", lines[0]);
    assert_eq!(matches[0]["signal_type"], "text");
    assert_eq!(matches[0]["labels"]["tier"], "crisis");
    assert!(
        matches[0]["containment"].as_f64().unwrap() > 0.9,
        "{}",
        lines[0]
    );
    assert_eq!(lines[1]["matches"], serde_json::json!([]), "{}", lines[1]);
    // Every edit is one that normalisation undoes: all of it is found, so
    // even the strictest threshold matches.
    let strict = vigil(
        &data,
        &["match", "--text-containment", "1", page.to_str().unwrap()],
    );
    assert_eq!(json_lines(&strict)[0]["matches"][0]["containment"], 1.0);
}

#[test]
fn rotated_and_mirrored_copies_are_found_with_dihedral_lookup() {
    let data = tempfile::tempdir().unwrap();
    let dih = vigil_testkit::pdq_vectors().join("reg-test-input/dih");
    assert!(
        vigil(data.path(), &["bank", "create", "BRIDGE"])
            .status
            .success()
    );
    let original = dih.join("bridge-1-original.jpg");
    let added = json_lines(&vigil(
        data.path(),
        &["bank", "add", "BRIDGE", original.to_str().unwrap()],
    ));
    let content_id = added[0]["id"].as_i64().unwrap();
    let copies: Vec<String> = [
        "bridge-2-rotate-90.jpg",
        "bridge-3-rotate-180.jpg",
        "bridge-4-rotate-270.jpg",
        "bridge-5-flipx.jpg",
        "bridge-6-flipy.jpg",
        "bridge-7-flip-plus-1.jpg",
        "bridge-8-flip-minus-1.jpg",
    ]
    .iter()
    .map(|name| dih.join(name).to_string_lossy().into_owned())
    .collect();
    let args = |dihedral: bool| {
        let mut args = vec!["match"];
        if dihedral {
            args.push("--dihedral");
        }
        args.extend(copies.iter().map(String::as_str));
        args
    };
    // Plain PDQ is not rotation-invariant: none of them is found.
    for line in json_lines(&vigil(data.path(), &args(false))) {
        assert_eq!(line["matches"].as_array().unwrap().len(), 0, "{line}");
    }
    let mut variants = Vec::new();
    for line in json_lines(&vigil(data.path(), &args(true))) {
        let matches = line["matches"].as_array().unwrap();
        assert_eq!(matches.len(), 1, "{line}");
        assert_eq!(matches[0]["content_id"].as_i64(), Some(content_id));
        assert_eq!(matches[0]["signal_type"], "pdq");
        assert!(matches[0]["distance"].as_u64().unwrap() <= 31, "{line}");
        variants.push(matches[0]["variant"].as_str().unwrap().to_owned());
    }
    variants.sort();
    variants.dedup();
    assert_eq!(
        variants.len(),
        7,
        "each copy needs its own variant: {variants:?}"
    );
    // The original itself is a plain match, not a variant one.
    let itself = json_lines(&vigil(
        data.path(),
        &["match", "--dihedral", original.to_str().unwrap()],
    ));
    let matches = itself[0]["matches"].as_array().unwrap();
    assert!(
        matches.iter().all(|m| m.get("variant").is_none()),
        "{matches:?}"
    );
    assert!(!matches.is_empty());
}

/// A SQLite-only build (`--no-default-features`) refuses `--database` with
/// a sentence saying why, and changes nothing.
#[cfg(not(feature = "postgres"))]
#[test]
fn a_sqlite_only_build_explains_that_it_has_no_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let args = common::store_args(dir.path(), Some("postgres://vigil:secret@127.0.0.1:9/none"));
    let out = common::vigil_on(&args, &["bank", "list"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("built without PostgreSQL support"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("secret"),
        "the password is shown: {stderr}"
    );
}
