//! Run-time render errors in the plan's words: minijinja says `undefined value (template
//! line 1)`; the user needs to know which variable it was.

use minijinja::{ErrorKind, Value};

use super::{Templates, Text, describe};

/// Why `text` failed to render for `scope`: for an undefined variable, its name
/// (`` `token` is undefined (…) ``); otherwise the error as `describe` puts it.
pub(crate) fn explain(
    templates: &Templates,
    text: &Text,
    scope: &Value,
    error: &minijinja::Error,
) -> String {
    let Text::Template(id) = text else {
        return describe(error);
    };
    if error.kind() != ErrorKind::UndefinedError {
        return describe(error);
    }
    // The first one the template reads is the one that failed.
    let source = templates.source(*id).unwrap_or_default();
    let mut names: Vec<String> = templates.undeclared(*id).into_iter().collect();
    names.sort_by_key(|name| {
        (
            source.find(name.as_str()).unwrap_or(usize::MAX),
            name.clone(),
        )
    });
    let missing = names.iter().find_map(|name| {
        let mut parts = name.split('.');
        let mut value = scope.get_attr(parts.next()?).ok()?;
        let mut path = Vec::new();
        for part in std::iter::once("").chain(parts) {
            if !part.is_empty() {
                value = value.get_attr(part).ok()?;
                path.push(part);
            }
            if value.is_undefined() {
                return Some(
                    name.split('.')
                        .take(path.len() + 1)
                        .collect::<Vec<_>>()
                        .join("."),
                );
            }
        }
        None
    });
    match missing {
        Some(name) if !name.contains('.') => format!(
            "`{name}` is undefined (no `set` or `extract` of this user has given it a value yet)"
        ),
        Some(name) => format!("`{name}` is undefined"),
        None => describe(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_undefined_variable() {
        let mut templates = Templates::new();
        let text = templates
            .compile("Bearer {{ token }} {{ guest.nam }}")
            .unwrap();
        let Text::Template(id) = text else {
            panic!("a template")
        };
        let scope = minijinja::context! { guest => minijinja::context! { name => "Ana" } };
        let error = templates.render(id, &scope).unwrap_err();
        assert_eq!(
            explain(&templates, &text, &scope, &error),
            "`token` is undefined (no `set` or `extract` of this user has given it a value yet)"
        );
        let scope =
            minijinja::context! { token => "t", guest => minijinja::context! { name => "Ana" } };
        let error = templates.render(id, &scope).unwrap_err();
        assert_eq!(
            explain(&templates, &text, &scope, &error),
            "`guest.nam` is undefined"
        );
    }
}
