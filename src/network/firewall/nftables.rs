//! The native nftables driver: berth's own table `ip berth` (and `ip6 berth` for IPv6
//! subnets: the same chains and rules, `ip6 saddr` for the masquerade), written over netlink
//! (nfnl.rs) in atomic batches, for hosts with no `iptables` or only the legacy one.
//!
//! Why no crate: `rustables` (the pure-Rust one) is GPL-3.0-or-later, which berth's Apache-2.0
//! licence cannot take in; `nftnl`/`mnl` need the libnftnl/libmnl C libraries; the `nftables`
//! crate drives the `nft` binary. What berth needs is eight message kinds, so they are
//! written here (nfnl.rs), small and unit-tested.
//!
//! The table holds two base chains, policy accept, with the same rules the iptables driver
//! installs, each rule tagged with a comment `<bridge>: <rule>` (NFTA_RULE_USERDATA, shown by
//! `nft list ruleset`) so one network's rules are found, checked and removed exactly:
//!
//! - `postrouting`: type nat, hook postrouting, priority srcnat (100), as every NAT tool;
//! - `forward`: type filter, hook forward, priority filter (0).
//!
//! In nftables every base chain on a hook sees the packet, and an `accept` ends only its own
//! chain: berth's drops (network isolation, internal networks) hold whatever other tables do,
//! but berth's accepts cannot override a drop elsewhere (a FORWARD policy DROP set through
//! iptables, as Docker sets it). berth never adds rules to other tables; on such a host allow
//! the `bth-*` bridges there, or use `BERTH_FIREWALL=iptables`. The priority matters only
//! against other tables' accepts, which cannot undo berth's drops either way.
//!
//! Every change for one network is one batch carrying the ruleset generation it was computed
//! from, so a concurrent change by anyone makes the kernel refuse it (ERESTART) and berth
//! reads and tries again; the table goes, in the same batch, with the last network's rules.

use super::nfnl::{self, Attrs, Msg, Socket};
use super::{enable_forwarding, Family, RuleCheck, Subnet};
use crate::network::error::{NetworkError, Result};
use crate::network::names::BRIDGE_PREFIX;

mod expr;

pub use expr::{Chain, Rule};

pub const TABLE: &str = "berth";

/// The nf_tables family of a [`Family`]'s table.
fn nfproto(family: Family) -> u8 {
    match family {
        Family::V4 => libc::NFPROTO_IPV4 as u8,
        Family::V6 => libc::NFPROTO_IPV6 as u8,
    }
}

/// `ip berth` or `ip6 berth`, as `nft` names the table.
fn table_text(family: Family) -> String {
    match family {
        Family::V4 => format!("ip {TABLE}"),
        Family::V6 => format!("ip6 {TABLE}"),
    }
}
/// A concurrent change refuses a batch (each try costs well under a millisecond); after this
/// many tries in a row it is an error.
const TRIES: usize = 32;

const NFTA_TABLE_NAME: u16 = 1;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_POLICY: u16 = 5;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_HANDLE: u16 = 3;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_RULE_USERDATA: u16 = 7;
/// libnftnl's userdata TLV type for a rule comment (what `nft … comment "…"` writes).
const NFTNL_UDATA_RULE_COMMENT: u8 = 0;

/// The rules of one network, in the order they must appear in their chain (the same set
/// as the iptables driver's).
pub fn rules(bridge: &str, subnet: Subnet, internal: bool) -> Vec<Rule> {
    use expr::{Match::*, Verdict::*};
    let br = || bridge.to_string();
    if internal {
        return vec![
            Rule::new(Chain::Forward, vec![Iif(br()), Oif(br())], Accept),
            Rule::new(Chain::Forward, vec![Iif(br())], Drop),
            Rule::new(Chain::Forward, vec![Oif(br())], Drop),
        ];
    }
    vec![
        Rule::new(Chain::Postrouting, vec![Saddr(subnet), NotOif(br())], Masquerade),
        Rule::new(Chain::Forward, vec![Iif(br()), Oif(br())], Accept),
        Rule::new(Chain::Forward, vec![Iif(br()), OifPrefix(BRIDGE_PREFIX.to_string())], Drop),
        Rule::new(Chain::Forward, vec![Iif(br())], Accept),
        Rule::new(Chain::Forward, vec![Oif(br()), CtReplies], Accept),
    ]
}

/// The comment that tags a rule as one network's.
fn comment(bridge: &str, rule: &Rule) -> String {
    format!("{bridge}: {}", rule.text())
}

