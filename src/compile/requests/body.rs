//! A request's body: inline (`body`) or from a payload file (`body-file`), compiled as a
//! template.

use super::{Compiler, compile_site};
use crate::compile::templates::Text;
use crate::plan::raw::RawStep;
use crate::plan::read::{ReadError, read_bounded};
use crate::plan::{KeyPath, PlanErrorKind};

/// Payload files larger than this are a mistake (a load test sends them thousands of times).
const MAX_PAYLOAD_BYTES: u64 = 10 * 1024 * 1024;

/// Compiles the step's body, if any; `json_body` asks the dry render to check it parses.
pub(super) fn compile(
    cx: &mut Compiler,
    class: usize,
    step: &RawStep,
    path: &KeyPath,
    json_body: bool,
) -> Option<Text> {
    match (&step.body, &step.body_file) {
        (Some(_), Some(_)) => {
            cx.error(
                path.key("body-file"),
                PlanErrorKind::BadStep {
                    message: "`body` and `body-file` both give the body: keep one".into(),
                },
            );
            None
        }
        (Some(body), None) => {
            let body_path = path.key("body");
            match compile_site(cx, class, body, &body_path, json_body) {
                Ok(text) => Some(text),
                Err(message) => {
                    cx.error(body_path, PlanErrorKind::Template { message });
                    None
                }
            }
        }
        (None, Some(file)) => body_file(cx, class, file, &path.key("body-file"), json_body),
        (None, None) => None,
    }
}

/// Reads a payload file (relative to the plan that names it) and compiles it.
fn body_file(
    cx: &mut Compiler,
    class: usize,
    file: &str,
    path: &KeyPath,
    json_body: bool,
) -> Option<Text> {
    let full = cx.plan.dir_of(path).join(file);
    let read = read_bounded(&full, MAX_PAYLOAD_BYTES, "a payload").and_then(|bytes| {
        String::from_utf8(bytes).map_err(|e| {
            ReadError::Io(format!(
                "not UTF-8 text: invalid bytes at byte {}",
                e.utf8_error().valid_up_to()
            ))
        })
    });
    match read {
        Ok(source) => match compile_site(cx, class, &source, path, json_body) {
            Ok(text) => Some(text),
            Err(message) => {
                cx.error(
                    path.clone(),
                    PlanErrorKind::Template {
                        message: format!("in `{}`: {message}", full.display()),
                    },
                );
                None
            }
        },
        Err(e) => {
            cx.error(
                path.clone(),
                PlanErrorKind::MissingPayload {
                    file: full.display().to_string(),
                    reason: e.to_string(),
                },
            );
            None
        }
    }
}
