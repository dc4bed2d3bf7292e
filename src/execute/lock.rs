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
    /// Something other than a plain file of govstate's is at the lock's path
    /// (a symbolic link, a hard link to another file, a directory): it is
    /// left as it is, never opened for writing.
    #[error("the apply lock {} is not a plain file (a link or planted entry?); it was left untouched", path.display())]
    NotPlain {
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
    let mut file = open_plain(&path)?;
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

/// Opens (or creates) the lock file without following a symbolic link at
/// its path, and refuses anything but a plain file with one name: the
/// name is computable from a plan, so a repository could plant a link
/// there pointing at a file worth truncating.
fn open_plain(path: &Path) -> Result<File, LockError> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path);
    let not_plain = || LockError::NotPlain { path: path.to_path_buf() };
    let file = match opened {
        Ok(file) => file,
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => return Err(not_plain()),
        Err(source) => return Err(LockError::Io { path: path.to_path_buf(), source }),
    };
    let metadata = file.metadata().map_err(|source| LockError::Io { path: path.to_path_buf(), source })?;
    if !metadata.file_type().is_file() || metadata.nlink() != 1 {
        return Err(not_plain());
    }
    Ok(file)
}

/// Writes `bytes` to `path` through a fresh temporary file beside it, then
/// a rename: the temporary is created new (`O_EXCL`, which never follows a
/// link; a leftover one, link or not, is removed first), so a link planted
/// at its predictable name cannot redirect the write.
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut name = path.file_name().map(std::ffi::OsString::from).unwrap_or_default();
    name.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(name);
    match std::fs::remove_file(&temporary) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let mut file = OpenOptions::new().write(true).create_new(true).open(&temporary)?;
    file.write_all(bytes)?;
    file.sync_data()?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
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
            block: crate::observe::BlockRef { number: 1, hash: Default::default(), timestamp: 0, gas_limit: 0 },
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

    #[test]
    fn a_link_planted_at_a_temporary_name_is_not_written_through() {
        let dir = tempfile::tempdir().expect("dir");
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "precious").expect("write");
        let target = dir.path().join("receipt.json");
        let temporary = dir.path().join(format!("receipt.json.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &temporary).expect("symlink");
        replace_file(&target, b"{}").expect("written");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "{}");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious", "the link's target is untouched");
    }

    #[test]
    fn a_planted_symlink_or_hard_link_at_the_lock_path_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().expect("dir");
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "precious").expect("write");
        let me = this_process(Address::ZERO, "plan.json", "2026-01-01T00:00:00Z".into());
        let lock = path_for(dir.path(), &plan());
        std::os::unix::fs::symlink(&victim, &lock).expect("symlink");
        let refused = acquire(dir.path(), &plan(), &me).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains("not a plain file"), "{refused}");
        std::fs::remove_file(&lock).expect("unlink");
        std::fs::hard_link(&victim, &lock).expect("hard link");
        let refused = acquire(dir.path(), &plan(), &me).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains("not a plain file"), "{refused}");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious", "the target is untouched");
    }
}
