//! `--aws` for real, on this machine: a local KMS-compatible server
//! (ministack, from PyPI, installed by `.ci/run`) holds a secp256k1 key;
//! `apply --aws` converges a plan whose transactions that key signs, and
//! `sign --aws` makes a Safe signature the real Safe v1.4.1 accepts in a
//! 2-of-3 flow. ministack rather than moto: moto 5.x ignores
//! `MessageType=DIGEST` and signs the SHA-256 of the digest, so no
//! Ethereum signer (alloy's `AwsSigner` among them) can use it.

#![cfg(feature = "aws")]

mod common;

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::signers::aws::AwsSigner;
use alloy::signers::aws::aws_sdk_kms::Client;
use alloy::signers::aws::aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use alloy::signers::aws::aws_sdk_kms::types::{KeySpec, KeyUsageType};
use alloy::signers::{Signer, SignerSync};
use alloy::sol_types::SolCall;
use common::TestChain;
use govstate::contracts::arena::SelfPlayArena;
use govstate::contracts::safe::{self, SafeL2};
use govstate::devnet::{AnvilOptions, Devnet, SafeSetup, Topology, dev_signer};

/// The KMS secret the test's credentials carry; it must never be printed.
const SECRET: &str = "kms-secret-never-shown-4f1c9a";
const KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A ministack server on a free loopback port, stopped when dropped.
struct Kms {
    child: std::process::Child,
    url: String,
}

