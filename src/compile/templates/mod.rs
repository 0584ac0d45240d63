//! Templates: every templated string of a plan, compiled once into one minijinja
//! environment, rendered per request against a user's `UserScope`.
//!
//! Undefined variables are errors (strict mode), never silent empty strings. Helpers take
//! their randomness from the rendering user's seeded RNG, so `--seed` reproduces payloads.

mod crypto;
pub(crate) mod data;
mod explain;
mod functions;
mod null;
mod scope;

use std::collections::HashSet;

use minijinja::{Environment, UndefinedBehavior, Value};

pub(crate) use explain::explain;
pub(crate) use functions::FUNCTION_NAMES;
pub(crate) use scope::{Globals, UserScope};

/// Names every template can use besides plan variables, user variables and functions.
pub(crate) const BUILTIN_VARIABLES: [&str; 4] = ["user_id", "user_class", "iteration", "env"];

/// Instructions one render may run: a body looping over 10,000 items takes about
/// 100,000; a loop in a loop over `range(100000)` would take 10^10 and is stopped here,
/// in well under a second. See docs/robustness.md.
pub(crate) const MAX_FUEL: u64 = 2_000_000;

/// A compiled template, by position in `Templates`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TemplateId(u32);

/// A string of the plan: fixed text, or a template to render per request.
#[derive(Debug, Clone)]
pub enum Text {
    Static(String),
    Template(TemplateId),
}

/// The compiled templates of a plan.
pub(crate) struct Templates {
    env: Environment<'static>,
    names: Vec<String>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Templates({} compiled)", self.names.len())
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `text` has template syntax at all; plain text is never rendered.
pub(crate) fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

impl Templates {
    pub(crate) fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Payload files end in a newline; keep bodies byte-for-byte as written.
        env.set_keep_trailing_newline(true);
        // Every render (the dry run's and the run's) stops after this many instructions,
        // so that a loop inside a loop cannot hold `check` or a user forever.
        env.set_fuel(Some(MAX_FUEL));
        functions::register(&mut env);
        null::register(&mut env);
        Self {
            env,
            names: Vec::new(),
        }
    }

    /// Compiles `source` (a syntax error is returned as its message) unless it is plain text.
    pub(crate) fn compile(&mut self, source: &str) -> Result<Text, String> {
        if !is_template(source) {
            return Ok(Text::Static(source.to_owned()));
        }
        let name = format!("t{}", self.names.len());
        self.env
            .add_template_owned(name.clone(), source.to_owned())
            .map_err(|e| describe(&e))?;
        self.names.push(name);
        Ok(Text::Template(TemplateId((self.names.len() - 1) as u32)))
    }

    /// Renders a template for the user whose scope is `scope` (see `UserScope::value`).
    pub(crate) fn render(&self, id: TemplateId, scope: &Value) -> Result<String, minijinja::Error> {
        self.env
            .get_template(&self.names[id.0 as usize])?
            .render(scope)
    }

    /// Renders `text`, borrowing when it is static.
    pub(crate) fn render_text<'a>(
        &self,
        text: &'a Text,
        scope: &Value,
    ) -> Result<std::borrow::Cow<'a, str>, minijinja::Error> {
        match text {
            Text::Static(s) => Ok(std::borrow::Cow::Borrowed(s)),
            Text::Template(id) => self.render(*id, scope).map(std::borrow::Cow::Owned),
        }
    }

    /// Runs a `set` step for the user whose scope is `scope` (rendered as `value`):
    /// renders each assignment in order and stores it, so later ones see earlier ones.
    /// Stops at the first failure, returning the failing assignment's index.
    pub(crate) fn assign(
        &self,
        assignments: &[(String, Text)],
        scope: &UserScope,
        value: &Value,
    ) -> Result<(), (usize, minijinja::Error)> {
        for (index, (name, text)) in assignments.iter().enumerate() {
            let rendered = self.render_text(text, value).map_err(|e| (index, e))?;
            scope.set(name, Value::from(rendered.into_owned()));
        }
        Ok(())
    }

    /// Whether a condition (compiled from `condition_source`) holds for `scope`. One that
    /// cannot be evaluated (a variable still unset, `json.code` on a body without it)
    /// does not.
    pub(crate) fn holds(&self, id: TemplateId, scope: &Value) -> bool {
        self.render(id, scope)
            .is_ok_and(|rendered| !rendered.is_empty())
    }

    /// The source `id` was compiled from.
    pub(crate) fn source(&self, id: TemplateId) -> Option<String> {
        self.env
            .get_template(&self.names[id.0 as usize])
            .ok()
            .map(|t| t.source().to_owned())
    }

    /// Variables the template reads but does not define, as dotted paths (`env.HOME`).
    pub(crate) fn undeclared(&self, id: TemplateId) -> HashSet<String> {
        self.env
            .get_template(&self.names[id.0 as usize])
            .map(|t| t.undeclared_variables(true))
            .unwrap_or_default()
    }
}

/// A template that renders non-empty exactly when `condition`, a Jinja expression, holds:
/// `when` steps and outcomes are compiled from it and tested with `Templates::holds`.
pub(crate) fn condition_source(condition: &str) -> String {
    format!("{{% if {condition} %}}1{{% endif %}}")
}

