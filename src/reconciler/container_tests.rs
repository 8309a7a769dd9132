//! One container's steps against a recording fake of the layers below (see `seam`): the order
//! of create's steps, what a failed create undoes, how image errors are told apart, start's
//! idempotence, stop's exit record, and remove going on past every failure. No root needed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use super::*;
use crate::common::Mount;
use crate::image::ImageConfig;
use crate::reconciler::layers::NetSetup;
use crate::reconciler::state::PortRecord;
use crate::runtime::{ContainerConfig, ContainerState, Status, UserNs};
use crate::spec::model::Service;

#[derive(Default)]
struct Fake {
    log: Mutex<Vec<String>>,
    /// Steps that fail ("create", "teardown", "remove", "stop", "image-io", "image-missing").
    fail: HashSet<&'static str>,
    states: Mutex<HashMap<String, ContainerState>>,
    dir: PathBuf,
}

impl Fake {
    fn new(dir: PathBuf, fail: &[&'static str]) -> Self {
        Fake { fail: fail.iter().copied().collect(), dir, ..Default::default() }
    }
    fn note(&self, s: String) {
        self.log.lock().unwrap().push(s);
    }
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
    fn set(&self, id: &str, status: Status) {
        let mut st = ContainerState::new(id, "now".into());
        st.status = status;
        self.states.lock().unwrap().insert(id.into(), st);
    }
    fn failing(&self, step: &str) -> bool {
        self.fail.contains(step)
    }
}

fn runtime_err(what: &str) -> RuntimeError {
    RuntimeError::Start { id: "fake".into(), reason: format!("fake {what} failed") }
}

impl Layers for &Fake {
    fn resolve_image(&self, reference: &str) -> std::result::Result<ResolvedImage, ImageError> {
        self.note(format!("resolve {reference}"));
        if self.failing("image-missing") {
            return Err(ImageError::NotFound { reference: reference.into() });
        }
        if self.failing("image-io") {
            let source = std::io::Error::from_raw_os_error(libc::EIO);
            return Err(ImageError::Io { path: self.dir.join("images/index.json"), source });
        }
        Ok(ResolvedImage {
            id: "sha256:feed".into(),
            references: vec![reference.into()],
            layers: vec![self.dir.join("layer")],
            config: ImageConfig::default(),
            manifest_digest: "sha256:beef".into(),
        })
    }
    fn mounts(&self, _: &Stack, _: &str, _: &Service, id: &str, _: &ImageMounts<'_>) -> Result<Vec<Mount>> {
        self.note(format!("mounts {id}"));
        Ok(Vec::new())
    }
    fn secrets(&self, _: &Stack, _: &str, _: &Service, id: &str, _: Option<&UserNs>) -> Result<Vec<Mount>> {
        self.note(format!("secrets {id}"));
        Ok(Vec::new())
    }
    fn remove_secrets(&self, id: &str) -> std::io::Result<()> {
        self.note(format!("remove secrets {id}"));
        Ok(())
    }
    fn secrets_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }
    fn prepare_network(&self, _: &Stack, _: &str, _: &Service, cfg: &ContainerConfig) -> Result<NetSetup> {
        self.note(format!("network {}", cfg.id));
        Ok(NetSetup { net: NetNs::Path(self.dir.join("netns")), mounts: Vec::new() })
    }
    fn sandbox_path(&self, _: &str) -> Option<PathBuf> {
        None
    }
    fn teardown_network(&self, id: &str) -> Result<()> {
        self.note(format!("teardown {id}"));
        match self.failing("teardown") {
            true => Err(ReconcileError::Other("fake teardown failed".into())),
            false => Ok(()),
        }
    }
    fn publish(&self, _: &Stack, _: &str, _: &Service, id: &str) -> Result<Vec<PortRecord>> {
        self.note(format!("publish {id}"));
        Ok(Vec::new())
    }
    fn release_ports(&self, id: &str) -> Result<()> {
        self.note(format!("release {id}"));
        Ok(())
    }
    fn create(&self, cfg: &ContainerConfig) -> std::result::Result<(), RuntimeError> {
        self.note(format!("create {}", cfg.id));
        if self.failing("create") {
            return Err(runtime_err("create"));
        }
        self.set(&cfg.id, Status::Created);
        Ok(())
    }
    fn start(&self, id: &str) -> std::result::Result<(), RuntimeError> {
        self.note(format!("start {id}"));
        self.set(id, Status::Running);
        Ok(())
    }
    fn stop(&self, id: &str, _: Option<Duration>) -> std::result::Result<ContainerState, RuntimeError> {
        self.note(format!("stop {id}"));
        if self.failing("stop") {
            return Err(runtime_err("stop"));
        }
        self.set(id, Status::Exited { code: 143, oom: false });
        self.state(id)
    }
    fn remove(&self, id: &str) -> std::result::Result<(), RuntimeError> {
        self.note(format!("remove {id}"));
        if self.failing("remove") {
            return Err(runtime_err("remove"));
        }
        self.states.lock().unwrap().remove(id).map(|_| ()).ok_or(RuntimeError::NotFound(id.into()))
    }
    fn state(&self, id: &str) -> std::result::Result<ContainerState, RuntimeError> {
        self.states.lock().unwrap().get(id).cloned().ok_or(RuntimeError::NotFound(id.into()))
    }
    fn list(&self) -> std::result::Result<Vec<ContainerState>, RuntimeError> {
        Ok(self.states.lock().unwrap().values().cloned().collect())
    }
    fn config(&self, id: &str) -> std::result::Result<ContainerConfig, RuntimeError> {
        Err(RuntimeError::NotFound(id.into()))
    }
    fn state_dir(&self, id: &str) -> PathBuf {
        self.dir.join("state").join(id)
    }
}

