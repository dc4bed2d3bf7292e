//! Owners' signatures of a plan's Safe transactions, kept beside the plan
//! (`PLAN.signatures.json`, one entry per owner and transaction, never a
//! key), and the checks before `execTransaction` is sent: each signature
//! recovers to the owner it claims, owners are owners and sign once, and
//! the threshold is reached.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, Bytes, Signature};
use alloy::signers::SignerSync;
use serde::{Deserialize, Serialize};

use crate::contracts::{safe, timelock};
use crate::plan::{Plan, RouteKind, SafeBatch};

/// The version of the signature file's layout.
pub const SIGNATURES_FORMAT_VERSION: u32 = 1;

/// `PLAN.signatures.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    /// Layout version, [`SIGNATURES_FORMAT_VERSION`].
    pub format_version: u32,
    /// One entry per owner and Safe transaction.
    pub signatures: Vec<OwnerSignature>,
}

/// One owner's signature of one Safe transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerSignature {
    /// The Safe.
    pub safe: Address,
    /// The `SafeTx` hash signed.
    pub safe_tx_hash: B256,
    /// The owner who signed.
    pub owner: Address,
    /// `r ‖ s ‖ v` over the hash itself (`v` 27 or 28).
    pub signature: Bytes,
}

/// Why signing or executing a Safe transaction is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SafeError {
    /// The signature file could not be read or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The signer is not an owner of the Safe.
    #[error("{signer} is not an owner of Safe {safe} (owners: {}); nothing was signed", list(owners))]
    NotOwner {
        /// The signer.
        signer: Address,
        /// The Safe.
        safe: Address,
        /// Its owners.
        owners: Vec<Address>,
    },
    /// The owner already signed this transaction.
    #[error("{owner} already signed SafeTx {safe_tx_hash} of Safe {safe}; nothing was signed")]
    AlreadySigned {
        /// The owner.
        owner: Address,
        /// The Safe.
        safe: Address,
        /// The transaction.
        safe_tx_hash: B256,
    },
    /// Signing failed.
    #[error("could not sign SafeTx {0}: {1}")]
    Sign(B256, String),
    /// The plan's Safe transaction is not the one its calls make.
    #[error(
        "the Safe transaction {safe_tx_hash} in the plan does not make the plan's calls ({reason}): the plan was edited after it was made; plan again; nothing was signed or sent"
    )]
    Mismatch {
        /// The hash the plan carries.
        safe_tx_hash: B256,
        /// What differs.
        reason: String,
    },
    /// A signature in the file does not hold.
    #[error("a signature for SafeTx {safe_tx_hash} of Safe {safe} is refused: {reason}; nothing was sent")]
    BadSignature {
        /// The Safe.
        safe: Address,
        /// The transaction.
        safe_tx_hash: B256,
        /// Why.
        reason: String,
    },
    /// Fewer signatures than the threshold.
    #[error(
        "Safe {safe} needs {threshold} signatures of SafeTx {safe_tx_hash}, has {have} ({}); {} missing; owners who may still sign: {} (save the plan with `plan --out PLAN`, each signs with `govstate sign PLAN`, then `apply PLAN`). Nothing was sent",
        list(signed),
        threshold.saturating_sub(*have),
        list(may_sign)
    )]
    NotEnough {
        /// The Safe.
        safe: Address,
        /// The transaction.
        safe_tx_hash: B256,
        /// The threshold.
        threshold: u64,
        /// Valid signatures found (the sender counts when it is an owner).
        have: u64,
        /// Who signed.
        signed: Vec<Address>,
        /// Owners who have not.
        may_sign: Vec<Address>,
    },
}

fn list(addresses: &[Address]) -> String {
    if addresses.is_empty() {
        return "none".to_string();
    }
    addresses.iter().map(Address::to_string).collect::<Vec<_>>().join(", ")
}

