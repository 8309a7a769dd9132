//! One query in, one decision out: a reply built from the asking container's [`View`], a
//! forward upstream, or nothing (a packet that is not a query is never answered, so two
//! servers cannot be made to bounce packets at each other). Pure: no sockets, no clock; the
//! packet path's tests (and its property test over arbitrary bytes) run here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, PTR};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::table::View;

/// Seconds a local answer may be cached: short, so a recreated peer's new address is seen
/// soon by resolvers that cache (Java, nginx with `valid=`), as aardvark-dns does.
pub const LOCAL_TTL: u32 = 5;
/// The UDP payload berth answers within when the client offers EDNS (the DNS flag day 2020
/// size: no IP fragmentation).
pub const EDNS_PAYLOAD: u16 = 1232;
/// The classic UDP limit without EDNS.
const PLAIN_UDP: usize = 512;

#[derive(Debug, PartialEq)]
pub enum Outcome {
    Reply(Vec<u8>),
    /// Not one of ours: send the query, as it came, upstream.
    Forward,
    Drop,
}

/// Decide what to do with `packet` from a container whose view is `view`. `udp` limits the
/// reply's size (over it the answers are dropped and TC set, so the client retries over TCP).
pub fn answer(packet: &[u8], view: &View, udp: bool, seed: u64) -> Outcome {
    let query = match Message::from_vec(packet) {
        Ok(m) => m,
        // Unparseable: answer FORMERR when there is a header to answer to.
        Err(_) if packet.len() >= 12 && packet[2] & 0x80 == 0 => {
            return error_reply(u16::from_be_bytes([packet[0], packet[1]]), ResponseCode::FormErr)
        }
        Err(_) => return Outcome::Drop,
    };
    if query.message_type() != MessageType::Query {
        return Outcome::Drop;
    }
    if query.op_code() != OpCode::Query {
        return reply(&query, ResponseCode::NotImp, Vec::new(), false, udp);
    }
    let [q] = query.queries() else { return reply(&query, ResponseCode::FormErr, Vec::new(), false, udp) };
    let name = q.name().to_ascii().trim_end_matches('.').to_ascii_lowercase();
    if q.query_class() != DNSClass::IN {
        return if view.forward { Outcome::Forward } else { reply(&query, ResponseCode::Refused, vec![], false, udp) };
    }
    if q.query_type() == RecordType::PTR {
        if let Some(peer) = reverse_ip(&name).and_then(|ip| view.ptrs.get(&ip)) {
            let target = Name::from_ascii(format!("{peer}.")).unwrap_or_else(|_| Name::root());
            let rec = Record::from_rdata(q.name().clone(), LOCAL_TTL, RData::PTR(PTR(target)));
            return reply(&query, ResponseCode::NoError, vec![rec], true, udp);
        }
    } else if let Some(ips) = view.names.get(&name) {
        // A known name: its addresses for A, its IPv6 ones for AAAA (all replicas, shuffled:
        // round-robin), and an empty NOERROR for every other type, and for AAAA on IPv4-only
        // networks: a resolver must not take an NXDOMAIN for AAAA as "no such name" and drop
        // the A answer.
        let v4 = || shuffled(ips, seed).into_iter().map(|ip| RData::A(A(ip)));
        let v6 = || {
            let ips6 = view.names6.get(&name).map(Vec::as_slice).unwrap_or_default();
            shuffled(ips6, seed).into_iter().map(|ip| RData::AAAA(AAAA(ip)))
        };
        let data: Vec<RData> = match q.query_type() {
            RecordType::A => v4().collect(),
            RecordType::AAAA => v6().collect(),
            RecordType::ANY => v4().chain(v6()).collect(),
            _ => Vec::new(),
        };
        let answers = data.into_iter().map(|d| Record::from_rdata(q.name().clone(), LOCAL_TTL, d)).collect();
        return reply(&query, ResponseCode::NoError, answers, true, udp);
    }
    if view.forward {
        Outcome::Forward
    } else {
        reply(&query, ResponseCode::NXDomain, Vec::new(), true, udp)
    }
}

/// A SERVFAIL for `packet` (the upstreams did not answer, or too many queries are in flight).
pub fn servfail(packet: &[u8]) -> Outcome {
    match Message::from_vec(packet) {
        Ok(q) => reply(&q, ResponseCode::ServFail, Vec::new(), false, true),
        Err(_) => Outcome::Drop,
    }
}

/// Whether `reply` is an answer to `query` (same id, QR set): what a forwarded reply must be
/// before it is passed back.
pub fn answers_query(query: &[u8], reply: &[u8]) -> bool {
    reply.len() >= 12 && query.len() >= 2 && reply[..2] == query[..2] && reply[2] & 0x80 != 0
}

