//! No input makes planrun panic: arbitrary bytes, and arbitrary plans that are
//! structurally plausible (the right keys, values drawn from valid and invalid pools),
//! go through `plan::load` and `compile::compile`, which must answer `Ok` or `Err`.
//!
//! Cases are bounded so CI stays fast; `PROPTEST_CASES=20000 cargo test no_panic` runs a
//! longer search. Every crash ever found is kept in `regressions()` below.

use std::path::Path;

use planrun::compile::{self, Overrides};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Writes `text` as the plan file and runs it through load and compile.
fn load_and_compile(dir: &Path, name: &str, text: &[u8], sets: &[String]) {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write plan");
    if let Ok(loaded) = planrun::plan::load(&path, sets) {
        let _ = compile::compile(&loaded, &Overrides::default());
    }
}

fn config() -> ProptestConfig {
    // 128 of each by default: about a second in total, in debug builds.
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(128),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Present in about one case in six: an extra that is often wrong.
fn rarely<T: Strategy>(inner: T) -> impl Strategy<Value = Option<T::Value>> {
    prop::option::weighted(0.15, inner)
}

/// Present in nine cases in ten: a key most plans have.
fn usually<T: Strategy>(inner: T) -> impl Strategy<Value = Option<T::Value>> {
    prop::option::weighted(0.9, inner)
}

fn one_of(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(items).prop_map(str::to_owned)
}

fn duration() -> BoxedStrategy<String> {
    prop_oneof![
        6 => one_of(&["1s", "250ms", "2s", "1m30s", "100ms"]),
        1 => one_of(&[
            "1s",
            "250ms",
            "0s",
            "1m30s",
            "5 minutes",
            "",
            "1e308h",
            "99999999999h",
            ".s",
            "1..5s"
        ]),
        1 => "[0-9.]{0,6}(us|ms|s|m|h|x)?",
    ]
    .boxed()
}

fn rate() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => one_of(&["10/s", "1000/min", "2.5/s", "100"]).prop_map(Value::from),
        1 => one_of(&[
            "10/s", "1000/min", "0/s", "-1/s", "1e-300/s", "1e308/s", "NaN", "inf/s", "/s", "1/"
        ])
        .prop_map(Value::from),
        1 => "[0-9.e-]{0,8}(/s|/min|/h|/week)?".prop_map(Value::from),
        1 => any::<f64>().prop_map(|x| json!(x)),
        1 => any::<i64>().prop_map(Value::from),
    ]
    .boxed()
}

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        40 => (1i64..50).prop_map(Value::from),
        1 => (-3i64..200).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(Value::from(u64::MAX)),
        1 => Just(Value::from("ten")),
        1 => Just(Value::from(1.5)),
    ]
    .boxed()
}

fn template() -> BoxedStrategy<String> {
    prop_oneof![
        6 => one_of(&["/api/v1/healthz", "/a/{{ choice(ids) }}", "/a/{{ user_id }}?i={{ iteration }}"]),
        2 => one_of(&[
            "/api/v1/healthz",
            "/a/{{ choice(ids) }}",
            "/a/{{ nope }}",
            "/a/{{ random_int(5, 1) }}",
            "/a/{{ choice([]) }}",
            "/a/{{ today(99999999999) }}",
            "/a/{{ now(-99999999999) }}",
            "{{ '' }}",
            "{% for i in range(100000000) %}x{% endfor %}",
            "/a/{{ ids | add_days(1) }}",
            "{{ uuid() }}{{ timestamp() }}",
            "/{{",
            "{{ user_id / 0 }}",
            "relative",
        ]),
        1 => "/[a-z{}%()|_ .0-9]{0,16}",
    ]
    .boxed()
}

/// A JSONPath, pointer, regex or condition: valid, invalid, and strange.
fn query() -> BoxedStrategy<String> {
    prop_oneof![
        one_of(&[
            "$.a.b",
            "$..code",
            "$[0]",
            "$['a']",
            "$[?@.x > 1]",
            "/a/b",
            "/",
            "$",
            "$.",
            "$[",
            "a(",
            "(?P<x>\\d+)",
            "[",
            "\\",
            "status == 201",
            "json.code != none",
            "body is containing('x')",
            "headers['x'] == 1",
            "status >",
            "%}{% endif %}{% if 1",
            "",
            " ",
        ]),
        "[$./\\[\\]'?@()*a-z0-9=!<> ]{0,16}",
    ]
    .boxed()
}

