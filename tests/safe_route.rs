//! The Safe route on a real Safe v1.4.1 (the npm package's artifacts): a
//! plan whose authority is a Safe becomes one `execTransaction`, signed by
//! the owners from the plan file (`govstate sign`), checked before sending
//! (owner, once each, threshold, untampered, same Safe nonce), and sent by
//! anyone; the same calls export to a Transaction Builder file.

mod common;

use alloy::primitives::{Address, Bytes};
use alloy::signers::SignerSync;
use alloy::sol_types::{SolCall, SolInterface};
use common::TestChain;
use govstate::contracts::arena::SelfPlayArena;
use govstate::contracts::safe::{self, SafeL2};
use govstate::devnet::{AnvilOptions, Devnet, SafeSetup, Topology, dev_signer};
use serde_json::Value as Json;

const KEYS: [&str; 4] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];
const ROGUE: &str = "0x00000000000000000000000000000000000000aa";
const FRIEND: &str = "0x00000000000000000000000000000000000000bb";
const DELAY: u64 = 60;
const PASSWORD: &str = "correct horse battery staple";

struct Setup {
    chain: TestChain,
    dir: tempfile::TempDir,
    state: String,
}

async fn setup(shape: &str, topology: Topology) -> Setup {
    let shape: SafeSetup = shape.parse().expect("a Safe shape");
    let devnet =
        Devnet::start_with_safe(&AnvilOptions::default(), topology, Some(shape)).await.expect("devnet with a Safe");
    let chain = TestChain { devnet };
    let dir = tempfile::tempdir().expect("temp dir");
    let state = chain.write_state_file(dir.path()).await.display().to_string();
    Setup { chain, dir, state }
}

impl Setup {
    fn safe(&self) -> Address {
        self.chain.devnet.wiring().safe.expect("a Safe")
    }

    async fn safe_nonce(&self) -> u64 {
        let data = self.chain.read(self.safe(), SafeL2::nonceCall {}.abi_encode()).await;
        SafeL2::nonceCall::abi_decode_returns(&data).expect("uint").to::<u64>()
    }

    /// Executes `calls` from the Safe directly (owners 0 and 1 sign in the
    /// test), as another Safe transaction would: moves its nonce.
    async fn safe_exec(&self, calls: &[(Address, Bytes)]) {
        let (to, operation, data) = safe::batch_transaction(calls);
        let nonce = self.safe_nonce().await;
        let hash = safe::safe_tx_hash(31337, self.safe(), to, operation, &data, nonce);
        let mut signatures = Vec::new();
        for index in [0, 1] {
            let signer = dev_signer(index).expect("dev account");
            let signature = signer.sign_hash_sync(&hash).expect("signed").as_bytes();
            signatures.push((signer.address(), signature));
        }
        let exec = safe::exec_transaction(to, operation, &data, safe::pack_signatures(signatures));
        self.chain.send(3, self.safe(), exec).await;
    }

    /// The state file with `edits` applied, written beside it.
    fn file(&self, name: &str, edits: &[(&str, &str)]) -> String {
        let mut text = std::fs::read_to_string(&self.state).expect("state file");
        for (from, to) in edits {
            assert!(text.contains(from), "{from:?} in {text}");
            text = text.replacen(from, to, 1);
        }
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("written");
        path.display().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        self.chain.govstate(args)
    }

    fn sign(&self, plan: &str, key: &str) -> (Option<i32>, String, String) {
        self.run(&["sign", plan, "--private-key", key])
    }

    fn apply(&self, target: &str, key: &str) -> (Option<i32>, String, String) {
        let receipts = self.path("receipts");
        self.run(&["apply", target, "--yes", "--no-cache", "--private-key", key, "--receipts-dir", &receipts])
    }

