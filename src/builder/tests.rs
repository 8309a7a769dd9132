//! Docker's Dockerfile semantics, checked through `build()` itself on `FROM scratch` stages
//! with metadata instructions only (no RUN, no file ownership: no root needed), plus the
//! COPY/ADD destination rules and `.dockerignore` on plain directories. Each test names the
//! rule of the Dockerfile reference it checks.

use std::fs;
use std::sync::Mutex;

use serde_json::{json, Value};

use super::copy::{self, Attrs};
use super::ignore::Ignore;
use super::steps::destination;
use super::tree::Tree;
use super::{build, BuildLog, Outcome, Request};
use crate::image::ImageStore;
use crate::paths::Roots;

#[derive(Default)]
struct Recorder {
    warnings: Mutex<Vec<String>>,
}

impl BuildLog for Recorder {
    fn step(&self, _: &str, _: &str) {}
    fn output(&self, _: &str, _: &str) {}
    fn warn(&self, message: &str) {
        self.warnings.lock().unwrap().push(message.to_string());
    }
}

struct Built {
    out: Outcome,
    /// The image config blob.
    blob: Value,
    warnings: Vec<String>,
}

impl Built {
    fn config(&self) -> &Value {
        &self.blob["config"]
    }
    fn label(&self, k: &str) -> &str {
        self.config()["Labels"][k].as_str().unwrap_or("<unset>")
    }
}

fn try_build(root: &tempfile::TempDir, df: &str, args: &[(&str, &str)], target: Option<&str>) -> super::Result<Built> {
    let roots = Roots::new(Some(root.path()));
    let req = Request {
        context: root.path().to_path_buf(),
        dockerfile_inline: Some(df.to_string()),
        args: args.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        target: target.map(str::to_string),
        tags: vec!["t:1".into()],
        ..Default::default()
    };
    let log = Recorder::default();
    let _serial = super::interrupt::TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let out = build(&roots, &req, &log)?;
    let store = ImageStore::open(&roots).unwrap();
    let blob = serde_json::from_slice(&store.layout.read_blob(&out.id).unwrap()).unwrap();
    Ok(Built { out, blob, warnings: log.warnings.into_inner().unwrap() })
}

fn build_df(df: &str, args: &[(&str, &str)]) -> Built {
    let root = tempfile::tempdir().unwrap();
    try_build(&root, df, args, None).unwrap()
}

#[test]
fn env_persists_and_substitutes_with_the_values_before_the_instruction() {
    // "ENV abc=hello / ENV abc=bye def=$abc" gives def=hello (Dockerfile reference, ENV).
    let b = build_df("FROM scratch\nENV A=1 B=$A\nENV A=2 C=${A}x\nENV OLD two words\nLABEL a=$A c=$C\n", &[]);
    let env = &b.config()["Env"];
    assert_eq!(env, &json!([super::state::DEFAULT_PATH, "A=2", "B=", "C=1x", "OLD=two words"]));
    assert_eq!((b.label("a"), b.label("c")), ("2", "1x"));
}

#[test]
fn arg_scoping() {
    // A global ARG is only visible to FROM until re-declared inside the stage; a stage ARG
    // does not cross into the next stage; ENV wins over ARG; --build-arg wins over defaults.
    let df = "ARG G=global\nARG BASE=scratch\nFROM $BASE AS a\nLABEL before=[$G]\nARG G\nLABEL after=[$G]\n\
              ARG V=stage\nLABEL v=$V\nARG X=arg\nENV X=env\nLABEL x=$X\nARG TARGETARCH\nLABEL arch=$TARGETARCH\n\
              FROM a\nLABEL next=[$G][$V]\n";
    let b = build_df(df, &[("V", "cli"), ("UNUSED", "1")]);
    assert_eq!(b.label("before"), "[]");
    assert_eq!(b.label("after"), "[global]");
    assert_eq!(b.label("v"), "cli");
    assert_eq!(b.label("x"), "env");
    assert_eq!(b.label("arch"), super::state::go_arch());
    assert_eq!(b.label("next"), "[][]");
    assert_eq!(b.warnings, ["build args not consumed by any ARG: UNUSED"]);
}