/// A minijinja error as one line: its kind and detail, without minijinja's own template
/// names (`t3`), which mean nothing to the plan's author.
pub(crate) fn describe(error: &minijinja::Error) -> String {
    if error.kind() == minijinja::ErrorKind::OutOfFuel {
        return format!(
            "the template ran more than {MAX_FUEL} instructions (a loop too long, or a loop in a loop) and was stopped; loop over less"
        );
    }
    let mut message = match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    };
    if let Some(line) = error.line() {
        message.push_str(&format!(" (template line {line})"));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn scope() -> Value {
        let mut vars = indexmap::IndexMap::new();
        vars.insert("ids".to_owned(), Value::from(vec![3, 5, 7]));
        UserScope::new(0, "A", Arc::new(Globals::new(vars, Vec::new())), 42).value()
    }

    #[test]
    fn plain_text_is_not_compiled() {
        let mut templates = Templates::new();
        assert!(matches!(
            templates.compile("/api/v1/healthz"),
            Ok(Text::Static(_))
        ));
    }

    #[test]
    fn renders_helpers_and_variables() {
        let mut templates = Templates::new();
        let Text::Template(id) = templates
            .compile("{{ choice(ids) }}-{{ random_int(1, 1) }}-{{ user_id }}")
            .unwrap()
        else {
            panic!("expected a template")
        };
        let out = templates.render(id, &scope()).unwrap();
        let (choice, rest) = out.split_once('-').unwrap();
        assert!(["3", "5", "7"].contains(&choice));
        assert_eq!(rest, "1-0");
    }

    #[test]
    fn undefined_variables_are_errors() {
        let mut templates = Templates::new();
        let Text::Template(id) = templates.compile("{{ nope }}").unwrap() else {
            panic!("expected a template")
        };
        assert!(templates.render(id, &scope()).is_err());
        assert!(templates.undeclared(id).contains("nope"));
    }

    #[test]
    fn syntax_errors_are_reported_at_compile() {
        let mut templates = Templates::new();
        let error = templates.compile("{{ oops(").unwrap_err();
        assert!(error.contains("syntax error"), "{error}");
    }
}

/// Every function and filter docs/plan-reference.md names renders as documented.
#[cfg(test)]
mod documented {
    use super::*;
    use std::sync::Arc;

    const REFERENCE: &str = include_str!("../../../docs/plan-reference.md");

    /// The names in the first column of the table under `heading`: `name(…)` or
    /// `value | name(…)`.
    fn names_under(heading: &str) -> Vec<String> {
        let section = REFERENCE
            .split_once(heading)
            .map(|(_, rest)| rest.split("\n#").next().unwrap_or_default())
            .unwrap_or_else(|| panic!("no `{heading}` in the reference"));
        section
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .flat_map(|cell| {
                let cell = cell.split(" |").next().unwrap_or_default();
                cell.split('`')
                    .step_by(2)
                    .map(|entry| {
                        let entry = entry.rsplit("| ").next().unwrap_or(entry);
                        entry.split('(').next().unwrap_or(entry).trim().to_owned()
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|name| !name.is_empty() && name != "Function" && name != "Filter")
            .collect()
    }

    /// A call of each documented name and what it must render (None: any non-empty text).
    fn example(name: &str) -> Option<(&'static str, Option<&'static str>)> {
        Some(match name {
            "random_int" => ("{{ random_int(4, 4) }}", Some("4")),
            "choice" => ("{{ choice([7]) }}", Some("7")),
            "uuid" => ("{{ uuid() | length }}", Some("36")),
            "today" => ("{{ today(1) | length }}", Some("10")),
            "now" => ("{{ now(5) }}", None),
            "timestamp" => ("{{ timestamp() > 0 }}", Some("True")),
            "hmac_sha256" => ("{{ hmac_sha256('k', 'm') | length }}", Some("64")),
            "hmac_sha256_base64" => ("{{ hmac_sha256_base64('k', 'm') | length }}", Some("44")),
            "sha256" => (
                "{{ sha256('') }}",
                Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ),
            "base64_encode" => ("{{ base64_encode('hi') }}", Some("aGk=")),
            "base64_decode" => ("{{ base64_decode('aGk=') }}", Some("hi")),
            "add_days" => ("{{ '2026-02-27' | add_days(2) }}", Some("2026-03-01")),
            "urlencode" => (
                r#"{{ 'a b&c/d' | urlencode }}?{{ {"q": "x y", "n": 2} | urlencode }}"#,
                Some("a%20b%26c/d?n=2&q=x%20y"),
            ),
            _ => return None,
        })
    }

    #[test]
    fn every_documented_function_and_filter_renders() {
        let mut names = names_under("### Functions");
        let filters = names_under("### Filters");
        assert!(filters.contains(&"urlencode".to_owned()), "{filters:?}");
        assert!(names.len() >= 11, "{names:?}");
        names.extend(filters);
        let scope = UserScope::new(
            0,
            "A",
            Arc::new(Globals::new(Default::default(), Vec::new())),
            1,
        )
        .value();
        for name in names {
            let (source, expected) =
                example(&name).unwrap_or_else(|| panic!("`{name}` is documented but not tested"));
            let mut templates = Templates::new();
            let Ok(Text::Template(id)) = templates.compile(source) else {
                panic!("`{source}` did not compile")
            };
            let rendered = templates
                .render(id, &scope)
                .unwrap_or_else(|e| panic!("`{source}`: {}", describe(&e)));
            match expected {
                Some(expected) => assert_eq!(rendered, expected, "`{source}`"),
                None => assert!(!rendered.is_empty(), "`{source}`"),
            }
        }
    }

    #[test]
    fn a_loop_in_a_loop_runs_out_of_fuel_quickly() {
        let mut templates = Templates::new();
        let Ok(Text::Template(id)) = templates.compile(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        ) else {
            panic!("a template")
        };
        let scope = UserScope::new(
            0,
            "A",
            Arc::new(Globals::new(Default::default(), Vec::new())),
            1,
        )
        .value();
        let started = std::time::Instant::now();
        let error = templates.render(id, &scope).unwrap_err();
        assert!(describe(&error).contains("more than 2000000 instructions"));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
