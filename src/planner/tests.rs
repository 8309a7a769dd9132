//! Golden tests: plans rendered as text and compared with the expected diff. Stacks are
//! written as YAML of the normalized model (what the loader produces), actual states are
//! derived from a stack as if `up` had run.

use std::collections::HashSet;

/// Firewall drift: repairs of existing networks' rules.
mod firewall;

use super::render::{render_json, render_levels, render_text};
use super::*;
use crate::spec::model::Stack;

fn stack(yaml: &str) -> Stack {
    serde_yaml::from_str(yaml).expect("test stack parses")
}

/// The state after a successful `up` of `s`: every container running (healthy when it has a
/// health check), every network, volume and image present.
fn up_state(s: &Stack) -> Actual {
    let mut a = Actual::default();
    for (name, svc) in &s.services {
        for n in 1..=svc.replicas() {
            a.containers.push(ContainerState {
                name: format!("{}-{name}-{n}", s.name),
                project: s.name.clone(),
                service: name.clone(),
                number: n,
                config_hash: config_hash(svc, s),
                config: Some(normalized_config(svc, s)),
                status: ContainerStatus::Running,
                health: svc.healthcheck.as_ref().map(|_| Health::Healthy),
                image_id: None,
                depends_on: svc.depends_on.keys().cloned().collect(),
                labels: Default::default(),
                anon_volumes: Default::default(),
            });
        }
        let image = svc.image.clone().unwrap_or_else(|| format!("{}-{name}", s.name));
        a.images.push(ImageState { id: format!("sha256:{image}"), references: vec![image] });
    }
    for n in s.networks.values() {
        a.networks.insert(
            n.name.clone(),
            NetworkState { name: n.name.clone(), project: Some(s.name.clone()), external: false },
        );
    }
    for v in s.volumes.values() {
        a.volumes.insert(
            v.name.clone(),
            VolumeState { name: v.name.clone(), project: Some(s.name.clone()), external: false },
        );
    }
    a
}

fn text(s: &Stack, a: &Actual, opts: &PlanOptions) -> String {
    render_text(&plan(s, a, opts).expect("plan"))
}

const APP: &str = "
name: demo
services:
  web:
    image: nginx:1.27
    environment: {MODE: prod}
    ports: [{target: 80, published: '8080'}]
    networks: {default: {}}
    depends_on:
      db: {condition: service_healthy, restart: true}
      cache: {condition: service_started}
  worker:
    image: demo/worker:1
    networks: {default: {}}
    depends_on:
      db: {condition: service_healthy}
  db:
    image: postgres:16
    environment: {POSTGRES_PASSWORD: secret}
    volumes: [{type: volume, source: data, target: /var/lib/postgresql/data}]
    networks: {default: {}}
    healthcheck: {test: [CMD, pg_isready]}
  cache:
    image: redis:7
    networks: {default: {}}
networks:
  default: {name: demo_default}
volumes:
  data: {name: demo_data}
";

#[test]
fn empty_actual_creates_everything_in_dependency_order() {
    let s = stack(APP);
    let expected = "\
+ network  demo_default
+ volume   demo_data
+ pull     postgres:16      (db)
+ pull     redis:7          (cache)
+ pull     nginx:1.27       (web)
+ pull     demo/worker:1    (worker)
+ create   demo-db-1        (image postgres:16)
+ create   demo-cache-1     (image redis:7)
+ create   demo-web-1       (image nginx:1.27)
+ create   demo-worker-1    (image demo/worker:1)
= wait     db               (healthy)
";
    assert_eq!(text(&s, &Actual::default(), &PlanOptions::default()), expected);
    let p = plan(&s, &Actual::default(), &PlanOptions::default()).unwrap();
    let levels = render_levels(&p);
    assert_eq!(
        levels,
        "\
0: network demo_default, volume demo_data, pull postgres:16, pull redis:7, pull nginx:1.27, pull demo/worker:1
1: create demo-db-1, create demo-cache-1, create demo-web-1, create demo-worker-1
2: start demo-db-1, start demo-cache-1
3: wait db
4: start demo-web-1, start demo-worker-1
"
    );
}

#[test]
fn unchanged_stack_gives_an_empty_plan() {
    let s = stack(APP);
    let p = plan(&s, &up_state(&s), &PlanOptions::default()).unwrap();
    assert!(p.is_empty());
    assert_eq!(render_text(&p), "nothing to do: the stack is up to date\n");
}