#[test]
fn cmd_and_entrypoint_interplay() {
    let root = tempfile::tempdir().unwrap();
    let df = "FROM scratch AS base\nCMD [\"base-cmd\"]\nENTRYPOINT [\"base-ep\"]\n\
              FROM base AS newep\nENTRYPOINT [\"ep\"]\n\
              FROM base AS both\nCMD [\"c\"]\nENTRYPOINT [\"ep\"]\n\
              FROM base AS shell\nSHELL [\"/bin/bash\", \"-xc\"]\nENTRYPOINT run it\nCMD echo hi\n\
              FROM base AS keep\nLABEL x=1\n";
    let get = |t: &str| try_build(&root, df, &[], Some(t)).unwrap().config().clone();
    // A new ENTRYPOINT resets the CMD inherited from the base image...
    let c = get("newep");
    assert_eq!((c["Entrypoint"].clone(), c.get("Cmd").cloned()), (json!(["ep"]), None));
    // ...but not one set in the same stage.
    assert_eq!(get("both")["Cmd"], json!(["c"]));
    // Shell forms run through SHELL (a shell-form ENTRYPOINT then ignores CMD at run time).
    let c = get("shell");
    assert_eq!(c["Entrypoint"], json!(["/bin/bash", "-xc", "run it"]));
    assert_eq!(c["Cmd"], json!(["/bin/bash", "-xc", "echo hi"]));
    assert_eq!(c["Shell"], json!(["/bin/bash", "-xc"]));
    let c = get("keep");
    assert_eq!((c["Entrypoint"].clone(), c["Cmd"].clone()), (json!(["base-ep"]), json!(["base-cmd"])));
}

#[test]
fn healthcheck_expose_volume_stopsignal_label() {
    let df = "FROM scratch\nHEALTHCHECK --interval=5s CMD true\nHEALTHCHECK NONE\nEXPOSE 80 53/udp 7000-7001\n\
              VOLUME [\"/data\"]\nVOLUME /logs /cache\nSTOPSIGNAL SIGQUIT\nLABEL a=1 \"b c\"=\"d e\"\nLABEL a=2\n";
    let b = build_df(df, &[]);
    let c = b.config();
    assert_eq!(c["Healthcheck"], json!({"Test": ["NONE"]}));
    assert_eq!(c["ExposedPorts"], json!({"53/udp": {}, "7000/tcp": {}, "7001/tcp": {}, "80/tcp": {}}));
    assert_eq!(c["Volumes"], json!({"/cache": {}, "/data": {}, "/logs": {}}));
    assert_eq!(c["StopSignal"], "SIGQUIT");
    assert_eq!(c["Labels"], json!({"a": "2", "b c": "d e"}));
    let root = tempfile::tempdir().unwrap();
    let e = try_build(&root, "FROM scratch\n\nSTOPSIGNAL SIGNOPE\n", &[], None).err().unwrap().to_string();
    assert_eq!(e, "Dockerfile (inline):3: STOPSIGNAL: unknown signal \"SIGNOPE\"");
    let e = try_build(&root, "FROM scratch\nEXPOSE http\n", &[], None).err().unwrap().to_string();
    assert!(e.starts_with("Dockerfile (inline):2: EXPOSE http: invalid port"), "{e}");
}

#[test]
fn config_and_history_are_written_and_cached_rebuilds_are_identical() {
    let root = tempfile::tempdir().unwrap();
    let df = "FROM scratch\nENV A=1\nUSER 10:20\nLABEL x=y\nCMD [\"x\"]\n";
    let b = try_build(&root, df, &[], None).unwrap();
    assert_eq!(
        (b.blob["os"].as_str(), b.blob["architecture"].as_str()),
        (Some("linux"), Some(super::state::go_arch()))
    );
    assert_eq!(b.blob["rootfs"], json!({"type": "layers", "diff_ids": []}));
    let history = b.blob["history"].as_array().unwrap();
    let created_by: Vec<&str> = history.iter().map(|h| h["created_by"].as_str().unwrap()).collect();
    assert_eq!(created_by, ["ENV A=1", "USER 10:20", "LABEL x=y", "CMD [\"x\"]"]);
    assert!(history.iter().all(|h| h["empty_layer"] == true));
    assert_eq!(b.config()["User"], "10:20");
    let again = try_build(&root, df, &[], None).unwrap();
    assert_eq!(again.out.id, b.out.id, "a rebuild of the same Dockerfile gives the same image");
}

