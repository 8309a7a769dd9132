//! Load, validate and plan a 500-service stack through the public API; print the medians.
//!
//! Run: `cargo bench --bench plan500` (optimized build), or with more runs:
//! `BENCH_RUNS=51 cargo bench --bench plan500`. Target: load+validate+plan well under 100 ms.
//!
//! The generated stack looks like a large real one: an `x-` anchor merged into every app
//! service, 20 databases with health checks and named volumes, 40 caches, 440 app services in
//! tiers that depend on databases (service_healthy), caches and earlier apps, with
//! environment, ports, bind and named mounts, labels, resources, logging and three networks.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use berth::planner::{
    config_hash, plan, Actual, ContainerState, ContainerStatus, Health, NetworkState, PlanOptions, VolumeState,
};
use berth::spec::load::{load, LoadOptions};
use berth::spec::Stack;

const SERVICES: usize = 500;
const DATABASES: usize = 20;
const CACHES: usize = 40;

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(21).max(1);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("compose.yaml");
    let yaml = generate();
    std::fs::write(&file, &yaml).expect("write compose.yaml");
    let opts = LoadOptions {
        files: vec![file],
        working_dir: dir.path().to_path_buf(),
        environ: [("TAG".to_string(), "1.4.2".to_string())].into_iter().collect(),
        ..LoadOptions::default()
    };

    let (mut total, mut loading, mut planning) = (Vec::new(), Vec::new(), Vec::new());
    let mut actions = 0;
    for _ in 0..runs + 1 {
        let t0 = Instant::now();
        let loaded = match load(&opts) {
            Ok(l) => l,
            Err(e) => panic!("the generated stack does not load: {e}"),
        };
        let t1 = Instant::now();
        let p = plan(&loaded.stack, &Actual::default(), &PlanOptions::default()).expect("plan");
        let t2 = Instant::now();
        actions = p.len();
        assert_eq!(loaded.stack.services.len(), SERVICES);
        total.push(t2 - t0);
        loading.push(t1 - t0);
        planning.push(t2 - t1);
    }
    // plan() alone, again and again on one loaded stack (no allocator churn from loading).
    let stack = load(&opts).map(|l| l.stack).unwrap_or_else(|e| panic!("the generated stack does not load: {e}"));
    let mut replan: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let p = plan(&stack, &Actual::default(), &PlanOptions::default()).expect("plan");
            std::hint::black_box(p.len());
            t.elapsed()
        })
        .collect();
    // The common `up` on an unchanged stack: all 500 containers exist and run.
    let running = running_state(&stack);
    let mut noop: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let p = plan(&stack, &running, &PlanOptions::default()).expect("plan");
            assert!(p.is_empty(), "an unchanged stack must give an empty plan");
            t.elapsed()
        })
        .collect();
    let mut hashing: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            for service in stack.services.values() {
                std::hint::black_box(berth::planner::config_hash(service, &stack));
            }
            t.elapsed()
        })
        .collect();
    let mut graphing: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(berth::planner::ServiceGraph::new(&stack).expect("graph").node_count());
            t.elapsed()
        })
        .collect();
    // The first run warms caches (allocator, page cache); it is not counted.
    let (total, loading, planning) = (&mut total[1..], &mut loading[1..], &mut planning[1..]);
    println!(
        "plan500: {SERVICES} services, {} bytes of YAML, {actions} actions, {runs} runs (median; min..max)",
        yaml.len()
    );
    for (what, v) in [
        ("load+validate", loading),
        ("plan", planning),
        ("total", total),
        ("plan (again)", &mut replan[..]),
        ("  of which hash", &mut hashing[..]),
        ("  of which graph", &mut graphing[..]),
        ("plan (no-op)", &mut noop[..]),
    ] {
        v.sort();
        println!("  {what:<14} {:>9}  ({} .. {})", ms(v[v.len() / 2]), ms(v[0]), ms(v[v.len() - 1]));
    }
}