/// One rule of berth's table as the kernel lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedRule {
    pub chain: String,
    pub handle: u64,
    pub comment: Option<String>,
}

/// Berth's table of one family as read at one ruleset generation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    pub family: Family,
    pub genid: u32,
    pub table: bool,
    pub chains: Vec<String>,
    /// In chain order.
    pub rules: Vec<ListedRule>,
}

fn nft_err(op: impl Into<String>) -> impl FnOnce(std::io::Error) -> NetworkError {
    let op = op.into();
    move |source| NetworkError::Nftables { op, source }
}

impl Ruleset {
    /// Berth's table of `family`, consistent at one generation (read again when it moved
    /// meanwhile).
    pub fn read(family: Family) -> Result<Ruleset> {
        let mut sock = Socket::open().map_err(nft_err("open a netfilter netlink socket"))?;
        let what = || format!("list table {}", table_text(family));
        for _ in 0..TRIES {
            match read_once(&mut sock, family) {
                Ok(Some(r)) => return Ok(r),
                Ok(None) => continue,
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(nft_err(what())(e)),
            }
        }
        Err(nft_err(what())(std::io::Error::other("the ruleset kept changing while read")))
    }

    /// The rules tagged as `bridge`'s.
    fn of<'a>(&'a self, bridge: &'a str) -> impl Iterator<Item = &'a ListedRule> + 'a {
        let prefix = format!("{bridge}: ");
        self.rules.iter().filter(move |r| r.comment.as_ref().is_some_and(|c| c.starts_with(&prefix)))
    }

    /// Whether one network's rules are all present, in their order.
    pub fn check(&self, bridge: &str, wanted: &[Rule]) -> RuleCheck {
        let mut check = RuleCheck::default();
        for chain in [Chain::Postrouting, Chain::Forward] {
            let listed: Vec<&ListedRule> = self.rules.iter().filter(|r| r.chain == chain.name()).collect();
            let mut last = None;
            for rule in wanted.iter().filter(|r| r.chain == chain) {
                let tag = comment(bridge, rule);
                match listed.iter().position(|l| l.comment.as_deref() == Some(tag.as_str())) {
                    None => check.missing.push(format!("{}: {}", chain.name(), rule.text())),
                    Some(p) => {
                        check.misordered |= last.is_some_and(|l| l > p);
                        last = Some(p);
                    }
                }
            }
        }
        check
    }

    /// The batch that puts `wanted` back: the table and base chains where missing, every
    /// listed rule of the network deleted and the whole set appended in order (one atomic
    /// batch, so no packet sees a half-written set). Empty when all is in place.
    fn repair_batch(&self, bridge: &str, wanted: &[Rule]) -> Vec<Msg> {
        let chains_needed: Vec<Chain> =
            [Chain::Postrouting, Chain::Forward].into_iter().filter(|c| wanted.iter().any(|r| r.chain == *c)).collect();
        let chains_ok = chains_needed.iter().all(|c| self.chains.iter().any(|n| n == c.name()));
        if self.table && chains_ok && self.check(bridge, wanted).is_ok() {
            return Vec::new();
        }
        let family = self.family;
        let mut msgs = vec![new_table(family)];
        msgs.extend(
            chains_needed.iter().filter(|c| !self.chains.iter().any(|n| n == c.name())).map(|c| new_chain(family, *c)),
        );
        msgs.extend(self.of(bridge).map(|r| del_rule(family, r)));
        msgs.extend(wanted.iter().map(|r| new_rule(family, bridge, r)));
        msgs
    }

    /// The batch that removes the network's rules, or the whole table when nothing else is
    /// left in it. Empty when there is nothing to remove.
    fn remove_batch(&self, bridge: &str) -> Vec<Msg> {
        if !self.table {
            return Vec::new();
        }
        let ours: Vec<&ListedRule> = self.of(bridge).collect();
        let family = nfproto(self.family);
        if ours.len() == self.rules.len() {
            return vec![Msg::new(nfnl::NFT_MSG_DELTABLE, family, Attrs::new().str(NFTA_TABLE_NAME, TABLE))];
        }
        ours.into_iter().map(|r| del_rule(self.family, r)).collect()
    }
}