fn reply(query: &Message, code: ResponseCode, answers: Vec<Record>, authoritative: bool, udp: bool) -> Outcome {
    let mut m = Message::new();
    m.set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(query.op_code())
        .set_authoritative(authoritative)
        .set_recursion_desired(query.recursion_desired())
        .set_recursion_available(true)
        .set_response_code(code);
    for q in query.queries() {
        m.add_query(q.clone());
    }
    let limit = match query.extensions() {
        Some(edns) => {
            let mut ours = Edns::new();
            ours.set_max_payload(EDNS_PAYLOAD);
            m.set_edns(ours);
            usize::from(edns.max_payload().clamp(PLAIN_UDP as u16, EDNS_PAYLOAD))
        }
        None => PLAIN_UDP,
    };
    let count = answers.len();
    m.add_answers(answers);
    match m.to_vec() {
        Ok(bytes) if !udp || bytes.len() <= limit => Outcome::Reply(bytes),
        Ok(_) if count > 0 => {
            m.take_answers();
            m.set_truncated(true);
            m.to_vec().map(Outcome::Reply).unwrap_or(Outcome::Drop)
        }
        _ => Outcome::Drop,
    }
}

fn error_reply(id: u16, code: ResponseCode) -> Outcome {
    let mut m = Message::new();
    m.set_id(id).set_message_type(MessageType::Response).set_response_code(code);
    m.to_vec().map(Outcome::Reply).unwrap_or(Outcome::Drop)
}

/// `4.3.2.1.in-addr.arpa` → 1.2.3.4; the 32 nibbles of `….ip6.arpa` → an IPv6 address.
fn reverse_ip(name: &str) -> Option<IpAddr> {
    if let Some(rest) = name.strip_suffix(".ip6.arpa") {
        let nibbles: Vec<u32> =
            rest.split('.').map(|n| u32::from_str_radix(n, 16).ok().filter(|_| n.len() == 1)).collect::<Option<_>>()?;
        if nibbles.len() != 32 {
            return None;
        }
        let value = nibbles.iter().rev().fold(0u128, |acc, n| (acc << 4) | u128::from(*n));
        return Some(IpAddr::V6(Ipv6Addr::from(value)));
    }
    let rest = name.strip_suffix(".in-addr.arpa")?;
    let octets: Vec<u8> = rest.split('.').map(|o| o.parse::<u8>().ok()).collect::<Option<_>>()?;
    match octets[..] {
        [d, c, b, a] => Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d))),
        _ => None,
    }
}

