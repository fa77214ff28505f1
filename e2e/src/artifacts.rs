//! What a failed test leaves behind in e2e/results/<test>/: per page a screenshot, the browser's
//! console and the last reading of its state; the server and chromedriver logs are written
//! there from the start. A passing test removes its folder.
//!
//! state.txt is read after the scenario returned, so after the servers it started were stopped:
//! a page may by then say it lost the call server. The reading taken when the check failed is
//! in the failure message.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::probes::{Page, describe};

/// Saves `page`'s screenshot, console log and state into `dir`; returns the files written.
pub async fn save_page(page: &Page, dir: &Path) -> Vec<PathBuf> {
    let mut written = Vec::new();
    let client = page.browser.client();
    if let Ok(png) = client.screenshot().await {
        let path = dir.join(format!("{}.png", page.label));
        if std::fs::write(&path, png).is_ok() {
            written.push(path);
        }
    }
    let mut console = Vec::new();
    match page.browser.console_log().await {
        Ok(lines) => {
            console.push("== chromedriver browser log (console, network, CSP) ==".to_owned());
            console.extend(lines);
        }
        Err(e) => console.push(format!("== chromedriver browser log unavailable: {e} ==")),
    }
    if let Ok(v) = client
        .execute("return window.__e2e ? window.__e2e.console : [];", vec![])
        .await
    {
        console.push("== page console (instrumented, with timestamps) ==".to_owned());
        console.extend(
            v.as_array()
                .into_iter()
                .flatten()
                .map(|l| l.as_str().unwrap_or_default().to_owned()),
        );
    }
    let path = dir.join(format!("{}.console.log", page.label));
    if std::fs::write(&path, console.join("\n") + "\n").is_ok() {
        written.push(path);
    }
    let state = match page.snapshot(Duration::from_secs(2)).await {
        Ok(s) => format!("{}\n\n{s:#?}\n", describe(&s)),
        Err(e) => format!("cannot read the page: {e:#}\n"),
    };
    let url = client
        .current_url()
        .await
        .map_or_else(|e| format!("unknown URL: {e}"), |u| u.to_string());
    let path = dir.join(format!("{}.state.txt", page.label));
    let when = "read after the scenario ended: the servers it started are stopped by now";
    if std::fs::write(&path, format!("{url}\n({when})\n{state}")).is_ok() {
        written.push(path);
    }
    written
}
