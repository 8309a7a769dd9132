//! berth's nftables rules as data, their `nft` text (the comment that tags them), and their
//! expressions in netlink form: what `nft` itself would send for the same rule (`nft --debug
//! netlink` shows the same register program).

use crate::network::firewall::nfnl::Attrs;
use crate::network::firewall::Subnet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    Postrouting,
    Forward,
}

impl Chain {
    pub fn name(self) -> &'static str {
        match self {
            Chain::Postrouting => "postrouting",
            Chain::Forward => "forward",
        }
    }

    /// The chain type (`nat`, `filter`).
    pub fn kind(self) -> &'static str {
        match self {
            Chain::Postrouting => "nat",
            Chain::Forward => "filter",
        }
    }

    /// NF_INET_POST_ROUTING, NF_INET_FORWARD.
    pub fn hook(self) -> u32 {
        match self {
            Chain::Postrouting => libc::NF_INET_POST_ROUTING as u32,
            Chain::Forward => libc::NF_INET_FORWARD as u32,
        }
    }

    /// srcnat (NF_IP_PRI_NAT_SRC) and filter (NF_IP_PRI_FILTER), as `nft` names them.
    pub fn priority(self) -> i32 {
        match self {
            Chain::Postrouting => 100,
            Chain::Forward => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Iif(String),
    Oif(String),
    NotOif(String),
    /// `oifname "bth-*"`: a prefix of the name.
    OifPrefix(String),
    /// `ip saddr` or `ip6 saddr` (the table's family decides which header it reads).
    Saddr(Subnet),
    /// `ct state established,related`.
    CtReplies,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Drop,
    Masquerade,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub chain: Chain,
    pub matches: Vec<Match>,
    pub verdict: Verdict,
}

const NFT_REG_VERDICT: u32 = 0;
const NFT_REG_1: u32 = 1;
const NFT_META_IIFNAME: u32 = 6;
const NFT_META_OIFNAME: u32 = 7;
const NFT_CMP_EQ: u32 = 0;
const NFT_CMP_NEQ: u32 = 1;
const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
const NFT_CT_STATE: u32 = 0;
/// NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED), in host order as the
/// ct expression loads it.
const CT_ESTABLISHED_RELATED: u32 = (1 << 1) | (1 << 2);
const IFNAMSIZ: usize = 16;

const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;

impl Rule {
    pub fn new(chain: Chain, matches: Vec<Match>, verdict: Verdict) -> Self {
        Rule { chain, matches, verdict }
    }

    /// The rule in `nft` syntax, e.g. `iifname "bth-1" oifname "bth-*" drop`.
    pub fn text(&self) -> String {
        let mut words: Vec<String> = self
            .matches
            .iter()
            .map(|m| match m {
                Match::Iif(n) => format!("iifname \"{n}\""),
                Match::Oif(n) => format!("oifname \"{n}\""),
                Match::NotOif(n) => format!("oifname != \"{n}\""),
                Match::OifPrefix(p) => format!("oifname \"{p}*\""),
                Match::Saddr(Subnet::V4(net)) => format!("ip saddr {net}"),
                Match::Saddr(Subnet::V6(net)) => format!("ip6 saddr {net}"),
                Match::CtReplies => "ct state established,related".to_string(),
            })
            .collect();
        words.push(
            match self.verdict {
                Verdict::Accept => "accept",
                Verdict::Drop => "drop",
                Verdict::Masquerade => "masquerade",
            }
            .to_string(),
        );
        words.join(" ")
    }

    /// NFTA_RULE_EXPRESSIONS: each match loads register 1 and compares it, then the verdict.
    pub fn exprs(&self) -> Attrs {
        let mut list: Vec<Attrs> = Vec::new();
        for m in &self.matches {
            match m {
                Match::Iif(n) => list.extend([meta(NFT_META_IIFNAME), cmp(NFT_CMP_EQ, &ifname(n))]),
                Match::Oif(n) => list.extend([meta(NFT_META_OIFNAME), cmp(NFT_CMP_EQ, &ifname(n))]),
                Match::NotOif(n) => list.extend([meta(NFT_META_OIFNAME), cmp(NFT_CMP_NEQ, &ifname(n))]),
                // Comparing only the prefix's bytes of the loaded name, as `nft` does for `*`.
                Match::OifPrefix(p) => list.extend([meta(NFT_META_OIFNAME), cmp(NFT_CMP_EQ, p.as_bytes())]),
                Match::Saddr(Subnet::V4(net)) => list.extend([
                    // ip saddr: 4 bytes at offset 12 of the network header.
                    payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4),
                    bitwise(&prefix_mask(net.prefix()).to_be_bytes(), &[0; 4]),
                    cmp(NFT_CMP_EQ, &net.addr().octets()),
                ]),
                Match::Saddr(Subnet::V6(net)) => list.extend([
                    // ip6 saddr: 16 bytes at offset 8 of the network header.
                    payload(NFT_PAYLOAD_NETWORK_HEADER, 8, 16),
                    bitwise(&prefix_mask6(net.prefix()).to_be_bytes(), &[0; 16]),
                    cmp(NFT_CMP_EQ, &net.addr().octets()),
                ]),
                Match::CtReplies => list.extend([
                    ct(NFT_CT_STATE),
                    bitwise(&CT_ESTABLISHED_RELATED.to_ne_bytes(), &[0; 4]),
                    cmp(NFT_CMP_NEQ, &[0; 4]),
                ]),
            }
        }
        list.push(match self.verdict {
            Verdict::Accept => verdict(libc::NF_ACCEPT as u32),
            Verdict::Drop => verdict(libc::NF_DROP as u32),
            Verdict::Masquerade => expr("masq", None),
        });
        list.into_iter().fold(Attrs::new(), |acc, e| acc.nested(NFTA_LIST_ELEM, e))
    }
}