/// Where the signatures of the plan saved at `plan` are kept.
pub fn signatures_path(plan: &Path) -> PathBuf {
    let mut name = plan.file_stem().unwrap_or_default().to_os_string();
    name.push(".signatures.json");
    plan.with_file_name(name)
}

impl SignatureFile {
    /// Reads `path`; a missing file holds no signatures.
    pub fn load(path: &Path) -> Result<Self, SafeError> {
        let failed = |reason: String| SafeError::File { path: path.to_path_buf(), reason };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SignatureFile { format_version: SIGNATURES_FORMAT_VERSION, signatures: Vec::new() });
            }
            Err(e) => return Err(failed(format!("could not read: {e}"))),
        };
        let file: SignatureFile = serde_json::from_str(&text).map_err(|e| {
            failed(format!("not a govstate signature file: {e} (line {}, column {})", e.line(), e.column()))
        })?;
        if file.format_version != SIGNATURES_FORMAT_VERSION {
            return Err(failed(format!(
                "format_version: expected {SIGNATURES_FORMAT_VERSION}, found {}",
                file.format_version
            )));
        }
        Ok(file)
    }

    /// Writes the file (pretty JSON).
    pub fn save(&self, path: &Path) -> Result<(), SafeError> {
        let failed = |reason: String| SafeError::File { path: path.to_path_buf(), reason };
        let text = serde_json::to_string_pretty(self).map_err(|e| failed(e.to_string()))?;
        std::fs::write(path, text + "\n").map_err(|e| failed(format!("could not write: {e}")))
    }
}

/// Every Safe transaction of `plan`: a Safe route's, and the one that
/// schedules a timelock batch whose proposer is a Safe.
pub fn safe_batches(plan: &Plan) -> Vec<&SafeBatch> {
    plan.routes
        .iter()
        .filter_map(|r| match &r.via {
            RouteKind::Safe(batch) => Some(batch),
            RouteKind::Timelock(batch) => batch.proposer.as_ref(),
            RouteKind::Direct => None,
        })
        .collect()
}

/// Refuses unless `batch` is exactly the Safe transaction the plan's calls
/// make: what an owner is shown (the calls) is what the hash commits to.
pub fn check_batch(plan: &Plan, batch: &SafeBatch) -> Result<(), SafeError> {
    let mismatch = |reason: &str| SafeError::Mismatch { safe_tx_hash: batch.safe_tx_hash, reason: reason.to_string() };
    let sent = |calls: &[usize]| -> Vec<(Address, Bytes)> {
        calls.iter().filter_map(|i| plan.calls.get(*i)).map(|c| (c.sent().0, c.sent().1.clone())).collect()
    };
    let calls = plan.routes.iter().find_map(|route| match &route.via {
        RouteKind::Safe(b) if b == batch => Some(Ok(sent(&route.calls))),
        RouteKind::Timelock(t) if t.proposer.as_ref() == Some(batch) => {
            let carried = sent(&route.calls);
            let (targets, payloads): (Vec<Address>, Vec<Bytes>) = carried.into_iter().unzip();
            if targets != t.targets || payloads != t.payloads {
                return Some(Err(mismatch("the timelock batch is not the route's calls")));
            }
            if timelock::operation_id(&t.targets, &t.payloads, t.predecessor, t.salt) != t.operation {
                return Some(Err(mismatch("the timelock operation id is not the batch's")));
            }
            let data = timelock::schedule_batch(&t.targets, &t.payloads, t.predecessor, t.salt, t.delay);
            Some(Ok(vec![(t.timelock, data.into())]))
        }
        _ => None,
    });
    let calls = calls.ok_or_else(|| mismatch("no route carries it"))??;
    let expected =
        crate::plan::safe_batch(plan.chain_id, batch.safe, batch.threshold, batch.owners.clone(), batch.nonce, &calls);
    if expected != *batch {
        return Err(mismatch("its targets, data or hash differ from what the calls make"));
    }
    Ok(())
}

