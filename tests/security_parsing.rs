//! Bounded parsing, through the real binary (`berth config`, a private `--root`, no root needed).
//!
//! The attack: a stack file is often someone else's (a cloned repository, a CI job's checkout,
//! a file piped into `berth config -f -`), and berth reads it before anything else. A few
//! hundred bytes of nested YAML aliases ("billion laughs": each anchor aliases the one above
//! nine times) expand to billions of nodes, and a generated mapping of tens of thousands of
//! keys turns every linear key lookup into quadratic time. Before the limits, the first took
//! gigabytes of memory and the second minutes of CPU, on a shared CI runner or a developer's
//! machine. berth must refuse the first at once, naming the file (as Compose does: "excessive
//! aliasing"), and load the second in linear time.
//!
//! A child that runs past [`HANG_GUARD`] is killed and the test fails: that is a guard against
//! a hang, not a timing assertion (timing claims live in bench/).

mod support;

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Far longer than any case needs (the 80,000-key file takes about 3 s in a debug build
/// here, and 20 times that in the emulated v2 guest, whose patience factor is only 6); only a
/// regression to exponential or quadratic work reaches it.
const HANG_GUARD: Duration = Duration::from_secs(60);

struct Out {
    success: bool,
    stdout: String,
    stderr: String,
}

/// `berth --root ROOT -f FILE config`, killed (and the test failed) past [`HANG_GUARD`].
fn config(dir: &Path, file: &str) -> Out {
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--root")
        .arg(dir.join("root"))
        .args(["-f", file, "config"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run berth");
    // Drain the pipes on threads, so a large output cannot block the child.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for berth") {
            break status;
        }
        if start.elapsed() > support::patience(HANG_GUARD) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("berth config -f {file} still running after {HANG_GUARD:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Out {
        success: status.success(),
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

#[test]
fn billion_laughs_is_refused_at_once_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from("x-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        text.push_str(&format!("x-{}: &{} [{refs}]\n", w[1], w[1]));
    }
    text.push_str("services:\n  web:\n    image: busybox\n    labels: {laughs: *i}\n");
    assert!(text.len() < 1000, "the attack is small: {} bytes", text.len());
    std::fs::write(tmp.path().join("laughs.yaml"), &text).unwrap();

    let out = config(tmp.path(), "laughs.yaml");
    assert!(!out.success, "must fail; stdout starts: {:.200}", out.stdout);
    assert!(out.stderr.contains("laughs.yaml:"), "names the file: {}", out.stderr);
    assert!(out.stderr.contains("alias"), "says why: {}", out.stderr);
}

#[test]
fn a_mapping_of_eighty_thousand_keys_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 80_000;
    let mut text = String::from("services:\n  web:\n    image: busybox\n    environment:\n");
    for i in 0..n {
        text.push_str(&format!("      VAR_{i}: value-{i}\n"));
    }
    std::fs::write(tmp.path().join("keys.yaml"), &text).unwrap();

    let out = config(tmp.path(), "keys.yaml");
    assert!(out.success, "must load: {}", out.stderr);
    assert!(out.stdout.contains("VAR_0: value-0") && out.stdout.contains("VAR_79999: value-79999"));
    assert_eq!(out.stdout.matches("VAR_").count(), n);
}

#[test]
fn deep_nesting_is_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!("services:\n  web:\n    image: busybox\nx-deep:\n  {}x\n", "- ".repeat(50_000));
    std::fs::write(tmp.path().join("deep.yaml"), &text).unwrap();

    let out = config(tmp.path(), "deep.yaml");
    assert!(!out.success);
    assert!(out.stderr.contains("deep.yaml:5:") && out.stderr.contains("nesting deeper"), "{}", out.stderr);
}
