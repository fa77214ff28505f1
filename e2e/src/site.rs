//! The web site every test server serves: the built Duet frontend at `/` and the seed's JS
//! client at `/seed/`, assembled from symlinks in a temporary folder. One site for both servers
//! keeps every page same-origin with its signaling server, which matters twice: duet-server's
//! CSP only lets a page open a WebSocket to its own host, and socket.io-client 2.3.0 starts with
//! XHR polling, which duet-server answers without CORS headers.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::paths;

/// The assembled site; removed when dropped.
#[derive(Debug)]
pub struct Site {
    dir: TempDir,
}

impl Site {
    /// Links dist/* and the seed client into a fresh folder. Fails with what to do when the
    /// frontend has not been built or the test peers are not installed.
    pub fn assemble() -> Result<Self> {
        let dist = paths::dist();
        if !dist.join("index.html").is_file() {
            bail!(
                "{} is missing: build the frontend first with `trunk build --release --offline` \
                 (scripts/test.sh does)",
                dist.join("index.html").display()
            );
        }
        let peers = paths::peers();
        let socket_io = peers.join("node_modules/socket.io-client/dist/socket.io.js");
        if !socket_io.is_file() {
            bail!(
                "{} is missing: install the test peers with `npm ci --prefix e2e/peers`",
                socket_io.display()
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("duet-e2e-site-")
            .tempdir()
            .context("cannot create the site folder")?;
        crate::processes::scratch(dir.path());
        for entry in std::fs::read_dir(&dist)? {
            let entry = entry?;
            link(&entry.path(), &dir.path().join(entry.file_name()))?;
        }
        let seed = dir.path().join("seed");
        std::fs::create_dir(&seed)?;
        let client = peers.join("seed-client");
        link(&client.join("index.html"), &seed.join("index.html"))?;
        link(&client.join("client.js"), &seed.join("client.js"))?;
        link(&socket_io, &seed.join("socket.io.js"))?;
        Ok(Self { dir })
    }

    /// The folder to serve.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn link(target: &Path, at: &PathBuf) -> Result<()> {
    std::os::unix::fs::symlink(target, at)
        .with_context(|| format!("cannot link {} to {}", at.display(), target.display()))
}
