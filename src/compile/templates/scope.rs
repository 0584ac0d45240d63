//! `UserScope`: what a template sees when it renders for one virtual user.
//!
//! Lookup order: built-ins (`user_id`, `user_class`, `iteration`, `env`), then the user's
//! own variables (set by `set` steps and extractions), then data sets (a row drawn on
//! first use in an iteration), then plan variables. One scope per user, created
//! once; rendering borrows it, so a render allocates only its output.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use minijinja::Value;
use minijinja::value::{Enumerator, Object};
use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::data::{DataMode, DataSet, Exhausted};

/// The key under which template helpers find the rendering user's scope (and RNG).
pub(super) const SCOPE_KEY: &str = "__planrun_user";

/// What every user shares: plan variables, the environment variables templates read,
/// and the data sets.
#[derive(Debug, Default)]
pub(crate) struct Globals {
    vars: IndexMap<String, Value>,
    env: Value,
    data: Vec<DataSet>,
}

impl Globals {
    /// `env` holds only the environment variables the plan's templates name, read at compile.
    pub(crate) fn new(vars: IndexMap<String, Value>, env: Vec<(String, String)>) -> Self {
        let env: IndexMap<String, String> = env.into_iter().collect();
        Self {
            vars,
            env: Value::from_serialize(&env),
            data: Vec::new(),
        }
    }

    pub(crate) fn with_data(mut self, data: Vec<DataSet>) -> Self {
        self.data = data;
        self
    }

    pub(crate) fn data(&self) -> &[DataSet] {
        &self.data
    }

    pub(crate) fn var_names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }
}

/// One virtual user's view for templates.
#[derive(Debug)]
pub(crate) struct UserScope {
    user_id: u64,
    class: Value,
    iteration: AtomicU64,
    vars: Mutex<Vec<(String, Value)>>,
    globals: Arc<Globals>,
    rng: Mutex<SmallRng>,
    /// Rows drawn from the data sets: (data set, iteration drawn in, row).
    rows: Mutex<Vec<(usize, u64, Value)>>,
    /// Why the last draw failed (`on-exhausted: fail`), for the failing request's reason.
    data_error: Mutex<Option<String>>,
    /// A `unique` data set ran out with `on-exhausted: stop`.
    stop: AtomicBool,
}

impl UserScope {
    pub(crate) fn new(user_id: u64, class: &str, globals: Arc<Globals>, seed: u64) -> Arc<Self> {
        Arc::new(Self {
            user_id,
            class: Value::from(class),
            iteration: AtomicU64::new(0),
            vars: Mutex::new(Vec::new()),
            globals,
            rng: Mutex::new(SmallRng::seed_from_u64(seed)),
            rows: Mutex::new(Vec::new()),
            data_error: Mutex::new(None),
            stop: AtomicBool::new(false),
        })
    }

    /// The reason the last data draw failed, once.
    pub(crate) fn take_data_error(&self) -> Option<String> {
        self.data_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Whether a data set told this user to stop.
    pub(crate) fn must_stop(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// This iteration's row of data set `index` (the user's row, for `per-user`).
    fn row(&self, index: usize) -> Option<Value> {
        let set = &self.globals.data[index];
        let iteration = self.iteration.load(Ordering::Relaxed);
        let mut rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        let cached = rows.iter().find(|(i, drawn_in, _)| {
            *i == index && (*drawn_in == iteration || set.mode == DataMode::PerUser)
        });
        if let Some((_, _, row)) = cached {
            return Some(row.clone());
        }
        match self.with_rng(|rng| set.draw(rng)) {
            Ok(row) => {
                rows.retain(|(i, _, _)| *i != index);
                rows.push((index, iteration, row.clone()));
                Some(row)
            }
            Err(Exhausted::Fail(message)) => {
                *self.data_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
                None
            }
            Err(Exhausted::Stop) => {
                self.stop.store(true, Ordering::Relaxed);
                None
            }
        }
    }

    /// The value to render templates against.
    pub(crate) fn value(self: &Arc<Self>) -> Value {
        Value::from_dyn_object(self.clone())
    }

    /// Sets (or replaces) a user variable.
    pub(crate) fn set(&self, name: &str, value: Value) {
        let mut vars = self.vars.lock().unwrap_or_else(|e| e.into_inner());
        match vars.iter_mut().find(|(n, _)| n == name) {
            Some((_, slot)) => *slot = value,
            None => vars.push((name.to_owned(), value)),
        }
    }

    /// Counts one more completed task iteration.
    pub(crate) fn next_iteration(&self) {
        self.iteration.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `f` with this user's RNG.
    pub(crate) fn with_rng<R>(&self, f: impl FnOnce(&mut SmallRng) -> R) -> R {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut rng)
    }
}

impl Object for UserScope {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        match key {
            "user_id" => Some(Value::from(self.user_id)),
            "user_class" => Some(self.class.clone()),
            "iteration" => Some(Value::from(self.iteration.load(Ordering::Relaxed))),
            "env" => Some(self.globals.env.clone()),
            SCOPE_KEY => Some(Value::from_dyn_object(self.clone())),
            _ => {
                let vars = self.vars.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((_, value)) = vars.iter().find(|(n, _)| n == key) {
                    return Some(value.clone());
                }
                drop(vars);
                if let Some(index) = self.globals.data.iter().position(|d| d.name == key) {
                    return self.row(index);
                }
                self.globals.vars.get(key).cloned()
            }
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}