#[test]
fn one_changed_env_var_recreates_that_service_and_restart_true_dependents() {
    let before = stack(APP);
    let after = stack(&APP.replace("POSTGRES_PASSWORD: secret", "POSTGRES_PASSWORD: other"));
    // web depends on db with restart: true (restarted); worker without it (left alone).
    let expected = "\
~ recreate demo-db-1        (environment)
= wait     db               (healthy)
~ restart  demo-web-1       (db recreated)
";
    assert_eq!(text(&after, &up_state(&before), &PlanOptions::default()), expected);
}

#[test]
fn changed_leaf_recreates_only_itself() {
    let before = stack(APP);
    let after = stack(&APP.replace("MODE: prod", "MODE: dev"));
    assert_eq!(
        text(&after, &up_state(&before), &PlanOptions::default()),
        "~ recreate demo-web-1       (environment)\n"
    );
    let after = stack(&APP.replace("published: '8080'", "published: '8081'").replace("MODE: prod", "MODE: dev"));
    assert_eq!(
        text(&after, &up_state(&before), &PlanOptions::default()),
        "~ recreate demo-web-1       (environment, ports)\n"
    );
}

#[test]
fn recreate_without_recorded_config_says_config_changed() {
    let before = stack(APP);
    let mut actual = up_state(&before);
    actual.containers.iter_mut().for_each(|c| c.config = None);
    let after = stack(&APP.replace("MODE: prod", "MODE: dev"));
    assert_eq!(text(&after, &actual, &PlanOptions::default()), "~ recreate demo-web-1       (config changed)\n");
}

#[test]
fn cycle_names_every_service_in_order() {
    let s = stack(
        "
name: demo
services:
  a: {image: x, depends_on: {b: {condition: service_started}}}
  b: {image: x, depends_on: {c: {condition: service_started}}}
  c: {image: x, depends_on: {a: {condition: service_started}}}
  d: {image: x}
",
    );
    let err = plan(&s, &Actual::default(), &PlanOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "dependency cycle: a -> b -> c -> a");
    let own = stack("name: demo\nservices:\n  a: {image: x, links: [a]}\n");
    assert_eq!(ServiceGraph::new(&own).unwrap_err().to_string(), "dependency cycle: a -> a");
}

#[test]
fn network_mode_service_is_an_implicit_edge_and_cascades_recreate() {
    let yaml = "
name: demo
services:
  app: {image: app:1, network_mode: 'service:vpn'}
  vpn: {image: vpn:1, environment: {REGION: eu}, networks: {default: {}}}
networks:
  default: {name: demo_default}
";
    let s = stack(yaml);
    let p = plan(&s, &Actual::default(), &PlanOptions::default()).unwrap();
    assert_eq!(
        render_levels(&p),
        "\
0: network demo_default, pull vpn:1, pull app:1
1: create demo-vpn-1
2: start demo-vpn-1
3: create demo-app-1
4: start demo-app-1
"
    );
    let changed = stack(&yaml.replace("REGION: eu", "REGION: us"));
    assert_eq!(
        text(&changed, &up_state(&s), &PlanOptions::default()),
        "~ recreate demo-vpn-1       (environment)\n~ recreate demo-app-1       (vpn recreated)\n"
    );
}

#[test]
fn undefined_dependency_is_an_error() {
    let s = stack("name: demo\nservices:\n  a: {image: x, volumes_from: ['b:ro']}\n");
    assert_eq!(
        plan(&s, &Actual::default(), &PlanOptions::default()).unwrap_err().to_string(),
        "service `a` takes volumes_from `b`, which is not a service of the stack"
    );
    let optional = stack(
        "name: demo\nservices:\n  a: {image: x, depends_on: {b: {condition: service_started, required: false}}}\n",
    );
    assert!(plan(&optional, &Actual::default(), &PlanOptions::default()).is_ok());
}

const SCALED: &str = "
name: demo
services:
  web: {image: nginx, deploy: {replicas: 2}}
";

