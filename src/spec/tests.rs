//! Loader tests: all problems at once, positions, and the promotion rules.

use super::*;

const DEVNET: &str = r#"
version: 1
chain_id: 31337
contracts:
  arena: { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", deployed_block: 0 }
  stake_manager: { address: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" }
arena:
  paused: false
  orchestrators: ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"]
  rewards: { teacher: 150 ether, student: 50 ether, validator: 150000000000000000000 }
stake_manager:
  unbonding_period: 7d
"#;

fn problems(text: &str) -> Vec<Diagnostic> {
    match load_str(text, "t.yaml") {
        Ok(_) => Vec::new(),
        Err(e) => e.diagnostics(),
    }
}

#[test]
fn a_valid_file_loads_with_exact_amounts() {
    let spec = load_str(DEVNET, "t.yaml");
    let state = spec.as_ref().map(Spec::state);
    let rewards = state.ok().and_then(|s| s.arena.as_ref()?.rewards.clone());
    let teacher = rewards.as_ref().and_then(|r| r.teacher);
    assert_eq!(teacher, rewards.as_ref().and_then(|r| r.validator));
    assert_eq!(teacher.map(|t| t.to_string()).as_deref(), Some("150 ether"));
}

#[test]
fn every_problem_is_reported_with_its_position() {
    let text = DEVNET.replace("paused: false", "pausd: false").replace("150 ether", "150 dollars").replace("7d", "0");
    let found = problems(&text);
    let summary: Vec<_> = found.iter().map(|d| (d.path.as_str(), d.line)).collect();
    assert_eq!(
        summary,
        [("arena.pausd", Some(8)), ("arena.rewards.teacher", Some(10)), ("stake_manager.unbonding_period", Some(12)),]
    );
    assert!(found[0].message.contains("did you mean `paused`?"));
}

#[test]
fn an_empty_file_and_an_empty_document_are_clear_errors() {
    for text in ["", "   \n", "# nothing\n", "---\n", "~\n"] {
        let found = problems(text);
        assert_eq!(found.len(), 1, "{text:?}");
        assert!(found[0].message.contains("no settings"), "{text:?}: {found:?}");
    }
}

#[test]
fn a_top_level_list_is_refused() {
    let found = problems("- 1\n- 2\n");
    assert!(found[0].message.contains("expected a mapping, found a list"));
}

#[test]
fn an_unreadable_contract_is_not_also_reported_missing() {
    let text =
        "version: 1\nchain_id: 1\ncontracts:\n  arena: \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\narena: {}\n";
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "contracts.arena");
}

#[test]
fn a_bad_contract_address_is_reported_once() {
    let text = "version: 1\nchain_id: 1\ncontracts:\n  arena: { address: 0x12 }\narena: {}\n";
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "contracts.arena.address");
}

#[test]
fn missing_required_keys_are_named() {
    let found = problems("contracts: {}\n");
    let paths: Vec<_> = found.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, ["version", "chain_id"]);
}

#[test]
fn a_spec_built_in_code_is_checked_too() {
    let state = DesiredState { chain_id: 0, ..Default::default() };
    let err = Spec::from_state(state, "devnet").err();
    assert!(err.is_some_and(|e| { e.to_string().starts_with("devnet: chain_id: 0 is not a chain id") }));
}

#[test]
fn to_yaml_reads_back_to_the_same_spec() {
    let spec = load_str(DEVNET, "t.yaml").expect("valid");
    let again = load_str(&spec.to_yaml_with_schema(SCHEMA_PATH), "again").expect("reads back");
    assert_eq!(spec, again);
}

#[test]
fn the_schema_forbids_null_and_unknown_keys() {
    let schema = json_schema().to_string();
    assert!(!schema.contains("\"null\""), "{schema}");
    assert!(schema.contains("\"additionalProperties\":false"));
}

#[test]
fn load_file_reports_a_missing_file_as_io() {
    let err = load_file(Path::new("/nonexistent/x.yaml")).err();
    assert!(matches!(err, Some(SpecError::Io { .. })));
}
