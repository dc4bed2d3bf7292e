//! Signers other than a raw key, on a real anvil and a real Safe v1.4.1: a
//! mnemonic (`--mnemonic`, `--mnemonic-index`), an account the endpoint holds
//! unlocked (`--unlocked --from`), a Ledger or Trezor that is not there, and
//! Google Cloud KMS's configuration. Each signs `apply` and `govstate sign`
//! alike, is refused before anything is sent when it is not the authority,
//! and never shows a key, a mnemonic or a password.

mod common;

use alloy::primitives::Address;
use alloy::sol_types::SolCall;
use common::TestChain;
use govstate::contracts::arena::SelfPlayArena;
use govstate::contracts::safe::SafeL2;
use govstate::devnet::{AnvilOptions, Devnet, SafeSetup, Topology, dev_signer};

/// anvil's public test mnemonic: its accounts are the dev accounts.
const MNEMONIC: &str = "test test test test test test test test test test test junk";
/// anvil's keys 0..4 (public), none of which may ever be printed.
const KEYS: [&str; 4] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

fn owner(index: usize) -> Address {
    dev_signer(index).expect("dev account").address()
}

/// Runs govstate against `chain` with `env` set, the signer variables of
/// the caller's environment removed.
fn run(chain: &TestChain, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"));
    command.args(args).env("ETH_RPC_URL", chain.devnet.url().as_str()).env("NO_COLOR", "1");
    for name in ["GOVSTATE_PRIVATE_KEY", "ETH_KEYSTORE", "ETH_PASSWORD", "MNEMONIC", "AWS_KMS_KEY_ID"] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("govstate runs");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (output.status.code(), text(output.stdout), text(output.stderr))
}

/// No key and no mnemonic word sequence anywhere in `written`.
fn assert_no_secret(written: &str) {
    let lower = written.to_lowercase();
    for key in KEYS {
        assert!(!lower.contains(key), "a key leaked: {written}");
    }
    assert!(!lower.contains("test test test"), "the mnemonic leaked: {written}");
}

/// The receipts written under `dir`, as text.
fn receipts_text(dir: &std::path::Path) -> String {
    common::receipts(dir).iter().map(ToString::to_string).collect()
}

struct Direct {
    chain: TestChain,
    dir: tempfile::TempDir,
    file: String,
    words: String,
}

/// A fresh devnet (account 0 owns everything), its state file with the
/// teacher reward raised, and the mnemonic in a file.
async fn direct() -> Direct {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let state = chain.write_state_file(dir.path()).await;
    let text = std::fs::read_to_string(&state).expect("state file");
    assert!(text.contains("    teacher: 150 ether"), "{text}");
    let file = dir.path().join("rewards.yaml");
    std::fs::write(&file, text.replacen("    teacher: 150 ether", "    teacher: 175 ether", 1)).expect("written");
    let words = dir.path().join("mnemonic.txt");
    std::fs::write(&words, format!("{MNEMONIC}\n")).expect("written");
    Direct { file: file.display().to_string(), words: words.display().to_string(), chain, dir }
}

impl Direct {
    fn receipts(&self) -> String {
        self.dir.path().join("receipts").display().to_string()
    }

    fn apply(&self, signer: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
        let receipts = self.receipts();
        let mut args = vec!["apply", &self.file, "--yes", "--no-cache", "--receipts-dir", &receipts];
        args.extend_from_slice(signer);
        run(&self.chain, &args, env)
    }

    async fn converged(&self) -> bool {
        let (code, _, _) = run(&self.chain, &["plan", &self.file, "--no-cache", "--detailed-exitcode"], &[]);
        code == Some(0)
    }
}

/// The first line of a refusal by the authority check: it names the signer;
/// the lines after it say who may act.
fn first_error_line(stderr: &str) -> &str {
    let line = stderr.lines().next().unwrap_or_default();
    assert!(line.starts_with("error: ") && line.contains("nothing was sent"), "{stderr}");
    line
}

/// The one error line of a refused run: `error: …`, and nothing else on stderr.
fn one_line_error(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    lines[0]
}

