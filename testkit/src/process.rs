//! Child processes for tests and benchmarks: servers that print the address they bound,
//! redis-server, free ports. Every child is killed by its PID when its handle drops, also
//! when a test panics.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// redis-server's line once it accepts connections.
pub const REDIS_READY: &str = "Ready to accept connections";

/// A free TCP port on 127.0.0.1, for programs that cannot bind port 0 and report it
/// (redis-server, chromedriver). The port is released before returning; another process
/// could take it in between, which on a test machine is rare enough.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// The port a server announces on `line`: the first `http://127.0.0.1:PORT` or
/// `http://localhost:PORT` in it (duet-server's URLs to open, e2e/peers' seed server), or
/// `listening on PORT` (bench/node).
pub fn port_in(line: &str) -> Option<u16> {
    let rest = ["http://127.0.0.1:", "http://localhost:", "listening on "]
        .iter()
        .find_map(|m| line.split(m).nth(1))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// redis-server without persistence on 127.0.0.1:`port` (Debian's redis-server 7).
pub fn redis_command(port: u16) -> Command {
    let mut c = Command::new("redis-server");
    c.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"]);
    c
}

/// A child process, killed (SIGKILL, by PID) and reaped when dropped.
#[derive(Debug)]
pub struct Guard(pub Child);

impl Guard {
    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Kills it now (an outage, not a shutdown) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `command` with stdout piped and waits (up to `within`) for a stdout line `find`
/// recognises; returns the child and what `find` made of that line. The rest of stdout is read
/// and dropped in a thread: a closed pipe would kill the child.
pub fn spawn_until<T>(
    mut command: Command,
    within: Duration,
    mut find: impl FnMut(&str) -> Option<T>,
) -> std::io::Result<(Guard, T)> {
    let mut child = Guard(
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let stdout = child.0.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // Once the line was found nobody listens: the sends fail, the reading goes on.
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + within;
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if let Some(found) = find(&line) {
            return Ok((child, found));
        }
    }
    let status = child.0.try_wait()?;
    Err(std::io::Error::other(format!(
        "{:?} did not get ready within {within:?} (exit status: {status:?})",
        command.get_program()
    )))
}

/// Starts a server that prints the port it bound ([`port_in`]); see [`spawn_until`].
pub fn spawn_announcing_port(command: Command, within: Duration) -> std::io::Result<(Guard, u16)> {
    spawn_until(command, within, port_in)
}

/// A redis-server for tests and benchmarks, killed (by PID) on drop.
#[derive(Debug)]
pub struct Redis {
    port: u16,
    child: Option<Guard>,
}

impl Redis {
    /// Starts redis-server without persistence on a free 127.0.0.1 port and waits (up to
    /// `within`) until it answers PING.
    pub fn start(within: Duration) -> std::io::Result<Redis> {
        let mut redis = Redis {
            port: free_port()?,
            child: None,
        };
        redis.restart(within)?;
        Ok(redis)
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills redis-server (SIGKILL: an outage, not a shutdown).
    pub fn kill(&mut self) {
        self.child.take();
    }

    /// Starts redis-server again on the same port (empty: nothing was persisted).
    pub fn restart(&mut self, within: Duration) -> std::io::Result<()> {
        self.kill();
        let mut command = redis_command(self.port);
        command.stderr(Stdio::inherit());
        let (child, ()) = spawn_until(command, within, |line| {
            line.contains(REDIS_READY).then_some(())
        })
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "redis-server did not start ({e}): the tests need Debian's redis-server \
                     (bash scripts/setup.sh --test installs it)"
                ),
            )
        })?;
        self.child = Some(child);
        Ok(())
    }

    /// Whether it answers PING.
    pub fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }
}

#[cfg(test)]
mod tests {
    use super::port_in;

    #[test]
    fn finds_the_port_in_server_banners() {
        assert_eq!(port_in("listening on 4321"), Some(4321));
        assert_eq!(port_in("  http://127.0.0.1:8080/"), Some(8080));
        assert_eq!(port_in("listening on http://127.0.0.1:99"), Some(99));
        assert_eq!(port_in("  http://localhost:9/"), Some(9));
        assert_eq!(port_in("Duet is running. Open:"), None);
        assert_eq!(port_in("http://127.0.0.1:"), None);
    }
}
