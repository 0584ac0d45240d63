//! Goose load test for bench/run.sh: every user GETs `/data.json` in a loop. Users, rate
//! (`--throttle-requests`), run time and host come from Goose's own flags; think time,
//! which Goose only takes in code, from `BENCH_WAIT=between:A:B` (seconds).
use std::time::Duration;

use goose::prelude::*;

async fn get_json(user: &mut GooseUser) -> TransactionResult {
    let _ = user.get("/data.json").await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), GooseError> {
    let mut scenario = scenario!("Json").register_transaction(transaction!(get_json));
    let wait = std::env::var("BENCH_WAIT").unwrap_or_default();
    if let Some(["between", low, high]) = wait.split(':').collect::<Vec<_>>().get(..3) {
        let secs = |s: &str| Duration::from_secs_f64(s.parse().unwrap_or(0.0));
        scenario = scenario.set_wait_time(secs(low), secs(high))?;
    }
    GooseAttack::initialize()?
        .register_scenario(scenario)
        .execute()
        .await?;
    Ok(())
}
