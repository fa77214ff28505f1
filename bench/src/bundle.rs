//! What a browser downloads before the first frame: every html, js, wasm and css file of a built
//! app, raw and compressed as a server would send it (gzip -9, brotli 11), apart from the wasm
//! modules it loads later (Duet's split-off panels, src/extras.rs), which are counted on their own.

use std::io::Write;
use std::path::Path;

/// Byte counts of one app.
#[derive(Debug, Default, Clone)]
pub struct BundleSize {
    /// Files counted.
    pub files: Vec<String>,
    /// Uncompressed bytes.
    pub raw: u64,
    /// gzip -9 bytes.
    pub gzip: u64,
    /// brotli quality 11 bytes.
    pub brotli: u64,
    /// The wasm modules loaded after the first frame (not in the counts above, and with no
    /// `later` of their own).
    pub later: Option<Box<BundleSize>>,
}

impl BundleSize {
    fn add(&mut self, name: String, bytes: &[u8]) -> std::io::Result<()> {
        self.raw += bytes.len() as u64;
        self.gzip += gzip(bytes)? as u64;
        self.brotli += brotli(bytes)? as u64;
        self.files.push(name);
        Ok(())
    }
}

/// Measures every .html, .js, .wasm and .css file under `dir`. A .wasm or .css file that no
/// .html file names loads only after the app's first frame, and goes to `later`: the split
/// module and the panels' stylesheet (the loader names both, and the loader is bundled into
/// the glue; scripts/bundle.sh). One that index.html names is
/// preloaded or linked, so it loads with the page.
pub fn measure(dir: &Path) -> std::io::Result<BundleSize> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext, "html" | "js" | "wasm" | "css") {
                found.push(path);
            }
        }
    }
    found.sort();
    let mut pages = String::new();
    for path in &found {
        if matches!(path.extension().and_then(|e| e.to_str()), Some("html")) {
            pages.push_str(&std::fs::read_to_string(path)?);
        }
    }
    let mut size = BundleSize::default();
    let mut later = BundleSize::default();
    for path in &found {
        let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let bytes = std::fs::read(path)?;
        let split = file.ends_with(".wasm") || file.ends_with(".css");
        if split && !pages.contains(file) {
            later.add(name, &bytes)?;
        } else {
            size.add(name, &bytes)?;
        }
    }
    if !later.files.is_empty() {
        size.later = Some(Box::new(later));
    }
    Ok(size)
}

fn gzip(bytes: &[u8]) -> std::io::Result<usize> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes)?;
    Ok(e.finish()?.len())
}

fn brotli(bytes: &[u8]) -> std::io::Result<usize> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        w.write_all(bytes)?;
    }
    Ok(out.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_and_counts_only_app_files() {
        let dir = std::env::temp_dir().join(format!("duet-bundle-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "<html>".repeat(1000)).unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        let s = measure(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(s.files, vec!["index.html".to_owned()]);
        assert_eq!(s.raw, 6000);
        assert!(s.gzip < 200 && s.brotli < 200, "{s:?}");
        assert!(s.later.is_none());
    }

    #[test]
    fn a_wasm_or_css_the_page_does_not_name_is_counted_as_later() {
        let dir = std::env::temp_dir().join(format!("duet-bundle-later-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("app-0123abcd_bg.wasm"), [1u8; 100]).unwrap();
        std::fs::write(dir.join("app-panels-4567ef89.wasm"), [2u8; 30]).unwrap();
        std::fs::write(dir.join("style-89ab.css"), "a{}").unwrap();
        std::fs::write(dir.join("app-panels-89abcdef.css"), "b{}").unwrap();
        let page = "<link rel=preload href=/app-0123abcd_bg.wasm><link href=/style-89ab.css rel=stylesheet>";
        std::fs::write(dir.join("index.html"), page).unwrap();
        let s = measure(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            s.files,
            ["app-0123abcd_bg.wasm", "index.html", "style-89ab.css"]
        );
        assert_eq!(s.raw, 100 + page.len() as u64 + 3);
        let later = s
            .later
            .expect("the panels' module and stylesheet are later");
        assert_eq!(
            later.files,
            ["app-panels-4567ef89.wasm", "app-panels-89abcdef.css"]
        );
        assert_eq!(later.raw, 30 + 3);
    }
}
