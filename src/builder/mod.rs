//! berth's own image builder: a Dockerfile (and its build context) into an image in the local
//! store, without docker, buildah or BuildKit. RUN steps run in containers of berth's own
//! runtime; COPY/ADD write layers directly; every step is cached.
//!
//! Files: `dockerfile` (lines, continuations, directives), `words` (variable substitution and
//! quoting), `instruction` (the typed model and stages), `ignore` (.dockerignore and globs),
//! `tree` (a merged read-only view of layers), `copy` (COPY/ADD), `runstep` (RUN), `layer`
//! (directory → tar layer → store), `state` (the image config being built), `cache`,
//! `commit` (into the store, tagged), `executor` (runs the stages), `steps` (the cached
//! layer steps: RUN, COPY/ADD, WORKDIR), `interrupt` (Ctrl-C and SIGKILLed builds leave
//! nothing), `compose` (a stack service's `build:` section); `tests` checks the Dockerfile
//! reference's rules end to end.
//!
//! Semantics follow BuildKit where it differs from the classic builder (WORKDIR is created
//! owned by the current USER; COPY destinations resolve symlinks inside the image).
//!
//! Not supported (refused with a message naming the line): heredocs outside RUN and `#!`
//! heredoc scripts, `RUN --mount`, ADD from URLs or git, `COPY --parents/--exclude`, symbolic
//! `--chmod`; ONBUILD and MAINTAINER are ignored with a warning. Builds have no network unless `--network=host` (there is no egress
//! on these machines anyway).

mod cache;
mod commit;
pub mod compose;
mod copy;
pub mod dockerfile;
pub mod error;
mod executor;
pub mod ignore;
pub mod instruction;
mod interrupt;
mod layer;
mod runstep;
pub mod snapshot;
mod state;
mod steps;
#[cfg(test)]
mod tests;
mod tree;
pub mod words;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use error::{BuildError, Result};
pub use executor::{build, check};
pub use instruction::{parse, Dockerfile};

/// The network of a build's RUN steps, as Docker's: the default bridge with egress (so `RUN
/// apt-get install` works), none (loopback only), or the host's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BuildNetwork {
    #[default]
    Default,
    None,
    Host,
}

impl BuildNetwork {
    /// `default` (or empty), `none`, `host`; None for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "default" | "" | "bridge" => Some(BuildNetwork::Default),
            "none" => Some(BuildNetwork::None),
            "host" => Some(BuildNetwork::Host),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BuildNetwork::Default => "default",
            BuildNetwork::None => "none",
            BuildNetwork::Host => "host",
        }
    }
}

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The build context directory.
    pub context: PathBuf,
    /// The Dockerfile (relative paths are relative to the context); default `Dockerfile`.
    pub dockerfile: Option<PathBuf>,
    /// The Dockerfile's text itself (compose `dockerfile_inline`); wins over `dockerfile`.
    pub dockerfile_inline: Option<String>,
    /// `--build-arg` / compose `args` (overriding ARG defaults).
    pub args: BTreeMap<String, String>,
    /// The stage to build (default: the last).
    pub target: Option<String>,
    /// Labels added to the image config.
    pub labels: BTreeMap<String, String>,
    /// Tags for the result (none: an untagged image).
    pub tags: Vec<String>,
    /// The network of RUN steps (compose `build.network`, `--network`).
    pub network: BuildNetwork,
    /// Do not use the build cache.
    pub no_cache: bool,
    /// Pull every FROM image from its registry first, even one the store has (`--pull`).
    pub pull: bool,
    /// Memory limit of each RUN step's container, in bytes (`build -m`, as the classic
    /// builder's); not part of the cache key.
    pub memory: Option<i64>,
    /// The berth-monitor helper binary, when not next to the current executable (tests).
    pub helper: Option<PathBuf>,
}

impl Request {
    /// The Dockerfile's path (`dockerfile` relative to the context, default `Dockerfile`);
    /// None when the text is inline.
    pub fn dockerfile_path(&self) -> Option<PathBuf> {
        if self.dockerfile_inline.is_some() {
            return None;
        }
        let rel = self.dockerfile.clone().unwrap_or_else(|| PathBuf::from("Dockerfile"));
        Some(if rel.is_absolute() { rel } else { self.context.join(rel) })
    }
}

/// What a build did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The image id (`sha256:…` of its config).
    pub id: String,
    pub tags: Vec<String>,
    /// Steps that make layers or change the config, and how many came from the cache.
    pub steps: usize,
    pub cached: usize,
}

/// Where a build reports progress: step headers, RUN output, warnings.
pub trait BuildLog: Sync {
    fn step(&self, prefix: &str, text: &str);
    fn output(&self, prefix: &str, line: &str);
    fn warn(&self, message: &str);
}

/// Progress on stderr (Docker's plain progress style), nothing but warnings when quiet.
pub struct StderrLog {
    pub quiet: bool,
    /// Printed before every line (`[web] `), for builds of several services.
    pub label: String,
}

impl BuildLog for StderrLog {
    fn step(&self, prefix: &str, text: &str) {
        if !self.quiet {
            eprintln!("{}{prefix} {text}", self.label);
        }
    }
    fn output(&self, prefix: &str, line: &str) {
        if !self.quiet {
            eprintln!("{}{prefix} {line}", self.label);
        }
    }
    fn warn(&self, message: &str) {
        eprintln!("{}warning: {message}", self.label);
    }
}
