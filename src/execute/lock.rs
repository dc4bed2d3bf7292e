//! One apply at a time per deployment.
//!
//! The lock is an advisory lock (`flock`) on a file named after the chain and
//! the plan's contract addresses, kept in the receipts folder. The kernel
//! drops it when the holder exits, however it exits, so a crashed apply never
//! leaves a lock behind to be cleared by hand; while it is held, the file
//! names the holder (process, host, signer, what it applies, since when), so
//! the second apply can say who it waits for. Applies from other machines are
//! caught by the pending-nonce check instead.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, keccak256};
use serde::{Deserialize, Serialize};

use crate::plan::Plan;

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another apply holds it.
    #[error(
        "another govstate apply of this deployment is running ({holder}); nothing was sent. Lock file: {}",
        path.display()
    )]
    Held {
        /// Who holds it, as the holder wrote it.
        holder: String,
        /// The lock file.
        path: PathBuf,
    },
    /// The lock file could not be made or written.
    #[error("could not take the apply lock {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Who holds a lock, as written in its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// The signing account.
    pub signer: Address,
    /// What is being applied (a file or a saved plan).
    pub source: String,
    /// When the lock was taken (RFC 3339).
    pub since: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Holder { pid, host, signer, source, since } = self;
        write!(f, "process {pid} on {host}, signer {signer}, applying {source}, since {since}")
    }
}

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
#[must_use = "the lock is released when dropped"]
pub struct ApplyLock {
    file: File,
    path: PathBuf,
}

impl ApplyLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ApplyLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// The lock file for `plan`'s deployment in `dir`.
pub fn path_for(dir: &Path, plan: &Plan) -> PathBuf {
    let mut addresses: Vec<Address> = plan.contracts.iter().map(|c| c.address).collect();
    addresses.sort();
    let mut key = plan.chain_id.to_be_bytes().to_vec();
    addresses.iter().for_each(|a| key.extend_from_slice(a.as_slice()));
    let id = keccak256(&key);
    dir.join(format!(".govstate-apply-{}-{}.lock", plan.chain_id, alloy::hex::encode(&id[..8])))
}

/// Takes the lock for `plan`'s deployment in `dir` without waiting; refuses,
/// naming the holder, when another process has it.
pub fn acquire(dir: &Path, plan: &Plan, holder: &Holder) -> Result<ApplyLock, LockError> {
    let path = path_for(dir, plan);
    let io = |source| LockError::Io { path: path.clone(), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(LockError::Held { holder: read_holder(&mut file), path }),
        Err(TryLockError::Error(source)) => return Err(io(source)),
    }
    let text = serde_json::to_string(holder).unwrap_or_default();
    file.set_len(0).and_then(|()| file.seek(SeekFrom::Start(0))).map_err(io)?;
    file.write_all(text.as_bytes()).and_then(|()| file.sync_data()).map_err(io)?;
    Ok(ApplyLock { file, path })
}

/// The holder as its file describes it (bounded read: the file is small).
fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.take(4096).read_to_string(&mut text);
    match serde_json::from_str::<Holder>(&text) {
        Ok(holder) => holder.to_string(),
        Err(_) => "a process that has not written its name yet".to_string(),
    }
}

/// This process, as a lock holder.
pub fn this_process(signer: Address, source: &str, since: String) -> Holder {
    Holder { pid: std::process::id(), host: host_name(), signer, source: source.to_string(), since }
}

fn host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, and gethostname
    // writes at most that many bytes.
    let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if status != 0 {
        return "an unknown host".to_string();
    }
    let end = buffer.iter().position(|b| *b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            format_version: crate::plan::FORMAT_VERSION,
            chain_id: 31337,
            block: crate::observe::BlockRef { number: 1, hash: Default::default(), timestamp: 0 },
            contracts: Vec::new(),
            changes: Vec::new(),
            calls: Vec::new(),
            routes: Vec::new(),
            operations: Vec::new(),
            accounts: Vec::new(),
            desired: Vec::new(),
            allow_ownership_transfer: false,
            source: None,
            digest: Default::default(),
        }
    }

    #[test]
    fn a_second_lock_on_one_deployment_is_refused_naming_the_holder_and_free_once_dropped() {
        let dir = tempfile::tempdir().expect("dir");
        let me = this_process(Address::ZERO, "plan.json", "2026-01-01T00:00:00Z".into());
        let first = acquire(dir.path(), &plan(), &me).expect("free");
        let second = acquire(dir.path(), &plan(), &me).err().map(|e| e.to_string()).unwrap_or_default();
        let expected = format!("process {} on ", std::process::id());
        assert!(second.contains("another govstate apply of this deployment is running"), "{second}");
        assert!(second.contains(&expected) && second.contains("applying plan.json"), "{second}");
        drop(first);
        assert!(acquire(dir.path(), &plan(), &me).is_ok(), "free again once released");
    }
}
