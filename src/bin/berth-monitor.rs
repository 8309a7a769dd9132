//! berth's per-container helper: the monitor, the built-in init and the exec helper
//! (see `berth::runtime::helper`). Started only by berth itself, from a sealed memfd copy.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    berth::runtime::helper::set_release_network(|roots, id| {
        berth::network::release_container(roots, id).map_err(|e| e.to_string())
    });
    std::process::exit(berth::runtime::helper::main(&args));
}
