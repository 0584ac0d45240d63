//! `data:` → `DataSet`s: each file read once, here, so a missing file, a bad mode or an
//! empty file is a plan error before anything is sent.

use std::path::Path;

use minijinja::Value;

use super::context::Compiler;
use super::templates::data::{DataMode, DataSet, OnExhausted};
use crate::plan::raw::RawData;
use crate::plan::read::read_bounded;
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};

/// Data files larger than this are not test data.
const MAX_DATA_BYTES: u64 = 100 * 1024 * 1024;

const MODES: [&str; 4] = ["sequential", "random", "unique", "per-user"];
const ON_EXHAUSTED: [&str; 3] = ["fail", "recycle", "stop"];

/// Compiles every `data` entry, reading its file.
pub(super) fn compile(cx: &mut Compiler) -> Vec<DataSet> {
    let Some(raw) = cx.plan.raw.data.clone() else {
        return Vec::new();
    };
    raw.iter()
        .filter_map(|(name, data)| data_set(cx, name, data))
        .collect()
}

/// One data set: its mode, what happens when it runs out, and its file's rows.
fn data_set(cx: &mut Compiler, name: &str, data: &RawData) -> Option<DataSet> {
    let path = KeyPath::root().key("data").key(name.to_owned());
    let mode = mode(cx, data, &path)?;
    let on_exhausted = on_exhausted(cx, data, &path)?;
    if data.on_exhausted.is_some() && mode != DataMode::Unique {
        cx.error(
            path.key("on-exhausted"),
            PlanErrorKind::BadStep {
                message: "`on-exhausted` applies to `mode: unique` only; other modes never run out"
                    .into(),
            },
        );
    }
    let file_path = path.key("file");
    let full = cx.plan.dir_of(&file_path).join(&data.file);
    match read(&full) {
        Ok((columns, rows)) => Some(DataSet::new(
            name.to_owned(),
            columns,
            rows,
            mode,
            on_exhausted,
        )),
        Err(reason) => {
            cx.error(
                file_path,
                PlanErrorKind::DataFile {
                    file: full.display().to_string(),
                    reason,
                },
            );
            None
        }
    }
}

/// The set's `mode` (default `sequential`).
fn mode(cx: &mut Compiler, data: &RawData, path: &KeyPath) -> Option<DataMode> {
    Some(match data.mode.as_deref().unwrap_or("sequential") {
        "sequential" => DataMode::Sequential,
        "random" => DataMode::Random,
        "unique" => DataMode::Unique,
        "per-user" => DataMode::PerUser,
        other => {
            bad_choice(cx, &path.key("mode"), "mode", other, &MODES);
            return None;
        }
    })
}

/// The set's `on-exhausted` (default `fail`).
fn on_exhausted(cx: &mut Compiler, data: &RawData, path: &KeyPath) -> Option<OnExhausted> {
    Some(match data.on_exhausted.as_deref().unwrap_or("fail") {
        "fail" => OnExhausted::Fail,
        "recycle" => OnExhausted::Recycle,
        "stop" => OnExhausted::Stop,
        other => {
            bad_choice(
                cx,
                &path.key("on-exhausted"),
                "on-exhausted",
                other,
                &ON_EXHAUSTED,
            );
            return None;
        }
    })
}

/// Reports a value that is not one of `choices`.
fn bad_choice(cx: &mut Compiler, path: &KeyPath, key: &str, found: &str, choices: &[&str]) {
    let hint = did_you_mean(found, choices.iter().copied());
    cx.error_with_hint(
        path.clone(),
        PlanErrorKind::BadStep {
            message: format!("`{key}: {found}`: expected one of {}", choices.join(", ")),
        },
        hint,
    );
}

/// The columns and rows (objects) of a CSV file with a header row or a JSON array of
/// objects.
fn read(path: &Path) -> Result<(Vec<String>, Vec<Value>), String> {
    let bytes = read_bounded(path, MAX_DATA_BYTES, "a data file").map_err(|e| e.to_string())?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let (columns, rows) = if is_json {
        read_json(&bytes)?
    } else {
        read_csv(&bytes)?
    };
    if rows.is_empty() {
        return Err("no rows".into());
    }
    Ok((columns, rows))
}

/// The rows of a CSV file with a header row.
fn read_csv(bytes: &[u8]) -> Result<(Vec<String>, Vec<Value>), String> {
    let mut reader = csv::Reader::from_reader(bytes);
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        let row: indexmap::IndexMap<&str, &str> = columns
            .iter()
            .map(String::as_str)
            .zip(record.iter())
            .collect();
        rows.push(Value::from_serialize(&row));
    }
    Ok((columns, rows))
}

/// The rows of a JSON array of objects; the first one's keys are the columns.
fn read_json(bytes: &[u8]) -> Result<(Vec<String>, Vec<Value>), String> {
    let items: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_slice(bytes)
        .map_err(|e| format!("expected a JSON array of objects: {e}"))?;
    let columns = items
        .first()
        .map(|first| first.keys().cloned().collect())
        .unwrap_or_default();
    Ok((columns, items.iter().map(Value::from_serialize).collect()))
}
