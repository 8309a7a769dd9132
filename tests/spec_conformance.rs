//! Compose conformance: cases written from what compose-go's own tests assert (each case names
//! the compose-go test it came from; `tests/conformance/` holds them, one file per area, each
//! listing the compose-go tests it leaves out and why), run through berth's loader. No root.
//!
//! The runner prints the agreement figure: cases where berth does what compose-go does, over
//! every case derived, the documented deliberate differences (README, "Compose compatibility")
//! counting as disagreements. It fails on any undocumented disagreement, on a documented one
//! that now agrees (drop its mark), and when the figure falls under 99 %.

mod conformance;

#[test]
fn berth_agrees_with_compose_go() {
    let mut failures = Vec::new();
    let mut documented = Vec::new();
    let (mut total, mut agreed) = (0usize, 0usize);
    for (area, cases) in conformance::all() {
        let (mut area_total, mut area_agreed) = (0usize, 0usize);
        for c in &cases {
            area_total += 1;
            match (c.run(), &c.differs) {
                (Ok(()), None) => area_agreed += 1,
                (Ok(()), Some(_)) => failures.push(format!(
                    "[{area}] {}: now agrees with compose-go; drop its `differs` mark and the README entry",
                    c.source
                )),
                (Err(why), Some(reason)) => documented.push(format!("[{area}] {}: {why} ({reason})", c.source)),
                (Err(why), None) => failures.push(format!("[{area}] {}: {why}", c.source)),
            }
        }
        println!("  {area}: {area_agreed}/{area_total}");
        total += area_total;
        agreed += area_agreed;
    }
    let pct = 100.0 * agreed as f64 / total.max(1) as f64;
    println!("conformance: {agreed}/{total} cases agree with compose-go ({pct:.1}%)");
    for d in &documented {
        println!("  documented difference: {d}");
    }
    assert!(failures.is_empty(), "disagreements with compose-go:\n{}", failures.join("\n"));
    assert!(pct >= 99.0, "agreement fell under 99 %: {pct:.1}%");
}

/// Every case names the compose-go test it came from, and no two cases are the same.
#[test]
fn cases_name_their_source() {
    let mut seen = std::collections::HashSet::new();
    for (area, cases) in conformance::all() {
        for c in cases {
            assert!(c.source.contains(".go") || c.source.contains("compose"), "[{area}] {}: names no source", c.source);
            let key = format!(
                "{:?}{:?}{:?}{:?}{:?}{:?}{}",
                c.files, c.env, c.stack, c.project, c.services, c.profiles, c.no_interpolate
            ) + &describe(&c.expect);
            assert!(seen.insert(key), "[{area}] {}: the same files as another case", c.source);
        }
    }
}

fn describe(e: &conformance::Expect) -> String {
    match e {
        conformance::Expect::Model(c) => format!("model {c:?}"),
        conformance::Expect::Warns(w, c) => format!("warns {w} {c:?}"),
        conformance::Expect::Fails(f) => format!("fails {f}"),
    }
}