#[test]
fn scale_up_and_down() {
    let s = stack(SCALED);
    let actual = up_state(&s);
    let up = PlanOptions { scale: [("web".to_string(), 4)].into_iter().collect(), ..Default::default() };
    assert_eq!(
        text(&s, &actual, &up),
        "+ create   demo-web-3       (image nginx)\n+ create   demo-web-4       (image nginx)\n"
    );
    let down = PlanOptions { scale: [("web".to_string(), 1)].into_iter().collect(), ..Default::default() };
    assert_eq!(text(&s, &actual, &down), "- remove   demo-web-2       (scale down)\n");
    // Changing replicas in the file is scaling too, never a recreate.
    let three = stack(&SCALED.replace("replicas: 2", "replicas: 3"));
    assert_eq!(text(&three, &actual, &PlanOptions::default()), "+ create   demo-web-3       (image nginx)\n");
}

#[test]
fn orphans_are_reported_and_removed_on_request() {
    let old = stack("name: demo\nservices:\n  web: {image: nginx}\n  old: {image: busybox}\n");
    let new = stack("name: demo\nservices:\n  web: {image: nginx}\n");
    let actual = up_state(&old);
    assert_eq!(
        text(&new, &actual, &PlanOptions::default()),
        "! orphan   demo-old-1       (service `old` is not in the stack; --remove-orphans removes it)\n\
         nothing to do: the stack is up to date\n"
    );
    let opts = PlanOptions { remove_orphans: true, ..Default::default() };
    assert_eq!(text(&new, &actual, &opts), "- remove   demo-old-1       (orphan)\n");
}

#[test]
fn orphans_alone_touch_no_other_service() {
    // `run SERVICE --remove-orphans`: the orphans go; web, changed, is left as it is.
    let old = stack("name: demo\nservices:\n  web: {image: nginx}\n  old: {image: busybox}\n");
    let new = stack("name: demo\nservices:\n  web: {image: nginx:2}\n");
    let actual = up_state(&old);
    let removing = crate::planner::plan_orphans(&new, &actual, true).unwrap();
    assert_eq!(render_text(&removing), "- remove   demo-old-1       (orphan)\n");
    let noting = crate::planner::plan_orphans(&new, &actual, false).unwrap();
    assert!(noting.is_empty());
    assert_eq!(noting.notes().len(), 1);
    assert_eq!(crate::planner::plan_orphans(&old, &actual, true).unwrap().len(), 0);
}

const DIAMOND: &str = "
name: demo
services:
  d: {image: x, depends_on: {b: {condition: service_started}, c: {condition: service_started}}}
  b: {image: x, depends_on: {a: {condition: service_started}}}
  c: {image: x, depends_on: {a: {condition: service_started}}}
  a: {image: x}
";

#[test]
fn diamond_levels() {
    let s = stack(DIAMOND);
    let g = ServiceGraph::new(&s).unwrap();
    assert_eq!(g.levels(), vec![vec!["a"], vec!["b", "c"], vec!["d"]]);
    let p = plan(&s, &Actual::default(), &PlanOptions::default()).unwrap();
    assert_eq!(
        render_levels(&p),
        "\
0: pull x
1: create demo-a-1, create demo-b-1, create demo-c-1, create demo-d-1
2: start demo-a-1
3: start demo-b-1, start demo-c-1
4: start demo-d-1
"
    );
}

#[test]
fn ready_set_runs_the_whole_plan() {
    let s = stack(APP);
    let p = plan(&s, &Actual::default(), &PlanOptions::default()).unwrap();
    let mut done = HashSet::new();
    let mut rounds = 0;
    while done.len() < p.len() {
        let ready = p.ready(&done);
        assert!(!ready.is_empty(), "plan stalled");
        for id in &ready {
            assert!(p.dependencies(*id).iter().all(|d| done.contains(d)));
        }
        done.extend(ready);
        rounds += 1;
    }
    assert_eq!(rounds, p.levels().len());
}

#[test]
fn targets_bring_their_dependencies_unless_no_deps() {
    let s = stack(APP);
    let opts = PlanOptions { services: vec!["worker".into()], ..Default::default() };
    let out = text(&s, &Actual::default(), &opts);
    assert!(out.contains("create   demo-db-1") && out.contains("create   demo-worker-1"), "{out}");
    assert!(!out.contains("demo-web-1") && !out.contains("redis"), "{out}");
    let opts = PlanOptions { no_deps: true, ..opts };
    assert_eq!(
        text(&s, &Actual::default(), &opts),
        "+ network  demo_default\n+ pull     demo/worker:1    (worker)\n+ create   demo-worker-1    (image demo/worker:1)\n"
    );
    let bad = PlanOptions { services: vec!["nope".into()], ..Default::default() };
    assert_eq!(plan(&s, &Actual::default(), &bad).unwrap_err().to_string(), "no such service: `nope`");
}

