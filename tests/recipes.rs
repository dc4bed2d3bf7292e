//! The recipes under `examples/recipes/` are correct: each parses, and every
//! govstate command line in it is accepted by govstate's own clap parser,
//! argument for argument, without running anything.

#[allow(dead_code, unused_imports)]
#[path = "../src/cli/mod.rs"]
mod cli;

use std::path::{Path, PathBuf};

use clap::Parser;

fn recipe(path: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/recipes").join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn yaml(path: &str) -> serde_yaml::Value {
    serde_yaml::from_str(&recipe(path)).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

/// Splits a shell command line into words: quotes group, a backslash
/// escapes, and the command ends at a redirection, pipe or list operator.
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut in_word) = (Vec::new(), String::new(), None, false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, '\\') => word.extend(chars.next()),
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                }
                in_word = false;
                continue;
            }
            (None, c) => word.push(c),
        }
        in_word = true;
    }
    if in_word {
        words.push(word);
    }
    let end = words.iter().position(|w| [">", ">>", "|", "||", "&&", ";", "2>&1"].contains(&w.as_str()));
    words.truncate(end.unwrap_or(words.len()));
    words
}

/// Every govstate command line in a script: lines whose first word is govstate.
fn govstate_lines(script: &str) -> Vec<Vec<String>> {
    let joined = script.replace("\\\n", " ");
    joined
        .lines()
        .map(shell_words)
        .filter(|w| w.first().is_some_and(|c| c == "govstate" || c.ends_with("/govstate")))
        .collect()
}

/// Asserts govstate's parser accepts `words` (the program name first).
fn accepted(words: &[String]) -> cli::Cli {
    cli::Cli::try_parse_from(words).unwrap_or_else(|e| panic!("govstate rejects {words:?}:\n{e}"))
}

fn subcommand(words: &[String]) -> &str {
    words.get(1).map(String::as_str).unwrap_or_default()
}

const TEXTFILE: &str = "/var/lib/node_exporter/textfile_collector/govstate.prom";

fn prometheus_out(words: &[String]) -> Option<&str> {
    let at = words.iter().position(|w| w == "--prometheus-out")?;
    words.get(at + 1).map(String::as_str)
}

#[test]
fn the_ci_workflow_validates_and_plans_pull_requests_and_checks_drift_on_a_schedule() {
    let workflow = yaml("github-actions/govstate.yml");
    let paths = &workflow["on"]["pull_request_target"]["paths"];
    assert!(paths.as_sequence().is_some_and(|p| p.iter().any(|p| p.as_str() == Some("state/**"))), "{paths:?}");
    assert!(workflow["on"]["schedule"][0]["cron"].as_str().is_some(), "a schedule");
    let mut commands = Vec::new();
    for (name, job) in workflow["jobs"].as_mapping().expect("jobs") {
        for step in job["steps"].as_sequence().expect("steps") {
            for words in step["run"].as_str().map(govstate_lines).unwrap_or_default() {
                accepted(&words);
                commands.push((name.as_str().unwrap_or_default().to_string(), words));
            }
        }
    }
    let ran = |job: &str, command: &str| commands.iter().filter(|(j, w)| j == job && subcommand(w) == command).count();
    assert_eq!(ran("plan", "validate"), 1);
    assert_eq!(ran("plan", "plan"), 1);
    assert_eq!(ran("drift", "drift"), 1);
    let plan = commands.iter().find(|(_, w)| subcommand(w) == "plan").map(|(_, w)| w.join(" ")).unwrap_or_default();
    assert!(plan.contains("--format markdown"), "{plan}");
    let drift = commands.iter().find(|(_, w)| subcommand(w) == "drift").map(|(_, w)| w.join(" ")).unwrap_or_default();
    assert!(!drift.contains("|| true") && !drift.contains("--detailed-exitcode"), "exit 2 must fail the job: {drift}");
    assert!(recipe("github-actions/govstate.yml").contains("gh pr comment"), "the plan is posted as a comment");
}

