//! What is wrong with a plan: one `PlanErrorKind` per mistake, each with its message.

/// What is wrong. Messages are lowercase, name things in backticks, and say what was
/// found and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanErrorKind {
    #[error("cannot read plan file `{file}`: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("`{file}` is neither YAML nor TOML: expected a `.yaml`, `.yml` or `.toml` file")]
    UnknownFormat { file: String },
    #[error("syntax error: {message}")]
    Syntax { message: String },
    #[error("{message}; save the file as UTF-8")]
    Encoding { message: String },
    #[error(
        "the plan file is empty: expected a map of keys such as `host`, `classes`, `load`, `slos`"
    )]
    EmptyPlan,
    #[error(
        "nesting deeper than {limit} levels: plans need about ten; flatten this value (see docs/robustness.md)"
    )]
    TooDeep { limit: usize },
    #[error(
        "the plan file holds more than {limit} values (keys, items and scalars): plans hold a few thousand; move bulk data to a `data` file (see docs/robustness.md)"
    )]
    TooManyValues { limit: usize },
    #[error(
        "aliases expand to {values} values here, over this file's limit of {limit}: an alias that repeats aliases multiplies; write the values out instead (see docs/robustness.md)"
    )]
    AliasBomb { values: usize, limit: usize },
    #[error(
        "key `{key}` is written twice in this map (first at line {line}, column {col}); YAML would silently keep only the last: remove or rename one"
    )]
    DuplicateKey {
        key: String,
        line: usize,
        col: usize,
    },
    #[error("unknown key `{key}`: expected one of {}", backticked(expected))]
    UnknownKey { key: String, expected: Vec<String> },
    #[error("missing key `{key}`")]
    MissingKey { key: String },
    #[error("wrong type: {message}")]
    WrongType { message: String },
    #[error("bad duration: {message}")]
    BadDuration { message: String },
    #[error("bad rate: {message}")]
    BadRate { message: String },
    #[error("bad size: {message}")]
    BadSize { message: String },
    #[error("bad status list: {message}")]
    BadStatus { message: String },
    #[error(
        "bad think time `{found}`: expected `between 1s 3s`, `constant 2s`, `pacing 5s` or `none`"
    )]
    BadThinkTime { found: String },
    #[error("bad HTTP method `{found}`: expected GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS")]
    BadMethod { found: String },
    #[error("bad host `{found}`: {reason}")]
    BadHost { found: String, reason: String },
    #[error(
        "no host: set `host` in the plan, pass `--host URL`, set `PLANRUN_HOST`, or use `--sample-api`"
    )]
    NoHost,
    #[error("bad header: {message}")]
    BadHeader { message: String },
    #[error("weight must be a positive whole number, found `{found}`")]
    BadWeight { found: String },
    #[error("the plan defines no user classes: expected `classes` with at least one class")]
    NoClasses,
    #[error("user class `{class}` has no tasks: expected `tasks` with at least one task")]
    NoTasks { class: String },
    #[error("{message}")]
    BadStep { message: String },
    #[error("template error: {message}")]
    Template { message: String },
    #[error("undefined variable `{name}` in template")]
    UndefinedVariable { name: String },
    #[error("unknown function `{name}` in template")]
    UnknownFunction { name: String },
    #[error("environment variable `{name}` is not set")]
    MissingEnv { name: String },
    #[error("cannot read payload file `{file}`: {reason}")]
    MissingPayload { file: String, reason: String },
    #[error("unknown outcome `{name}`: expected `request.outcome` of a request's `outcomes`")]
    UnknownOutcome { name: String },
    #[error("bad `tls`: {message}")]
    BadTls { message: String },
    #[error("cannot use TLS file `{file}`: {reason}")]
    TlsFile { file: String, reason: String },
    #[error("bad data file `{file}`: {reason}")]
    DataFile { file: String, reason: String },
    #[error("data `{data}` has no column `{column}`")]
    UnknownColumn { data: String, column: String },
    #[error("body is not valid JSON once rendered: {message}")]
    PayloadNotJson { message: String },
    #[error("`extends` forms a cycle: {}", chain.join(" → "))]
    ExtendsCycle { chain: Vec<String> },
    #[error("bad `--set {flag}`: {message}")]
    BadSet { flag: String, message: String },
    #[error("SLO refers to request `{name}`, which no task defines")]
    UnknownRequest { name: String },
    #[error("no task sends a request named `{name}`")]
    NoSuchRequest { name: String },
    #[error("no task is named `{name}`, nor is a request that a task sends alone")]
    UnknownTask { name: String },
    #[error("no stage is named `{name}`")]
    UnknownStage { name: String },
    #[error("bad SLO `{found}`: {message}")]
    BadSlo { found: String, message: String },
    #[error("bad load: {message}")]
    BadLoad { message: String },
}

fn backticked(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