#[test]
fn force_and_no_recreate() {
    let before = stack(SCALED);
    let actual = up_state(&before);
    let force = PlanOptions { force_recreate: true, ..Default::default() };
    assert_eq!(
        text(&before, &actual, &force),
        "~ recreate demo-web-1       (--force-recreate)\n~ recreate demo-web-2       (--force-recreate)\n"
    );
    let after = stack(&SCALED.replace("image: nginx", "image: nginx:2"));
    let keep = PlanOptions { no_recreate: true, ..Default::default() };
    assert_eq!(text(&after, &actual, &keep), "nothing to do: the stack is up to date\n");
    let both = PlanOptions { force_recreate: true, no_recreate: true, ..Default::default() };
    assert_eq!(
        plan(&after, &actual, &both).unwrap_err().to_string(),
        "--force-recreate and --no-recreate cannot be used together"
    );
}

#[test]
fn force_recreate_is_for_the_targets_and_always_recreate_deps_for_their_dependencies() {
    let s = stack("name: demo\nservices:\n  web: {image: nginx, depends_on: {db: {condition: service_started}}}\n  db: {image: postgres}\n");
    let actual = up_state(&s);
    let web = || vec!["web".to_string()];
    // As Compose: `up --force-recreate web` recreates web; db, a dependency, only if it changed.
    let force = PlanOptions { services: web(), force_recreate: true, ..Default::default() };
    assert_eq!(text(&s, &actual, &force), "~ recreate demo-web-1       (--force-recreate)\n");
    let deps = PlanOptions { services: web(), always_recreate_deps: true, ..Default::default() };
    assert_eq!(text(&s, &actual, &deps), "~ recreate demo-db-1        (--always-recreate-deps)\n");
    let both = PlanOptions { services: web(), force_recreate: true, always_recreate_deps: true, ..Default::default() };
    let recreated = |o: &PlanOptions| text(&s, &actual, o).lines().filter(|l| l.starts_with("~ recreate")).count();
    assert_eq!(recreated(&both), 2);
    // No service named: every service is a target.
    assert_eq!(recreated(&PlanOptions { force_recreate: true, ..Default::default() }), 2);
}

#[test]
fn all_resources_makes_the_networks_and_volumes_no_service_uses() {
    let s = stack("name: demo\nservices:\n  web: {image: nginx, networks: {front: {}}}\nnetworks:\n  front: {name: demo_front}\n  spare: {name: demo_spare}\nvolumes:\n  keep: {name: demo_keep}\n");
    let creates = |o: &PlanOptions| {
        text(&s, &Actual::default(), o)
            .lines()
            .filter(|l| l.contains("network") || l.contains("volume"))
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    };
    assert_eq!(creates(&PlanOptions::default()), ["+ network demo_front"]);
    let all = PlanOptions { all_resources: true, ..Default::default() };
    assert_eq!(creates(&all), ["+ network demo_front", "+ network demo_spare", "+ volume demo_keep"]);
}

#[test]
fn stopped_containers_are_started_and_finished_jobs_left_alone() {
    let s = stack(
        "
name: demo
services:
  migrate: {image: app:1}
  app: {image: app:1, depends_on: {migrate: {condition: service_completed_successfully}}}
  sidecar: {image: busybox}
",
    );
    let mut actual = up_state(&s);
    for c in &mut actual.containers {
        c.status = match c.service.as_str() {
            "migrate" => ContainerStatus::Exited(0),
            "sidecar" => ContainerStatus::Exited(137),
            _ => c.status,
        };
    }
    assert_eq!(text(&s, &actual, &PlanOptions::default()), "> start    demo-sidecar-1\n");
    // Recreating the app waits for nothing: its job already completed.
    let after = stack(&serde_yaml::to_string(&s).unwrap().replace("app:\n    image: app:1", "app:\n    image: app:2"));
    assert_eq!(
        text(&after, &actual, &PlanOptions::default()),
        "+ pull     app:2            (app)\n> start    demo-sidecar-1\n~ recreate demo-app-1       (image)\n"
    );
}

