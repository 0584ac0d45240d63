//! The JSON Schema of `summary.json`, generated from `Results` and committed at
//! `docs/summary.schema.json` for those who read the file without planrun. A test fails
//! when the types change and the file does not; `PLANRUN_BLESS=1 cargo test --lib schema`
//! rewrites it.

use super::Results;

/// Where the schema is committed, from the repository's root.
pub const SCHEMA_FILE: &str = "docs/summary.schema.json";

/// `Results`' JSON Schema (draft 2020-12), its docs as descriptions.
pub fn schema() -> schemars::Schema {
    schemars::schema_for!(Results)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn the_committed_schema_is_the_schema_of_the_types() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_FILE);
        let generated = serde_json::to_string_pretty(&schema()).unwrap() + "\n";
        if std::env::var_os("PLANRUN_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "`{SCHEMA_FILE}` is not the schema of `Results`: run \
             `PLANRUN_BLESS=1 cargo test --lib schema` and commit it"
        );
    }
}
