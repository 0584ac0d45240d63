//! Integration tests: real servers in-process on 127.0.0.1 with ephemeral ports, short
//! bounded runs, and virtual-time engine runs with a fake transport for exact counts.

mod broken_plans;
mod cli;
mod engine;
mod hostile;
mod hostile_output;
mod hostile_server;
mod interrupt;
mod journeys;
mod locust_csv;
mod no_panic;
mod open_model;
mod open_model_live;
mod open_model_plans;
mod preflight;
mod reports;
mod secrets;
mod support;
mod transport;
mod with_sample_api;
