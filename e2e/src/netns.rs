//! A network namespace of the test's own, so a scenario can break the network its browsers use
//! without touching the machine's: random UDP loss and a full UDP cut with nftables (this
//! kernel has no netem; Chromium's throttling does not touch WebRTC).
//!
//! [`Netns::enter`] moves the calling thread into a fresh namespace (`unshare(CLONE_NEWNET)`).
//! Namespaces are per thread and inherited by children, so every server, driver and browser the
//! scenario starts afterwards lives in it; `#[tokio::test]`'s runtime runs on that one thread,
//! so the test's own connections to the drivers do too. Dropping it moves the thread back.
//!
//! Inside: loopback, and a veth pair with test addresses and a default route onto it. Firefox
//! gathers no ICE candidates with loopback alone (even with `media.peerconnection.ice.loopback`);
//! with the pair it gathers on 10.77.0.1/10.77.0.2, and Chromium does too.
//!
//! Signaling is TCP and media UDP, so a UDP rule cuts the call's media and leaves signaling up:
//! the case issue 12 is about.

use std::fs::File;
use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The table the scenario's rules live in (the namespace and so the table die with the test).
const TABLE: &str = "duet_e2e";

/// The calling thread's own network namespace; see the module documentation.
#[derive(Debug)]
pub struct Netns {
    /// The namespace the thread was in, to go back to.
    original: File,
}

impl Netns {
    /// Moves this thread into a new network namespace with loopback and a veth pair up, and an
    /// empty nftables table with a `loss` and a `cut` chain on the output hook.
    pub fn enter() -> Result<Self> {
        let original = File::open("/proc/thread-self/ns/net")
            .context("cannot open this thread's network namespace")?;
        // SAFETY: unshare(2) with a flag only; it changes this thread's namespace, no memory.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            bail!(
                "unshare(CLONE_NEWNET): {} (the network tests need root or CAP_SYS_ADMIN)",
                std::io::Error::last_os_error()
            );
        }
        let ns = Self { original };
        for args in [
            "link set lo up",
            "link add duet0 type veth peer name duet1",
            "addr add 10.77.0.1/24 dev duet0",
            "addr add 10.77.0.2/24 dev duet1",
            "link set duet0 up",
            "link set duet1 up",
            "route add default dev duet0",
        ] {
            run("ip", &args.split(' ').collect::<Vec<_>>(), None)?;
        }
        ns.nft(&format!(
            "add table inet {TABLE}\n\
             add chain inet {TABLE} loss {{ type filter hook output priority 0; policy accept; }}\n\
             add chain inet {TABLE} cut {{ type filter hook output priority 1; policy accept; }}\n"
        ))?;
        Ok(ns)
    }

    /// Drops `percent` % of UDP packets at random (each packet, both directions: every packet
    /// leaves through the output hook once), from now on.
    pub fn udp_loss(&self, percent: u8) -> Result<()> {
        self.nft(&format!(
            "flush chain inet {TABLE} loss\n\
             add rule inet {TABLE} loss meta l4proto udp numgen random mod 100 < {percent} drop\n"
        ))
    }

    /// Drops every UDP packet until [`Netns::restore_udp`]: the media path is gone, signaling
    /// (TCP) stays.
    pub fn cut_udp(&self) -> Result<()> {
        self.nft(&format!(
            "add rule inet {TABLE} cut meta l4proto udp drop\n"
        ))
    }

    /// Lets UDP through again after [`Netns::cut_udp`].
    pub fn restore_udp(&self) -> Result<()> {
        self.nft(&format!("flush chain inet {TABLE} cut\n"))
    }

    /// Counts the packets the rules dropped so far (for the report), from `nft list table`.
    pub fn ruleset(&self) -> Result<String> {
        run("nft", &["list", "table", "inet", TABLE], None)
    }

    fn nft(&self, script: &str) -> Result<()> {
        run("nft", &["-f", "-"], Some(script)).map(drop)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // SAFETY: setns(2) on a descriptor this struct owns; it changes this thread's namespace.
        unsafe {
            libc::setns(self.original.as_raw_fd(), libc::CLONE_NEWNET);
        }
    }
}

/// Runs `program args` (in this thread's namespace: the child inherits it), feeding `stdin`;
/// returns its stdout or fails with its stderr.
fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Result<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!("cannot run {program} (Debian's iproute2 and nftables; setup.sh --test)")
        })?;
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(text.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "{program} {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr),
            stdin.unwrap_or_default()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
