//! Local image store: content-addressed OCI layout, imports, unpacked layer cache.