#[test]
fn json_lists_kinds_targets_dependencies_and_levels() {
    let s = stack(DIAMOND);
    let p = plan(&s, &Actual::default(), &PlanOptions::default()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&render_json(&p).unwrap()).unwrap();
    assert_eq!(v["project"], "demo");
    let actions = v["actions"].as_array().unwrap();
    assert_eq!(actions.len(), p.len());
    assert_eq!(actions[0]["kind"], "ensure_image");
    assert_eq!(actions[0]["target"], "x");
    let start_d = actions.iter().find(|a| a["kind"] == "start_container" && a["container"]["service"] == "d").unwrap();
    assert_eq!(start_d["level"], 4);
    assert_eq!(start_d["depends_on"].as_array().unwrap().len(), 3);
    assert_eq!(v["levels"].as_array().unwrap().len(), 5);
}

#[test]
fn down_stops_dependents_first_and_keeps_volumes_without_flag() {
    let s = stack(APP);
    let actual = up_state(&s);
    let p = plan_down("demo", &actual, &DownOptions::default());
    assert_eq!(
        render_levels(&p),
        "\
0: stop demo-web-1, stop demo-worker-1
1: stop demo-cache-1, stop demo-db-1, remove demo-web-1, remove demo-worker-1
2: remove demo-cache-1, remove demo-db-1
3: network demo_default
"
    );
    let v = plan_down("demo", &actual, &DownOptions { volumes: true });
    assert!(render_text(&v).ends_with("- network  demo_default\n- volume   demo_data\n"), "{}", render_text(&v));
}

#[test]
fn images_are_pulled_once_built_or_skipped_when_present() {
    let s = stack(
        "
name: demo
services:
  api: {build: {context: /src/api}}
  a: {image: busybox}
  b: {image: busybox, pull_policy: never}
  c: {image: busybox}
  d: {image: 'busybox:latest', pull_policy: always}
",
    );
    let p = plan(&s, &Actual::default(), &PlanOptions::default()).unwrap();
    let out = render_text(&p);
    assert!(
        out.starts_with("+ build    demo-api         (service api)\n+ pull     busybox          (a, c)\n"),
        "{out}"
    );
    assert!(out.contains("+ pull     busybox:latest   (d)\n"), "{out}");
    assert!(out.contains("+ create   demo-api-1       (image demo-api)\n"), "{out}");
    let present = Actual {
        images: vec![ImageState { id: "sha256:b".into(), references: vec!["busybox:latest".into()] }],
        ..Actual::default()
    };
    let out = text(&s, &present, &PlanOptions::default());
    assert!(!out.contains("(a, c)") && out.contains("+ pull     busybox:latest   (d)\n"), "{out}");
}

#[test]
fn external_networks_and_volumes_are_not_created() {
    let s = stack(
        "
name: demo
services:
  web: {image: x, networks: {proxy: {}}, volumes: [{type: volume, source: certs, target: /certs}]}
networks:
  proxy: {name: traefik, external: true}
volumes:
  certs: {name: certs, external: true}
",
    );
    assert_eq!(
        text(&s, &Actual::default(), &PlanOptions::default()),
        "+ pull     x                (web)\n+ create   demo-web-1       (image x)\n"
    );
}

#[test]
fn volumes_from_and_links_order_creates_and_starts() {
    let s = stack(
        "
name: demo
services:
  app: {image: x, volumes_from: ['data:ro'], links: ['log:logger'], ipc: 'service:log'}
  data: {image: x}
  log: {image: x}
",
    );
    let g = ServiceGraph::new(&s).unwrap();
    assert_eq!(g.order(), ["data", "log", "app"]);
    let p = plan(&s, &Actual::default(), &PlanOptions::default()).unwrap();
    assert_eq!(
        render_levels(&p),
        "\
0: pull x
1: create demo-data-1, create demo-log-1
2: start demo-data-1, start demo-log-1
3: create demo-app-1
4: start demo-app-1
"
    );
}