/// Response inspection: `extract`, `checks`, `outcomes`, `pause` and nested `steps`.
fn inspection() -> BoxedStrategy<Value> {
    let extract = prop::collection::btree_map(
        "[a-z]{1,3}",
        (
            rarely(query()),
            rarely(query()),
            rarely(one_of(&["x-id", "Bad Name", ""])),
            rarely(any::<bool>()),
        )
            .prop_map(|(json, regex, header, status)| {
                json!({ "json": json, "regex": regex, "header": header, "status": status })
            }),
        0..3,
    );
    let check = (
        rarely(query()),
        rarely(one_of(&["content-type", "Bad Name"])),
        rarely(number()),
        rarely(any::<bool>()),
        rarely(number()),
        rarely(prop::collection::vec(number(), 0..3)),
        rarely(query()),
        rarely(query()),
        rarely(any::<bool>()),
    )
        .prop_map(
            |(json, header, status, exists, equals, one_of, contains, matches, fail)| {
                json!({ "json": json, "header": header, "status": status, "exists": exists,
                    "equals": equals, "in": one_of, "contains": contains,
                    "matches": matches, "fail": fail })
            },
        );
    (
        rarely(extract),
        rarely(prop::collection::vec(check, 0..3)),
        rarely(prop::collection::btree_map("[a-z]{1,3}", query(), 0..3)),
        rarely(duration()),
        rarely(prop::collection::vec(
            (template(), rarely(duration()))
                .prop_map(|(path, pause)| json!({ "path": path, "pause": pause })),
            0..3,
        )),
    )
        .prop_map(|(extract, checks, outcomes, pause, steps)| {
            json!({ "extract": extract, "checks": checks, "outcomes": outcomes,
                    "pause": pause, "steps": steps })
        })
        .boxed()
}

fn step() -> BoxedStrategy<Value> {
    (
        template(),
        rarely(one_of(&["GET", "POST", "get", "BREW", ""])),
        rarely(number()),
        rarely(prop_oneof![
            one_of(&[
                "2xx",
                "[201, 409]",
                "200-204",
                "6xx",
                "204-200",
                "0",
                "99999"
            ])
            .prop_map(Value::from),
            prop::collection::vec(number(), 0..3).prop_map(Value::from),
        ]),
        rarely(template()),
        rarely(duration()),
        rarely(one_of(&["x.json", "../../../etc/passwd", "", "/"])),
        prop::option::weighted(
            0.05,
            prop::collection::btree_map("[a-z]{1,3}", template(), 0..2),
        ),
    )
        .prop_map(|(path, method, weight, status, body, timeout, file, set)| {
            let mut step = json!({ "path": path });
            let map = step.as_object_mut().expect("a map");
            let fields = [
                ("method", method.map(Value::from)),
                ("weight", weight),
                ("expect-status", status),
                ("body", body.map(Value::from)),
                ("timeout", timeout.map(Value::from)),
                ("body-file", file.map(Value::from)),
                ("set", set.map(|s| json!(s))),
            ];
            for (key, value) in fields {
                if let Some(value) = value {
                    map.insert(key.into(), value);
                }
            }
            step
        })
        .prop_flat_map(|step| {
            // A third of the steps also inspect their response (or are flows).
            (Just(step), prop::option::weighted(0.3, inspection()))
        })
        .prop_map(|(mut step, inspection)| {
            if let (Some(map), Some(Value::Object(parts))) = (step.as_object_mut(), inspection) {
                map.extend(parts);
            }
            step
        })
        .boxed()
}

/// Business metrics over `request.outcome` names, existing or not.
fn business_metrics() -> BoxedStrategy<Value> {
    let names = prop::collection::vec("[a-z-]{1,6}(\\.[a-z]{1,3})?", 0..3);
    prop::collection::btree_map(
        "[a-z-]{1,6}",
        (prop::option::of(names.clone()), prop::option::of(names))
            .prop_map(|(rate, count)| json!({ "rate": rate, "count": count })),
        0..2,
    )
    .prop_map(|metrics| json!(metrics))
    .boxed()
}

