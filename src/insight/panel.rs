//! The components: the quality indicator (always there during a call, with a text label), the
//! stats button and panel, the safety code with its one-line explanation, and a polite live
//! region that says when the quality level changes. They read the [`Seen`] signal the session
//! writes from the call machine and send the panel's open / close as a command; the hooks tests
//! and tools rely on are `#quality[data-level]`, `#stats[data-route]`, `#statspanel` and
//! `#safetycode`.
//!
//! The markup is static and one effect writes every changing text and attribute
//! ([`crate::dom`]).

use leptos::prelude::*;
use web_sys::Element;

use super::stats::{DASH, unit};
use crate::call::Phase;
use crate::dom::{Mounted, attr, definitions, find, flag, text};
use crate::view::{CallView, Commands, UiCommand};

/// See the module documentation. Shown while a peer link is up or being set up.
#[component]
pub fn Insight(view: CallView, commands: Commands) -> impl IntoView {
    let root = Mounted::default();
    Effect::new(move |values: Option<Vec<Element>>| {
        let s = view.panels.with(|p| p.insight.clone());
        let shown = view.call.with(|c| {
            matches!(
                c.phase(),
                Phase::Connecting | Phase::Connected | Phase::Reconnecting
            )
        });
        let Some(root) = root.get() else {
            return values.unwrap_or_default();
        };
        let root: &Element = &root;
        let find = |css: &str| find(root, css);
        let (Some(quality), Some(live), Some(stats), Some(button), Some(panel), Some(dl)) = (
            find("#quality"),
            find("[role=status]"),
            find("#stats"),
            find("#statsbutton"),
            find("#statspanel"),
            find("dl"),
        ) else {
            return values.unwrap_or_default();
        };
        let (Some(safety), Some(code)) = (find(".safety"), find("#safetycode")) else {
            return values.unwrap_or_default();
        };
        flag(root, "hidden", !shown);
        let level = s.level.map_or("", |l| l.label());
        flag(&quality, "hidden", s.level.is_none());
        attr(&quality, "data-level", s.level.map(|l| l.as_str()));
        text(&quality, level);
        text(&live, level);
        attr(&stats, "data-route", s.route.map(|r| r.as_str()));
        attr(
            &button,
            "aria-expanded",
            Some(if s.panel { "true" } else { "false" }),
        );
        flag(&panel, "hidden", !s.panel);
        let figures = s.stats.unwrap_or_default().rows();
        let values = values.unwrap_or_else(|| {
            let mut labels = vec![("Set-up", "")];
            labels.extend(figures.iter().map(|(label, _)| (*label, "")));
            definitions(&dl, &labels)
        });
        let setup = unit(s.setup.map(|d| d.as_secs_f64() * 1000.0), " ms");
        let texts = std::iter::once(setup).chain(figures.into_iter().map(|(_, v)| v));
        for (dd, value) in values.iter().zip(texts) {
            text(dd, if s.panel { &value } else { DASH });
        }
        flag(&safety, "hidden", s.code.is_none());
        text(&code, s.code.as_deref().unwrap_or(""));
        values
    });
    let toggle = move |_| {
        commands.send(UiCommand::Stats(
            !view.panels.with_untracked(|p| p.insight.panel),
        ))
    };
    view! {
        <section class="insight" aria-label="Call details" node_ref=root hidden>
            <p id="quality" class="quality" hidden></p>
            // Changes only with the level: announced without flooding.
            <p class="sr-only" role="status" aria-live="polite"></p>
            <div id="stats">
                <button id="statsbutton" type="button" aria-controls="statspanel"
                    aria-expanded="false" title="Call statistics (i)" on:click=toggle>
                    "Stats (i)"</button>
                <div id="statspanel" role="region" aria-label="Call statistics" hidden>
                    <dl></dl>
                </div>
            </div>
            <p class="safety" hidden>"Safety code: "<strong id="safetycode"></strong>
                " Read it to each other: if it matches, nobody is in the middle."</p>
        </section>
    }
}
