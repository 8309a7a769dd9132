//! `berth commit`: a container's upper dir becomes a layer on top of its image's, exactly as a
//! build's RUN step does (the same layer writer, overlayfs whiteouts and opaque dirs turned
//! into the image-spec's `.wh.` form), and the result a new image in the store.

use std::path::Path;

use super::error::Result;
use super::state::{History, ImageState};
use crate::image::ImageStore;

/// What a commit records.
pub struct Snapshot<'a> {
    /// The container's image (an id).
    pub image: &'a str,
    /// The container's overlay upper dir.
    pub upper: &'a Path,
    /// History `created_by` (names the container).
    pub created_by: String,
    /// History comment (`commit -m`).
    pub comment: Option<String>,
    /// Names for the new image (none: untagged).
    pub tags: Vec<String>,
    /// `commit -a`.
    pub author: Option<String>,
    /// `commit -c`: config-only Dockerfile instructions.
    pub changes: Vec<String>,
}

/// Store the snapshot as a new image; its id.
pub fn commit_container(store: &ImageStore, s: &Snapshot<'_>) -> Result<String> {
    let mut state = super::executor::apply_changes(ImageState::from_store(store, s.image)?, &s.changes)?;
    state.author = s.author.clone();
    let layer = super::layer::commit_dir(store, s.upper)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    state.history.push(History {
        created: Some(crate::timefmt::rfc3339(now.as_secs() as i64, None)),
        created_by: Some(s.created_by.clone()),
        comment: s.comment.clone(),
        empty_layer: layer.is_none(),
    });
    state.layers.extend(layer);
    super::commit::commit(store, &state, &s.tags)
}