impl Drop for Kms {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GOVSTATE_MINISTACK`, else `ministack` on PATH, else the one `.ci/run`
/// installs in `target/ci-venv`.
fn ministack() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("GOVSTATE_MINISTACK") {
        return path.into();
    }
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/ministack");
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("ministack"))
        .find(|p| p.is_file());
    on_path.or_else(|| venv.is_file().then_some(venv)).unwrap_or_else(|| {
        panic!("ministack is needed: run .ci/run's setup (python3 -m venv target/ci-venv; target/ci-venv/bin/pip install ministack==1.5.33 cryptography==48.0.0)")
    })
}

async fn start_kms() -> Kms {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("addr").port();
    let child = std::process::Command::new(ministack())
        .env("GATEWAY_PORT", port.to_string())
        .env("BIND_HOST", "127.0.0.1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ministack starts");
    let kms = Kms { child, url: format!("http://127.0.0.1:{port}") };
    let ready =
        common::eventually(30, || async move { tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() });
    assert!(ready.await, "ministack listens on {port}");
    kms
}

async fn client(kms: &Kms) -> Client {
    let config = alloy::signers::aws::aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&kms.url)
        .credentials_provider(Credentials::new("AKIDGOVSTATETEST", SECRET, None, None, "test"))
        .load()
        .await;
    Client::new(&config)
}

/// A new key of `spec` for signing: its id.
async fn create_key(client: &Client, spec: KeySpec) -> String {
    let created =
        client.create_key().key_spec(spec).key_usage(KeyUsageType::SignVerify).send().await.expect("key created");
    created.key_metadata().expect("metadata").key_id().to_string()
}

/// govstate against `chain`, configured for the KMS as an operator would
/// be (the standard AWS variables), nothing read from this machine's AWS files.
fn run(chain: &TestChain, kms: &Kms, key_id: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(args)
        .env("ETH_RPC_URL", chain.devnet.url().as_str())
        .env("NO_COLOR", "1")
        .env_remove("GOVSTATE_PRIVATE_KEY")
        .env("AWS_KMS_KEY_ID", key_id)
        .env("AWS_ENDPOINT_URL", &kms.url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDGOVSTATETEST")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        .output()
        .expect("govstate runs");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (output.status.code(), text(output.stdout), text(output.stderr))
}

async fn fund(chain: &TestChain, who: Address) {
    let _: serde_json::Value = chain
        .reader()
        .raw_request("anvil_setBalance".into(), (who, U256::from(10u64).pow(U256::from(20u64))))
        .await
        .expect("funded");
}

fn state_with(chain_dir: &std::path::Path, state: &std::path::Path, edits: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(state).expect("state file");
    for (from, to) in edits {
        assert!(text.contains(from), "{from:?} in {text}");
        text = text.replacen(from, to, 1);
    }
    let path = chain_dir.join("rewards.yaml");
    std::fs::write(&path, text).expect("written");
    path.display().to_string()
}

async fn teacher_reward(chain: &TestChain) -> U256 {
    let data = chain.read(chain.address("arena"), SelfPlayArena::baseTeacherRewardCall {}.abi_encode()).await;
    SelfPlayArena::baseTeacherRewardCall::abi_decode_returns(&data).expect("uint")
}

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

#[tokio::test]
async fn an_aws_kms_key_applies_a_plan_and_signs_a_safe_transaction_the_safe_executes() {
    let kms = start_kms().await;
    let client = client(&kms).await;
    let key_id = create_key(&client, KeySpec::EccSecgP256K1).await;
    let address = AwsSigner::new(client.clone(), key_id.clone(), None).await.expect("a secp256k1 key").address();
    let mut written = String::new();

    // Direct: the KMS key owns the arena and applies.
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let state = chain.write_state_file(dir.path()).await;
    fund(&chain, address).await;
    chain
        .send(0, chain.address("arena"), SelfPlayArena::transferOwnershipCall { newOwner: address }.abi_encode())
        .await;
    let owner0 = dev_signer(0).expect("dev").address().to_checksum(None);
    let file = state_with(
        dir.path(),
        &state,
        &[
            ("    teacher: 150 ether", "    teacher: 175 ether"),
            (&format!("owner: \"{owner0}\""), &format!("owner: \"{}\"", address.to_checksum(None))),
        ],
    );
    let receipts = dir.path().join("receipts").display().to_string();
    let (code, applied, stderr) =
        run(&chain, &kms, &key_id, &["apply", &file, "--yes", "--no-cache", "--aws", "--receipts-dir", &receipts]);
    assert_eq!(code, Some(0), "{applied}{stderr}");
    assert_eq!(chain.nonce(address).await, 1, "the KMS key sent it");
    assert_eq!(teacher_reward(&chain).await, ether(175));
    let (code, replanned, _) = run(&chain, &kms, &key_id, &["plan", &file, "--no-cache", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "converged: {replanned}");
    written.push_str(&format!("{applied}{stderr}"));
    for receipt in common::receipts(&dir.path().join("receipts")) {
        written.push_str(&receipt.to_string());
    }

    // A 2-of-3 Safe whose third owner is the KMS key.
    let shape: SafeSetup = "2-of-3".parse().expect("shape");
    let devnet =
        Devnet::start_with_safe(&AnvilOptions::default(), Topology::Direct, Some(shape)).await.expect("devnet");
    let chain = TestChain { devnet };
    let dir = tempfile::tempdir().expect("tempdir");
    let state = chain.write_state_file(dir.path()).await;
    fund(&chain, address).await;
    let the_safe = chain.devnet.wiring().safe.expect("a Safe");
    let owners =
        SafeL2::getOwnersCall::abi_decode_returns(&chain.read(the_safe, SafeL2::getOwnersCall {}.abi_encode()).await)
            .expect("owners");
    let (prev, old) = (owners[1], owners[2]);
    let swap = SafeL2::swapOwnerCall { prevOwner: prev, oldOwner: old, newOwner: address }.abi_encode();
    let (to, operation, data) = safe::batch_transaction(&[(the_safe, Bytes::from(swap))]);
    let hash = safe::safe_tx_hash(31337, the_safe, to, operation, &data, 0);
    let signatures = [0, 1]
        .map(|i| dev_signer(i).expect("dev"))
        .map(|s| (s.address(), s.sign_hash_sync(&hash).expect("signed").as_bytes()));
    chain
        .send(3, the_safe, safe::exec_transaction(to, operation, &data, safe::pack_signatures(signatures.to_vec())))
        .await;

    let file = state_with(dir.path(), &state, &[("    teacher: 150 ether", "    teacher: 175 ether")]);
    let plan = dir.path().join("plan.json").display().to_string();
    let (code, stdout, stderr) = run(&chain, &kms, &key_id, &["plan", &file, "--no-cache", "--out", &plan]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("(2 of 3, nonce 1)"), "{stdout}");

    // A key of another curve, and a key that is not there: one line each, nothing signed.
    let p256 = create_key(&client, KeySpec::EccNistP256).await;
    let (code, _, stderr) = run(&chain, &kms, &p256, &["sign", &plan, "--aws"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not a secp256k1 key"), "{stderr}");
    let (code, _, stderr) = run(&chain, &kms, "0b5e7d1e-0000-4000-8000-000000000000", &["sign", &plan, "--aws"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("AWS KMS key 0b5e7d1e-0000-4000-8000-000000000000 cannot sign"), "{stderr}");
    assert!(!dir.path().join("plan.signatures.json").exists(), "nothing was signed");
    written.push_str(&stderr);

    let (code, signed, stderr) = run(&chain, &kms, &key_id, &["sign", &plan, "--aws"]);
    assert_eq!(code, Some(0), "{signed}{stderr}");
    assert!(signed.contains(&format!("Signed by {address} (1 of 2 signatures)")), "{signed}");
    let (code, second, stderr) = run(&chain, &kms, &key_id, &["sign", &plan, "--private-key", KEY_0]);
    assert_eq!(code, Some(0), "{second}{stderr}");
    let signatures = std::fs::read_to_string(dir.path().join("plan.signatures.json")).expect("signatures");
    let receipts = dir.path().join("receipts").display().to_string();
    let relayer = chain.nonce(address).await;
    let (code, executed, stderr) =
        run(&chain, &kms, &key_id, &["apply", &plan, "--aws", "--no-cache", "--receipts-dir", &receipts]);
    assert_eq!(code, Some(0), "{executed}{stderr}");
    assert!(executed.contains("execTransaction(1 call)"), "{executed}");
    assert_eq!(chain.nonce(address).await, relayer + 1, "sent by the KMS key");
    assert_eq!(teacher_reward(&chain).await, ether(175), "the Safe accepted both signatures");
    written.push_str(&format!("{signed}{second}{executed}{stderr}{signatures}"));
    for receipt in common::receipts(&dir.path().join("receipts")) {
        written.push_str(&receipt.to_string());
    }
    assert!(!written.contains(SECRET), "the KMS secret leaked");
    assert!(!written.to_lowercase().contains(KEY_0.trim_start_matches("0x")), "a key leaked");
}