/// Adds `signer`'s signature of `batch` to `file`: refused when the signer
/// is not an owner (as the plan observed them) or already signed.
pub fn sign(
    file: &mut SignatureFile,
    batch: &SafeBatch,
    signer: &(impl SignerSync + alloy::signers::Signer),
) -> Result<(), SafeError> {
    let owner = signer.address();
    if !batch.owners.contains(&owner) {
        return Err(SafeError::NotOwner { signer: owner, safe: batch.safe, owners: batch.owners.clone() });
    }
    let hash = batch.safe_tx_hash;
    if file.signatures.iter().any(|s| s.safe_tx_hash == hash && s.owner == owner) {
        return Err(SafeError::AlreadySigned { owner, safe: batch.safe, safe_tx_hash: hash });
    }
    let signature = signer.sign_hash_sync(&hash).map_err(|e| SafeError::Sign(hash, e.to_string()))?;
    let bytes = Bytes::from(signature.as_bytes().to_vec());
    file.signatures.push(OwnerSignature { safe: batch.safe, safe_tx_hash: hash, owner, signature: bytes });
    Ok(())
}

/// Refuses before anything is signed (or a device prompts) when `owner`
/// is not an owner of `batch`'s Safe (as the plan observed them) or
/// already signed it in `file`.
pub fn may_sign(file: &SignatureFile, batch: &SafeBatch, owner: Address) -> Result<(), SafeError> {
    if !batch.owners.contains(&owner) {
        return Err(SafeError::NotOwner { signer: owner, safe: batch.safe, owners: batch.owners.clone() });
    }
    let hash = batch.safe_tx_hash;
    if file.signatures.iter().any(|s| s.safe_tx_hash == hash && s.owner == owner) {
        return Err(SafeError::AlreadySigned { owner, safe: batch.safe, safe_tx_hash: hash });
    }
    Ok(())
}

/// Adds `owner`'s signature of `batch` (made by any signer: `v` 27/28 over
/// the hash, 31/32 in the `eth_sign` form) to `file`, after the checks of
/// [`may_sign`] and a check that it recovers to `owner`.
pub fn add_signature(
    file: &mut SignatureFile,
    batch: &SafeBatch,
    owner: Address,
    signature: [u8; 65],
) -> Result<(), SafeError> {
    may_sign(file, batch, owner)?;
    let hash = batch.safe_tx_hash;
    if !matches!(signature[64], 27 | 28 | 31 | 32) {
        return Err(SafeError::Sign(hash, format!("v is {}, expected 27, 28, 31 or 32", signature[64])));
    }
    match recover(&signature, hash) {
        Ok(recovered) if recovered == owner => {}
        Ok(recovered) => return Err(SafeError::Sign(hash, format!("the signature is {recovered}'s, not {owner}'s"))),
        Err(e) => return Err(SafeError::Sign(hash, e)),
    }
    let bytes = Bytes::from(signature.to_vec());
    file.signatures.push(OwnerSignature { safe: batch.safe, safe_tx_hash: hash, owner, signature: bytes });
    Ok(())
}

