//! The imports follow the pipeline drawn in `docs/layout.md`: units → plan → compile →
//! engine → metrics → slo → report, each stage using only the stages before it. The app
//! around them (`lib.rs`, `cli`, `error`) may use any stage; no stage uses the app or the
//! bundled sample API, which is only ever a target.

use std::path::{Path, PathBuf};

use crate::support::repo;

const STAGES: [&str; 7] = [
    "units", "plan", "compile", "engine", "metrics", "slo", "report",
];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The file's code before its unit tests (`#[cfg(test)] mod …`), which may reach anywhere.
fn code(text: &str) -> &str {
    let mut offset = 0;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let next = lines.peek().map(|l| l.trim_start()).unwrap_or_default();
        if line.trim() == "#[cfg(test)]" && next.starts_with("mod ") {
            return &text[..offset];
        }
        offset += line.len() + 1;
    }
    text
}

/// The top-level modules a piece of code names through `crate::`: `crate::slo::Verdict`
/// gives `slo`, `crate::{compile, metrics::X}` gives `compile` and `metrics`.
fn crate_modules(code: &str) -> Vec<String> {
    let mut modules = Vec::new();
    for piece in code.split("crate::").skip(1) {
        if let Some(group) = piece.strip_prefix('{') {
            modules.extend(group_heads(group));
        } else {
            let word: String = piece
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            modules.push(word);
        }
    }
    modules
}

/// The first name of each element of a `{…}` group: `compile, metrics::{A, B}}` gives
/// `compile` and `metrics`.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 1;
    let mut expecting = true;
    let mut word = String::new();
    for c in group.chars() {
        let in_name = c.is_alphanumeric() || c == '_';
        if expecting && depth == 1 && in_name {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            heads.push(std::mem::take(&mut word));
            expecting = false;
        }
        match c {
            '{' => depth += 1,
            '}' if depth == 1 => break,
            '}' => depth -= 1,
            ',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    heads
}

/// `stage → module` uses that break the pipeline, as `file: uses crate::module`.
fn backward_imports() -> Vec<String> {
    let src = repo().join("src");
    let mut broken = Vec::new();
    for file in sources(&src) {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str();
        let top = top.to_str().unwrap().trim_end_matches(".rs");
        let Some(rank) = STAGES.iter().position(|s| *s == top) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for module in crate_modules(code(&text)) {
            let allowed = STAGES[..=rank].contains(&module.as_str());
            if !allowed {
                broken.push(format!(
                    "src/{}: the {top} stage uses crate::{module}",
                    relative.display()
                ));
            }
        }
    }
    broken.sort();
    broken.dedup();
    broken
}

#[test]
fn every_stage_imports_only_earlier_stages() {
    let broken = backward_imports();
    assert!(
        broken.is_empty(),
        "imports against the pipeline (units → plan → compile → engine → metrics → slo → \
         report):\n{}",
        broken.join("\n")
    );
}

#[test]
fn imports_are_read_from_paths_and_groups() {
    let code = "use crate::slo::Verdict;\nuse crate::{compile, metrics::{A, B}};\n\
                let x = crate::report::render(); use crate::{\n    engine::X,\n    units,\n};";
    assert_eq!(
        crate_modules(code),
        ["slo", "compile", "metrics", "report", "engine", "units"]
    );
}

#[test]
fn unit_tests_are_left_out() {
    let text = "use crate::plan::X;\n\n#[cfg(test)]\nmod tests {\n    use crate::report::Y;\n}\n";
    assert_eq!(crate_modules(code(text)), ["plan"]);
}