#[test]
fn ready_set_after_partial_progress() {
    let s = stack(DIAMOND);
    let p = plan(&s, &Actual::default(), &PlanOptions::default()).unwrap();
    let first: HashSet<ActionId> = p.ready(&HashSet::new()).into_iter().collect();
    assert_eq!(first.len(), 1);
    let second = p.ready(&first);
    assert_eq!(second.len(), 4, "all four creates may run together after the pull");
    assert!(second.iter().all(|id| p.action(*id).kind() == "create_container"));
}

#[test]
fn recreate_hands_anonymous_volumes_over_and_dash_v_renews_them() {
    let before = stack(SCALED);
    let mut actual = up_state(&before);
    for c in &mut actual.containers {
        c.anon_volumes.insert("/data".into(), format!("{}-vol", c.name));
    }
    // Same stack: the generated volume names are not config, so nothing to do.
    assert_eq!(text(&before, &actual, &PlanOptions::default()), "nothing to do: the stack is up to date\n");
    let after = stack(&SCALED.replace("image: nginx", "image: nginx, environment: {A: '1'}"));
    assert_eq!(
        text(&after, &actual, &PlanOptions::default()),
        "~ recreate demo-web-1       (environment; keeps anonymous volumes at /data)\n\
         ~ recreate demo-web-2       (environment; keeps anonymous volumes at /data)\n"
    );
    let p = plan(&after, &actual, &PlanOptions::default()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&render_json(&p).unwrap()).unwrap();
    let first = v["actions"].as_array().unwrap().iter().find(|a| a["kind"] == "recreate_container").unwrap();
    assert_eq!(first["inherit_volumes"], serde_json::json!({"/data": "demo-web-1-vol"}));
    let renew = PlanOptions { renew_anon_volumes: true, ..Default::default() };
    assert_eq!(
        text(&before, &actual, &renew),
        "~ recreate demo-web-1       (--renew-anon-volumes; new anonymous volumes at /data)\n\
         ~ recreate demo-web-2       (--renew-anon-volumes; new anonymous volumes at /data)\n"
    );
    let p = plan(&before, &actual, &renew).unwrap();
    let Action::RecreateContainer { inherit_volumes, renew_volumes, .. } = p.action(p.ids().next().unwrap()) else {
        panic!("not a recreate")
    };
    assert!(inherit_volumes.is_empty());
    assert_eq!(renew_volumes.get("/data").map(String::as_str), Some("demo-web-1-vol"));
    let both = PlanOptions { renew_anon_volumes: true, no_recreate: true, ..Default::default() };
    assert_eq!(
        plan(&before, &actual, &both).unwrap_err().to_string(),
        "--renew-anon-volumes and --no-recreate cannot be used together"
    );
}

#[test]
fn no_start_creates_but_starts_and_awaits_nothing() {
    let s = stack(
        "name: demo\nservices:\n  web: {image: nginx, depends_on: {db: {condition: service_healthy}}}\n  db: {image: pg, healthcheck: {test: [CMD, 'true']}}\n",
    );
    let opts = PlanOptions { no_start: true, ..Default::default() };
    let kinds = |a: &Actual| {
        let p = plan(&s, a, &opts).expect("plan");
        p.ids().map(|id| p.action(id).kind()).collect::<Vec<_>>()
    };
    let fresh = kinds(&Actual::default());
    assert_eq!(fresh.iter().filter(|k| **k == "create_container").count(), 2, "{fresh:?}");
    assert!(!fresh.iter().any(|k| k.contains("start") || k.starts_with("await")), "{fresh:?}");
    // A service in another's network namespace is created after it (it joins its sandbox).
    let shared = stack("name: demo\nservices:\n  app: {image: a, network_mode: 'service:net'}\n  net: {image: n}\n");
    let p = plan(&shared, &Actual::default(), &opts).expect("plan");
    let create_of = |svc: &str| {
        p.ids()
            .find(|id| matches!(p.action(*id), Action::CreateContainer { container, .. } if container.service == svc))
    };
    let (app, net) = (create_of("app").unwrap(), create_of("net").unwrap());
    assert!(p.dependencies(app).contains(&net), "{:?}", p.dependencies(app));
    // Stopped containers stay stopped.
    let mut stopped = up_state(&s);
    stopped.containers.iter_mut().for_each(|c| c.status = ContainerStatus::Exited(0));
    assert!(kinds(&stopped).is_empty(), "{:?}", kinds(&stopped));
}
