//! The Debian base image for the real-software tests (`scripts/debian-base`): a debootstrapped
//! bookworm rootfs, cached between runs, imported as `debian:bookworm` into a test's root.

use std::path::Path;
use std::process::Command;

use super::stack::Stack;

/// The cached Debian base tar (made on first use), or None with a loud SKIP line when the
/// mirror cannot be reached. Any other failure of the script fails the test.
pub fn base_tar() -> Option<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/debian-base");
    let out = Command::new(&script).output().expect("run scripts/debian-base");
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => Some(String::from_utf8_lossy(&out.stdout).trim().to_string()),
        Some(3) => {
            let name = std::thread::current().name().unwrap_or("test").to_string();
            let reason = stderr.lines().last().unwrap_or("debootstrap failed").to_string();
            eprintln!("SKIP: {name}: no Debian base image: {reason}");
            println!("SKIP: {name}: no Debian base image: {reason}");
            None
        }
        _ => panic!("scripts/debian-base failed: {:?}\n{stderr}", out.status),
    }
}

/// The base imported as `debian:bookworm` into `s`'s root; None (after a SKIP line) without it.
pub fn import_base(s: &Stack) -> Option<()> {
    let base = base_tar()?;
    s.berth(&["image", "import", &base, "debian:bookworm"]).success();
    Some(())
}

/// Copy the example stack `examples/stacks/<name>` (its compose.yaml, Dockerfiles, files) into
/// `s`'s project directory.
pub fn copy_example(s: &Stack, name: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stacks").join(name);
    let status = Command::new("cp").arg("-a").arg(format!("{}/.", src.display())).arg(&s.dir).status().unwrap();
    assert!(status.success(), "copy {}", src.display());
}
