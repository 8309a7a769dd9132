//! A real registry for the pull/push/publish tests: Debian's `docker-registry` (distribution
//! v2), started on 127.0.0.1 with a free port and its own temp storage, stopped and removed by
//! a Drop guard even when the test panics. No traffic leaves 127.0.0.1.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// A running registry; killed and its storage removed on drop.
pub struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Registry {
    /// Start one, or print a loud SKIP and return None when the package is missing.
    pub fn start() -> Option<Registry> {
        if !Path::new(REGISTRY_BIN).exists() {
            let name = std::thread::current().name().unwrap_or("test").to_string();
            eprintln!("SKIP: {name} needs {REGISTRY_BIN} (apt-get install docker-registry; scripts/install-deps)");
            println!("SKIP: {name} needs {REGISTRY_BIN}");
            return None;
        }
        let dir = tempfile::Builder::new().prefix("berth-registry-").tempdir().expect("registry tempdir");
        let port = free_port();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("storage").display()
        );
        fs::write(dir.path().join("config.yml"), config).expect("write registry config");
        let log = fs::File::create(dir.path().join("registry.log")).expect("registry log");
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let mut reg = Registry { child, dir, port };
        reg.wait_ready();
        Some(reg)
    }

    fn wait_ready(&mut self) {
        let t0 = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
                panic!("docker-registry exited ({status}) before listening:\n{log}");
            }
            assert!(
                t0.elapsed() < super::patience(Duration::from_secs(15)),
                "docker-registry did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Where the registry keeps the manifests of `repo` (a directory per manifest digest).
    pub fn revisions(&self, repo: &str) -> std::path::PathBuf {
        self.dir.path().join(format!("storage/docker/registry/v2/repositories/{repo}/_manifests/revisions/sha256"))
    }

    /// The registry's stored copy of a blob (distribution's filesystem layout).
    pub fn blob_data(&self, digest: &str) -> std::path::PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir.path().join(format!("storage/docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2]))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now (bound, then released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}