/// One read at one generation; None when the generation moved during it.
fn read_once(sock: &mut Socket, family: Family) -> std::io::Result<Option<Ruleset>> {
    let nfproto = nfproto(family);
    let genid = sock.genid()?;
    let tables = sock.dump(&Msg::new(nfnl::NFT_MSG_GETTABLE, nfproto, Attrs::new()))?;
    let table = tables.iter().any(|t| nfnl::attr_str(&t.payload, NFTA_TABLE_NAME).as_deref() == Some(TABLE));
    let mut set = Ruleset { family, genid, table, ..Ruleset::default() };
    // The table going between the two dumps: read again.
    let gone = |e: &std::io::Error| e.raw_os_error() == Some(libc::ENOENT);
    if table {
        let chains =
            match sock.dump(&Msg::new(nfnl::NFT_MSG_GETCHAIN, nfproto, Attrs::new().str(NFTA_CHAIN_TABLE, TABLE))) {
                Err(e) if gone(&e) => return Ok(None),
                other => other?,
            };
        set.chains = chains
            .iter()
            .filter(|c| nfnl::attr_str(&c.payload, NFTA_CHAIN_TABLE).as_deref() == Some(TABLE))
            .filter_map(|c| nfnl::attr_str(&c.payload, NFTA_CHAIN_NAME))
            .collect();
        let rules = match sock.dump(&Msg::new(nfnl::NFT_MSG_GETRULE, nfproto, Attrs::new().str(NFTA_RULE_TABLE, TABLE)))
        {
            Err(e) if gone(&e) => return Ok(None),
            other => other?,
        };
        set.rules = rules.iter().filter_map(|r| listed_rule(&r.payload)).collect();
    }
    Ok((sock.genid()? == genid).then_some(set))
}

fn listed_rule(payload: &[u8]) -> Option<ListedRule> {
    if nfnl::attr_str(payload, NFTA_RULE_TABLE).as_deref() != Some(TABLE) {
        return None;
    }
    Some(ListedRule {
        chain: nfnl::attr_str(payload, NFTA_RULE_CHAIN)?,
        handle: nfnl::attr_be64(payload, NFTA_RULE_HANDLE)?,
        comment: nfnl::attr(payload, NFTA_RULE_USERDATA).and_then(comment_of),
    })
}

