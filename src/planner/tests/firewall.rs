//! Golden tests for firewall drift: an existing network whose rules another tool deleted gets
//! them back, before any container is created on it, and nothing else changes.

use super::*;

const TWO_NETS: &str = "
name: demo
services:
  web:
    image: nginx:1.27
    networks: {front: {}, back: {}}
  db:
    image: postgres:16
    networks: {back: {}}
networks:
  front: {name: demo_front}
  back: {name: demo_back, internal: true}
";

fn drift(missing: &[&str], misordered: bool) -> FirewallDrift {
    FirewallDrift { missing: missing.iter().map(|s| s.to_string()).collect(), misordered }
}

const INTERNAL_RULES: [&str; 3] = [
    "filter: -A FORWARD -i bth-1 -o bth-1 -j ACCEPT",
    "filter: -A FORWARD -i bth-1 -j DROP",
    "filter: -A FORWARD -o bth-1 -j DROP",
];

#[test]
fn missing_rules_of_an_unchanged_stack_are_restored_and_nothing_else() {
    let s = stack(TWO_NETS);
    let mut a = up_state(&s);
    a.firewall_drift.insert("demo_back".into(), drift(&INTERNAL_RULES, false));
    let expected = "~ network  demo_back        (restore firewall rules: 3 missing)\n";
    assert_eq!(text(&s, &a, &PlanOptions::default()), expected);
    // `up web` (or --no-deps) still repairs: isolation belongs to the network, not a service.
    let only_web = PlanOptions { services: vec!["web".into()], no_deps: true, ..Default::default() };
    assert_eq!(text(&s, &a, &only_web), expected);
}

#[test]
fn every_drifted_network_is_listed_with_what_is_wrong() {
    let s = stack(TWO_NETS);
    let mut a = up_state(&s);
    a.firewall_drift.insert("demo_front".into(), drift(&[], true));
    a.firewall_drift.insert("demo_back".into(), drift(&INTERNAL_RULES[1..], true));
    assert_eq!(
        text(&s, &a, &PlanOptions::default()),
        "\
~ network  demo_front       (restore firewall rules: out of order)
~ network  demo_back        (restore firewall rules: 2 missing, out of order)
"
    );
}

#[test]
fn a_container_created_on_a_drifted_network_waits_for_its_repair() {
    let before = stack(TWO_NETS);
    let after = stack(&TWO_NETS.replace("image: postgres:16", "image: postgres:17"));
    let mut a = up_state(&before);
    a.images.push(ImageState { id: "sha256:pg17".into(), references: vec!["postgres:17".into()] });
    a.firewall_drift.insert("demo_back".into(), drift(&INTERNAL_RULES, false));
    let p = plan(&after, &a, &PlanOptions::default()).unwrap();
    assert_eq!(
        render_text(&p),
        "\
~ network  demo_back        (restore firewall rules: 3 missing)
~ recreate demo-db-1        (image)
"
    );
    assert_eq!(render_levels(&p), "0: network demo_back\n1: recreate demo-db-1\n2: start demo-db-1\n");
    let json = render_json(&p).unwrap();
    assert!(json.contains(r#""kind": "repair_firewall""#), "{json}");
    assert!(json.contains(r#""misordered": false"#), "{json}");
    assert!(json.contains("filter: -A FORWARD -i bth-1 -j DROP"), "{json}");
}

#[test]
fn drift_of_a_network_that_is_not_the_projects_is_ignored() {
    let s = stack(TWO_NETS);
    let mut a = up_state(&s);
    // Not an existing network of the project (gone meanwhile), and an external one.
    a.firewall_drift.insert("demo_gone".into(), drift(&INTERNAL_RULES, false));
    a.networks.insert("proxy".into(), NetworkState { name: "proxy".into(), project: None, external: true });
    a.firewall_drift.insert("proxy".into(), drift(&INTERNAL_RULES, false));
    assert_eq!(text(&s, &a, &PlanOptions::default()), "nothing to do: the stack is up to date\n");
}

#[test]
fn down_removes_a_drifted_network_without_repairing_it() {
    let s = stack(TWO_NETS);
    let mut a = up_state(&s);
    a.firewall_drift.insert("demo_back".into(), drift(&INTERNAL_RULES, false));
    let text = render_text(&plan_down("demo", &a, &DownOptions::default()));
    assert!(!text.contains("restore"), "{text}");
    assert!(text.contains("- network  demo_back"), "{text}");
}

#[test]
fn drift_round_trips_as_yaml_and_defaults_to_none() {
    let a: Actual = serde_yaml::from_str("networks: {}\n").unwrap();
    assert!(a.firewall_drift.is_empty());
    let mut b = Actual::default();
    b.firewall_drift.insert("demo_back".into(), drift(&INTERNAL_RULES[..1], false));
    let yaml = serde_yaml::to_string(&b).unwrap();
    assert_eq!(serde_yaml::from_str::<Actual>(&yaml).unwrap(), b);
}
