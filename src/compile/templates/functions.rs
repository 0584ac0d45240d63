//! Template helpers: random values from the user's seeded RNG, dates, ids and time.
//!
//! `random_int(a, b)`, `choice(list)`, `uuid()`, `today(days)`, `now(seconds)`,
//! `timestamp()`, and the filter `add_days(n)` for the seed's check-in/check-out dates.

use chrono::{Duration as ChronoDuration, NaiveDate, SecondsFormat, Utc};
use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, State};
use rand::{Rng, RngCore};

use super::scope::{SCOPE_KEY, UserScope};

/// Every function templates may call (for "unknown function" diagnostics).
pub(crate) const FUNCTION_NAMES: [&str; 11] = [
    "random_int",
    "choice",
    "uuid",
    "today",
    "now",
    "timestamp",
    super::crypto::NAMES[0],
    super::crypto::NAMES[1],
    super::crypto::NAMES[2],
    super::crypto::NAMES[3],
    super::crypto::NAMES[4],
];

pub(super) fn register(env: &mut Environment<'static>) {
    super::crypto::register(env);
    env.add_function("random_int", random_int);
    env.add_function("choice", choice);
    env.add_function("uuid", uuid);
    env.add_function("today", today);
    env.add_function("now", now);
    env.add_function("timestamp", timestamp);
    env.add_filter("add_days", add_days);
}

fn with_rng<R>(state: &State, f: impl FnOnce(&mut rand::rngs::SmallRng) -> R) -> Result<R, Error> {
    let scope = state.lookup(SCOPE_KEY).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            "no user scope to draw random values from",
        )
    })?;
    let scope = scope.downcast_object_ref::<UserScope>().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            "no user scope to draw random values from",
        )
    })?;
    Ok(scope.with_rng(f))
}

/// A random integer in `min..=max`.
fn random_int(state: &State, min: i64, max: i64) -> Result<i64, Error> {
    if min > max {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("random_int({min}, {max}): the minimum is above the maximum"),
        ));
    }
    with_rng(state, |rng| rng.random_range(min..=max))
}

/// A random item of a list.
fn choice(state: &State, items: Value) -> Result<Value, Error> {
    let len = items
        .len()
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "choice() takes a list"))?;
    if len == 0 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "choice() of an empty list",
        ));
    }
    let index = with_rng(state, |rng| rng.random_range(0..len))?;
    items.get_item_by_index(index)
}

/// A random (version 4) UUID.
fn uuid(state: &State) -> Result<String, Error> {
    let bytes = with_rng(state, |rng| {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        bytes
    })?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string())
}

/// Today's date (UTC) plus `days`, as `YYYY-MM-DD`.
fn today(days: Option<i64>) -> Result<String, Error> {
    let date = Utc::now().date_naive() + days_of(days.unwrap_or(0))?;
    Ok(date.format("%Y-%m-%d").to_string())
}

/// The current time (UTC) plus `seconds`, as RFC 3339 (`2026-11-26T18:00:00Z`).
fn now(seconds: Option<i64>) -> Result<String, Error> {
    let offset = ChronoDuration::try_seconds(seconds.unwrap_or(0))
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "now(): offset out of range"))?;
    Ok((Utc::now() + offset).to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Seconds since the Unix epoch.
fn timestamp() -> i64 {
    Utc::now().timestamp()
}

/// `"2026-12-01" | add_days(3)` → `"2026-12-04"`.
fn add_days(date: String, days: i64) -> Result<String, Error> {
    let parsed = NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("add_days: `{date}` is not a YYYY-MM-DD date"),
        )
    })?;
    Ok((parsed + days_of(days)?).format("%Y-%m-%d").to_string())
}

fn days_of(days: i64) -> Result<ChronoDuration, Error> {
    ChronoDuration::try_days(days)
        .filter(|d| d.num_days().abs() < 100_000)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("{days} days is out of range"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::templates::{Globals, Templates, Text};
    use std::sync::Arc;

    fn render(source: &str, seed: u64) -> Result<String, String> {
        let mut templates = Templates::new();
        let Text::Template(id) = templates.compile(source)? else {
            return Ok(source.to_owned());
        };
        let scope = UserScope::new(7, "ReservationUser", Arc::new(Globals::default()), seed);
        templates
            .render(id, &scope.value())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn same_seed_same_values() {
        let source = "{{ uuid() }} {{ random_int(1, 1000000) }}";
        assert_eq!(render(source, 1), render(source, 1));
        assert_ne!(render(source, 1), render(source, 2));
    }

    #[test]
    fn random_int_stays_in_range() {
        for seed in 0..200 {
            let n: i64 = render("{{ random_int(30, 90) }}", seed)
                .unwrap()
                .parse()
                .unwrap();
            assert!((30..=90).contains(&n), "{n}");
        }
        assert!(render("{{ random_int(5, 1) }}", 0).is_err());
    }

    #[test]
    fn check_out_follows_check_in() {
        let source = "{% set ci = today(random_int(30, 90)) %}{{ ci }}/{{ ci | add_days(random_int(2, 5)) }}";
        for seed in 0..50 {
            let out = render(source, seed).unwrap();
            let (ci, co) = out.split_once('/').unwrap();
            let ci = NaiveDate::parse_from_str(ci, "%Y-%m-%d").unwrap();
            let co = NaiveDate::parse_from_str(co, "%Y-%m-%d").unwrap();
            let ahead = (ci - Utc::now().date_naive()).num_days();
            assert!((30..=90).contains(&ahead), "{ahead}");
            assert!((2..=5).contains(&(co - ci).num_days()));
        }
    }

    #[test]
    fn uuid_is_a_v4_uuid() {
        let id = render("{{ uuid() }}", 3).unwrap();
        let parsed = uuid::Uuid::parse_str(&id).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
    }

    #[test]
    fn choice_of_empty_list_is_an_error() {
        assert!(render("{{ choice([]) }}", 0).is_err());
    }
}
