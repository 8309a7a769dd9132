//! The ground floor's shared vocabulary: plain data every layer may use and none owns (a
//! mount, a port to publish, a random id), and the one kernel helper both the runtime and the
//! network layer need (bringing `lo` up in a fresh netns). Nothing here depends on any other berth module
//! except the other ground-floor helpers (`fsutil`, `fsat`, `timefmt`, `paths`, `rootid`,
//! `errchain`, `term`, `timing`). The layering test (tests/arch_layers.rs) keeps it so.

pub mod ids;
pub mod loopback;
pub mod mount;
pub mod patterns;
pub mod port;

pub use mount::{Mount, Propagation};
pub use port::{PortRequest, Protocol};