#[test]
fn copy_destination_rules() {
    let t = tempfile::tempdir().unwrap();
    let (ctx, img) = (t.path().join("ctx"), t.path().join("img"));
    fs::create_dir_all(ctx.join("dir/sub")).unwrap();
    for f in ["a.txt", "b.txt", "dir/sub/c", "one.md"] {
        fs::write(ctx.join(f), f).unwrap();
    }
    std::os::unix::fs::symlink("a.txt", ctx.join("link")).unwrap();
    fs::create_dir_all(img.join("usr/lib")).unwrap();
    fs::create_dir_all(img.join("srv")).unwrap();
    std::os::unix::fs::symlink("usr/lib", img.join("lib")).unwrap();
    std::os::unix::fs::symlink("/../../usr", img.join("escape")).unwrap();
    let (cl, il) = (vec![ctx], vec![img]);
    let (src, image) = (Tree::new(&cl), Tree::new(&il));
    let dests = |sources: &[&str], dest: &str| -> Result<Vec<String>, String> {
        let s: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
        Ok(copy::plan(&src, &image, &s, dest, false)?.items.into_iter().map(|i| i.dest).collect())
    };
    // Several sources need a destination ending in `/`.
    assert!(dests(&["a.txt", "b.txt"], "/app").unwrap_err().contains("must be a directory and end with a /"));
    assert_eq!(dests(&["a.txt", "b.txt"], "/app/").unwrap(), ["app/a.txt", "app/b.txt"]);
    // A wildcard matching several files makes a directory; matching one, a plain destination.
    assert_eq!(dests(&["*.txt"], "/app").unwrap(), ["app/a.txt", "app/b.txt"]);
    assert_eq!(dests(&["o*.md"], "/app/readme").unwrap(), ["app/readme"]);
    // A directory source copies its contents; an existing directory takes the file inside.
    assert_eq!(dests(&["dir"], "/x").unwrap(), ["x"]);
    assert_eq!(dests(&["a.txt"], "/srv").unwrap(), ["srv/a.txt"]);
    // A top-level symlink source is followed, and keeps its own name.
    let p = copy::plan(&src, &image, &["link".into()], "/d/", false).unwrap();
    assert_eq!((p.items[0].src.as_str(), p.items[0].dest.as_str()), ("a.txt", "d/link"));
    // Destinations: relative to WORKDIR, `.` is a directory, symlinks followed in the image.
    assert_eq!(destination(&image, "/app", "."), "/app/");
    assert_eq!(destination(&image, "/app", "sub/."), "/app/sub/");
    assert_eq!(destination(&image, "/app", "x"), "/app/x");
    assert_eq!(destination(&image, "", "/lib/"), "/usr/lib/");
    assert_eq!(destination(&image, "", "/lib/x.so"), "/usr/lib/x.so");
    assert_eq!(destination(&image, "", "/escape/y"), "/usr/y", "a symlink never leads out of the image");
}

#[test]
fn copy_chmod_and_chown_apply_to_files_and_directories() {
    let t = tempfile::tempdir().unwrap();
    let ctx = t.path().join("ctx");
    fs::create_dir_all(ctx.join("d")).unwrap();
    fs::write(ctx.join("d/f"), "f").unwrap();
    let (cl, il) = (vec![ctx], vec![t.path().join("img")]);
    let (src, image) = (Tree::new(&cl), Tree::new(&il));
    let plan = copy::plan(&src, &image, &["d".into()], "/out/", false).unwrap();
    let layer = t.path().join("layer");
    fs::create_dir(&layer).unwrap();
    // Our own ids: chown to them needs no privilege.
    let me = (nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw());
    let attrs = Attrs { owner: Some(me), reset_owner: true, chmod: Some(0o750) };
    copy::apply(&src, &image, &plan, attrs, &layer, &t.path().join("scratch")).unwrap();
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(layer.join("out/f")).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid()), (0o750, me.0));
    assert_eq!(fs::metadata(layer.join("out")).unwrap().mode() & 0o7777, 0o750, "--chmod applies to directories too");
}

#[test]
fn resolve_user_uses_the_primary_group() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("etc")).unwrap();
    fs::write(t.path().join("etc/passwd"), "app:x:1000:1001::/:/bin/sh\n").unwrap();
    fs::write(t.path().join("etc/group"), "staff:x:50:\n").unwrap();
    let l = vec![t.path().to_path_buf()];
    let image = Tree::new(&l);
    assert_eq!(copy::resolve_user("app", &image).unwrap(), (1000, 1001));
    assert_eq!(copy::resolve_user("1000", &image).unwrap(), (1000, 1001));
    assert_eq!(copy::resolve_user("77", &image).unwrap(), (77, 0));
    assert_eq!(copy::resolve_user("app:staff", &image).unwrap(), (1000, 50));
    assert!(copy::resolve_user("ghost", &image).is_err());
}

#[test]
fn dockerignore_exceptions_reach_into_excluded_directories() {
    let t = tempfile::tempdir().unwrap();
    for f in ["docs/README.md", "docs/other.md", "logs/a/b.log", "src/x.rs", "src/x.tmp", "src/deep/y.tmp"] {
        let p = t.path().join(f);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, f).unwrap();
    }
    let ig = Ignore::parse("docs\n!docs/README.md\nlogs\n**/*.tmp\n");
    let layers = vec![t.path().to_path_buf()];
    let tree = Tree::with_ignore(&layers, &ig);
    let names = |rel: &str| tree.children(rel).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    assert_eq!(names(""), ["docs", "src"], "logs has nothing re-included");
    assert_eq!(names("docs"), ["README.md"]);
    assert_eq!(names("src"), ["deep", "x.rs"]);
    assert!(tree.lookup("docs/README.md").is_some() && tree.lookup("docs/other.md").is_none());
    assert!(tree.lookup("logs").is_none() && tree.lookup("src/deep/y.tmp").is_none());
    assert!(!ig.may_include_below("logs") && ig.may_include_below("docs"));
}