#[tokio::test]
async fn a_mnemonic_at_index_one_is_anvils_account_one_and_is_refused_as_owner_before_anything_is_sent() {
    let d = direct().await;
    let nonces = (d.chain.nonce(owner(0)).await, d.chain.nonce(owner(1)).await);
    let (code, stdout, stderr) = d.apply(&["--mnemonic", &d.words, "--mnemonic-index", "1"], &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let error = first_error_line(&stderr);
    assert!(error.contains(&owner(1).to_string()), "the signer is account 1: {error}");
    assert!(stderr.contains(&owner(0).to_string()), "who may act is named: {stderr}");
    assert_eq!((d.chain.nonce(owner(0)).await, d.chain.nonce(owner(1)).await), nonces, "nothing was sent");
    assert!(!d.converged().await);

    // The same words from MNEMONIC, index 0 (the default): the owner.
    let (code, applied, stderr) = d.apply(&["--mnemonic"], &[("MNEMONIC", MNEMONIC)]);
    assert_eq!(code, Some(0), "{applied}{stderr}");
    assert!(applied.contains("setRewards("), "{applied}");
    assert_eq!(d.chain.nonce(owner(0)).await, nonces.0 + 1, "sent by account 0");
    assert!(d.converged().await);
    assert_no_secret(&format!("{stdout}{stderr}{applied}{}", receipts_text(&d.dir.path().join("receipts"))));
}

#[tokio::test]
async fn the_words_of_a_mnemonic_on_the_command_line_are_refused_and_not_repeated() {
    let d = direct().await;
    let nonce = d.chain.nonce(owner(0)).await;
    let (code, stdout, stderr) = d.apply(&["--mnemonic", MNEMONIC], &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let error = one_line_error(&stderr);
    assert!(error.contains("not the words"), "{error}");
    assert_no_secret(&format!("{stdout}{stderr}"));
    let (code, _, stderr) = d.apply(&["--mnemonic"], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(one_line_error(&stderr).contains("MNEMONIC"), "{stderr}");
    let (code, _, stderr) = d.apply(&["--mnemonic", &d.words, "--ledger"], &[]);
    assert_ne!(code, Some(0), "one signer option at a time: {stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    assert_eq!(d.chain.nonce(owner(0)).await, nonce, "nothing was sent");
}

#[tokio::test]
async fn an_unlocked_account_applies_through_the_endpoint_and_a_stranger_is_refused_before_sending() {
    let d = direct().await;
    let stranger = owner(2).to_string();
    let nonce = d.chain.nonce(owner(2)).await;
    let (code, stdout, stderr) = d.apply(&["--unlocked", "--from", &stranger], &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(first_error_line(&stderr).contains(&stranger), "{stderr}");
    assert_eq!(d.chain.nonce(owner(2)).await, nonce, "nothing was sent");

    let absent = "0x00000000000000000000000000000000000000cc";
    let (code, _, stderr) = d.apply(&["--unlocked", "--from", absent], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(one_line_error(&stderr).contains("not among the accounts the endpoint holds"), "{stderr}");

    let explicit_wins = [("GOVSTATE_PRIVATE_KEY", KEYS[3])];
    let (code, applied, stderr) = d.apply(&["--unlocked", "--from", &owner(0).to_string()], &explicit_wins);
    assert_eq!(code, Some(0), "{applied}{stderr}");
    assert!(applied.contains("setRewards("), "{applied}");
    assert!(d.converged().await);
    assert_eq!(d.chain.nonce(owner(3)).await, 0, "the flag won over GOVSTATE_PRIVATE_KEY");
    assert_no_secret(&format!("{stdout}{stderr}{applied}{}", receipts_text(&d.dir.path().join("receipts"))));
}

#[tokio::test]
async fn with_no_ledger_or_trezor_connected_apply_fails_in_one_line_and_sends_nothing() {
    let d = direct().await;
    let nonce = d.chain.nonce(owner(0)).await;
    for (flag, device) in [("--ledger", "Ledger"), ("--trezor", "Trezor")] {
        for extra in [&[][..], &["--mnemonic-index", "1"][..], &["--hd-path", "m/44'/60'/0'/0/0"][..]] {
            let mut signer = vec![flag];
            signer.extend_from_slice(extra);
            let (code, stdout, stderr) = d.apply(&signer, &[]);
            assert_eq!(code, Some(1), "{flag} {extra:?}: {stdout}{stderr}");
            let error = one_line_error(&stderr);
            assert!(error.contains(&format!("no {device} to sign with")), "{error}");
            assert!(error.contains("open its Ethereum app"), "says what to do: {error}");
        }
    }
    let (code, _, stderr) = d.apply(&["--hd-path", "m/44'/60'/0'/0/0"], &[("GOVSTATE_PRIVATE_KEY", KEYS[0])]);
    assert_eq!(code, Some(1), "an account path without a mnemonic or device: {stderr}");
    assert!(one_line_error(&stderr).contains("--hd-path"), "{stderr}");
    assert_eq!(d.chain.nonce(owner(0)).await, nonce, "nothing was sent");
}

#[tokio::test]
async fn gcp_kms_names_the_missing_variable_and_an_unreachable_endpoint_in_one_line() {
    let d = direct().await;
    let nonce = d.chain.nonce(owner(0)).await;
    let (code, _, stderr) = d.apply(&["--gcp"], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(one_line_error(&stderr).contains("--gcp needs GCP_KEY_VERSION"), "{stderr}");
    // No Google endpoint is reached from a test: a closed port on loopback,
    // and credentials from a file that is not there (never the metadata server).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let endpoint = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let missing = d.dir.path().join("no-credentials.json").display().to_string();
    let env = [
        ("GCP_PROJECT_ID", "govstate-test"),
        ("GCP_LOCATION", "global"),
        ("GCP_KEY_RING", "governance"),
        ("GCP_KEY_NAME", "owner"),
        ("GCP_KEY_VERSION", "1"),
        ("GOVSTATE_GCP_KMS_ENDPOINT", endpoint.as_str()),
        ("GOOGLE_APPLICATION_CREDENTIALS", missing.as_str()),
    ];
    let (code, _, stderr) = d.apply(&["--gcp"], &env);
    assert_eq!(code, Some(1), "{stderr}");
    let error = one_line_error(&stderr);
    assert!(error.contains("Google Cloud KMS key projects/govstate-test/locations/global/keyRings/governance/cryptoKeys/owner/cryptoKeyVersions/1"), "{error}");
    assert!(error.contains(&endpoint), "{error}");
    assert_eq!(d.chain.nonce(owner(0)).await, nonce, "nothing was sent");
}

/// A 2-of-3 Safe (owners: accounts 0, 1, 2) owning the arena, and a plan
/// raising the teacher reward saved as `plan.json`.
async fn safe_plan() -> (TestChain, tempfile::TempDir, String) {
    let shape: SafeSetup = "2-of-3".parse().expect("a Safe shape");
    let devnet =
        Devnet::start_with_safe(&AnvilOptions::default(), Topology::Direct, Some(shape)).await.expect("devnet");
    let chain = TestChain { devnet };
    let dir = tempfile::tempdir().expect("tempdir");
    let state = chain.write_state_file(dir.path()).await;
    let text = std::fs::read_to_string(&state).expect("state file");
    let file = dir.path().join("rewards.yaml");
    std::fs::write(&file, text.replacen("    teacher: 150 ether", "    teacher: 175 ether", 1)).expect("written");
    let plan = dir.path().join("plan.json").display().to_string();
    let (code, stdout, stderr) = run(&chain, &["plan", &file.display().to_string(), "--no-cache", "--out", &plan], &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("(2 of 3, nonce 0)"), "{stdout}");
    (chain, dir, plan)
}

async fn safe_nonce(chain: &TestChain) -> u64 {
    let safe = chain.devnet.wiring().safe.expect("a Safe");
    let data = chain.read(safe, SafeL2::nonceCall {}.abi_encode()).await;
    SafeL2::nonceCall::abi_decode_returns(&data).expect("uint").to::<u64>()
}

#[tokio::test]
async fn a_mnemonic_owner_and_an_unlocked_owner_sign_a_safe_transaction_the_safe_executes() {
    let (chain, dir, plan) = safe_plan().await;
    let words = dir.path().join("words");
    std::fs::write(&words, MNEMONIC).expect("written");
    let (code, by_mnemonic, stderr) =
        run(&chain, &["sign", &plan, "--mnemonic", &words.display().to_string(), "--mnemonic-index", "1"], &[]);
    assert_eq!(code, Some(0), "{by_mnemonic}{stderr}");
    assert!(by_mnemonic.contains(&format!("Signed by {} (1 of 2 signatures)", owner(1))), "account 1: {by_mnemonic}");
    let (code, by_endpoint, stderr) = run(&chain, &["sign", &plan, "--unlocked", "--from", &owner(0).to_string()], &[]);
    assert_eq!(code, Some(0), "{by_endpoint}{stderr}");
    assert!(by_endpoint.contains("SafeTx hash: 0x") && by_endpoint.contains("(2 of 2 signatures)"), "{by_endpoint}");

    let text = std::fs::read_to_string(dir.path().join("plan.signatures.json")).expect("signatures");
    let file: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    for entry in file["signatures"].as_array().expect("signatures") {
        let signature = entry["signature"].as_str().expect("hex");
        let v = u8::from_str_radix(&signature[signature.len() - 2..], 16).expect("v");
        assert!(v == 27 || v == 28, "v over the EIP-712 hash: {v}");
    }

    let nonce = safe_nonce(&chain).await;
    let receipts = dir.path().join("receipts").display().to_string();
    let relayer = owner(3).to_string();
    let (code, applied, stderr) = run(
        &chain,
        &["apply", &plan, "--unlocked", "--from", &relayer, "--no-cache", "--receipts-dir", &receipts],
        &[],
    );
    assert_eq!(code, Some(0), "{applied}{stderr}");
    assert!(applied.contains("execTransaction(1 call)"), "{applied}");
    assert_eq!(safe_nonce(&chain).await, nonce + 1, "the Safe executed it");
    let teacher = chain.read(chain.address("arena"), SelfPlayArena::baseTeacherRewardCall {}.abi_encode()).await;
    let teacher = SelfPlayArena::baseTeacherRewardCall::abi_decode_returns(&teacher).expect("uint");
    assert_eq!(
        teacher,
        alloy::primitives::U256::from(175u64) * alloy::primitives::U256::from(10u64).pow(18.try_into().unwrap())
    );
    assert_no_secret(&format!(
        "{by_mnemonic}{by_endpoint}{applied}{stderr}{text}{}",
        receipts_text(&dir.path().join("receipts"))
    ));
}
