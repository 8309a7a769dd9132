//! Message building and drift logic of the nftables driver, without a kernel.

use super::*;
use crate::network::firewall::nfnl::attrs;

const BR: &str = "bth-12345678";

fn subnet() -> Subnet {
    Subnet::V4("10.213.7.0/24".parse().unwrap())
}

/// The expression names of a rule, in order.
fn expr_names(rule: &Rule) -> Vec<String> {
    attrs(&rule.exprs().0).map(|(_, e)| nfnl::attr_str(e, 1).unwrap()).collect()
}

/// The NFTA_EXPR_DATA of the `n`th expression.
fn expr_data(rule: &Rule, n: usize) -> Vec<u8> {
    let list = rule.exprs();
    let e = attrs(&list.0).nth(n).unwrap().1.to_vec();
    nfnl::attr(&e, 2).unwrap().to_vec()
}

#[test]
fn the_rules_match_the_iptables_drivers() {
    let ext = rules(BR, subnet(), false);
    let text: Vec<String> = ext.iter().map(|r| format!("{}: {}", r.chain.name(), r.text())).collect();
    assert_eq!(
        text,
        vec![
            "postrouting: ip saddr 10.213.7.0/24 oifname != \"bth-12345678\" masquerade",
            "forward: iifname \"bth-12345678\" oifname \"bth-12345678\" accept",
            "forward: iifname \"bth-12345678\" oifname \"bth-*\" drop",
            "forward: iifname \"bth-12345678\" accept",
            "forward: oifname \"bth-12345678\" ct state established,related accept",
        ]
    );
    let int = rules(BR, subnet(), true);
    assert!(int.iter().all(|r| r.chain == Chain::Forward), "no NAT for internal networks");
    assert_eq!(int[1].text(), "iifname \"bth-12345678\" drop");
    assert_eq!(int[2].text(), "oifname \"bth-12345678\" drop");
}

#[test]
fn expressions_are_the_register_programs_nft_would_send() {
    let ext = rules(BR, subnet(), false);
    assert_eq!(expr_names(&ext[0]), ["payload", "bitwise", "cmp", "meta", "cmp", "masq"]);
    assert_eq!(expr_names(&ext[2]), ["meta", "cmp", "meta", "cmp", "immediate"]);
    assert_eq!(expr_names(&ext[4]), ["meta", "cmp", "ct", "bitwise", "cmp", "immediate"]);
    // ip saddr 10.213.7.0/24: 4 bytes at offset 12 of the network header, masked, compared.
    let payload = expr_data(&ext[0], 0);
    assert_eq!(nfnl::attr(&payload, 3), Some(&12u32.to_be_bytes()[..]));
    let mask = nfnl::attr(&expr_data(&ext[0], 1), 4).map(|v| nfnl::attr(v, 1).unwrap().to_vec());
    assert_eq!(mask, Some(vec![255, 255, 255, 0]));
    let value = nfnl::attr(&expr_data(&ext[0], 2), 3).map(|v| nfnl::attr(v, 1).unwrap().to_vec());
    assert_eq!(value, Some(vec![10, 213, 7, 0]));
    // oifname != bridge: NEQ against the NUL-padded 16-byte name.
    let ne = expr_data(&ext[0], 4);
    assert_eq!(nfnl::attr(&ne, 2), Some(&1u32.to_be_bytes()[..]));
    let name = nfnl::attr(nfnl::attr(&ne, 3).unwrap(), 1).unwrap();
    assert_eq!(name.len(), 16);
    assert!(name.starts_with(BR.as_bytes()) && name[BR.len()..].iter().all(|b| *b == 0));
    // oifname "bth-*": only the prefix's bytes are compared.
    let prefix = nfnl::attr(nfnl::attr(&expr_data(&ext[2], 3), 3).unwrap(), 1).unwrap().to_vec();
    assert_eq!(prefix, b"bth-");
    // The drop verdict: NF_DROP (0) into the verdict register.
    let imm = expr_data(&ext[2], 4);
    assert_eq!(nfnl::attr(&imm, 1), Some(&0u32.to_be_bytes()[..]));
    let code = nfnl::attr(nfnl::attr(nfnl::attr(&imm, 2).unwrap(), 2).unwrap(), 1).unwrap();
    assert_eq!(code, 0u32.to_be_bytes());
}

