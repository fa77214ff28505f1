//! Mounts Duet on the page; everything else lives in the library so tests can mount it too.
fn main() {
    duet::start();
}
