//! The bounds every plan file is read within, and what reading refuses.

use super::span::Span;

/// Plans nest about ten levels deep (`classes.A.tasks.t.steps[0].extract.code.json`);
/// `vars` holding JSON documents add a few more. 64 is far beyond any real plan.
pub(crate) const MAX_DEPTH: usize = 64;

/// Values (scalars, lists and maps) one plan file may hold. Hand-written plans hold
/// hundreds to a few thousand; each value costs about a kilobyte by the time the plan is
/// compiled (the value tree, its positions, the template globals), so this keeps a plan
/// file's load under 200 MB. 4 MiB of one-line `vars` held 720,000 and took 680 MB.
pub(crate) const MAX_VALUES: usize = 100_000;

/// Values an alias may add, beyond those written: `max(ALIAS_FLOOR, ALIAS_FACTOR ×
/// written)`, capped by `ALIAS_CEILING`. Sharing a header map between classes adds
/// tens; an expansion bomb adds billions.
pub(crate) const ALIAS_FACTOR: usize = 50;
pub(crate) const ALIAS_FLOOR: usize = 1_000;
pub(crate) const ALIAS_CEILING: usize = 100_000;

/// What the walk refused, and where (byte spans in the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    Syntax {
        message: String,
        at: usize,
    },
    TooManyValues {
        at: Span,
    },
    TooDeep {
        at: Span,
    },
    AliasBomb {
        at: Span,
        values: usize,
        limit: usize,
    },
    DuplicateKey {
        key: String,
        first: Span,
        again: Span,
    },
}
