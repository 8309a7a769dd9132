//! Seccomp profiles in Docker's JSON format (moby `profiles/seccomp`, the `--security-opt
//! seccomp=FILE` format): the one internal representation of a filter, whether it comes from
//! berth's built-in default ([`super::seccomp_default`]) or from a user's file.
//!
//! Supported: `defaultAction`, `defaultErrnoRet`, `syscalls[]` with `names` (and the old
//! single `name`), `action`, `errnoRet`, `args[]` (`index`, `value`, `valueTwo`, `op`), and
//! `includes`/`excludes` by `caps`, `arches` and `minKernel`. `architectures`/`archMap` are read
//! but only the native architecture is filtered (every other one is killed by the filter's arch
//! check); unknown keys are ignored as Docker does; `SCMP_ACT_NOTIFY` is refused.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A profile larger than this is refused (moby's own default is ~14 KiB).
pub const MAX_PROFILE_BYTES: u64 = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("seccomp profile {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("seccomp profile {path} is larger than {max} bytes")]
    TooLarge { path: PathBuf, max: u64 },
    #[error("seccomp profile {path} is not a valid Docker seccomp profile: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub default_action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syscalls: Option<Vec<SyscallRule>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SyscallRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
    /// The pre-1.13 format's single name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<Arg>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub includes: Option<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excludes: Option<Filter>,
}

/// `includes` / `excludes`: which containers an entry applies to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Capability names (`CAP_SYS_ADMIN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caps: Option<Vec<String>>,
    /// Go architecture names (`amd64`, `arm64`, `x32`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arches: Option<Vec<String>>,
    /// `"4.8"`: the running kernel is at least this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_kernel: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Arg {
    pub index: u8,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
    pub op: Op,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Action {
    #[serde(rename = "SCMP_ACT_ALLOW")]
    Allow,
    #[serde(rename = "SCMP_ACT_ERRNO")]
    Errno,
    #[serde(rename = "SCMP_ACT_KILL", alias = "SCMP_ACT_KILL_THREAD")]
    KillThread,
    #[serde(rename = "SCMP_ACT_KILL_PROCESS")]
    KillProcess,
    #[serde(rename = "SCMP_ACT_TRAP")]
    Trap,
    #[serde(rename = "SCMP_ACT_TRACE")]
    Trace,
    #[serde(rename = "SCMP_ACT_LOG")]
    Log,
    /// Needs a seccomp agent (user notification); berth has none, so it is refused.
    #[serde(rename = "SCMP_ACT_NOTIFY")]
    Notify,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Op {
    #[serde(rename = "SCMP_CMP_NE")]
    Ne,
    #[serde(rename = "SCMP_CMP_LT")]
    Lt,
    #[serde(rename = "SCMP_CMP_LE")]
    Le,
    #[serde(rename = "SCMP_CMP_EQ")]
    Eq,
    #[serde(rename = "SCMP_CMP_GE")]
    Ge,
    #[serde(rename = "SCMP_CMP_GT")]
    Gt,
    /// `(arg & value) == valueTwo`.
    #[serde(rename = "SCMP_CMP_MASKED_EQ")]
    MaskedEq,
}

impl SyscallRule {
    /// Every name of the entry (`names` and the old `name`).
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().flatten().map(String::as_str).chain(self.name.as_deref())
    }
}

impl Profile {
    /// Parse a profile from JSON text; `path` only names it in errors.
    pub fn parse(text: &[u8], path: &Path) -> Result<Profile, ProfileError> {
        serde_json::from_slice(text).map_err(|source| ProfileError::Parse { path: path.to_path_buf(), source })
    }

    /// Read and parse a profile file of at most [`MAX_PROFILE_BYTES`].
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let read = |source| ProfileError::Read { path: path.to_path_buf(), source };
        let f = std::fs::File::open(path).map_err(read)?;
        let mut text = Vec::new();
        f.take(MAX_PROFILE_BYTES + 1).read_to_end(&mut text).map_err(read)?;
        if text.len() as u64 > MAX_PROFILE_BYTES {
            return Err(ProfileError::TooLarge { path: path.to_path_buf(), max: MAX_PROFILE_BYTES });
        }
        Profile::parse(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dockers_format_with_nulls_and_unknown_keys() {
        let json = br#"{
            "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
            "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
            "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": null, "includes": {}, "excludes": {}},
                {"name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
                 "excludes": {"caps": ["CAP_SYS_ADMIN"]}, "comment": "x"}
            ]
        }"#;
        let p = Profile::parse(json, Path::new("p.json")).unwrap();
        assert_eq!(p.default_action, Action::Errno);
        let s = p.syscalls.as_ref().unwrap();
        assert_eq!(s[0].all_names().collect::<Vec<_>>(), ["read", "write"]);
        assert_eq!(s[1].all_names().collect::<Vec<_>>(), ["mkdir"]);
        assert_eq!(s[2].args.as_ref().unwrap()[0].op, Op::MaskedEq);
        let err = Profile::parse(b"{\"defaultAction\": \"SCMP_ACT_NOPE\"}", Path::new("/x/p.json")).unwrap_err();
        assert!(err.to_string().starts_with("seccomp profile /x/p.json is not a valid"), "{err}");
    }

    #[test]
    fn load_names_the_file_and_bounds_its_size() {
        let t = tempfile::tempdir().unwrap();
        let missing = t.path().join("none.json");
        assert!(Profile::load(&missing).unwrap_err().to_string().contains("none.json"));
        let big = t.path().join("big.json");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_PROFILE_BYTES + 1).unwrap();
        assert!(matches!(Profile::load(&big), Err(ProfileError::TooLarge { .. })));
    }
}
