//! The web site every test server serves: the built Duet frontend at `/`, the seed's JS
//! client at `/seed/` and the call set-up floor at `/floor/`, copied into a temporary folder
//! (a copy, not links: a `trunk build` during a run replaces dist/'s hashed files, and a test
//! must keep serving one consistent build). One site for both servers
//! keeps every page same-origin with its signaling server, which matters twice: duet-server's
//! CSP only lets a page open a WebSocket to its own host, and socket.io-client 2.3.0 starts with
//! XHR polling, which duet-server answers without CORS headers.

use std::path::Path;

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
                "{} is missing: build the frontend first with `bash scripts/bundle.sh` \
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
        copy_consistent_build(&dist, dir.path())?;
        let seed = dir.path().join("seed");
        std::fs::create_dir(&seed)?;
        let client = peers.join("seed-client");
        copy(&client.join("index.html"), &seed.join("index.html"))?;
        copy(&client.join("client.js"), &seed.join("client.js"))?;
        copy(&socket_io, &seed.join("socket.io.js"))?;
        // The call set-up floor (duet-callsetup): two peer connections in one page.
        let floor = dir.path().join("floor");
        std::fs::create_dir(&floor)?;
        std::fs::write(floor.join("index.html"), include_str!("floor.html"))?;
        Ok(Self { dir })
    }

    /// The folder to serve.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Copies dist/ and checks that every asset its index.html names came along; when a concurrent
/// `trunk build` swapped files mid-copy, copies again (a few times, then gives up saying why).
fn copy_consistent_build(dist: &Path, to: &Path) -> Result<()> {
    let mut missing = Vec::new();
    for _ in 0..5 {
        copy_tree(dist, to)?;
        let index = std::fs::read_to_string(to.join("index.html"))?;
        missing = assets_named_in(&index)
            .into_iter()
            .filter(|a| !to.join(a).is_file())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        for entry in std::fs::read_dir(to)? {
            let path = entry?.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    bail!(
        "{}/index.html names {missing:?}, which are not there: is a trunk build writing dist/ \
         right now?",
        dist.display()
    )
}

/// The root-relative `.js`, `.wasm` and `.css` paths in an index.html written by Trunk.
fn assets_named_in(index: &str) -> Vec<String> {
    index
        .split(['"', '\''])
        .filter_map(|s| s.strip_prefix('/'))
        .filter(|s| {
            !s.contains(['/', ' ', '<', '>'])
                && [".js", ".wasm", ".css"].iter().any(|e| s.ends_with(e))
        })
        .map(str::to_owned)
        .collect()
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else {
            copy(&entry.path(), &target)?;
        }
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(drop)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))
}

#[cfg(test)]
mod tests {
    use super::assets_named_in;

    #[test]
    fn finds_trunks_assets() {
        let index = r#"<link rel="stylesheet" href="/style-1.css" integrity="x"/>
            <script type="module">import init from '/duet-2.js';
            await init({ module_or_path: '/duet-2_bg.wasm' });</script>"#;
        assert_eq!(
            assets_named_in(index),
            ["style-1.css", "duet-2.js", "duet-2_bg.wasm"]
        );
    }
}