    /// A plan rotating the rogue orchestrator out for a friend and raising
    /// the teacher reward, saved as `plan.json`. The rogue is granted by
    /// the Safe first (Safe nonce 1).
    async fn rotation_plan(&self) -> String {
        let rogue: Address = ROGUE.parse().expect("address");
        let grant = SelfPlayArena::setOrchestratorCall { orchestrator: rogue, allowed: true }.abi_encode();
        self.safe_exec(&[(self.chain.address("arena"), grant.into())]).await;
        let file = self.file(
            "rotation.yaml",
            &[
                ("  orchestrators: []", &format!("  orchestrators:\n  - \"{}\"", checksum(FRIEND))),
                ("    teacher: 150 ether", "    teacher: 200 ether"),
            ],
        );
        let saved = self.path("plan.json");
        let (code, stdout, stderr) = self.run(&["plan", &file, "--no-cache", "--out", &saved]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert!(stdout.contains("through Safe") && stdout.contains("(2 of 3, nonce 1)"), "{stdout}");
        saved
    }

    fn signatures(&self) -> Json {
        let text = std::fs::read_to_string(self.path("plan.signatures.json")).expect("signature file");
        serde_json::from_str(&text).expect("JSON")
    }

    fn write_signatures(&self, file: &Json) {
        std::fs::write(self.path("plan.signatures.json"), file.to_string()).expect("written");
    }
}

fn checksum(address: &str) -> String {
    address.parse::<Address>().expect("address").to_checksum(None)
}

fn timelock(s: &Setup) -> Address {
    s.chain.devnet.wiring().timelock.expect("a timelock")
}

fn owner(index: usize) -> Address {
    dev_signer(index).expect("dev account").address()
}

async fn is_orchestrator(s: &Setup, who: &str) -> bool {
    let who: Address = who.parse().expect("address");
    let data = SelfPlayArena::orchestratorsCall(who).abi_encode();
    SelfPlayArena::orchestratorsCall::abi_decode_returns(&s.chain.read(s.chain.address("arena"), data).await)
        .expect("bool")
}

#[tokio::test]
async fn two_of_three_owners_sign_the_plan_and_one_apply_sends_it_as_one_safe_transaction() {
    let s = setup("2-of-3", Topology::Direct).await;
    let plan = s.rotation_plan().await;
    let plan_json: Json = serde_json::from_str(&std::fs::read_to_string(&plan).expect("plan")).expect("JSON");
    assert_eq!(plan_json["calls"].as_array().map_or(0, Vec::len), 3, "revoke, grant, setRewards");
    assert_eq!(plan_json["routes"][0]["via"]["type"], "safe");
    let nonce_before = s.safe_nonce().await;
    let batch: govstate::plan::SafeBatch = {
        let mut via = plan_json["routes"][0]["via"].clone();
        via.as_object_mut().map(|o| o.remove("type"));
        serde_json::from_value(via).expect("a Safe batch")
    };
    let ask = SafeL2::getTransactionHashCall {
        to: batch.to,
        value: alloy::primitives::U256::ZERO,
        data: batch.data.clone(),
        operation: batch.operation,
        safeTxGas: alloy::primitives::U256::ZERO,
        baseGas: alloy::primitives::U256::ZERO,
        gasPrice: alloy::primitives::U256::ZERO,
        gasToken: Address::ZERO,
        refundReceiver: Address::ZERO,
        _nonce: alloy::primitives::U256::from(nonce_before),
    };
    let answer = s.chain.read(s.safe(), ask.abi_encode()).await;
    let on_chain = SafeL2::getTransactionHashCall::abi_decode_returns(&answer).expect("bytes32");
    assert_eq!(batch.safe_tx_hash, on_chain, "the hash owners sign is the Safe's own");
    assert_eq!(batch.operation, 1, "a delegatecall to MultiSendCallOnly");

    let (code, stdout, stderr) = s.sign(&plan, KEYS[0]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("SafeTx hash: 0x") && stdout.contains("setRewards("), "decoded calls shown: {stdout}");

    let sender_nonce = s.chain.nonce(owner(0)).await;
    let (code, stdout, stderr) = s.apply(&plan, KEYS[0]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("has 1") && stderr.contains("1 missing"), "{stderr}");
    assert!(stderr.contains(&owner(1).to_string()) && stderr.contains(&owner(2).to_string()), "who may sign: {stderr}");
    assert!(stderr.contains("Nothing was sent"), "{stderr}");
    assert_eq!(s.chain.nonce(owner(0)).await, sender_nonce, "nothing sent");
    assert_eq!(s.safe_nonce().await, nonce_before);

    // Owner 1 signs from a keystore with a password file.
    let key = alloy::primitives::hex::decode(KEYS[1]).expect("hex key");
    let keys = s.dir.path().join("keys");
    std::fs::create_dir_all(&keys).expect("dir");
    let (_, name) =
        alloy::signers::local::PrivateKeySigner::encrypt_keystore(&keys, &mut rand::thread_rng(), key, PASSWORD, None)
            .expect("keystore written");
    let password = s.path("password");
    std::fs::write(&password, format!("{PASSWORD}\n")).expect("password file");
    let keystore = keys.join(name).display().to_string();
    let (code, signed, stderr) = s.run(&["sign", &plan, "--keystore", &keystore, "--password-file", &password]);
    assert_eq!(code, Some(0), "{signed}{stderr}");
    assert!(signed.contains("(2 of 2 signatures)"), "{signed}");
    let relayer = s.chain.nonce(owner(3)).await;
    let (code, applied, stderr) = s.apply(&plan, KEYS[3]);
    assert_eq!(code, Some(0), "{applied}{stderr}");
    assert!(applied.contains("execTransaction(3 calls)"), "{applied}");
    assert_eq!(s.chain.nonce(owner(3)).await, relayer + 1, "one transaction, from a non-owner");
    assert_eq!(s.safe_nonce().await, nonce_before + 1, "the Safe nonce moved by exactly 1");
    assert!(is_orchestrator(&s, FRIEND).await && !is_orchestrator(&s, ROGUE).await);

    let file = s.path("rotation.yaml");
    let (code, stdout, _) = s.run(&["plan", &file, "--no-cache", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "re-plan is empty: {stdout}");

    let mut written = std::fs::read_to_string(s.path("plan.signatures.json")).expect("signatures");
    for receipt in common::receipts(&s.dir.path().join("receipts")) {
        written.push_str(&receipt.to_string());
    }
    written.push_str(&stdout);
    written.push_str(&signed);
    written.push_str(&applied);
    written.push_str(&stderr);
    assert!(!written.contains(PASSWORD), "the keystore password leaked");
    for key in KEYS {
        let bare = key.trim_start_matches("0x");
        assert!(!written.to_lowercase().contains(bare), "a key leaked into the signatures, receipts or output");
    }
}

#[tokio::test]
async fn a_tampered_signature_a_non_owner_signature_and_a_moved_safe_nonce_are_each_refused_before_sending() {
    let s = setup("2-of-3", Topology::Direct).await;
    let plan = s.rotation_plan().await;
    for key in [KEYS[0], KEYS[1]] {
        let (code, stdout, stderr) = s.sign(&plan, key);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
    }
    let (code, _, stderr) = s.sign(&plan, KEYS[0]);
    assert_eq!(code, Some(1), "signing twice is refused");
    assert!(stderr.contains("already signed"), "{stderr}");
    let (code, _, stderr) = s.sign(&plan, KEYS[3]);
    assert_eq!(code, Some(1), "a non-owner may not sign");
    assert!(stderr.contains("is not an owner"), "{stderr}");
    let good = s.signatures();
    let nonce = s.safe_nonce().await;
    let relayer = s.chain.nonce(owner(3)).await;

    // Tampered: one byte of owner 1's `s` changed.
    let mut tampered = good.clone();
    let entry = &mut tampered["signatures"][1]["signature"];
    let mut bytes: Bytes = serde_json::from_value(entry.clone()).expect("hex");
    let mut raw = bytes.to_vec();
    raw[40] ^= 0x01;
    bytes = raw.into();
    *entry = serde_json::to_value(&bytes).expect("hex");
    s.write_signatures(&tampered);
    let (code, _, stderr) = s.apply(&plan, KEYS[3]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("tampered") && stderr.contains("nothing was sent"), "{stderr}");

    // Signed by a non-owner (account 3), claimed as its own.
    let hash: alloy::primitives::B256 =
        serde_json::from_value(good["signatures"][0]["safe_tx_hash"].clone()).expect("hash");
    let stranger = dev_signer(3).expect("dev account");
    let signature = Bytes::from(stranger.sign_hash_sync(&hash).expect("signed").as_bytes().to_vec());
    let mut foreign = good.clone();
    foreign["signatures"][1]["owner"] = serde_json::to_value(stranger.address()).expect("address");
    foreign["signatures"][1]["signature"] = serde_json::to_value(&signature).expect("hex");
    s.write_signatures(&foreign);
    let (code, _, stderr) = s.apply(&plan, KEYS[3]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("is not an owner of the Safe"), "{stderr}");
    assert_eq!((s.safe_nonce().await, s.chain.nonce(owner(3)).await), (nonce, relayer), "nothing was sent");

    // The Safe executed something else since: the signed nonce is gone.
    s.write_signatures(&good);
    s.safe_exec(&[(owner(3), Bytes::new())]).await;
    let relayer = s.chain.nonce(owner(3)).await;
    let (code, _, stderr) = s.apply(&plan, KEYS[3]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&format!("nonce {nonce} when the plan was made, {} now", nonce + 1)), "{stderr}");
    assert_eq!(s.chain.nonce(owner(3)).await, relayer, "nothing was sent");
}

#[tokio::test]
async fn a_safe_with_threshold_one_whose_owner_applies_goes_through_in_one_run() {
    let s = setup("1-of-3", Topology::Direct).await;
    let file = s.file("rewards.yaml", &[("    teacher: 150 ether", "    teacher: 175 ether")]);
    let nonce = s.safe_nonce().await;
    let (code, stdout, stderr) = s.apply(&file, KEYS[2]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("execTransaction(1 call)"), "{stdout}");
    assert_eq!(s.safe_nonce().await, nonce + 1);
    let (code, stdout, _) = s.run(&["plan", &file, "--no-cache", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{stdout}");
}

/// The Transaction Builder checksum, written apart from govstate's, as the
/// app validates an imported file (`validateChecksum` in the app's
/// `checksum.ts`): `meta.checksum` removed, `meta.name` set to null (the key
/// kept), then the canonical serialisation of contracts.md, built over a
/// sorted copy of the document.
fn independent_checksum(file: &Json) -> String {
    fn serialise(value: &Json, out: &mut String) {
        match value {
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    serialise(item, out);
                }
                out.push(']');
            }
            Json::Object(map) => {
                let sorted: std::collections::BTreeMap<&String, &Json> = map.iter().collect();
                out.push('{');
                out.push_str(&serde_json::to_string(&sorted.keys().collect::<Vec<_>>()).expect("keys"));
                for value in sorted.values() {
                    serialise(value, out);
                    out.push(',');
                }
                out.push('}');
            }
            other => out.push_str(&serde_json::to_string(other).expect("scalar")),
        }
    }
    let mut copy = file.clone();
    copy["meta"].as_object_mut().expect("meta").remove("checksum");
    copy["meta"]["name"] = Json::Null;
    let mut text = String::new();
    serialise(&copy, &mut text);
    alloy::primitives::keccak256(text.as_bytes()).to_string()
}

#[tokio::test]
async fn the_transaction_builder_file_has_the_canonical_checksum_and_its_calls_are_the_plans() {
    let s = setup("2-of-3", Topology::Direct).await;
    let plan = s.rotation_plan().await;
    let plan_json: Json = serde_json::from_str(&std::fs::read_to_string(&plan).expect("plan")).expect("JSON");
    let out = s.path("batch.json");
    let (code, stdout, stderr) =
        s.run(&["plan", &s.path("rotation.yaml"), "--no-cache", "--format", "safe-tx-builder", "--out", &out]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let file: Json = serde_json::from_str(&std::fs::read_to_string(&out).expect("file")).expect("JSON");
    assert_eq!(file["version"], "1.0");
    assert_eq!(file["chainId"], "31337");
    assert_eq!(file["meta"]["createdFromSafeAddress"], s.safe().to_checksum(None));
    assert_eq!(file["meta"]["checksum"].as_str(), Some(independent_checksum(&file).as_str()));
    let mut edited = file.clone();
    edited["transactions"][0]["value"] = Json::from("1");
    assert_ne!(independent_checksum(&edited), independent_checksum(&file), "the checksum covers the calls");
    let mut renamed = file.clone();
    renamed["meta"]["name"] = Json::from("rotate the rogue orchestrator");
    assert_eq!(independent_checksum(&renamed), independent_checksum(&file), "renaming the batch keeps it valid");
    let mut described = file.clone();
    described["meta"]["description"] = Json::from("edited");
    assert_ne!(independent_checksum(&described), independent_checksum(&file), "the description is covered");

    let calls = plan_json["calls"].as_array().cloned().unwrap_or_default();
    let transactions = file["transactions"].as_array().cloned().unwrap_or_default();
    assert_eq!(transactions.len(), calls.len());
    for (tx, call) in transactions.iter().zip(&calls) {
        assert_eq!(tx["value"], "0");
        assert_eq!(tx["to"].as_str().map(str::to_lowercase), call["target"].as_str().map(str::to_lowercase));
        assert_eq!(tx["data"], call["calldata"]);
        let data: Bytes = serde_json::from_value(tx["data"].clone()).expect("hex");
        let decoded = SelfPlayArena::SelfPlayArenaCalls::abi_decode(&data).expect("an arena call");
        let name = call["function"].as_str().and_then(|f| f.split('(').next()).expect("function");
        assert!(format!("{decoded:?}").starts_with(name), "{decoded:?} is {name}");
    }

    // The fork simulation impersonates the Safe and converges.
    let (code, stdout, stderr) = s.run(&["plan", &s.path("rotation.yaml"), "--no-cache", "--simulate"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("converged"), "{stderr}");
}

#[tokio::test]
async fn with_the_safe_as_timelock_proposer_the_safe_schedules_and_the_batch_executes_after_the_delay() {
    let s = setup("2-of-3", Topology::Production { timelock_delay: DELAY }).await;
    let file =
        s.file("fee.yaml", &[("    fee: 0\n", "    fee: 4\n"), ("    teacher: 150 ether", "    teacher: 200 ether")]);
    let saved = s.path("plan.json");
    let (code, stdout, stderr) = s.run(&["plan", &file, "--no-cache", "--out", &saved]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("through TimelockController") && stdout.contains("scheduled by Safe"), "{stdout}");
    let chain =
        format!("StakeManager ← SystemPause ← TimelockController {} ← Safe {} (2 of 3)", timelock(&s), s.safe());
    assert!(stdout.contains(&chain), "the whole chain of authority: {stdout}");
    let nonce = s.safe_nonce().await;
    assert!(
        stdout.contains(&format!("nonce {nonce})")) && stdout.contains(&format!("nonce {})", nonce + 1)),
        "{stdout}"
    );
    let (code, _, stderr) = s.apply(&saved, KEYS[0]);
    assert_eq!(code, Some(1), "owner 0 alone is 1 of 2: {stderr}");
    for key in [KEYS[0], KEYS[1]] {
        let (code, stdout, stderr) = s.sign(&saved, key);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert_eq!(stdout.matches("SafeTx hash: 0x").count(), 2, "the arena's and the scheduling: {stdout}");
    }
    let (code, stdout, stderr) = s.apply(&saved, KEYS[3]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("execTransaction(1 call)"), "the arena's: {stdout}");
    assert!(stdout.contains("execTransaction(scheduleBatch(1 call))"), "{stdout}");
    assert_eq!(s.safe_nonce().await, nonce + 2, "two Safe transactions, consecutive nonces");

    let reader = s.chain.reader();
    let _: Json =
        alloy::providers::Provider::raw_request(&reader, "evm_increaseTime".into(), (DELAY + 1,)).await.expect("warp");
    s.chain.mine().await;
    let (code, stdout, stderr) = s.apply(&file, KEYS[0]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("executeBatch(1 call)"), "{stdout}");
    let (code, stdout, _) = s.run(&["plan", &file, "--no-cache", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "converged: {stdout}");
}

#[tokio::test]
async fn a_plan_edited_after_planning_is_not_signed() {
    let s = setup("2-of-3", Topology::Direct).await;
    let plan = s.rotation_plan().await;
    let mut json: Json = serde_json::from_str(&std::fs::read_to_string(&plan).expect("plan")).expect("JSON");
    let rewards = SelfPlayArena::setRewardsCall {
        teacherReward: alloy::primitives::U256::from(1),
        studentReward: alloy::primitives::U256::from(1),
        validatorReward: alloy::primitives::U256::from(1),
    };
    json["calls"][2]["calldata"] = serde_json::to_value(Bytes::from(rewards.abi_encode())).expect("hex");
    std::fs::write(&plan, json.to_string()).expect("written");
    let (code, stdout, stderr) = s.sign(&plan, KEYS[0]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("edited after it was made"), "{stderr}");
    assert!(!std::path::Path::new(&s.path("plan.signatures.json")).exists(), "nothing was signed");
}

#[tokio::test]
async fn a_safe_transaction_whose_call_reverts_is_named_by_the_safes_error_code() {
    let s = setup("2-of-3", Topology::Direct).await;
    let zero = alloy::primitives::U256::ZERO;
    let bad = SelfPlayArena::setRewardsCall { teacherReward: zero, studentReward: zero, validatorReward: zero };
    let (to, operation, data) = safe::batch_transaction(&[(s.chain.address("arena"), bad.abi_encode().into())]);
    let hash = safe::safe_tx_hash(31337, s.safe(), to, operation, &data, s.safe_nonce().await);
    let signatures = [0, 1]
        .map(|i| dev_signer(i).expect("dev account"))
        .map(|signer| (signer.address(), signer.sign_hash_sync(&hash).expect("signed").as_bytes()));
    let exec = safe::exec_transaction(to, operation, &data, safe::pack_signatures(signatures.to_vec()));
    let revert = s.chain.revert_data(owner(3), s.safe(), exec).await.expect("the inner call reverts");
    assert_eq!(govstate::execute::revert_name("safe", &revert), "Error(\"GS013\")");
}