const STACK: &str = "
name: p
services:
  web:
    image: busybox:latest
    command: [sleep, '60']
  lone:
    image: busybox:latest
    command: [sleep, '60']
    network_mode: none
";

struct Env {
    _tmp: tempfile::TempDir,
    roots: Roots,
    rt: Runtime,
    stack: Stack,
    fake: Fake,
}

fn env(fail: &[&'static str]) -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let roots = Roots::new(Some(tmp.path()));
    let rt = Runtime::new(&roots);
    let stack: Stack = serde_yaml::from_str(STACK).expect("test stack");
    let fake = Fake::new(tmp.path().to_path_buf(), fail);
    Env { _tmp: tmp, roots, rt, stack, fake }
}

impl Env {
    fn ctx(&self) -> Ctx<'_> {
        Ctx::with_layers(&self.roots, &self.rt, "p", Some(&self.stack), None, Box::new(&self.fake))
    }
}

fn web() -> ContainerRef {
    ContainerRef { service: "web".into(), number: 1, name: "p-web-1".into() }
}

#[test]
fn create_resolves_mounts_networks_and_records_before_the_runtime_creates() {
    let e = env(&[]);
    let ctx = e.ctx();
    create(&ctx, &web(), "busybox:latest", "hash1", &BTreeMap::new()).unwrap();
    assert_eq!(
        e.fake.log(),
        ["resolve busybox:latest", "mounts p-web-1", "secrets p-web-1", "network p-web-1", "create p-web-1"]
    );
    let rec = ctx.pd().record("p-web-1").unwrap().expect("the record is written");
    assert_eq!((rec.service.as_str(), rec.config_hash.as_str()), ("web", "hash1"));
    assert_eq!(rec.image_id.as_deref(), Some("sha256:feed"));
}

#[test]
fn network_mode_none_makes_no_sandbox() {
    let e = env(&[]);
    let lone = ContainerRef { service: "lone".into(), number: 1, name: "p-lone-1".into() };
    create(&e.ctx(), &lone, "busybox:latest", "h", &BTreeMap::new()).unwrap();
    assert!(!e.fake.log().iter().any(|l| l.starts_with("network")), "{:?}", e.fake.log());
}

#[test]
fn a_failed_runtime_create_undoes_network_secrets_and_record() {
    let e = env(&["create"]);
    let ctx = e.ctx();
    let err = create(&ctx, &web(), "busybox:latest", "h", &BTreeMap::new()).unwrap_err().to_string();
    assert!(err.contains("p-web-1") && err.contains("fake create failed"), "{err}");
    let log = e.fake.log();
    assert_eq!(&log[log.len() - 3..], ["create p-web-1", "teardown p-web-1", "remove secrets p-web-1"]);
    assert!(ctx.pd().record("p-web-1").unwrap().is_none(), "the record is removed");
}

#[test]
fn a_broken_image_store_is_not_reported_as_a_missing_image() {
    let e = env(&["image-io"]);
    let err = create(&e.ctx(), &web(), "busybox:latest", "h", &BTreeMap::new()).unwrap_err();
    assert!(!matches!(err, ReconcileError::MissingImage { .. }), "{err:?}");
    let text = crate::errchain::chain(&err);
    assert!(text.contains("web") && text.contains("index.json"), "{text}");
    let e = env(&["image-missing"]);
    let err = create(&e.ctx(), &web(), "busybox:latest", "h", &BTreeMap::new()).unwrap_err();
    assert!(matches!(err, ReconcileError::MissingImage { ref service, .. } if service == "web"), "{err:?}");
    assert_eq!(e.fake.log(), ["resolve busybox:latest"], "nothing is made for a missing image");
}

#[test]
fn start_starts_only_what_is_not_running_and_publishes_each_time() {
    let e = env(&[]);
    let ctx = e.ctx();
    create(&ctx, &web(), "busybox:latest", "h", &BTreeMap::new()).unwrap();
    start(&ctx, &web()).unwrap();
    start(&ctx, &web()).unwrap();
    let log = e.fake.log();
    assert_eq!(log.iter().filter(|l| *l == "start p-web-1").count(), 1, "{log:?}");
    assert_eq!(log.iter().filter(|l| *l == "publish p-web-1").count(), 2, "{log:?}");
}

#[test]
fn stop_records_the_exit_code_and_a_user_stop() {
    let e = env(&[]);
    let ctx = e.ctx();
    create(&ctx, &web(), "busybox:latest", "h", &BTreeMap::new()).unwrap();
    start(&ctx, &web()).unwrap();
    stop(&ctx, "p-web-1").unwrap();
    let rec = ctx.pd().record("p-web-1").unwrap().unwrap();
    assert_eq!(rec.last_exit_code, Some(143));
    assert!(rec.stopped_by_user, "the restart policy must leave it alone");
    // A container the runtime does not know is stopped already.
    stop(&ctx, "p-ghost-1").unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn remove_goes_on_past_every_failure_and_reports_them_all() {
    let e = env(&["stop", "teardown", "remove"]);
    let ctx = e.ctx();
    e.fake.set("p-web-1", Status::Running);
    let err = remove(&ctx, "p-web-1").unwrap_err().to_string();
    for what in ["fake stop failed", "fake teardown failed", "fake remove failed"] {
        assert!(err.contains(what), "`{what}` not reported: {err}");
    }
    let log = e.fake.log();
    assert_eq!(log, ["stop p-web-1", "teardown p-web-1", "remove p-web-1", "remove secrets p-web-1"]);
}