#[test]
fn the_cronjob_runs_drift_with_a_textfile_for_node_exporter() {
    let cronjob = yaml("kubernetes/govstate-drift-cronjob.yaml");
    assert_eq!(cronjob["kind"].as_str(), Some("CronJob"));
    assert!(cronjob["spec"]["schedule"].as_str().is_some());
    let pod = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let strings = |v: &serde_yaml::Value| -> Vec<String> {
        v.as_sequence().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect()
    };
    let mut words = strings(&container["command"]);
    words.extend(strings(&container["args"]));
    accepted(&words);
    assert_eq!(subcommand(&words), "drift");
    assert_eq!(prometheus_out(&words), Some(TEXTFILE));
    let mounts = container["volumeMounts"].as_sequence().expect("mounts");
    let textfile = Path::new(TEXTFILE).parent().and_then(Path::to_str).unwrap_or_default();
    assert!(mounts.iter().any(|m| m["mountPath"].as_str() == Some(textfile)), "the textfile directory is mounted");
}

/// The value of every `key=` line of a systemd unit.
fn unit_values(text: &str, key: &str) -> Vec<String> {
    let prefix = format!("{key}=");
    text.lines().filter_map(|l| l.strip_prefix(&prefix)).map(str::to_string).collect()
}

#[test]
fn the_systemd_units_run_drift_on_a_timer_with_the_same_textfile() {
    let service = recipe("systemd/govstate-drift.service");
    let exec = unit_values(&service, "ExecStart");
    assert_eq!(exec.len(), 1, "{service}");
    let words = shell_words(&exec[0]);
    accepted(&words);
    assert_eq!(subcommand(&words), "drift");
    assert_eq!(prometheus_out(&words), Some(TEXTFILE), "the same flags and textfile as the CronJob");
    assert_eq!(unit_values(&service, "Type"), ["oneshot"]);
    assert_eq!(unit_values(&service, "SuccessExitStatus"), ["2"], "drift is a finding, not a failed unit");
    let timer = recipe("systemd/govstate-drift.timer");
    assert_eq!(unit_values(&timer, "OnCalendar").len(), 1, "{timer}");
    assert_eq!(unit_values(&timer, "WantedBy"), ["timers.target"]);

    let watch = recipe("systemd/govstate-drift-watch.service");
    let words = shell_words(&unit_values(&watch, "ExecStart").concat());
    accepted(&words);
    assert!(words.iter().any(|w| w == "--watch") && words.iter().any(|w| w == "--listen"), "{words:?}");
}

#[test]
fn the_alert_rules_fire_on_metrics_govstate_writes() {
    let rules = yaml("prometheus/govstate-alerts.yaml");
    let rules = rules["groups"][0]["rules"].as_sequence().expect("rules");
    let exprs: Vec<&str> = rules.iter().filter_map(|r| r["expr"].as_str()).collect();
    assert!(exprs.contains(&"govstate_in_sync == 0"), "{exprs:?}");
    let written: Vec<&str> = govstate::drift::METRICS.iter().map(|(name, _, _)| *name).collect();
    for expr in &exprs {
        for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with("govstate_") {
                assert!(written.contains(&word), "{word} in `{expr}` is not a metric govstate writes");
            }
        }
    }
    for rule in rules {
        assert!(rule["alert"].as_str().is_some() && rule["annotations"]["summary"].as_str().is_some(), "{rule:?}");
    }
}

