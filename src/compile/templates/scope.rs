//! `UserScope`: what a template sees when it renders for one virtual user.
//!
//! Lookup order: built-ins (`user_id`, `user_class`, `iteration`, `env`), then the user's
//! own variables (set by `set` steps), then plan variables. One scope per user, created
//! once; rendering borrows it, so a render allocates only its output.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use minijinja::Value;
use minijinja::value::{Enumerator, Object};
use rand::SeedableRng;
use rand::rngs::SmallRng;

/// The key under which template helpers find the rendering user's scope (and RNG).
pub(super) const SCOPE_KEY: &str = "__planrun_user";

/// What every user shares: plan variables and the environment variables templates read.
#[derive(Debug, Default)]
pub struct Globals {
    vars: IndexMap<String, Value>,
    env: Value,
}

impl Globals {
    /// `env` holds only the environment variables the plan's templates name, read at compile.
    pub fn new(vars: IndexMap<String, Value>, env: Vec<(String, String)>) -> Self {
        let env: IndexMap<String, String> = env.into_iter().collect();
        Self {
            vars,
            env: Value::from_serialize(&env),
        }
    }

    pub fn var_names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }
}

/// One virtual user's view for templates.
#[derive(Debug)]
pub struct UserScope {
    user_id: u64,
    class: Value,
    iteration: AtomicU64,
    vars: Mutex<Vec<(String, Value)>>,
    globals: Arc<Globals>,
    rng: Mutex<SmallRng>,
}

impl UserScope {
    pub fn new(user_id: u64, class: &str, globals: Arc<Globals>, seed: u64) -> Arc<Self> {
        Arc::new(Self {
            user_id,
            class: Value::from(class),
            iteration: AtomicU64::new(0),
            vars: Mutex::new(Vec::new()),
            globals,
            rng: Mutex::new(SmallRng::seed_from_u64(seed)),
        })
    }

    /// The value to render templates against.
    pub fn value(self: &Arc<Self>) -> Value {
        Value::from_dyn_object(self.clone())
    }

    /// Sets (or replaces) a user variable.
    pub fn set(&self, name: &str, value: Value) {
        let mut vars = self.vars.lock().unwrap_or_else(|e| e.into_inner());
        match vars.iter_mut().find(|(n, _)| n == name) {
            Some((_, slot)) => *slot = value,
            None => vars.push((name.to_owned(), value)),
        }
    }

    /// Counts one more completed task iteration.
    pub fn next_iteration(&self) {
        self.iteration.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `f` with this user's RNG.
    pub fn with_rng<R>(&self, f: impl FnOnce(&mut SmallRng) -> R) -> R {
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
                self.globals.vars.get(key).cloned()
            }
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}
