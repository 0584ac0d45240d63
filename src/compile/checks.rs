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
    pub(crate) id: TemplateId,
    pub(crate) path: KeyPath,
    pub(crate) class: usize,
    pub(crate) source: String,
    /// A request body sent as JSON: the dry render must parse.
    pub(crate) json_body: bool,
    /// A header value, which may read `body` (the request's rendered body).
    pub(crate) reads_body: bool,
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
    let known_by_class = known_names(cx, classes, &vars);
    let mut reads = Reads {
        overrides,
        data: &data,
        env_names: Vec::new(),
        unset_env: Vec::new(),
        failed_classes: HashSet::new(),
    };
    for site in &cx.sites.clone() {
        let known: Vec<&str> = known_by_class
            .get(site.class)
            .map(|names| names.iter().map(String::as_str).collect())
            .unwrap_or_default();
        reads.check_site(cx, site, &known);
    }
    let Reads {
        env_names,
        unset_env,
        failed_classes,
        ..
    } = reads;
    let env = env_values(overrides, env_names, &unset_env);
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

/// The names each class's templates may read: plan variables, its own `set`s, built-ins.
fn known_names(
    cx: &Compiler,
    classes: &[UserClass],
    vars: &IndexMap<String, minijinja::Value>,
) -> Vec<Vec<String>> {
    classes
        .iter()
        .map(|class| {
            let builtins = BUILTIN_VARIABLES
                .iter()
                .chain(&FUNCTION_NAMES)
                .chain(&MINIJINJA_GLOBALS);
            vars.keys()
                .cloned()
                .chain(set_names(class, &cx.requests))
                .chain(builtins.map(|name| (*name).to_owned()))
                .collect()
        })
        .collect()
}

/// The environment variables the templates read, with their values: the set ones, then
/// (checked leniently) a placeholder for each unset one.
fn env_values(
    overrides: &Overrides,
    env_names: Vec<String>,
    unset_env: &[String],
) -> Vec<(String, String)> {
    env_names
        .into_iter()
        .filter_map(|name| overrides.env(&name).map(|value| (name, value)))
        // Checked leniently, an unset variable renders as a placeholder in the dry render.
        .chain(
            unset_env
                .iter()
                .map(|name| (name.clone(), format!("<{name} unset>"))),
        )
        .collect()
}

/// What the templates read, gathered while checking them.
struct Reads<'a> {
    overrides: &'a Overrides,
    data: &'a [DataSet],
    /// Environment variables read and set.
    env_names: Vec<String>,
    /// Environment variables read and not set (checked leniently).
    unset_env: Vec<String>,
    /// Classes with a template that reads something undefined: not dry-rendered.
    failed_classes: HashSet<usize>,
}

impl Reads<'_> {
    /// Checks every variable a site's template reads, in name order.
    fn check_site(&mut self, cx: &mut Compiler, site: &Site, known: &[&str]) {
        let mut undeclared: Vec<String> = cx.templates.undeclared(site.id).into_iter().collect();
        undeclared.sort();
        for variable in undeclared {
            let mut parts = variable.split('.');
            let root = parts.next().unwrap_or_default();
            if root == "env" {
                if let Some(name) = parts.next() {
                    self.env(cx, site, name);
                }
                continue;
            }
            if let Some(set) = self.data.iter().find(|d| d.name == root) {
                // `guests.name`: the column must exist (a bare `guests` is the whole row).
                if let Some(column) = parts.next() {
                    self.column(cx, site, set, column);
                }
                continue;
            }
            if known.contains(&root) || (site.reads_body && root == "body") {
                continue;
            }
            self.failed_classes.insert(site.class);
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

    /// Environment variable `name`, read by a site: set, unset in a lenient check, or an
    /// error.
    fn env(&mut self, cx: &mut Compiler, site: &Site, name: &str) {
        if self.overrides.env(name).is_some() {
            if !self.env_names.iter().any(|n| n == name) {
                self.env_names.push(name.to_owned());
            }
        } else if self.overrides.lenient_env {
            if !self.unset_env.iter().any(|n| n == name) {
                self.unset_env.push(name.to_owned());
            }
        } else {
            self.failed_classes.insert(site.class);
            cx.error(
                site.path.clone(),
                PlanErrorKind::MissingEnv {
                    name: name.to_owned(),
                },
            );
        }
    }

    /// A column of data set `set`, read by a site: it must exist.
    fn column(&mut self, cx: &mut Compiler, site: &Site, set: &DataSet, column: &str) {
        if set.columns.iter().any(|c| c == column) {
            return;
        }
        self.failed_classes.insert(site.class);
        let hint = did_you_mean(column, set.columns.iter().map(String::as_str));
        cx.error_with_hint(
            site.path.clone(),
            PlanErrorKind::UnknownColumn {
                data: set.name.clone(),
                column: column.to_owned(),
            },
            hint.or_else(|| Some(format!("its columns: {}", set.columns.join(", ")))),
        );
    }
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
    for action in actions {
        let id = match action {
            Action::Pause(_) => continue,
            Action::Set(assignments) => {
                if let Err((index, e)) = cx.templates.assign(assignments, &scope, &value) {
                    if let Text::Template(id) = &assignments[index].1 {
                        if let Some(site) = sites.iter().find(|s| s.id == *id) {
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
        let errors = dry_request(cx, request, &sites, &value, secrets);
        for extraction in &request.inspect.extract {
            scope.set(&extraction.variable, minijinja::Value::from(0));
        }
        for (path, kind) in errors {
            cx.error(path, kind);
        }
    }
}

/// Renders a request's texts (path, query, body, then templated headers, which may read
/// the rendered body) and returns what is wrong with them.
fn dry_request(
    cx: &Compiler,
    request: &RequestSpec,
    sites: &[Site],
    value: &minijinja::Value,
    secrets: &Secrets,
) -> Vec<(KeyPath, PlanErrorKind)> {
    let mut rendered_body = String::new();
    let mut errors = Vec::new();
    for (text, is_body, header) in texts(request) {
        let id = match text {
            Text::Template(id) => *id,
            Text::Static(fixed) => {
                if is_body {
                    rendered_body = fixed.clone();
                }
                continue;
            }
        };
        let Some(site) = sites.iter().find(|s| s.id == id) else {
            continue;
        };
        let context = if site.reads_body {
            minijinja::context! { body => rendered_body.clone(), ..value.clone() }
        } else {
            value.clone()
        };
        match cx.templates.render(id, &context) {
            Ok(rendered) => {
                errors.extend(rendered_problems(site, header, &rendered, secrets));
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
    errors
}

/// A request's texts in render order: each, whether it is the body, and the header it
/// is the value of.
fn texts(request: &RequestSpec) -> Vec<(&Text, bool, Option<&str>)> {
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
    texts
}

/// What is wrong with a site's rendered text: a header value that cannot be sent, or a
/// JSON body that does not parse.
fn rendered_problems(
    site: &Site,
    header: Option<&str>,
    rendered: &str,
    secrets: &Secrets,
) -> Vec<(KeyPath, PlanErrorKind)> {
    let mut problems = Vec::new();
    // A value with CR, LF or NUL cannot be sent: caught here, not by every request of
    // the run failing.
    if let Some(name) = header {
        if http::HeaderValue::from_str(rendered).is_err() {
            problems.push((
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
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(rendered) {
            problems.push((
                site.path.clone(),
                PlanErrorKind::PayloadNotJson {
                    message: secrets.scrub(&e.to_string()),
                },
            ));
        }
    }
    problems
}