/// `ips` in an order drawn from `seed` (Fisher–Yates over a splitmix64 stream).
fn shuffled<T: Copy>(ips: &[T], seed: u64) -> Vec<T> {
    let mut v = ips.to_vec();
    let mut x = seed;
    for i in (1..v.len()).rev() {
        // splitmix64: every bit of the seed reaches the high bits used.
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        v.swap(i, ((z >> 32) % (i as u64 + 1)) as usize);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use proptest::prelude::*;

    fn view() -> View {
        let mut v = View { forward: true, ..Default::default() };
        v.names.insert("web".into(), vec![Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3)]);
        v.ptrs.insert(Ipv4Addr::new(10, 0, 0, 2).into(), "p-web-1".into());
        v
    }

    fn query(name: &str, t: RecordType, edns: bool) -> Vec<u8> {
        let mut m = Message::new();
        m.set_id(0x1234).set_recursion_desired(true);
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
        if edns {
            let mut e = Edns::new();
            e.set_max_payload(4096);
            m.set_edns(e);
        }
        m.to_vec().unwrap()
    }

    fn parse(o: Outcome) -> Message {
        match o {
            Outcome::Reply(b) => Message::from_vec(&b).unwrap(),
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    #[test]
    fn a_records_for_every_replica_case_insensitively() {
        let m = parse(answer(&query("WEB.", RecordType::A, false), &view(), true, 7));
        assert_eq!(m.id(), 0x1234);
        assert_eq!(m.response_code(), ResponseCode::NoError);
        assert!(m.authoritative() && m.recursion_available());
        let mut ips: Vec<String> = m.answers().iter().map(|r| r.data().to_string()).collect();
        ips.sort();
        assert_eq!(ips, ["10.0.0.2", "10.0.0.3"]);
        assert!(m.answers().iter().all(|r| r.ttl() == LOCAL_TTL));
    }

    #[test]
    fn replicas_come_in_changing_order() {
        let firsts: std::collections::BTreeSet<String> = (0..64)
            .map(|seed| {
                parse(answer(&query("web", RecordType::A, false), &view(), true, seed)).answers()[0].data().to_string()
            })
            .collect();
        assert_eq!(firsts.len(), 2, "both replicas lead sometimes: {firsts:?}");
    }

    #[test]
    fn aaaa_of_a_known_name_is_empty_not_nxdomain() {
        let m = parse(answer(&query("web", RecordType::AAAA, false), &view(), true, 1));
        assert_eq!(m.response_code(), ResponseCode::NoError);
        assert!(m.answers().is_empty());
    }

    #[test]
    fn aaaa_and_ip6_ptr_on_ipv6_networks() {
        let mut v = view();
        let ip6: Ipv6Addr = "fd00:1::2".parse().unwrap();
        v.names6.insert("web".into(), vec![ip6]);
        v.ptrs.insert(ip6.into(), "p-web-1".into());
        let m = parse(answer(&query("web", RecordType::AAAA, false), &v, true, 1));
        let got: Vec<String> = m.answers().iter().map(|r| r.data().to_string()).collect();
        assert_eq!(got, ["fd00:1::2"]);
        let any = parse(answer(&query("web", RecordType::ANY, false), &v, true, 1));
        assert_eq!(any.answers().len(), 3, "both A records and the AAAA");
        let rev = "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa.";
        let m = parse(answer(&query(rev, RecordType::PTR, false), &v, true, 1));
        assert_eq!(m.answers()[0].data().to_string(), "p-web-1.");
        assert_eq!(reverse_ip("1.2.ip6.arpa"), None, "too few nibbles");
        assert_eq!(reverse_ip(rev.replace("2.0.0", "22.0").trim_end_matches('.')), None);
    }

    #[test]
    fn reverse_lookup_names_the_container() {
        let m = parse(answer(&query("2.0.0.10.in-addr.arpa.", RecordType::PTR, false), &view(), true, 1));
        assert_eq!(m.answers()[0].data().to_string(), "p-web-1.");
    }

    #[test]
    fn unknown_names_go_upstream_or_nowhere_on_internal_networks() {
        assert_eq!(answer(&query("example.org", RecordType::A, false), &view(), true, 1), Outcome::Forward);
        let internal = View { forward: false, ..view() };
        let m = parse(answer(&query("example.org", RecordType::A, false), &internal, true, 1));
        assert_eq!(m.response_code(), ResponseCode::NXDomain);
        // A reverse lookup of an address that is not a peer's: upstream too.
        assert_eq!(answer(&query("9.9.9.9.in-addr.arpa", RecordType::PTR, false), &view(), true, 1), Outcome::Forward);
    }

    #[test]
    fn too_many_replicas_for_udp_set_tc_and_tcp_gets_them_all() {
        let mut v = view();
        let many: Vec<Ipv4Addr> = (0..200u8).map(|i| Ipv4Addr::new(10, 0, 1, i)).collect();
        v.names.insert("big".into(), many);
        let udp = match answer(&query("big", RecordType::A, false), &v, true, 1) {
            Outcome::Reply(b) => b,
            o => panic!("{o:?}"),
        };
        assert!(udp.len() <= PLAIN_UDP);
        let m = Message::from_vec(&udp).unwrap();
        assert!(m.truncated() && m.answers().is_empty());
        let with_edns = parse(answer(&query("big", RecordType::A, true), &v, true, 1));
        assert!(with_edns.truncated(), "200 records exceed 1232 bytes too");
        let tcp = parse(answer(&query("big", RecordType::A, false), &v, false, 1));
        assert_eq!(tcp.answers().len(), 200);
    }

    #[test]
    fn responses_and_garbage_are_not_answered_or_get_formerr() {
        let mut resp = query("web", RecordType::A, false);
        resp[2] |= 0x80;
        assert_eq!(answer(&resp, &view(), true, 1), Outcome::Drop);
        assert_eq!(answer(b"abc", &view(), true, 1), Outcome::Drop);
        let mut junk = vec![0xAB, 0xCD, 0x01, 0x00, 0, 5, 0, 0, 0, 0, 0, 0];
        junk.extend_from_slice(&[0xFF; 20]);
        let m = parse(answer(&junk, &view(), true, 1));
        assert_eq!((m.id(), m.response_code()), (0xABCD, ResponseCode::FormErr));
    }

    #[test]
    fn forwarded_replies_must_match_the_query() {
        let q = query("example.org", RecordType::A, false);
        let mut r = q.clone();
        r[2] |= 0x80;
        assert!(answers_query(&q, &r));
        r[0] ^= 1;
        assert!(!answers_query(&q, &r), "another id");
        assert!(!answers_query(&q, &q), "not a response");
    }

    proptest! {
        // The packet path never panics, never answers a response, and never replies with
        // more than the UDP limit, whatever the bytes.
        #[test]
        fn any_bytes_are_handled(bytes in proptest::collection::vec(any::<u8>(), 0..600), seed in any::<u64>()) {
            match answer(&bytes, &view(), true, seed) {
                Outcome::Reply(r) => {
                    prop_assert!(r.len() <= usize::from(EDNS_PAYLOAD));
                    prop_assert!(bytes.len() >= 12 && bytes[2] & 0x80 == 0);
                }
                Outcome::Forward | Outcome::Drop => {}
            }
        }

        #[test]
        fn any_name_and_type_is_answered_within_limits(name in "[a-z0-9][a-z0-9-]{0,19}(\\.[a-z0-9][a-z0-9-]{0,19}){0,3}", t in any::<u16>()) {
            let q = query(&name, RecordType::from(t), false);
            if let Outcome::Reply(r) = answer(&q, &view(), true, 1) {
                prop_assert!(r.len() <= PLAIN_UDP);
                prop_assert!(answers_query(&q, &r));
            }
        }
    }
}