#[test]
fn an_ipv6_subnet_masquerades_on_the_ip6_source_address() {
    let v6 = rules(BR, Subnet::V6("fd00:1:2:3::/64".parse().unwrap()), false);
    assert_eq!(v6[0].text(), "ip6 saddr fd00:1:2:3::/64 oifname != \"bth-12345678\" masquerade");
    // 16 bytes at offset 8 of the IPv6 header, the /64 mask, the prefix.
    let payload = expr_data(&v6[0], 0);
    assert_eq!(nfnl::attr(&payload, 3), Some(&8u32.to_be_bytes()[..]));
    assert_eq!(nfnl::attr(&payload, 4), Some(&16u32.to_be_bytes()[..]));
    let mask = nfnl::attr(&expr_data(&v6[0], 1), 4).map(|v| nfnl::attr(v, 1).unwrap().to_vec());
    let mut want = vec![255u8; 8];
    want.extend([0u8; 8]);
    assert_eq!(mask, Some(want));
    let value = nfnl::attr(&expr_data(&v6[0], 2), 3).map(|v| nfnl::attr(v, 1).unwrap().to_vec()).unwrap();
    assert_eq!(value[..6], [0xfd, 0x00, 0x00, 0x01, 0x00, 0x02]);
    // The same chains, in the ip6 family.
    let empty = Ruleset { family: Family::V6, ..Ruleset::default() };
    let batch = empty.repair_batch(BR, &v6);
    assert!(batch.iter().all(|m| m.family == libc::NFPROTO_IPV6 as u8));
    assert_eq!(describe(&batch[0]), "add table ip6 berth");
}

fn listed(chain: &str, handle: u64, bridge: &str, rule: &Rule) -> ListedRule {
    ListedRule { chain: chain.into(), handle, comment: Some(comment(bridge, rule)) }
}

/// A table holding `wanted` of BR (and one rule of another network) as the kernel lists it.
fn table_with(wanted: &[Rule]) -> Ruleset {
    let other = rules("bth-00000000", Subnet::V4("10.213.8.0/24".parse().unwrap()), true);
    let mut rules: Vec<ListedRule> = vec![listed("forward", 1, "bth-00000000", &other[0])];
    rules.extend(wanted.iter().enumerate().map(|(i, r)| listed(r.chain.name(), 10 + i as u64, BR, r)));
    Ruleset { family: Family::V4, genid: 7, table: true, chains: vec!["postrouting".into(), "forward".into()], rules }
}

#[test]
fn a_complete_network_needs_no_batch() {
    let ext = rules(BR, subnet(), false);
    let present = table_with(&ext);
    assert!(present.check(BR, &ext).is_ok());
    assert!(present.repair_batch(BR, &ext).is_empty());
}

#[test]
fn an_empty_host_gets_table_chains_and_rules_in_one_batch() {
    let ext = rules(BR, subnet(), false);
    let empty = Ruleset::default();
    let check = empty.check(BR, &ext);
    assert_eq!(check.missing.len(), 5);
    assert_eq!(check.missing[0], "postrouting: ip saddr 10.213.7.0/24 oifname != \"bth-12345678\" masquerade");
    let batch = empty.repair_batch(BR, &ext);
    let kinds: Vec<u16> = batch.iter().map(|m| m.ty).collect();
    use nfnl::{NFT_MSG_NEWCHAIN as C, NFT_MSG_NEWRULE as R, NFT_MSG_NEWTABLE as T};
    assert_eq!(kinds, [T, C, C, R, R, R, R, R]);
    assert!(batch.iter().all(|m| m.family == libc::NFPROTO_IPV4 as u8));
    assert_eq!(describe(&batch[1]), "add chain postrouting");
    assert_eq!(describe(&batch[3]), format!("add rule {}", comment(BR, &ext[0])));
    // A base chain: hook, priority, policy accept, type.
    let hook = nfnl::attr(&batch[1].attrs.0, NFTA_CHAIN_HOOK).unwrap();
    assert_eq!(nfnl::attr(hook, NFTA_HOOK_HOOKNUM), Some(&4u32.to_be_bytes()[..]));
    assert_eq!(nfnl::attr(hook, NFTA_HOOK_PRIORITY), Some(&100u32.to_be_bytes()[..]));
    assert_eq!(nfnl::attr_str(&batch[1].attrs.0, NFTA_CHAIN_TYPE).as_deref(), Some("nat"));
    assert_eq!(nfnl::attr(&batch[2].attrs.0, NFTA_CHAIN_POLICY), Some(&1u32.to_be_bytes()[..]));
    // Internal networks need no nat chain.
    let int = rules(BR, subnet(), true);
    assert_eq!(empty.repair_batch(BR, &int).iter().filter(|m| m.ty == C).count(), 1);
}