#[test]
fn shell_words_follow_quotes_and_stop_at_redirections() {
    let words = shell_words(r#"govstate plan "$file" --format 'mark down' >> plan.md"#);
    assert_eq!(words, ["govstate", "plan", "$file", "--format", "mark down"]);
    assert!(cli::Cli::try_parse_from(["govstate", "drift", "--no-such-flag", "x"]).is_err(), "the parser rejects");
}

#[test]
fn every_recipe_file_is_checked_by_a_test_here() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/recipes");
    let mut found: Vec<PathBuf> = Vec::new();
    for sub in std::fs::read_dir(&dir).expect("recipes").filter_map(Result::ok) {
        found.extend(
            std::fs::read_dir(sub.path()).expect("a recipe directory").filter_map(|e| e.ok().map(|e| e.path())),
        );
    }
    let source = include_str!("recipes.rs");
    for file in found {
        let name = file.strip_prefix(&dir).ok().and_then(Path::to_str).unwrap_or_default().to_string();
        assert!(source.contains(&format!("\"{name}\"")), "{name} has no test in tests/recipes.rs");
    }
}

/// Every step of every job of the CI workflow, with its job's name.
fn workflow_steps(workflow: &serde_yaml::Value) -> Vec<(String, serde_yaml::Value)> {
    let mut steps = Vec::new();
    for (name, job) in workflow["jobs"].as_mapping().expect("jobs") {
        for step in job["steps"].as_sequence().expect("steps") {
            steps.push((name.as_str().unwrap_or_default().to_string(), step.clone()));
        }
    }
    steps
}

/// GitHub's hardening guide, step by step: actions pinned by commit,
/// checkouts without credentials, secrets and the token only in the step
/// that uses each, and no `${{ }}` expression inside a script.
fn hardened(workflow: &serde_yaml::Value) {
    for (name, job) in workflow["jobs"].as_mapping().expect("jobs") {
        let env = serde_yaml::to_string(&job["env"]).unwrap_or_default();
        assert!(!env.contains("secrets.") && !env.contains("github.token"), "{name:?}: tokens job-wide: {env}");
    }
    for (job, step) in &workflow_steps(workflow) {
        let env = serde_yaml::to_string(&step["env"]).unwrap_or_default();
        let run = step["run"].as_str().unwrap_or_default();
        if let Some(uses) = step["uses"].as_str() {
            let pin = uses.rsplit_once('@').map(|(_, p)| p).unwrap_or_default();
            assert!(
                pin.len() == 40 && pin.chars().all(|c| c.is_ascii_hexdigit()),
                "{job}: {uses} is not pinned by commit"
            );
        }
        if step["uses"].as_str().is_some_and(|u| u.starts_with("actions/checkout@")) {
            assert_eq!(step["with"]["persist-credentials"].as_bool(), Some(false), "{job}: {step:?}");
        }
        if env.contains("github.token") {
            assert!(run.trim_start().starts_with("gh "), "{job}: the token only where gh runs: {step:?}");
        }
        if env.contains("secrets.") {
            assert!(run.contains("govstate "), "{job}: a secret only where govstate runs: {step:?}");
        }
        assert!(!run.contains("${{"), "{job}: an expression in a script can inject: {run}");
    }
}

#[test]
fn the_apply_workflow_applies_only_the_reviewed_digest() {
    let workflow = yaml("github-actions/govstate-apply.yml");
    hardened(&workflow);
    let job = &workflow["jobs"]["apply"];
    assert_eq!(job["environment"].as_str(), Some("production"), "a reviewer gates the key");
    let mut applies = Vec::new();
    for (_, step) in workflow_steps(&workflow) {
        for words in step["run"].as_str().map(govstate_lines).unwrap_or_default() {
            // The digest comes from the run's input; parse with a sample.
            let sample = format!("0x{}", "ab".repeat(32));
            let parsed: Vec<String> =
                words.iter().map(|w| if w == "$DIGEST" { sample.clone() } else { w.clone() }).collect();
            accepted(&parsed);
            if subcommand(&words) == "apply" {
                applies.push(words);
            }
        }
    }
    assert_eq!(applies.len(), 2, "{applies:?}");
    for words in &applies {
        assert!(words.windows(2).any(|w| w[0] == "--expect-digest" && w[1] == "$DIGEST"), "{words:?}");
        assert!(!words.iter().any(|w| w == "--yes"), "{words:?}");
    }
}

