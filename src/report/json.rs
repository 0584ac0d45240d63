//! `summary.json`: `Results` as pretty JSON, and back. Its JSON Schema is generated from
//! `Results` (`docs/summary.schema.json`, explained in `docs/results-schema.md`);
//! `schema_version` changes only with an incompatible layout.

use std::path::Path;

use serde::Deserialize;

use super::{RenderError, ReportError, Results, SCHEMA_VERSION};

/// The file name in a run directory.
pub const FILE: &str = "summary.json";

pub fn render(results: &Results) -> Result<Vec<u8>, RenderError> {
    let mut bytes = serde_json::to_vec_pretty(results)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Reads a `summary.json` written by `render`. The version is checked first, so a file
/// of another version says so rather than naming a missing field. Version 1 differs only
/// by the terminal's `notes`, which are ignored: its files load as the current version.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Results, ReportError> {
    #[derive(Deserialize)]
    struct Version {
        schema_version: u64,
        /// Absent from files written before the verdict was recorded.
        verdict: Option<serde::de::IgnoredAny>,
    }
    let not_results = |message: String| ReportError::NotResults {
        path: path.to_path_buf(),
        message,
    };
    let version: Version = serde_json::from_slice(bytes).map_err(|e| not_results(e.to_string()))?;
    if !(1..=u64::from(SCHEMA_VERSION)).contains(&version.schema_version) {
        return Err(ReportError::SchemaVersion {
            path: path.to_path_buf(),
            found: version.schema_version,
        });
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let results: Results = serde_path_to_error::deserialize(deserializer)
        .map_err(|e| not_results(format!("at `{}`: {}", e.path(), e.inner())))?;
    let verdict = match version.verdict {
        Some(_) => results.verdict,
        None => results.judged_from_slos(),
    };
    Ok(Results {
        schema_version: SCHEMA_VERSION,
        verdict,
        ..results
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::results::fixture;

    #[test]
    fn renders_the_fixture() {
        let text = String::from_utf8(render(&fixture::results()).unwrap()).unwrap();
        insta::assert_snapshot!(text);
    }

    #[test]
    fn parsing_a_render_gives_back_the_same_results() {
        let results = fixture::results();
        let bytes = render(&results).unwrap();
        assert_eq!(parse(Path::new("summary.json"), &bytes).unwrap(), results);
    }

    /// A file written before the verdict was recorded gets the one its SLOs imply.
    #[test]
    fn a_file_without_a_verdict_is_judged_from_its_slos() {
        let results = fixture::results();
        let mut value = serde_json::to_value(&results).unwrap();
        value.as_object_mut().unwrap().remove("verdict");
        let parsed = parse(Path::new("old.json"), value.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.verdict, results.judged_from_slos());
        assert_eq!(parsed.verdict.exit_code, 4);
        assert_eq!(parsed, results);
    }

    /// Version 1 stored the terminal's open-model lines as `notes`; they are rendered
    /// from the typed sections now.
    #[test]
    fn a_version_1_file_loads_as_the_current_version() {
        let results = fixture::open_results();
        let mut value = serde_json::to_value(&results).unwrap();
        value["schema_version"] = 1.into();
        value["notes"] = serde_json::json!(["arrivals: 90 due, 80 started, 10 dropped"]);
        let parsed = parse(Path::new("v1.json"), value.to_string().as_bytes()).unwrap();
        assert_eq!(parsed, results);
    }

    #[test]
    fn another_schema_version_is_named() {
        let error = parse(Path::new("old.json"), br#"{"schema_version": 9}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`old.json` has schema_version 9; this planrun reads versions 1 to 2"
        );
    }

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        let mut value = serde_json::to_value(fixture::results()).unwrap();
        value["slos"][0].as_object_mut().unwrap().remove("status");
        let error = parse(Path::new("s.json"), value.to_string().as_bytes()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("at `slos[0]`: missing field `status`"),
            "{error}"
        );
    }
}
