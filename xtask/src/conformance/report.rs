//! Autobahn's report, `index.json`, judged and summed up per case group.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

/// One case of the report.
#[derive(Debug)]
pub struct Case {
    id: String,
    behavior: String,
    behavior_close: Option<String>,
}

/// Reads Autobahn's `index.json`: `{ agent: { case id: { behavior, behaviorClose, .. } } }`,
/// the cases of every agent, or of `agent` alone (an error if it has none).
pub fn read_report(path: &Path, agent: Option<&str>) -> Result<Vec<Case>, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_report(&text, agent).map_err(|e| format!("{}: {e}", path.display()))
}

fn parse_report(text: &str, agent: Option<&str>) -> Result<Vec<Case>, String> {
    let report: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let agents = report.as_object().ok_or("not an object")?;
    let agents: Vec<&Value> = match agent {
        None => agents.values().collect(),
        Some(name) => {
            let found = agents.get(name);
            vec![found.ok_or_else(|| format!("no cases for agent `{name}`"))?]
        }
    };
    let mut cases = Vec::new();
    for agent_cases in agents {
        let agent_cases = agent_cases.as_object().ok_or("an agent is not an object")?;
        for (id, case) in agent_cases {
            let field = |name| case.get(name).and_then(Value::as_str).map(str::to_owned);
            cases.push(Case {
                id: id.clone(),
                behavior: field("behavior").unwrap_or_else(|| "MISSING".to_owned()),
                behavior_close: field("behaviorClose"),
            });
        }
    }
    cases.sort_by_cached_key(|case| (numeric_key(&case.id), case.id.clone()));
    Ok(cases)
}

/// `"9.1.10"` → `[9, 1, 10]`, so that ids sort as numbers.
fn numeric_key(id: &str) -> Vec<u32> {
    id.split('.')
        .map(|part| part.parse().unwrap_or(u32::MAX))
        .collect()
}

/// The columns of the table, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    NonStrict,
    Informational,
    Unimplemented,
    Failed,
}

const HEADINGS: [&str; 5] = [
    "OK",
    "NON-STRICT",
    "INFORMATIONAL",
    "UNIMPLEMENTED",
    "FAILED",
];

impl Verdict {
    fn of(behavior: &str) -> Self {
        match behavior {
            "OK" => Verdict::Ok,
            "NON-STRICT" => Verdict::NonStrict,
            "INFORMATIONAL" => Verdict::Informational,
            "UNIMPLEMENTED" => Verdict::Unimplemented,
            _ => Verdict::Failed, // FAILED, WRONG CODE, ERROR, ...
        }
    }

    fn passes(self) -> bool {
        matches!(
            self,
            Verdict::Ok | Verdict::NonStrict | Verdict::Informational
        )
    }
}

impl Case {
    /// The case's behavior, unless its close behavior failed outright.
    fn verdict(&self) -> Verdict {
        let verdict = Verdict::of(&self.behavior);
        match &self.behavior_close {
            Some(close) if verdict.passes() && Verdict::of(close) == Verdict::Failed => {
                Verdict::Failed
            }
            _ => verdict,
        }
    }
}

/// Prints the per-group table and the failing cases; true if all passed.
pub fn print_summary(runtime: &str, out_dir: &Path, cases: &[Case]) -> bool {
    println!();
    println!(
        "conformance, runtime {}: {} cases ({})",
        runtime,
        cases.len(),
        out_dir.join("index.json").display()
    );
    if cases.is_empty() {
        println!("the report holds no cases");
        return false;
    }

    let mut groups: BTreeMap<(u32, &str), [usize; 5]> = BTreeMap::new();
    let mut total = [0; 5];
    for case in cases {
        let group = case.id.split('.').next().unwrap_or("");
        let key = (group.parse().unwrap_or(u32::MAX), group);
        let verdict = case.verdict() as usize;
        groups.entry(key).or_default()[verdict] += 1;
        total[verdict] += 1;
    }

    // Each column as wide as its heading, and at least wide enough for 99999.
    let row = |label: &str, cells: [String; 5]| {
        let cells: Vec<String> = cells
            .iter()
            .zip(HEADINGS)
            .map(|(cell, heading)| format!("{cell:>w$}", w = heading.len().max(5)))
            .collect();
        println!("{label:<6}{}", cells.join("  "));
    };
    let counts = |counts: &[usize; 5]| counts.map(|n| n.to_string());
    row("group", HEADINGS.map(str::to_owned));
    for ((_, group), group_counts) in &groups {
        row(group, counts(group_counts));
    }
    row("total", counts(&total));

    let failing: Vec<&Case> = cases
        .iter()
        .filter(|case| !case.verdict().passes())
        .collect();
    if failing.is_empty() {
        println!("all {} cases passed", cases.len());
        return true;
    }
    println!("{} failing cases:", failing.len());
    for case in failing {
        let close = case.behavior_close.as_deref().unwrap_or("-");
        println!(
            "  {:<10} behavior {}, behaviorClose {close}",
            case.id, case.behavior
        );
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_sort_as_numbers_and_close_failures_count() {
        let cases = parse_report(
            r#"{"agent": {
                "10.1.1": {"behavior": "OK", "behaviorClose": "OK"},
                "9.1.2": {"behavior": "OK", "behaviorClose": "WRONG CODE"},
                "9.1.10": {"behavior": "INFORMATIONAL", "behaviorClose": "INFORMATIONAL"},
                "12.1.1": {"behavior": "UNIMPLEMENTED"},
                "2.1": {"behaviorClose": "OK"}
            }}"#,
            None,
        )
        .unwrap();
        let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["2.1", "9.1.2", "9.1.10", "10.1.1", "12.1.1"]);
        let verdicts: Vec<Verdict> = cases.iter().map(Case::verdict).collect();
        use Verdict::*;
        assert_eq!(verdicts, [Failed, Failed, Informational, Ok, Unimplemented]);
        assert!(!print_summary("test", Path::new("."), &cases));
        assert!(!print_summary("test", Path::new("."), &[]));
        assert!(print_summary("test", Path::new("."), &cases[2..4]));
    }

    #[test]
    fn a_report_that_is_not_autobahn_s_is_an_error() {
        assert!(parse_report("[]", None).is_err());
        assert!(parse_report(r#"{"agent": 1}"#, None).is_err());
        assert!(parse_report("{", None).is_err());
    }

    #[test]
    fn an_agent_s_cases_alone_or_an_error_if_it_has_none() {
        let report = r#"{"wsup-tokio": {"1.1.1": {"behavior": "OK"}},
                         "other": {"1.1.1": {"behavior": "FAILED"}, "1.1.2": {"behavior": "OK"}}}"#;
        let cases = parse_report(report, Some("wsup-tokio")).unwrap();
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].verdict(), Verdict::Ok);
        assert_eq!(parse_report(report, None).unwrap().len(), 3);
        let error = parse_report(report, Some("wsup-smol")).unwrap_err();
        assert!(error.contains("wsup-smol"), "{error}");
    }
}
