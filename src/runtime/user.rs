//! Resolve a Docker-style user spec (`name|uid[:group|gid]`) against the image's /etc/passwd
//! and /etc/group, as `docker run -u` does: numeric ids need no entry, names must exist;
//! supplementary groups are the groups listing the user, plus `group_add`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub home: String,
}

struct Passwd<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

fn passwd_entries(passwd: &str) -> impl Iterator<Item = Passwd<'_>> {
    passwd.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 6 {
            return None;
        }
        Some(Passwd { name: f[0], uid: f[2].parse().ok()?, gid: f[3].parse().ok()?, home: f[5] })
    })
}

/// (name, gid, members) of each /etc/group line.
fn group_entries(group: &str) -> impl Iterator<Item = (&str, u32, Vec<&str>)> {
    group.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 3 {
            return None;
        }
        let members = f.get(3).map(|m| m.split(',').filter(|s| !s.is_empty()).collect()).unwrap_or_default();
        Some((f[0], f[2].parse().ok()?, members))
    })
}

fn resolve_group(spec: &str, group: &str) -> Result<u32, String> {
    if let Ok(gid) = spec.parse() {
        return Ok(gid);
    }
    group_entries(group)
        .find(|(n, _, _)| *n == spec)
        .map(|(_, g, _)| g)
        .ok_or_else(|| format!("unable to find group {spec}: no matching entries in the image's /etc/group"))
}

/// Resolve `spec` (None = root) with the image's passwd and group file contents.
pub fn resolve(spec: Option<&str>, group_add: &[String], passwd: &str, group: &str) -> Result<Identity, String> {
    let spec = spec.filter(|s| !s.is_empty()).unwrap_or("0");
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let entry = match user_part.parse::<u32>() {
        Ok(uid) => passwd_entries(passwd).find(|p| p.uid == uid),
        Err(_) => Some(passwd_entries(passwd).find(|p| p.name == user_part).ok_or_else(|| {
            format!("unable to find user {user_part}: no matching entries in the image's /etc/passwd")
        })?),
    };
    let uid = entry.as_ref().map(|e| e.uid).or_else(|| user_part.parse().ok()).unwrap_or(0);
    let mut gid = entry.as_ref().map(|e| e.gid).unwrap_or(0);
    if let Some(g) = group_part {
        gid = resolve_group(g, group)?;
    }
    let mut groups = Vec::new();
    if let Some(name) = entry.as_ref().map(|e| e.name) {
        // Docker adds the groups listing the user only when no explicit group was given.
        if group_part.is_none() {
            groups.extend(group_entries(group).filter(|(_, _, m)| m.contains(&name)).map(|(_, g, _)| g));
        }
    }
    for g in group_add {
        groups.push(resolve_group(g, group)?);
    }
    if !groups.contains(&gid) {
        groups.insert(0, gid);
    }
    groups.dedup();
    let home = entry.map(|e| e.home.to_string()).unwrap_or_else(|| "/".to_string());
    Ok(Identity { uid, gid, groups, home })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n";
    const GROUP: &str = "root:x:0:\napp:x:1000:\nextra:x:2000:app\n";

    #[test]
    fn names_numbers_and_groups() {
        let app = resolve(Some("app"), &[], PASSWD, GROUP).unwrap();
        assert_eq!(
            (app.uid, app.gid, app.groups.clone(), app.home.as_str()),
            (1000, 1000, vec![1000, 2000], "/home/app")
        );
        let num = resolve(Some("4242:extra"), &[], PASSWD, GROUP).unwrap();
        assert_eq!((num.uid, num.gid, num.groups), (4242, 2000, vec![2000]));
        let root = resolve(None, &["extra".into()], PASSWD, GROUP).unwrap();
        assert_eq!((root.uid, root.gid, root.groups), (0, 0, vec![0, 2000]));
        let err = resolve(Some("nobody"), &[], PASSWD, GROUP).unwrap_err();
        assert!(err.contains("unable to find user nobody"), "{err}");
    }
}