/// The comment in a rule's userdata (TLVs of type, length, value; the comment NUL-ended).
fn comment_of(udata: &[u8]) -> Option<String> {
    let mut rest = udata;
    while rest.len() >= 2 {
        let (ty, len) = (rest[0], rest[1] as usize);
        let value = rest.get(2..2 + len)?;
        if ty == NFTNL_UDATA_RULE_COMMENT {
            let text = value.split(|b| *b == 0).next().unwrap_or_default();
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        rest = &rest[2 + len..];
    }
    None
}

fn udata_comment(text: &str) -> Vec<u8> {
    // nft limits comments to 128 bytes; berth's are under 80 (bridge names are 12 bytes).
    let mut v = vec![NFTNL_UDATA_RULE_COMMENT, (text.len() + 1).min(255) as u8];
    v.extend_from_slice(&text.as_bytes()[..text.len().min(254)]);
    v.push(0);
    v
}

fn new_table(family: Family) -> Msg {
    Msg::new(nfnl::NFT_MSG_NEWTABLE, nfproto(family), Attrs::new().str(NFTA_TABLE_NAME, TABLE))
        .flags(nfnl::NLM_F_CREATE)
}

fn new_chain(family: Family, chain: Chain) -> Msg {
    let hook = Attrs::new().be32(NFTA_HOOK_HOOKNUM, chain.hook()).be32(NFTA_HOOK_PRIORITY, chain.priority() as u32);
    let attrs = Attrs::new()
        .str(NFTA_CHAIN_TABLE, TABLE)
        .str(NFTA_CHAIN_NAME, chain.name())
        .nested(NFTA_CHAIN_HOOK, hook)
        .be32(NFTA_CHAIN_POLICY, libc::NF_ACCEPT as u32)
        .str(NFTA_CHAIN_TYPE, chain.kind());
    Msg::new(nfnl::NFT_MSG_NEWCHAIN, nfproto(family), attrs).flags(nfnl::NLM_F_CREATE)
}

fn new_rule(family: Family, bridge: &str, rule: &Rule) -> Msg {
    let attrs = Attrs::new()
        .str(NFTA_RULE_TABLE, TABLE)
        .str(NFTA_RULE_CHAIN, rule.chain.name())
        .nested(NFTA_RULE_EXPRESSIONS, rule.exprs())
        .bytes(NFTA_RULE_USERDATA, &udata_comment(&comment(bridge, rule)));
    Msg::new(nfnl::NFT_MSG_NEWRULE, nfproto(family), attrs).flags(nfnl::NLM_F_CREATE | nfnl::NLM_F_APPEND)
}

fn del_rule(family: Family, rule: &ListedRule) -> Msg {
    let attrs =
        Attrs::new().str(NFTA_RULE_TABLE, TABLE).str(NFTA_RULE_CHAIN, &rule.chain).be64(NFTA_RULE_HANDLE, rule.handle);
    Msg::new(nfnl::NFT_MSG_DELRULE, nfproto(family), attrs)
}

/// Commits the batch `make` builds from the current ruleset, reading again and rebuilding
/// when a concurrent change refused it. Returns whether anything was written.
fn commit_fresh(
    family: Family,
    first: Option<&Ruleset>,
    what: &str,
    make: impl Fn(&Ruleset) -> Vec<Msg>,
) -> Result<bool> {
    let mut sock = Socket::open().map_err(nft_err("open a netfilter netlink socket"))?;
    let mut owned;
    let mut present = match first {
        Some(p) => p,
        None => {
            owned = Ruleset::read(family)?;
            &owned
        }
    };
    for _ in 0..TRIES {
        let msgs = make(present);
        if msgs.is_empty() {
            return Ok(false);
        }
        match sock.commit(&msgs, Some(present.genid)) {
            Ok(()) => return Ok(true),
            Err((_, e)) if e.raw_os_error() == Some(libc::ERESTART) => {
                tracing::debug!(what, "nftables generation moved: reading again");
                owned = Ruleset::read(family)?;
                present = &owned;
            }
            Err((index, e)) => {
                let op = index.and_then(|i| msgs.get(i)).map_or("batch".to_string(), describe);
                return Err(nft_err(format!("{what}: {op}"))(e));
            }
        }
    }
    Err(nft_err(what.to_string())(std::io::Error::other("the ruleset kept changing; try again")))
}

/// What a message of a batch does, for an error.
fn describe(m: &Msg) -> String {
    let kind = match m.ty {
        nfnl::NFT_MSG_NEWTABLE => "add table",
        nfnl::NFT_MSG_DELTABLE => "delete table",
        nfnl::NFT_MSG_NEWCHAIN => "add chain",
        nfnl::NFT_MSG_NEWRULE => "add rule",
        nfnl::NFT_MSG_DELRULE => "delete rule",
        _ => "message",
    };
    let name = nfnl::attr(&m.attrs.0, NFTA_RULE_USERDATA)
        .and_then(comment_of)
        .or_else(|| nfnl::attr_str(&m.attrs.0, NFTA_CHAIN_NAME).filter(|_| m.ty == nfnl::NFT_MSG_NEWCHAIN))
        .unwrap_or_else(|| table_text(if m.family == libc::NFPROTO_IPV6 as u8 { Family::V6 } else { Family::V4 }));
    format!("{kind} {name}")
}

/// [`super::ensure_in`] for this driver: puts back what is missing or out of order (one
/// batch), then reads the rules back. Returns what was wrong before.
pub fn ensure_in(present: &Ruleset, bridge: &str, subnet: Subnet, internal: bool) -> Result<RuleCheck> {
    let family = subnet.family();
    if !internal {
        enable_forwarding(family)?;
    }
    let wanted = rules(bridge, subnet, internal);
    let before = present.check(bridge, &wanted);
    let what = format!("firewall rules of bridge {bridge}");
    if !commit_fresh(family, Some(present), &what, |p| p.repair_batch(bridge, &wanted))? {
        return Ok(before);
    }
    let after = Ruleset::read(family)?.check(bridge, &wanted);
    if !after.is_ok() {
        return Err(NetworkError::FirewallUnverified { bridge: bridge.to_string(), missing: after.missing });
    }
    Ok(before)
}

pub fn check(present: &Ruleset, bridge: &str, subnet: Subnet, internal: bool) -> RuleCheck {
    present.check(bridge, &rules(bridge, subnet, internal))
}

/// Removes every rule tagged as the network's in `family`'s table, and the table with the
/// last of them.
pub fn remove(bridge: &str, family: Family) -> Result<()> {
    let what = format!("remove the firewall rules of bridge {bridge}");
    commit_fresh(family, None, &what, |p| p.remove_batch(bridge)).map(|_| ())
}

/// Whether any nf_tables table exists (of any family, any owner): the host uses nftables.
pub fn in_use() -> std::io::Result<bool> {
    let mut sock = Socket::open()?;
    sock.genid()?;
    Ok(!sock.dump(&Msg::new(nfnl::NFT_MSG_GETTABLE, libc::NFPROTO_UNSPEC as u8, Attrs::new()))?.is_empty())
}

#[cfg(test)]
mod tests;
