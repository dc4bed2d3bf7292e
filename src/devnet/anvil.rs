//! A local anvil node as a child process that cannot outlive govstate.
//!
//! alloy's `Anvil` kills its node on drop, which covers a normal exit or a
//! panic but not a `SIGKILL` of govstate. This spawner also asks the kernel to
//! kill anvil when its parent dies (`PR_SET_PDEATHSIG` on Linux), so no anvil
//! is left running whatever way govstate ends.
//!
//! anvil is found only where the user installed it ([`locate`]), never in
//! the directory govstate happens to run in, and runs with a cleared
//! environment: it gets no signing key, no endpoint, no token. A fork's
//! upstream URL (which may hold an API key) is handed to it over its own
//! loopback JSON-RPC (`anvil_reset`), never on its command line, where `ps`
//! would show it to every user of the machine.
//!
//! The kernel ties the node to the *thread* that started it: start it from a
//! thread that lives as long as the node (the main thread, an async runtime's
//! worker, a test's own thread), never from a short-lived blocking-pool thread.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long anvil may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Why anvil could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnvilError {
    /// No anvil binary was found.
    #[error(
        "anvil was not found: run `npm ci` in the govstate checkout (it installs the pinned \
         anvil under node_modules/), put `anvil` on PATH, or set GOVSTATE_ANVIL to its path"
    )]
    NotFound,
    /// The binary exists but could not be started.
    #[error("could not start anvil at {path}")]
    Spawn {
        /// The binary that was started.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// anvil exited or stayed silent before it was listening.
    #[error("anvil at {path} did not start listening: {detail}")]
    NotListening {
        /// The binary that was started.
        path: PathBuf,
        /// What anvil printed on stderr, or that it timed out.
        detail: String,
    },
}

/// Options for a new anvil node.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct AnvilOptions {
    /// TCP port on 127.0.0.1; `None` (the default) lets the OS choose a free one.
    pub port: Option<u16>,
    /// Seconds between blocks; `None` (the default) mines a block per transaction.
    pub block_time: Option<u64>,
    /// anvil's `--hardfork` (e.g. `berlin`, a chain without EIP-1559 fees);
    /// `None` (the default) runs anvil's latest.
    pub hardfork: Option<String>,
    /// anvil's `--timestamp`: the genesis block's time in Unix seconds;
    /// `None` (the default) is the wall clock at start. Two nodes started
    /// in the same second otherwise share a genesis hash.
    pub genesis_timestamp: Option<u64>,
}

/// A running anvil node; dropping it stops the node.
#[derive(Debug)]
pub struct AnvilProcess {
    child: Child,
    endpoint: String,
}

impl AnvilProcess {
    /// Starts anvil and waits until it listens.
    pub fn spawn(options: &AnvilOptions) -> Result<Self, AnvilError> {
        let path = locate().ok_or(AnvilError::NotFound)?;
        let mut command = Command::new(&path);
        command
            .args(["--host", "127.0.0.1", "--port"])
            .arg(options.port.unwrap_or(0).to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(seconds) = options.block_time {
            command.args(["--block-time", &seconds.to_string()]);
        }
        if let Some(hardfork) = &options.hardfork {
            command.args(["--hardfork", hardfork]);
        }
        if let Some(timestamp) = options.genesis_timestamp {
            command.args(["--timestamp", &timestamp.to_string()]);
        }
        // Nothing of govstate's environment (keys, endpoints, tokens) is
        // anvil's business.
        command.env_clear();
        die_with_parent(&mut command);
        let mut child = command.spawn().map_err(|source| AnvilError::Spawn { path: path.clone(), source })?;
        match wait_until_listening(&mut child) {
            Ok(address) => Ok(Self { child, endpoint: format!("http://{address}") }),
            Err(detail) => {
                stop(&mut child);
                Err(AnvilError::NotListening { path, detail })
            }
        }
    }

    /// The node's HTTP JSON-RPC endpoint, e.g. `http://127.0.0.1:8545`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The node's operating-system process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for AnvilProcess {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn stop(child: &mut Child) {
    // The node may already be gone; either way there is nothing more to do.
    let _ = child.kill();
    let _ = child.wait();
}

/// Finds the anvil binary where the user installed it: `GOVSTATE_ANVIL`,
/// then the platform binary of the npm package `@foundry-rs/anvil` in the
/// govstate checkout this binary was built from, then `PATH`.
///
/// Never the current directory or its parents: a state repository or a pull
/// request could carry a `node_modules/` there, and its program would run
/// with govstate's trust.
///
/// `node_modules/.bin/anvil` is deliberately not used: it is a Node wrapper
/// that starts the real binary as its own child, so stopping the wrapper
/// would leave anvil running.
pub fn locate() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("GOVSTATE_ANVIL").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let relative = Path::new("node_modules/@foundry-rs").join(platform_package()).join("bin/anvil");
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    Some(checkout).filter(|path| path.is_file()).or_else(|| find_on_path("anvil"))
}

fn platform_package() -> String {
    let os = match std::env::consts::OS {
        "windows" => "win32",
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("anvil-{os}-{arch}")
}

/// `name` in a directory of `PATH`; relative entries (`.`, an empty entry)
/// are skipped, as they name the current directory.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).filter(|dir| dir.is_absolute()).map(|dir| dir.join(name)).find(|path| path.is_file())
}

/// Reads anvil's stdout until it says where it listens; keeps draining it
/// afterwards on a thread so the node never blocks on a full pipe.
fn wait_until_listening(child: &mut Child) -> Result<String, String> {
    let stdout = child.stdout.take().ok_or("anvil's stdout is not captured")?;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sender = Some(sender);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(address) = line.strip_prefix("Listening on ")
                && let Some(sender) = sender.take()
            {
                let _ = sender.send(address.trim().to_string());
            }
        }
    });
    match receiver.recv_timeout(START_TIMEOUT) {
        Ok(address) => Ok(address),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!("no answer within {START_TIMEOUT:?}")),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(stderr_of(child)),
    }
}

fn stderr_of(child: &mut Child) -> String {
    let _ = child.wait();
    let mut text = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut text);
    }
    let text = text.trim();
    if text.is_empty() { "it exited without a message".to_string() } else { text.to_string() }
}

#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe system calls (prctl, getppid, _exit).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if u32::try_from(libc::getppid()).ok() != Some(parent) {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}
