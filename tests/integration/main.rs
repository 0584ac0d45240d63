//! Integration tests: real servers in-process on 127.0.0.1 with ephemeral ports, short
//! bounded runs, and virtual-time engine runs with a fake transport for exact counts.

mod broken_plans;
mod check_estimates;
mod cli;
mod docs_links;
mod ends_on_time;
mod engine;
mod flags;
mod hostile;
mod hostile_output;
mod hostile_paths;
mod hostile_server;
mod hostile_values;
mod interrupt;
mod journeys;
mod keep_alive;
mod local_limits;
mod locust_csv;
mod machine_load;
mod no_panic;
mod null_fields;
mod on_start;
mod open_model;
mod open_model_live;
mod open_model_plans;
mod output;
mod preflight;
mod reports;
mod secrets;
mod stage_imports;
mod summary_schema;
mod support;
mod transport;
mod verdicts;
mod with_sample_api;
