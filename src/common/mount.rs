//! A mount as every layer speaks of it: the volumes layer resolves named volumes and binds
//! into these, the network layer adds its hosts/resolv.conf binds, the runtime performs them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Mount {
    Bind {
        source: PathBuf,
        /// Absolute path inside the container.
        target: String,
        #[serde(default)]
        read_only: bool,
        #[serde(default)]
        propagation: Propagation,
    },
    Tmpfs {
        target: String,
        #[serde(default)]
        size: Option<u64>,
        #[serde(default)]
        mode: Option<u32>,
    },
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    #[default]
    Rprivate,
    Private,
    Rslave,
    Slave,
    Rshared,
    Shared,
}