/// The `signatures` argument of `execTransaction` for `batch`, sent by
/// `sender`, with `owners` and `threshold` as they are now: every entry of
/// `file` for the transaction must recover to its owner and be the only one
/// of that owner; the sender counts when it is an owner who has not signed.
pub fn collect(
    file: &SignatureFile,
    batch: &SafeBatch,
    owners: &[Address],
    threshold: u64,
    sender: Address,
) -> Result<Bytes, SafeError> {
    let refuse =
        |reason: String| SafeError::BadSignature { safe: batch.safe, safe_tx_hash: batch.safe_tx_hash, reason };
    let mut found: Vec<(Address, [u8; 65])> = Vec::new();
    for entry in file.signatures.iter().filter(|s| s.safe == batch.safe && s.safe_tx_hash == batch.safe_tx_hash) {
        let bytes: [u8; 65] = entry.signature.as_ref().try_into().map_err(|_| {
            refuse(format!("{}'s signature is {} bytes, expected 65 (r ‖ s ‖ v)", entry.owner, entry.signature.len()))
        })?;
        let recovered = recover(&bytes, batch.safe_tx_hash)
            .map_err(|e| refuse(format!("{}'s signature does not recover: {e}", entry.owner)))?;
        if recovered != entry.owner {
            return Err(refuse(format!(
                "the signature claimed by {} was made by {recovered}: tampered, or made for another transaction",
                entry.owner
            )));
        }
        if !owners.contains(&entry.owner) {
            return Err(refuse(format!("{} is not an owner of the Safe (owners: {})", entry.owner, list(owners))));
        }
        if found.iter().any(|(o, _)| *o == entry.owner) {
            return Err(refuse(format!("{} signed more than once", entry.owner)));
        }
        found.push((entry.owner, bytes));
    }
    if owners.contains(&sender) && !found.iter().any(|(o, _)| *o == sender) {
        found.push((sender, safe::approved_by_sender(sender)));
    }
    if (found.len() as u64) < threshold {
        let signed: Vec<Address> = found.iter().map(|(o, _)| *o).collect();
        let may_sign = owners.iter().filter(|o| !signed.contains(o)).copied().collect();
        return Err(SafeError::NotEnough {
            safe: batch.safe,
            safe_tx_hash: batch.safe_tx_hash,
            threshold,
            have: found.len() as u64,
            signed,
            may_sign,
        });
    }
    Ok(safe::pack_signatures(found))
}