fn prefix_mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix.min(32))).unwrap_or(0)
}

fn prefix_mask6(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix.min(128))).unwrap_or(0)
}

/// An interface name as the meta expression loads it: NUL-padded to IFNAMSIZ.
fn ifname(name: &str) -> Vec<u8> {
    let mut v = name.as_bytes()[..name.len().min(IFNAMSIZ - 1)].to_vec();
    v.resize(IFNAMSIZ, 0);
    v
}

fn expr(name: &str, data: Option<Attrs>) -> Attrs {
    let e = Attrs::new().str(NFTA_EXPR_NAME, name);
    match data {
        Some(d) => e.nested(NFTA_EXPR_DATA, d),
        None => e,
    }
}

fn meta(key: u32) -> Attrs {
    // NFTA_META_DREG = 1, NFTA_META_KEY = 2
    expr("meta", Some(Attrs::new().be32(2, key).be32(1, NFT_REG_1)))
}

fn cmp(op: u32, data: &[u8]) -> Attrs {
    // NFTA_CMP_SREG = 1, NFTA_CMP_OP = 2, NFTA_CMP_DATA = 3
    let value = Attrs::new().bytes(NFTA_DATA_VALUE, data);
    expr("cmp", Some(Attrs::new().be32(1, NFT_REG_1).be32(2, op).nested(3, value)))
}

fn payload(base: u32, offset: u32, len: u32) -> Attrs {
    // NFTA_PAYLOAD_DREG = 1, BASE = 2, OFFSET = 3, LEN = 4
    expr("payload", Some(Attrs::new().be32(1, NFT_REG_1).be32(2, base).be32(3, offset).be32(4, len)))
}

fn bitwise(mask: &[u8], xor: &[u8]) -> Attrs {
    // NFTA_BITWISE_SREG = 1, DREG = 2, LEN = 3, MASK = 4, XOR = 5
    let data = Attrs::new()
        .be32(1, NFT_REG_1)
        .be32(2, NFT_REG_1)
        .be32(3, mask.len() as u32)
        .nested(4, Attrs::new().bytes(NFTA_DATA_VALUE, mask))
        .nested(5, Attrs::new().bytes(NFTA_DATA_VALUE, xor));
    expr("bitwise", Some(data))
}

fn ct(key: u32) -> Attrs {
    // NFTA_CT_DREG = 1, NFTA_CT_KEY = 2
    expr("ct", Some(Attrs::new().be32(2, key).be32(1, NFT_REG_1)))
}

fn verdict(code: u32) -> Attrs {
    // NFTA_IMMEDIATE_DREG = 1, NFTA_IMMEDIATE_DATA = 2
    let data = Attrs::new().nested(NFTA_DATA_VERDICT, Attrs::new().be32(NFTA_VERDICT_CODE, code));
    expr("immediate", Some(Attrs::new().be32(1, NFT_REG_VERDICT).nested(2, data)))
}
