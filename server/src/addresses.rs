//! Where a listening server can be reached: the addresses and URLs to print at start (and to
//! put in a self-signed certificate).

use std::net::{IpAddr, SocketAddr};

/// The addresses a listener on `ip` can be reached at: every interface address when `ip` is
/// unspecified (0.0.0.0 or ::), else just `ip`.
pub fn local_addresses(ip: IpAddr) -> Vec<IpAddr> {
    if !ip.is_unspecified() {
        return vec![ip];
    }
    let mut out: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.ip())
        .filter(|a| ip.is_ipv6() || a.is_ipv4())
        // fe80:: addresses need a zone id in URLs; browsers reject them.
        .filter(|a| !matches!(a, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80))
        .collect();
    out.sort_by_key(|a| (!a.is_loopback(), a.is_ipv6(), *a));
    out.dedup();
    out
}

/// The URLs to open in a browser for a server listening on `addr`.
pub fn urls_to_open(addr: SocketAddr, https: bool) -> Vec<String> {
    let scheme = if https { "https" } else { "http" };
    let port = addr.port();
    let mut urls = Vec::new();
    if addr.ip().is_loopback() || addr.ip().is_unspecified() {
        urls.push(format!("{scheme}://localhost:{port}/"));
    }
    for ip in local_addresses(addr.ip()) {
        urls.push(format!("{scheme}://{}/", SocketAddr::new(ip, port)));
    }
    urls
}
