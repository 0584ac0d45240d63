//! Integration tests: real servers in-process on 127.0.0.1 with ephemeral ports, short
//! bounded runs, and virtual-time engine runs with a fake transport for exact counts.

mod cli;
mod engine;
mod journeys;
mod open_model;
mod open_model_live;
mod open_model_plans;
mod reports;
mod support;
mod transport;
mod with_sample_api;
