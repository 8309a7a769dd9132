//! Tags: index.json holds one manifest descriptor per tag, the fully qualified reference in the
//! `org.opencontainers.image.ref.name` annotation (an image-layout convention), plus untagged
//! descriptors for images that lost their last tag but are kept (`<none>` in `berth images`).

use std::collections::HashMap;

use oci_spec::image::{Descriptor, ImageIndex, MediaType};

use super::reference::Reference;

pub(crate) const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// When the image was imported into this store (RFC 3339), shown by `berth images`.
pub(crate) const IMPORTED: &str = "io.berth.image.imported";

/// The reference a descriptor is tagged with, if any.
pub(crate) fn ref_name(d: &Descriptor) -> Option<&str> {
    d.annotations().as_ref()?.get(REF_NAME).map(String::as_str)
}

pub(crate) fn new_descriptor(
    media_type: &MediaType,
    digest: &str,
    size: u64,
    reference: Option<&Reference>,
) -> Option<Descriptor> {
    let digest: oci_spec::image::Digest = digest.parse().ok()?;
    let mut d = Descriptor::new(media_type.clone(), size, digest);
    let mut ann = HashMap::from([(IMPORTED.to_string(), now_rfc3339())]);
    if let Some(r) = reference {
        ann.insert(REF_NAME.to_string(), r.to_string());
    }
    d.set_annotations(Some(ann));
    Some(d)
}

/// Point each of `refs` at `desc`'s manifest (moving a tag away from another image if needed).
/// An image that loses its last tag this way stays, untagged, like Docker's dangling images.
pub(crate) fn tag(index: &mut ImageIndex, desc: &Descriptor, refs: &[Reference]) {
    let mut list = index.manifests().clone();
    tag_list(&mut list, desc, refs);
    index.set_manifests(list);
}

fn tag_list(manifests: &mut Vec<Descriptor>, desc: &Descriptor, refs: &[Reference]) {
    let digest = desc.digest().to_string();
    let mut displaced = Vec::new();
    for r in refs {
        let name = r.to_string();
        manifests.retain(|d| {
            let hit = ref_name(d) == Some(name.as_str());
            if hit && d.digest().to_string() != digest {
                displaced.push(d.clone());
            }
            !hit
        });
        let mut tagged = desc.clone();
        let mut ann = tagged.annotations().clone().unwrap_or_default();
        ann.insert(REF_NAME.to_string(), name);
        tagged.set_annotations(Some(ann));
        manifests.push(tagged);
    }
    if refs.is_empty() && !manifests.iter().any(|d| d.digest().to_string() == digest) {
        manifests.push(desc.clone());
    }
    for mut d in displaced {
        let d_digest = d.digest().to_string();
        if !manifests.iter().any(|m| m.digest().to_string() == d_digest) {
            if let Some(ann) = d.annotations().clone() {
                d.set_annotations(Some(ann.into_iter().filter(|(k, _)| k != REF_NAME).collect()));
            }
            manifests.push(d);
        }
    }
    drop_redundant_untagged(manifests);
}

/// An untagged descriptor is redundant once the same manifest has a tagged one.
pub(crate) fn drop_redundant_untagged(manifests: &mut Vec<Descriptor>) {
    let tagged: Vec<String> =
        manifests.iter().filter(|d| ref_name(d).is_some()).map(|d| d.digest().to_string()).collect();
    manifests.retain(|d| ref_name(d).is_some() || !tagged.contains(&d.digest().to_string()));
}

/// The current time as RFC 3339 UTC (civil-from-days, Howard Hinnant's algorithm).
pub(crate) fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    rfc3339(secs)
}

pub(crate) fn rfc3339(secs: i64) -> String {
    crate::timefmt::rfc3339(secs, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::image::ImageIndexBuilder;

    fn desc(n: char) -> Descriptor {
        new_descriptor(&MediaType::ImageManifest, &format!("sha256:{}", n.to_string().repeat(64)), 10, None).unwrap()
    }

    fn names(i: &ImageIndex) -> Vec<(String, Option<String>)> {
        i.manifests().iter().map(|d| (d.digest().digest()[..1].to_string(), ref_name(d).map(str::to_string))).collect()
    }

    #[test]
    fn retagging_moves_the_tag_and_keeps_the_old_image_untagged() {
        let mut i = ImageIndexBuilder::default().schema_version(2u32).manifests(vec![]).build().unwrap();
        let r = Reference::parse("busybox").unwrap();
        tag(&mut i, &desc('a'), std::slice::from_ref(&r));
        tag(&mut i, &desc('a'), &[Reference::parse("busybox:2").unwrap()]);
        assert_eq!(i.manifests().len(), 2);
        tag(&mut i, &desc('b'), &[r]);
        let n = names(&i);
        assert!(n.contains(&("b".into(), Some("docker.io/library/busybox:latest".into()))));
        assert!(n.contains(&("a".into(), Some("docker.io/library/busybox:2".into()))));
        assert_eq!(n.len(), 2, "a keeps its other tag, so no untagged entry: {n:?}");
        tag(&mut i, &desc('b'), &[Reference::parse("busybox:2").unwrap()]);
        assert!(names(&i).contains(&("a".into(), None)), "a lost its last tag and stays dangling");
    }

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_210_096), "2024-02-29T12:34:56Z");
    }
}