fn class() -> BoxedStrategy<Value> {
    (
        rarely(number()),
        prop::option::of(prop_oneof![
            3 => one_of(&["none", "between 1s 3s", "constant 1s", "pacing 2s"]),
            1 => one_of(&["none", "between 3s 1s", "constant 0s", "pacing 1e308h", "between"]),
            1 => "(between|constant|pacing) [0-9]{0,3}(ms|s)?( [0-9]{0,3}s)?",
        ]),
        prop::collection::vec(step(), 0..2),
        prop::collection::btree_map("[a-z-]{1,8}", step(), 1..3),
    )
        .prop_map(|(weight, think, on_start, tasks)| {
            json!({ "weight": weight, "think-time": think, "on-start": on_start, "tasks": tasks })
        })
        .boxed()
}

fn load() -> BoxedStrategy<Value> {
    prop_oneof![3 => closed_load(), 1 => open_load()].boxed()
}

/// Users: the simple form or stages.
fn closed_load() -> BoxedStrategy<Value> {
    let stage = (
        prop::option::of(number()),
        prop::option::of(duration()),
        prop::option::of(rate()),
    )
        .prop_map(|(users, duration, rate)| {
            json!({ "users": users, "duration": duration, "spawn-rate": rate })
        });
    (
        prop::option::weighted(0.97, number()),
        prop::option::of(rate()),
        usually(duration()),
        rarely(prop::collection::vec(stage, 0..4)),
        rarely(duration()),
    )
        .prop_map(|(users, rate, run_time, stages, grace)| {
            json!({ "users": users, "spawn-rate": rate, "run-time": run_time,
                    "stages": stages, "graceful-stop": grace })
        })
        .boxed()
}

/// Arrival rates (the open model), per task or staged, with bursts and a recovery probe;
/// task and request names drawn from the ones `step()` tends to make, and others.
fn open_load() -> BoxedStrategy<Value> {
    let name = || one_of(&["a", "health", "list", "nope", ""]);
    let stage = (
        rarely("[a-z]{1,5}"),
        prop::option::of(rate()),
        prop::option::of(duration()),
        rarely(duration()),
        rarely(number()),
    )
        .prop_map(|(name, rate, duration, ramp, users)| {
            json!({ "name": name, "rate": rate, "duration": duration, "ramp": ramp,
                    "users": users })
        });
    let rate_value = prop_oneof![
        3 => rate(),
        1 => prop::collection::btree_map(name(), rate(), 0..3).prop_map(|m| json!(m)),
    ];
    let burst = (
        rarely(name()),
        prop::option::of(number()),
        prop::option::of(duration()),
    )
        .prop_map(|(request, size, at)| json!({ "request": request, "size": size, "at": at }));
    let recovery = (
        prop::option::of(name()),
        rarely(number()),
        rarely(duration()),
        rarely(duration()),
    )
        .prop_map(|(request, successes, interval, timeout)| {
            json!({ "request": request, "successes": successes, "interval": interval,
                    "timeout": timeout })
        });
    (
        usually(rate_value),
        usually(duration()),
        rarely(prop::collection::vec(stage, 0..3)),
        rarely(one_of(&["constant", "poisson", "uniform", ""])),
        rarely(number()),
        rarely(number()),
        rarely(prop::collection::vec(burst, 0..3)),
        rarely(recovery),
    )
        .prop_map(
            |(rate, run_time, stages, arrivals, in_flight, sessions, bursts, recovery)| {
                json!({ "rate": rate, "run-time": run_time, "stages": stages,
                        "arrivals": arrivals, "max-in-flight": in_flight,
                        "sessions": sessions, "bursts": bursts, "recovery": recovery })
            },
        )
        .boxed()
}

fn slo() -> BoxedStrategy<Value> {
    let check = prop_oneof![
        one_of(&[
            "p95 < 3s",
            "p100 < 1s",
            "p0 > 0s",
            "p999.999 < 1s",
            "error-rate < 200%",
            "throughput > 0/s",
            "mean <",
            "< 1s",
            "p95 << 3s"
        ]),
        "(p[0-9.]{0,5}|mean|max|median|error-rate|throughput) ?(<|>|<=|>=|=) ?[0-9.e-]{0,6}(ms|s|%|/s|/min)?",
    ];
    prop_oneof![
        check.clone().prop_map(Value::from),
        (prop::option::of("[a-z-]{1,8}"), check)
            .prop_map(|(request, check)| json!({ "request": request, "check": check })),
    ]
    .boxed()
}