/// Every container of `stack` running with its current config hash, everything else present.
fn running_state(stack: &Stack) -> Actual {
    let mut actual = Actual::default();
    for (name, service) in &stack.services {
        actual.containers.push(ContainerState {
            name: format!("{}-{name}-1", stack.name),
            project: stack.name.clone(),
            service: name.clone(),
            number: 1,
            config_hash: config_hash(service, stack),
            config: None,
            status: ContainerStatus::Running,
            health: service.healthcheck.as_ref().map(|_| Health::Healthy),
            image_id: None,
            depends_on: service.depends_on.keys().cloned().collect(),
            labels: Default::default(),
            anon_volumes: Default::default(),
        });
    }
    for n in stack.networks.values() {
        actual.networks.insert(n.name.clone(), NetworkState { name: n.name.clone(), ..Default::default() });
    }
    for v in stack.volumes.values() {
        actual.volumes.insert(v.name.clone(), VolumeState { name: v.name.clone(), ..Default::default() });
    }
    actual
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// The stack file: databases, caches, then app tiers depending on what came before.
fn generate() -> String {
    let mut y = String::from(
        "name: big\n\
         x-app: &app\n  restart: unless-stopped\n  logging:\n    driver: json-file\n    options: {max-size: 10m, max-file: '3'}\n  \
         networks: [backend]\n  labels:\n    com.example.team: platform\n    com.example.tier: app\n\
         services:\n",
    );
    for i in 0..DATABASES {
        let _ = write!(
            y,
            "  db{i}:\n    image: postgres:16.3\n    environment:\n      POSTGRES_DB: app{i}\n      POSTGRES_USER: app\n      \
             POSTGRES_PASSWORD: ${{DB_PASSWORD:-secret}}\n    volumes:\n      - db{i}-data:/var/lib/postgresql/data\n    \
             healthcheck:\n      test: [\"CMD-SHELL\", \"pg_isready -U app\"]\n      interval: 5s\n      timeout: 3s\n      retries: 10\n    \
             networks: [backend]\n    shm_size: 256m\n    deploy:\n      resources:\n        limits: {{cpus: '1.5', memory: 1g}}\n"
        );
    }
    for i in 0..CACHES {
        let _ = write!(
            y,
            "  cache{i}:\n    image: redis:7-alpine\n    command: redis-server --save '' --maxmemory 64mb\n    networks: [backend]\n    \
             healthcheck:\n      test: redis-cli ping\n      interval: 2s\n    mem_limit: 128m\n"
        );
    }
    for i in 0..SERVICES - DATABASES - CACHES {
        app(&mut y, i);
    }
    y.push_str(
        "networks:\n  frontend: {}\n  backend:\n    internal: true\n  monitoring:\n    driver: bridge\nvolumes:\n",
    );
    for i in 0..DATABASES {
        let _ = writeln!(y, "  db{i}-data: {{}}");
    }
    y
}

/// One app service: depends on a database (healthy), a cache, and up to two earlier apps.
fn app(y: &mut String, i: usize) {
    let _ = write!(
        y,
        "  app{i}:\n    <<: *app\n    image: registry.example.com/team/app{}:${{TAG}}\n    command: [\"/srv/bin/app\", \"--listen\", \":8080\", \"--worker-id\", \"{i}\"]\n    \
         environment:\n      - APP_NAME=app{i}\n      - DATABASE_URL=postgres://app:secret@db{}:5432/app{}\n      - REDIS_URL=redis://cache{}:6379/0\n      \
         - LOG_LEVEL=info\n      - FEATURE_FLAGS=a,b,c\n      - GOMAXPROCS=2\n    \
         volumes:\n      - ./config/app{i}:/etc/app:ro\n      - type: tmpfs\n        target: /tmp\n    \
         ports:\n      - \"127.0.0.1:{}:8080\"\n    expose: [\"9090\"]\n    \
         networks: [backend, monitoring{}]\n    healthcheck:\n      test: [\"CMD\", \"/srv/bin/app\", \"health\"]\n      interval: 10s\n    \
         deploy:\n      resources:\n        limits: {{cpus: '0.50', memory: 256M, pids: 200}}\n        reservations: {{memory: 64M}}\n    \
         ulimits:\n      nofile: {{soft: 4096, hard: 8192}}\n    cap_drop: [ALL]\n    security_opt: [\"no-new-privileges:true\"]\n    \
         depends_on:\n      db{}:\n        condition: service_healthy\n        restart: true\n      cache{}:\n        condition: service_started\n",
        i % 50,
        i % DATABASES,
        i % DATABASES,
        i % CACHES,
        20000 + i,
        if i % 4 == 0 { ", frontend" } else { "" },
        i % DATABASES,
        i % CACHES,
    );
    // Tiers: each app past the first 40 also waits for one or two earlier apps.
    if i >= 40 {
        let _ = write!(y, "      app{}:\n        condition: service_healthy\n", i - 40);
        if i % 3 == 0 {
            let _ = write!(y, "      app{}:\n        condition: service_started\n", i / 2);
        }
    }
}
