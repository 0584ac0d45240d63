//! Template checks before any request is sent: every variable a template reads must be
//! defined (plan `vars`, a built-in, a `set` of its class, or a set environment variable),
//! every function must exist, and a dry render per class must succeed (JSON bodies must
//! parse once rendered).

use std::collections::HashSet;
use std::sync::Arc;

use indexmap::IndexMap;

use super::Overrides;
use super::context::Compiler;
use super::graph::{Action, RequestSpec, UserClass};
use super::secrets::Secrets;
use super::templates::data::DataSet;
use super::templates::{
    BUILTIN_VARIABLES, FUNCTION_NAMES, Globals, TemplateId, Text, UserScope, describe,
};
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};

/// Globals minijinja itself provides.
const MINIJINJA_GLOBALS: [&str; 4] = ["range", "dict", "namespace", "debug"];

/// A compiled template and where it was written.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub id: TemplateId,
    pub path: KeyPath,
    pub class: usize,
    pub source: String,
    /// A request body sent as JSON: the dry render must parse.
    pub json_body: bool,
    /// A header value, which may read `body` (the request's rendered body).
    pub reads_body: bool,
}

/// Checks every template and returns the globals (with the environment variables the
/// templates read) the run will use.
pub(super) fn check_templates(
    cx: &mut Compiler,
    classes: &[UserClass],
    vars: IndexMap<String, minijinja::Value>,
    data: Vec<DataSet>,
    seed: u64,
    overrides: &Overrides,
    secrets: &Secrets,
) -> (Arc<Globals>, Vec<String>) {
    let mut unset_env: Vec<String> = Vec::new();
    let plan_vars: Vec<String> = vars.keys().cloned().collect();
    let mut env_names: Vec<String> = Vec::new();
    let mut failed_classes: HashSet<usize> = HashSet::new();
    // The names each class's templates may read: plan variables, its own `set`s, built-ins.
    let known_by_class: Vec<Vec<String>> = classes
        .iter()
        .map(|class| {
            let builtins = BUILTIN_VARIABLES
                .iter()
                .chain(&FUNCTION_NAMES)
                .chain(&MINIJINJA_GLOBALS);
            plan_vars
                .iter()
                .cloned()
                .chain(set_names(class, &cx.requests))
                .chain(builtins.map(|name| (*name).to_owned()))
                .collect()
        })
        .collect();
    let sites = cx.sites.clone();
    for site in &sites {
        let known: Vec<&str> = known_by_class
            .get(site.class)
            .map(|names| names.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let mut undeclared: Vec<String> = cx.templates.undeclared(site.id).into_iter().collect();
        undeclared.sort();
        for variable in undeclared {
            let mut parts = variable.split('.');
            let root = parts.next().unwrap_or_default();
            if root == "env" {
                if let Some(name) = parts.next() {
                    if overrides.env(name).is_some() {
                        if !env_names.iter().any(|n| n == name) {
                            env_names.push(name.to_owned());
                        }
                    } else if overrides.lenient_env {
                        if !unset_env.iter().any(|n| n == name) {
                            unset_env.push(name.to_owned());
                        }
                    } else {
                        failed_classes.insert(site.class);
                        cx.error(
                            site.path.clone(),
                            PlanErrorKind::MissingEnv {
                                name: name.to_owned(),
                            },
                        );
                    }
                }
                continue;
            }
            if let Some(set) = data.iter().find(|d| d.name == root) {
                // `guests.name`: the column must exist (a bare `guests` is the whole row).
                if let Some(column) = parts.next() {
                    if !set.columns.iter().any(|c| c == column) {
                        failed_classes.insert(site.class);
                        let hint = did_you_mean(column, set.columns.iter().map(String::as_str));
                        cx.error_with_hint(
                            site.path.clone(),
                            PlanErrorKind::UnknownColumn {
                                data: root.to_owned(),
                                column: column.to_owned(),
                            },
                            hint.or_else(|| {
                                Some(format!("its columns: {}", set.columns.join(", ")))
                            }),
                        );
                    }
                }
                continue;
            }
            if known.contains(&root) || (site.reads_body && root == "body") {
                continue;
            }
            failed_classes.insert(site.class);
            let hint = did_you_mean(root, known.iter().copied());
            let called = site.source.contains(&format!("{root}("));
            let kind = if called {
                PlanErrorKind::UnknownFunction {
                    name: root.to_owned(),
                }
            } else {
                PlanErrorKind::UndefinedVariable {
                    name: root.to_owned(),
                }
            };
            cx.error_with_hint(site.path.clone(), kind, hint);
        }
    }
    let env = env_names
        .into_iter()
        .filter_map(|name| overrides.env(&name).map(|value| (name, value)))
        // Checked leniently, an unset variable renders as a placeholder in the dry render.
        .chain(
            unset_env
                .iter()
                .map(|name| (name.clone(), format!("<{name} unset>"))),
        )
        .collect();
    let globals = Arc::new(Globals::new(vars, env).with_data(data));
    for (index, class) in classes.iter().enumerate() {
        if !failed_classes.contains(&index) {
            dry_render(cx, class, index, &globals, seed, secrets);
        }
    }
    // The dry render drew rows; the run starts from the first.
    for set in globals.data() {
        set.rewind();
    }
    (globals, unset_env)
}

/// The names a class's `set` steps and extractions define.
fn set_names(class: &UserClass, requests: &[RequestSpec]) -> Vec<String> {
    class
        .on_start
        .iter()
        .chain(class.tasks.iter().flat_map(|t| t.actions.iter()))
        .flat_map(|action| match action {
            Action::Set(assignments) => assignments.iter().map(|(name, _)| name.clone()).collect(),
            Action::Request(id) => requests[id.0 as usize]
                .inspect
                .extract
                .iter()
                .map(|e| e.variable.clone())
                .collect(),
            Action::Pause(_) => Vec::new(),
        })
        .collect()
}

/// Renders every template of a class once, as its first user would: `on-start` first,
/// then each task in order. A value a response would give (an extraction) is a
/// placeholder `0` from its request on.
fn dry_render(
    cx: &mut Compiler,
    class: &UserClass,
    index: usize,
    globals: &Arc<Globals>,
    seed: u64,
    secrets: &Secrets,
) {
    let scope = UserScope::new(0, &class.name, globals.clone(), seed);
    let value = scope.value();
    let actions = class
        .on_start
        .iter()
        .chain(class.tasks.iter().flat_map(|t| t.actions.iter()));
    let sites: Vec<Site> = cx
        .sites
        .iter()
        .filter(|s| s.class == index)
        .cloned()
        .collect();
    let site_of = |id: TemplateId| sites.iter().find(|s| s.id == id);
    for action in actions {
        let id = match action {
            Action::Pause(_) => continue,
            Action::Set(assignments) => {
                if let Err((index, e)) = cx.templates.assign(assignments, &scope, &value) {
                    if let Text::Template(id) = &assignments[index].1 {
                        if let Some(site) = site_of(*id) {
                            // A render error may quote a value read from the environment.
                            let message = secrets.scrub(&describe(&e));
                            cx.error(site.path.clone(), PlanErrorKind::Template { message });
                        }
                    }
                    return;
                }
                continue;
            }
            Action::Request(id) => *id,
        };
        let request = &cx.requests[id.0 as usize];
        let mut rendered_body = String::new();
        // Each text, whether it is the body, and the header it is the value of.
        let mut texts: Vec<(&Text, bool, Option<&str>)> = std::iter::once(&request.path)
            .chain(request.query.iter().map(|(_, t)| t))
            .map(|t| (t, false, None))
            .collect();
        if let Some(body) = &request.body {
            texts.push((body, true, None));
        }
        texts.extend(
            request
                .templated_headers
                .iter()
                .map(|(name, t)| (t, false, Some(name.as_str()))),
        );
        let mut errors = Vec::new();
        for (text, is_body, header) in texts {
            let id = match text {
                Text::Template(id) => *id,
                Text::Static(fixed) => {
                    if is_body {
                        rendered_body = fixed.clone();
                    }
                    continue;
                }
            };
            let Some(site) = site_of(id) else { continue };
            let context = if site.reads_body {
                minijinja::context! { body => rendered_body.clone(), ..value.clone() }
            } else {
                value.clone()
            };
            match cx.templates.render(id, &context) {
                Ok(rendered) => {
                    // A value with CR, LF or NUL cannot be sent: caught here, not by
                    // every request of the run failing.
                    if let Some(name) = header {
                        if reqwest::header::HeaderValue::from_str(&rendered).is_err() {
                            errors.push((
                                site.path.clone(),
                                PlanErrorKind::BadHeader {
                                    message: format!(
                                        "the value of `{name}` renders to characters a header cannot carry (a line break or a control character); remove them from the values it uses"
                                    ),
                                },
                            ));
                        }
                    }
                    if site.json_body {
                        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&rendered) {
                            errors.push((
                                site.path.clone(),
                                PlanErrorKind::PayloadNotJson {
                                    message: secrets.scrub(&e.to_string()),
                                },
                            ));
                        }
                    }
                    if is_body {
                        rendered_body = rendered;
                    }
                }
                Err(e) => errors.push((
                    site.path.clone(),
                    PlanErrorKind::Template {
                        message: secrets.scrub(&describe(&e)),
                    },
                )),
            }
        }
        for extraction in &request.inspect.extract {
            scope.set(&extraction.variable, minijinja::Value::from(0));
        }
        for (path, kind) in errors {
            cx.error(path, kind);
        }
    }
}
