//! What a browser downloads before the first frame: every html, js, wasm and css file of a built
//! app, raw and compressed as a server would send it (gzip -9, brotli 11).

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
}

/// Measures every .html, .js, .wasm and .css file under `dir`.
pub fn measure(dir: &Path) -> std::io::Result<BundleSize> {
    let mut size = BundleSize::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "html" | "js" | "wasm" | "css") {
                continue;
            }
            let bytes = std::fs::read(&path)?;
            size.raw += bytes.len() as u64;
            size.gzip += gzip(&bytes)? as u64;
            size.brotli += brotli(&bytes)? as u64;
            size.files.push(
                path.strip_prefix(dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
            );
        }
    }
    size.files.sort();
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
    }
}