#[test]
fn a_partly_deleted_set_is_rewritten_whole() {
    // The internal network's DROPs went, its ACCEPT stayed: delete it and append all three.
    let int = rules(BR, subnet(), true);
    let present = table_with(&int[..1]);
    let check = present.check(BR, &int);
    assert_eq!(check.missing, vec!["forward: iifname \"bth-12345678\" drop", "forward: oifname \"bth-12345678\" drop"]);
    let batch = present.repair_batch(BR, &int);
    let kinds: Vec<u16> = batch.iter().map(|m| m.ty).collect();
    use nfnl::{NFT_MSG_DELRULE as D, NFT_MSG_NEWRULE as R, NFT_MSG_NEWTABLE as T};
    assert_eq!(kinds, [T, D, R, R, R]);
    assert_eq!(nfnl::attr_be64(&batch[1].attrs.0, NFTA_RULE_HANDLE), Some(10));
}

#[test]
fn rules_out_of_order_are_reported() {
    let ext = rules(BR, subnet(), false);
    let swapped = vec![ext[0].clone(), ext[1].clone(), ext[3].clone(), ext[2].clone(), ext[4].clone()];
    let present = table_with(&swapped);
    let check = present.check(BR, &ext);
    assert!(check.missing.is_empty() && check.misordered);
    assert_eq!(present.repair_batch(BR, &ext).iter().filter(|m| m.ty == nfnl::NFT_MSG_DELRULE).count(), 5);
}

#[test]
fn removal_deletes_one_networks_rules_and_the_table_with_the_last() {
    let ext = rules(BR, subnet(), false);
    let present = table_with(&ext);
    let batch = present.remove_batch(BR);
    assert_eq!(batch.len(), 5);
    assert!(batch.iter().all(|m| m.ty == nfnl::NFT_MSG_DELRULE));
    let handles: Vec<u64> = batch.iter().filter_map(|m| nfnl::attr_be64(&m.attrs.0, NFTA_RULE_HANDLE)).collect();
    assert_eq!(handles, [10, 11, 12, 13, 14], "never the other network's rule 1");
    // The other network's removal then finds only its own rule left: the table goes.
    let mut last = present.clone();
    last.rules.retain(|r| r.handle == 1);
    let batch = last.remove_batch("bth-00000000");
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].ty, nfnl::NFT_MSG_DELTABLE);
    assert!(Ruleset::default().remove_batch(BR).is_empty(), "no table, nothing to do");
}

#[test]
fn comments_round_trip_through_userdata_and_bad_tlvs_stop() {
    let text = comment(BR, &rules(BR, subnet(), true)[0]);
    let udata = udata_comment(&text);
    assert_eq!(comment_of(&udata), Some(text));
    // A TLV claiming more than is there yields nothing rather than reading past the end.
    assert_eq!(comment_of(&[0, 40, b'a']), None);
    // Other TLVs first (nft may add its own) are skipped.
    assert_eq!(comment_of(&[9, 1, 0, 0, 3, b'h', b'i', 0]), Some("hi".into()));
}

#[test]
fn a_listed_rule_is_read_from_the_kernels_attributes() {
    let payload = Attrs::new()
        .str(NFTA_RULE_TABLE, TABLE)
        .str(NFTA_RULE_CHAIN, "forward")
        .be64(NFTA_RULE_HANDLE, 42)
        .bytes(NFTA_RULE_USERDATA, &udata_comment("bth-1: iifname \"bth-1\" drop"));
    let r = listed_rule(&payload.0).unwrap();
    assert_eq!((r.chain.as_str(), r.handle), ("forward", 42));
    assert_eq!(r.comment.as_deref(), Some("bth-1: iifname \"bth-1\" drop"));
    let other = Attrs::new().str(NFTA_RULE_TABLE, "filter").str(NFTA_RULE_CHAIN, "forward").be64(3, 1);
    assert_eq!(listed_rule(&other.0), None, "another table's rule is not berth's");
}