#[test]
fn the_ci_plan_job_never_runs_the_pull_requests_code_with_secrets() {
    let text = recipe("github-actions/govstate.yml");
    let workflow = yaml("github-actions/govstate.yml");
    hardened(&workflow);
    let steps = workflow_steps(&workflow);
    // The plan job builds govstate from the base branch's checkout, never the PR's.
    let plan: Vec<&serde_yaml::Value> = steps.iter().filter(|(j, _)| j == "plan").map(|(_, s)| s).collect();
    let base = plan
        .iter()
        .find(|s| s["with"]["ref"].as_str().is_some_and(|r| r.contains("pull_request.base.sha")))
        .and_then(|s| s["with"]["path"].as_str())
        .expect("the base branch is checked out into its own directory");
    let installs: Vec<&str> =
        plan.iter().filter_map(|s| s["run"].as_str()).filter(|r| r.contains("cargo install")).collect();
    assert_eq!(installs.len(), 1, "{installs:?}");
    assert!(installs[0].contains(&format!("--path {base}")), "{installs:?} builds from {base}");
    assert!(
        workflow["on"]["pull_request_target"].is_mapping(),
        "the workflow's own definition comes from the base branch"
    );
    assert!(!text.contains("--path ."), "{text}");
}

#[test]
fn no_recipe_puts_the_webhook_url_on_a_command_line() {
    let mut lines: Vec<Vec<String>> = Vec::new();
    let cronjob = yaml("kubernetes/govstate-drift-cronjob.yaml");
    let container = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<String> =
        container["args"].as_sequence().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect();
    lines.push(args);
    for unit in ["systemd/govstate-drift.service", "systemd/govstate-drift-watch.service"] {
        lines.extend(unit_values(&recipe(unit), "ExecStart").iter().map(|l| shell_words(l)));
    }
    for words in &lines {
        assert!(!words.iter().any(|w| w == "--webhook" || w.contains("WEBHOOK_URL")), "{words:?}");
    }
    let watch = recipe("systemd/govstate-drift-watch.service");
    assert!(watch.contains("GOVSTATE_WEBHOOK_URL"), "the webhook is still configured, from the environment");
}

/// The identifiers of a PromQL expression that name series: what is left
/// once quoted strings, label matchers `{…}`, ranges `[…]`, grouping label
/// lists (`by (…)`, `without (…)`, `on (…)`, `ignoring (…)`), function
/// names (followed by `(`), keywords and numbers are taken out. Also
/// returns the label names it matches or groups on.
fn promql_names(expr: &str) -> (Vec<String>, Vec<String>) {
    const KEYWORDS: &[&str] = &["and", "or", "unless", "bool", "offset", "group_left", "group_right", "inf", "nan"];
    const GROUPING: &[&str] = &["by", "without", "on", "ignoring"];
    let (mut series, mut labels) = (Vec::new(), Vec::new());
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut grouping = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '{' || c == '[' || (c == '(' && grouping) {
            let close = match c {
                '{' => '}',
                '[' => ']',
                _ => ')',
            };
            let start = i + 1;
            while i < chars.len() && chars[i] != close {
                i += 1;
            }
            if c != '[' {
                let inside: String = chars[start..i.min(chars.len())].iter().collect();
                let inside = inside.split('"').step_by(2).collect::<Vec<_>>().join(" ");
                for word in inside.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                    if !word.is_empty() {
                        labels.push(word.to_string());
                    }
                }
            }
            grouping = false;
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let rest: String = chars[i..].iter().collect::<String>().trim_start().to_string();
            // `max by (file) (…)`: an aggregation, written before its grouping.
            let aggregation = ["by ", "by(", "without ", "without("].iter().any(|g| rest.starts_with(g));
            if GROUPING.contains(&word.as_str()) {
                grouping = true;
            } else if !rest.starts_with('(') && !aggregation && !KEYWORDS.contains(&word.as_str()) {
                series.push(word);
            }
        } else {
            i += 1;
        }
    }
    (series, labels)
}