/// A plan with every key plans have, each drawn from valid and invalid values; `null`s
/// (absent options) are dropped, as a plan author would leave them out.
fn plan() -> BoxedStrategy<Value> {
    (
        usually(prop_oneof![
            8 => Just("http://127.0.0.1:8000".to_owned()),
            1 => one_of(&["https://x.invalid/", "ftp://a", "", "http://", "::::", "http://[::1"]),
        ]),
        prop::option::of(duration()),
        prop::option::of(any::<u64>()),
        prop::collection::btree_map(
            "[a-z_]{1,4}",
            prop_oneof![
                Just(json!([1, 2])),
                Just(json!([])),
                Just(json!({"a": null}))
            ],
            0..2,
        ),
        prop::collection::btree_map("[A-Za-z]{1,6}", class(), 1..3),
        prop::option::weighted(0.97, load()),
        rarely(prop::collection::vec(slo(), 0..3)),
        rarely(business_metrics()),
    )
        .prop_map(
            |(host, timeout, seed, mut vars, classes, load, slos, metrics)| {
                vars.insert("ids".to_owned(), json!([1, 2, 3]));
                let mut plan = json!({ "host": host, "timeout": timeout, "seed": seed, "vars": vars,
                    "classes": classes, "load": load, "slos": slos, "metrics": metrics });
                drop_nulls(&mut plan);
                plan
            },
        )
        .boxed()
}

fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// A plan with only valid values: it must compile, split its users exactly and last
/// exactly its run time.
fn valid_plan() -> BoxedStrategy<(Value, u32, u64)> {
    let task = (
        one_of(&[
            "/api/v1/healthz",
            "/a/{{ choice(ids) }}",
            "/a/{{ user_id }}?i={{ iteration }}",
            "/a/{{ random_int(1, 9) }}/{{ today(3) }}",
        ]),
        prop::sample::select(&["GET", "POST"][..]),
        1i64..20,
        prop::sample::select(vec![
            json!("2xx"),
            json!([201, 409]),
            json!("200-204"),
            json!(["2xx", 409]),
        ]),
        one_of(&["1s", "250ms", "30s"]),
    )
        .prop_map(|(path, method, weight, expect, timeout)| {
            let mut task = json!({ "path": path, "method": method, "weight": weight,
                                   "expect-status": expect, "timeout": timeout });
            if method == "POST" {
                task["body"] = json!(r#"{"user": {{ user_id }}, "id": "{{ uuid() }}"}"#);
            }
            task
        });
    let class = (
        1i64..100,
        one_of(&["none", "between 1s 3s", "constant 250ms", "pacing 2s"]),
        prop::collection::btree_map("[a-z]{1,6}", task, 1..4),
    )
        .prop_map(|(weight, think, tasks)| {
            json!({ "weight": weight, "think-time": think, "tasks": tasks })
        });
    (
        prop::collection::btree_map("[A-Z][a-z]{1,6}", class, 1..4),
        // `users: 0` is refused since a plan that sends nothing is a mistake.
        1u32..=2000,
        one_of(&["10/s", "1000/min", "2.5/s", "100"]),
        1u64..7200,
    )
        .prop_map(|(classes, users, rate, secs)| {
            let plan = json!({
                "host": "http://127.0.0.1:8000",
                "vars": { "ids": [1, 2, 3] },
                "classes": classes,
                "load": { "users": users, "spawn-rate": rate, "run-time": format!("{secs}s") },
                "slos": ["p95 < 3s", "error-rate < 1%"],
            });
            (plan, users, secs)
        })
        .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn valid_plans_compile_with_exact_users_and_run_time((plan, users, secs) in valid_plan()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.yaml");
        std::fs::write(&path, planrun::plan::to_yaml(&plan)).unwrap();
        let loaded = planrun::plan::load(&path, &[]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let exec = compile::compile(&loaded, &Overrides::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(exec.mix.per_class.iter().sum::<u32>(), users);
        prop_assert_eq!(exec.schedule.total, std::time::Duration::from_secs(secs));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().unwrap();
        load_and_compile(dir.path(), "plan.yaml", &bytes, &[]);
        load_and_compile(dir.path(), "plan.toml", &bytes, &[]);
    }

    #[test]
    fn arbitrary_text_near_plan_syntax_never_panics(text in "[a-z:{}\\[\\]\\-, \\n\"'=#&*!|>%.0-9]{0,300}") {
        let dir = tempfile::tempdir().unwrap();
        load_and_compile(dir.path(), "plan.yaml", text.as_bytes(), &[]);
        load_and_compile(dir.path(), "plan.toml", text.as_bytes(), &[]);
    }

    #[test]
    fn arbitrary_plans_never_panic(plan in plan(), sets in prop_oneof![
        4 => Just(Vec::new()),
        1 => prop::collection::vec("[a-z.0-9]{0,12}=[a-z0-9{}\\[\\]]{0,6}", 1..3),
    ]) {
        let dir = tempfile::tempdir().unwrap();
        let yaml = planrun::plan::to_yaml(&plan);
        load_and_compile(dir.path(), "plan.yaml", yaml.as_bytes(), &sets);
        if let Ok(toml) = toml::to_string(&plan) {
            load_and_compile(dir.path(), "plan.toml", toml.as_bytes(), &sets);
        }
    }
}

/// A plan with one hostile part spliced in: a long key, deep nesting, aliases, duplicate
/// keys, tabs, a template loop, bytes that are not UTF-8.
fn hostile_part() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        (1usize..70_000).prop_map(|n| format!("{}: 1\n", "k".repeat(n)).into_bytes()),
        (60usize..400).prop_map(|n| format!("vars: {{deep: {}{}}}\n", "[".repeat(n), "]".repeat(n)).into_bytes()),
        (60usize..400).prop_map(|n| format!("vars:\n  deep: {}x\n", "- ".repeat(n)).into_bytes()),
        (1usize..12).prop_map(|levels| {
            let mut text = String::from("vars:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
            for level in 1..levels {
                let items = vec![format!("*a{}", level - 1); 9].join(", ");
                text.push_str(&format!("  a{level}: &a{level} [{items}]\n"));
            }
            text.into_bytes()
        }),
        "[a-z]{1,3}".prop_map(|key| format!("{key}: 1\n{key}: 2\n").into_bytes()),
        "[ \t]{0,4}[a-z]{1,3}:[ \t]{0,2}[a-z0-9]{0,3}\n".prop_map(String::into_bytes),
        (1u32..200_000).prop_map(|n| format!(
            "classes:\n  A:\n    tasks:\n      t:\n        path: /x\n        body: '{{% for i in range({n}) %}}{{% for j in range({n}) %}}{{% endfor %}}{{% endfor %}}'\n"
        ).into_bytes()),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|mut bytes| {
            bytes.splice(0..0, [0xff, 0xfe]);
            bytes
        }),
    ]
    .boxed()
}

fn hostile_config() -> ProptestConfig {
    // Each case can take a while in a debug build (a template runs out of fuel).
    ProptestConfig {
        cases: config().cases / 8,
        ..config()
    }
}

proptest! {
    #![proptest_config(hostile_config())]

    /// Hostile parts never panic, and each is refused (or loaded) within a few seconds.
    #[test]
    fn hostile_parts_never_panic_or_hang(part in hostile_part(), before in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let base = b"host: http://127.0.0.1:9\nload: {users: 1, run-time: 1s}\n".to_vec();
        let text = if before { [part, base].concat() } else { [base, part].concat() };
        let started = std::time::Instant::now();
        load_and_compile(dir.path(), "plan.yaml", &text, &[]);
        if let Err(errors) = planrun::plan::load(&dir.path().join("plan.yaml"), &[]) {
            let _ = errors.render(false);
        }
        prop_assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}

/// Every input that ever crashed a search above, so it stays fixed.
#[test]
fn regressions() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        // A ramp at a rate so slow that its length overflowed `Duration`.
        (
            "tiny-rate.yaml",
            "classes: {}\nload:\n  stages:\n    - { users: 1, spawn-rate: 7.506165470817826e-309 }\n",
        ),
    ];
    // A key of 65,536 characters or more made miette's renderer panic.
    for (name, text) in [
        (
            "long.yaml",
            format!("host: http://x\n{}: 1\n", "k".repeat(70_000)),
        ),
        (
            "long.toml",
            format!("host = \"http://x\"\n{} = 1\n", "k".repeat(70_000)),
        ),
        (
            "longv.yaml",
            format!(
                "host: http://x\nclasses:\n  A:\n    {}: 1\n",
                "w".repeat(1000)
            ),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &text).unwrap();
        let errors = planrun::plan::load(&path, &[]).expect_err("refused");
        let rendered = errors.render(false);
        assert!(rendered.len() < 10_000, "{}", rendered.len());
    }
    for (name, text) in cases {
        load_and_compile(dir.path(), name, text.as_bytes(), &[]);
    }
}