/// The signer of a 65-byte signature as the Safe reads it: `v` 27/28 over
/// the hash itself, `v` 31/32 over the `eth_sign`-prefixed hash (what
/// `cast wallet sign 0xHASH` makes, with 4 added to `v`).
/// Any other `v` is refused: the Safe reads 0 as a contract signature and
/// 1 as an approved hash (both would recover here like 27/28 and mean
/// something else on chain), and the rest as nothing valid.
fn recover(bytes: &[u8; 65], hash: B256) -> Result<Address, String> {
    let mut raw = *bytes;
    let prefixed = match raw[64] {
        27 | 28 => false,
        31 | 32 => true,
        v => {
            return Err(format!(
                "v = {v}, but an offline signature has v 27 or 28 (over the hash) or 31 or 32 (eth_sign); the Safe would read it as another kind of signature"
            ));
        }
    };
    if prefixed {
        raw[64] -= 4;
    }
    let signature = Signature::from_raw_array(&raw).map_err(|e| e.to_string())?;
    let signed = if prefixed { alloy::primitives::eip191_hash_message(hash) } else { hash };
    signature.recover_address_from_prehash(&signed).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devnet::dev_signer;

    fn batch(owners: &[Address], threshold: u64) -> SafeBatch {
        let calls = [(Address::repeat_byte(9), Bytes::from(vec![1, 2, 3, 4]))];
        crate::plan::safe_batch(31337, Address::repeat_byte(5), threshold, owners.to_vec(), 7, &calls)
    }

    fn signed_by(batch: &SafeBatch, indices: &[usize]) -> SignatureFile {
        let mut file = SignatureFile { format_version: SIGNATURES_FORMAT_VERSION, signatures: Vec::new() };
        for index in indices {
            sign(&mut file, batch, &dev_signer(*index).expect("dev account")).expect("an owner signs");
        }
        file
    }

    fn owners() -> Vec<Address> {
        (0..3).map(|i| dev_signer(i).expect("dev account").address()).collect()
    }

    #[test]
    fn signatures_are_packed_in_ascending_owner_order_whatever_the_file_order() {
        let owners = owners();
        let batch = batch(&owners, 2);
        let file = signed_by(&batch, &[0, 1]);
        let mut reversed = file.clone();
        reversed.signatures.reverse();
        let packed = collect(&file, &batch, &owners, 2, Address::ZERO).expect("enough");
        assert_eq!(packed, collect(&reversed, &batch, &owners, 2, Address::ZERO).expect("enough"));
        let first = recover(&packed[..65].try_into().expect("65 bytes"), batch.safe_tx_hash).expect("recovers");
        let second = recover(&packed[65..].try_into().expect("65 bytes"), batch.safe_tx_hash).expect("recovers");
        assert!(first < second, "{first} before {second}");
    }

    #[test]
    fn an_eth_sign_signature_with_v_plus_four_counts_for_its_owner() {
        let owners = owners();
        let batch = batch(&owners, 1);
        let signer = dev_signer(1).expect("dev account");
        let mut bytes = signer.sign_message_sync(batch.safe_tx_hash.as_slice()).expect("signed").as_bytes();
        bytes[64] += 4;
        let entry = OwnerSignature {
            safe: batch.safe,
            safe_tx_hash: batch.safe_tx_hash,
            owner: signer.address(),
            signature: Bytes::from(bytes.to_vec()),
        };
        let file = SignatureFile { format_version: SIGNATURES_FORMAT_VERSION, signatures: vec![entry] };
        let packed = collect(&file, &batch, &owners, 1, Address::ZERO).expect("counts");
        assert_eq!(packed.as_ref(), bytes.as_slice(), "sent as given: the Safe checks v + 4 itself");
    }

    #[test]
    fn a_signature_whose_v_the_safe_reads_as_another_kind_is_refused() {
        let owners = owners();
        let batch = batch(&owners, 1);
        let good = signed_by(&batch, &[1]);
        let v = good.signatures[0].signature[64];
        assert!(v == 27 || v == 28, "a plain signature: {v}");
        // 0 and 1 recover like 27 and 28 but mean a contract or an
        // approved-hash signature to the Safe; 29, 30, 33 mean nothing.
        for bad in [v - 27, v + 2, 33, 255] {
            let mut file = good.clone();
            let mut bytes = file.signatures[0].signature.to_vec();
            bytes[64] = bad;
            file.signatures[0].signature = Bytes::from(bytes);
            let error = collect(&file, &batch, &owners, 1, Address::ZERO).map(|_| ()).expect_err("refused");
            assert!(error.to_string().contains(&format!("v = {bad}")), "{error}");
        }
    }

    #[test]
    fn an_owner_listed_twice_is_refused() {
        let owners = owners();
        let batch = batch(&owners, 2);
        let mut file = signed_by(&batch, &[0]);
        file.signatures.push(file.signatures[0].clone());
        let error = collect(&file, &batch, &owners, 2, Address::ZERO).expect_err("refused");
        assert!(error.to_string().contains("signed more than once"), "{error}");
    }

    #[test]
    fn an_applying_owner_counts_once_and_only_when_it_has_not_signed() {
        let owners = owners();
        let batch = batch(&owners, 2);
        let file = signed_by(&batch, &[0]);
        let error = collect(&file, &batch, &owners, 2, owners[0]).expect_err("still 1 of 2");
        assert!(error.to_string().contains("has 1"), "{error}");
        let packed = collect(&file, &batch, &owners, 2, owners[2]).expect("2 of 2");
        assert_eq!(packed.len(), 130);
        assert!(packed.chunks(65).any(|s| s[64] == 1 && s[12..32] == *owners[2].as_slice()), "pre-validated");
    }

    #[test]
    fn a_signature_of_another_transaction_is_refused_as_tampered() {
        let owners = owners();
        let mut other = batch(&owners, 1);
        other.nonce += 1;
        other.safe_tx_hash = crate::plan::safe_batch(31337, other.safe, 1, owners.clone(), 8, &[]).safe_tx_hash;
        let mut file = signed_by(&other, &[0]);
        let batch = batch(&owners, 1);
        file.signatures[0].safe_tx_hash = batch.safe_tx_hash;
        let error = collect(&file, &batch, &owners, 1, Address::ZERO).expect_err("refused");
        assert!(error.to_string().contains("tampered"), "{error}");
    }
}
