//! `image rm`: untag, and when an image has no tag left and no container uses it, delete it and
//! garbage-collect every blob and unpacked layer that no remaining image references.

use std::collections::HashSet;
use std::fs;

use oci_spec::image::Descriptor;

use super::error::{io_err, ImageError, Result};
use super::index::{self, ref_name};
use super::layers;
use super::reference::Reference;
use super::store::{ImageStore, RemoveReport};

impl ImageStore {
    /// Remove `reference` (a tag, or an image id / digest). Removing one of several tags only
    /// untags. Removing the last tag, or by id, deletes the image, unless `in_use(id)` says a
    /// container uses it: then this fails, or with `force` only untags (the files stay, the
    /// image shows as `<none>`). By id, an image with several tags needs `force`.
    pub fn remove(&self, reference: &str, force: bool, in_use: &dyn Fn(&str) -> bool) -> Result<RemoveReport> {
        let _gc = self.layout.gc_lock(true)?;
        let report = {
            let _lock = self.layout.lock()?;
            let mut idx = self.layout.read_index()?;
            let mut descs = idx.manifests().clone();
            let report = self.untag(&mut descs, reference, force, in_use)?;
            idx.set_manifests(descs);
            self.layout.write_index(&idx)?;
            report
        };
        let deleted = self.collect_garbage()?;
        Ok(RemoveReport { deleted, ..report })
    }

    fn untag(
        &self,
        descs: &mut Vec<Descriptor>,
        reference: &str,
        force: bool,
        in_use: &dyn Fn(&str) -> bool,
    ) -> Result<RemoveReport> {
        let manifest = self.find(descs, reference)?;
        let id = self.load(&manifest)?.config_digest;
        let mut mine = Vec::new();
        for d in descs.iter() {
            if self.load(d.digest().as_ref())?.config_digest == id {
                mine.push(d.clone());
            }
        }
        let tags: Vec<String> = mine.iter().filter_map(|d| ref_name(d).map(str::to_string)).collect();
        // A tag given by name: is it one of this image's tags (vs. an id or a digest)?
        let by_tag = Reference::parse(reference)
            .ok()
            .filter(|r| r.digest.is_none())
            .map(|r| r.to_string())
            .filter(|t| tags.contains(t));
        let familiar = |t: &String| Reference::parse(t).map_or_else(|_| t.clone(), |r| r.familiar());
        if let Some(tag) = by_tag.filter(|_| tags.len() > 1) {
            descs.retain(|d| ref_name(d) != Some(tag.as_str()));
            return Ok(RemoveReport { untagged: vec![familiar(&tag)], deleted: Vec::new() });
        }
        if tags.len() > 1 && !force {
            return Err(ImageError::MultipleTags {
                id,
                tags: tags.iter().map(familiar).collect::<Vec<_>>().join(", "),
            });
        }
        let busy = in_use(&id);
        if busy && !force {
            return Err(ImageError::InUse { id });
        }
        let digests: HashSet<String> = mine.iter().map(|d| d.digest().to_string()).collect();
        descs.retain(|d| !digests.contains(&d.digest().to_string()));
        if busy {
            // Keep the files for the running container: one untagged descriptor.
            if let Some(mut d) = mine.into_iter().next() {
                let ann = d.annotations().clone().unwrap_or_default();
                d.set_annotations(Some(ann.into_iter().filter(|(k, _)| k != index::REF_NAME).collect()));
                descs.push(d);
            }
        }
        Ok(RemoveReport { untagged: tags.iter().map(familiar).collect(), deleted: Vec::new() })
    }

    /// Mark every blob and diff id reachable from index.json; delete the rest, and everything in
    /// tmp/ (leftovers of crashed imports: the exclusive gc lock means none is running).
    /// Returns what was deleted. Callers hold the exclusive gc lock.
    fn collect_garbage(&self) -> Result<Vec<String>> {
        let idx = self.layout.read_index()?;
        let (mut blobs, mut diff_ids) = (HashSet::new(), HashSet::new());
        for d in idx.manifests() {
            let stored = self.load(d.digest().as_ref())?;
            blobs.insert(stored.manifest_digest.trim_start_matches("sha256:").to_string());
            blobs.insert(stored.config_digest.trim_start_matches("sha256:").to_string());
            for (blob, _, diff_id) in &stored.layers {
                blobs.insert(blob.trim_start_matches("sha256:").to_string());
                diff_ids.insert(diff_id.trim_start_matches("sha256:").to_string());
            }
        }
        let mut deleted = Vec::new();
        let blob_dir = self.layout.root.join("blobs/sha256");
        for e in fs::read_dir(&blob_dir).map_err(io_err(&blob_dir))?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !blobs.contains(&name) {
                fs::remove_file(e.path()).map_err(io_err(e.path()))?;
                deleted.push(format!("sha256:{name}"));
            }
        }
        let layer_dir = self.layout.layers_dir();
        for e in fs::read_dir(&layer_dir).map_err(io_err(&layer_dir))?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !diff_ids.contains(&name) {
                layers::remove_layer(&self.layout, &e.path())?;
                deleted.push(format!("layer sha256:{name}"));
            }
        }
        let tmp = self.layout.tmp_dir();
        for e in fs::read_dir(&tmp).map_err(io_err(&tmp))?.flatten() {
            let _ = layers::remove_tree(&e.path()).or_else(|_| fs::remove_file(e.path()));
        }
        Ok(deleted)
    }
}