#[test]
fn promql_names_are_told_from_functions_labels_and_strings() {
    let (series, labels) =
        promql_names(r#"max by (file) (time() - govstate_a{file=~"$file", x!="y{z}"}[5m]) > 0 or vector(0)"#);
    assert_eq!(series, ["govstate_a"]);
    assert_eq!(labels, ["file", "file", "x"]);
}

#[test]
fn the_grafana_dashboard_parses_and_uses_only_metrics_and_labels_govstate_exports() {
    let text = recipe("grafana/govstate-dashboard.json");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let exported: Vec<&str> = govstate::drift::METRICS.iter().map(|(name, _, _)| *name).collect();
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut exprs: Vec<String> = Vec::new();
    for panel in panels {
        assert!(panel["title"].as_str().is_some_and(|t| !t.is_empty()), "a panel without a title: {panel}");
        assert_eq!(panel["datasource"]["uid"], "${DS_PROMETHEUS}", "{}", panel["title"]);
        let targets = panel["targets"].as_array().map(Vec::as_slice).unwrap_or_default();
        assert!(!targets.is_empty() || panel["type"] == "row", "{} queries nothing", panel["title"]);
        exprs.extend(targets.iter().filter_map(|t| t["expr"].as_str()).map(str::to_string));
    }
    for variable in dashboard["templating"]["list"].as_array().map(Vec::as_slice).unwrap_or_default() {
        if let Some(query) = variable["query"]["query"].as_str().or(variable["query"].as_str()) {
            // label_values(metric, label)
            let inside = query.trim().strip_prefix("label_values(").and_then(|q| q.strip_suffix(')'));
            let (metric, label) = inside.and_then(|q| q.split_once(',')).expect("a label_values query");
            exprs.push(format!("{}{{{}=\"\"}}", metric.trim(), label.trim()));
        }
    }
    let mut used: Vec<String> = Vec::new();
    for expr in &exprs {
        let (series, labels) = promql_names(expr);
        assert!(!series.is_empty(), "`{expr}` reads no metric");
        for name in series {
            assert!(exported.contains(&name.as_str()), "{name} in `{expr}` is not a metric govstate exports");
            used.push(name);
        }
        for label in labels {
            assert!(["file", "contract", "field"].contains(&label.as_str()), "label {label} in `{expr}`");
        }
    }
    for name in exported {
        assert!(used.iter().any(|u| u == name), "{name} is exported but no panel shows it");
    }
    assert!(dashboard["uid"].as_str().is_some() && dashboard["schemaVersion"].as_u64().is_some());
    assert_eq!(dashboard["__inputs"][0]["name"], "DS_PROMETHEUS", "importable with a chosen data source");
}

#[test]
fn the_readme_test_command_is_the_line_ci_runs_and_it_installs_chromium_pinned() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: &str| std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let readme = read("README.md");
    let line = readme
        .lines()
        .skip_while(|l| !l.starts_with("# the test suite"))
        .nth(1)
        .expect("the README's test command, under `# the test suite`");
    assert!(read(".ci/run").lines().any(|l| l == line), "`.ci/run` runs the README's test command verbatim: {line}");
    let setup = line.split(" && ").next().unwrap_or_default();
    assert_eq!(setup, "scripts/test-deps", "{line}");
    let deps = read("scripts/test-deps");
    let pinned = deps
        .lines()
        .find_map(|l| l.strip_prefix("CHROMIUM_VERSION=\""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("scripts/test-deps pins CHROMIUM_VERSION");
    assert!(pinned.contains('-'), "a full Debian version, revision included: {pinned}");
    assert!(
        deps.contains("apt-get install -y -q --no-install-recommends \"chromium=$CHROMIUM_VERSION\""),
        "chromium is installed at exactly that version"
    );
    assert!(deps.contains("!= \"ii $CHROMIUM_VERSION\""), "and only when that version is not installed");
}
