//! Where things are in the repository, resolved from this crate's manifest directory so the
//! tests work from any current directory.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("e2e/ has a parent")
        .to_owned()
}

/// e2e/peers: the seed's server and client, and their node_modules.
pub fn peers() -> PathBuf {
    root().join("e2e").join("peers")
}

/// The built frontend (`trunk build --release --offline` writes it), or `DUET_DIST` to test
/// another build (e.g. one made with `trunk build --dist` while dist/ is being rebuilt).
pub fn dist() -> PathBuf {
    std::env::var_os("DUET_DIST").map_or_else(|| root().join("dist"), PathBuf::from)
}

/// e2e/results/<test>: logs and screenshots of a failed test.
pub fn results(test: &str) -> PathBuf {
    root().join("e2e").join("results").join(test)
}
