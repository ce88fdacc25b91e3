//! Benchmark: our process's CPU per checkout and the highest rate it sustains, with the sandbox as its own
//! process. The release binary runs as the app pinned to core 1 (`taskset -c 1`); `card-checkout sandbox`
//! runs pinned to core 0, and so does this load generator (it pins itself before starting its runtime). The
//! sandbox posts its transaction events to the app (`SANDBOX_NOTIFICATION_URL` = the app's
//! `/notifications/verifone`), so their handling is in the app's CPU. Each checkout comes from its own
//! client address (`X-Forwarded-For`, the app trusting 127.0.0.1 as a proxy), as shoppers do: the per-address
//! limits stay at their defaults and are counted as usual.
//!
//!     scripts/bench-checkout.sh [step_secs] [runs] [run_secs] [rate_step]
//!
//! 1. Open-loop steps of `rate_step` checkouts/s, `step_secs` each: the app's utime+stime (`/proc/<pid>/stat`)
//!    per checkout (and the part of it on SQLite's connection threads), the bytes it wrote to disk per
//!    checkout, and the highest rate whose `place_order` p99 (round trip) is ≤ 10 ms with no errors.
//! 2. `runs` runs of `run_secs` at 50 % and 80 % of that rate: p99 and p99.9 of each server call, round trip
//!    and ours (round trip minus the provider time the server reports in `Server-Timing`), as median and
//!    spread (min–max) over the runs; the per-second series of the runs at 80 % to
//!    `target/bench-checkout-series.csv`, so that a stall shows in the run and second it hit, with that
//!    second's CPU on the app's core: the app's, everyone else's, and what the hypervisor took (steal), so a
//!    stall shows whether it was ours, a neighbour's or the host's.

mod support;

use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use support::{
    cardinal_setup as setup, encrypt_card, ms, percentile,
    procfs::{clock_tick, context_switches, core_ticks, cpu_time, disk_written, pin, sqlite_cpu_time},
};

/// The core the app is pinned to (the sandbox and the load generator have core 0).
const APP_CORE: usize = 1;
const CALLS: [&str; 3] = ["start_checkout", "place_order", "order_result"];
/// The goal `place_order` p99 for a rate to count as sustained.
const P99_LIMIT_MS: f64 = 10.0;

struct Sample {
    /// When the call was sent, from the start of the run.
    at: Duration,
    call: &'static str,
    total: Duration,
    /// Round trip minus the provider time the server reported.
    ours: Option<Duration>,
}

#[derive(Default)]
struct Record {
    samples: Mutex<Vec<Sample>>,
    errors: Mutex<Vec<String>>,
}

/// A child process killed when the benchmark ends, however it ends.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let step_secs = args.first().copied().unwrap_or(5);
    let runs = args.get(1).copied().unwrap_or(5) as usize;
    let run_secs = args.get(2).copied().unwrap_or(10);
    let rate_step = args.get(3).copied().unwrap_or(100);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    // Before the runtime starts its threads, so they all inherit core 0.
    pin(std::process::id(), 0);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(run(step_secs, runs, run_secs, rate_step, cores));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `APP_BIN`, or the release binary beside this example (`<target>/release/examples/` → `<target>/release/`).
fn app_binary() -> String {
    std::env::var("APP_BIN").unwrap_or_else(|_| {
        let exe = std::env::current_exe().unwrap();
        exe.parent().and_then(|d| d.parent()).unwrap().join("card-checkout").display().to_string()
    })
}

fn spawn(core: usize, args: &[&str], vars: &[(&str, String)]) -> Proc {
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", &core.to_string(), &app_binary()]).args(args).stderr(Stdio::inherit());
    // BENCH_LOG_LEVEL (e.g. `warn,sqlx::query=debug`) shows the processes' logs; by default only warnings,
    // and not on the terminal.
    match std::env::var("BENCH_LOG_LEVEL") {
        Ok(level) => cmd.env("LOG_LEVEL", level).stdout(Stdio::inherit()),
        Err(_) => cmd.env("LOG_LEVEL", "warn").stdout(Stdio::null()),
    };
    for (k, v) in vars {
        cmd.env(k, v);
    }
    Proc(cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", app_binary())))
}

async fn wait_healthy(http: &reqwest::Client, url: &str) {
    for _ in 0..200 {
        if http.get(url).send().await.is_ok_and(|r| r.status().is_success() || r.status().is_client_error()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not answer");
}

struct Env {
    http: reqwest::Client,
    app: String,
    sandbox: String,
    app_pid: u32,
    sandbox_pid: u32,
    tick: f64,
    key: pgp::composed::SignedPublicKey,
    year: u16,
    /// When the app answered: the series' `since_start` counts from here.
    began: Instant,
}

async fn run(step_secs: u64, runs: usize, run_secs: u64, rate_step: u64, cores: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (app_port, sandbox_port) = (free_port(), free_port());
    let app = format!("http://127.0.0.1:{app_port}");
    let sandbox = format!("http://127.0.0.1:{sandbox_port}");
    let sandbox_proc = spawn(
        0,
        &["sandbox", "--port", &sandbox_port.to_string()],
        &[
            ("DATABASE_URL", format!("sqlite://{}/sandbox.db", dir.path().display())),
            ("SANDBOX_NOTIFICATION_URL", format!("{app}/notifications/verifone")),
        ],
    );
    let app_proc = spawn(
        APP_CORE,
        &[],
        &[
            ("APP_ADDR", format!("127.0.0.1:{app_port}")),
            ("DATABASE_URL", format!("sqlite://{}/app.db", dir.path().display())),
            ("SANDBOX_BASE_URL", format!("{sandbox}/sandbox")),
            ("TRUSTED_PROXIES", "127.0.0.1".into()),
        ],
    );
    let http = reqwest::Client::builder().pool_max_idle_per_host(1024).build().unwrap();
    wait_healthy(&http, &format!("{sandbox}/sandbox/verifone/keys/{}", support_alias())).await;
    wait_healthy(&http, &format!("{app}/health")).await;
    let tick = clock_tick();
    let env = Env {
        key: support::encryption_key(&http, &sandbox).await,
        year: card_checkout::server::clock::today().year + 3,
        http,
        app,
        sandbox,
        app_pid: app_proc.0.id(),
        sandbox_pid: sandbox_proc.0.id(),
        tick,
        began: Instant::now(),
    };
    println!(
        "app pid {} on core {APP_CORE}; sandbox pid {} and this load generator on core 0; machine: {} cores",
        env.app_pid, env.sandbox_pid, cores
    );
    // Warm-up: connections, SQLite's cache, the allocator.
    one_run(&env, 50, 2).await;

    println!("\n1. open-loop steps of {step_secs} s: the app's CPU per checkout, place_order p99 (round trip)");
    println!(
        "   rate/s   done/s  app CPU/checkout  of it SQLite  disk KB/checkout  switches/checkout  app CPU %  sandbox CPU %  place p99  place ours p99  errors"
    );
    let mut best = 0;
    let mut rate = rate_step;
    loop {
        let r = one_run(&env, rate, step_secs).await;
        let place = r.calls.get("place_order");
        let p99 = place.map_or(f64::INFINITY, |c| c.p99);
        println!(
            "   {rate:>6} {:>8.0} {:>14.3} ms {:>10.3} ms {:>16.0} {:>18.0} {:>10.0} {:>14.0} {:>8.2} ms {:>11.2} ms {:>7}",
            r.done as f64 / r.elapsed.as_secs_f64(),
            ms(r.app_cpu) / r.done.max(1) as f64,
            ms(r.app_sqlite_cpu) / r.done.max(1) as f64,
            r.app_disk as f64 / 1024.0 / r.done.max(1) as f64,
            r.app_switches as f64 / r.done.max(1) as f64,
            100.0 * r.app_cpu.as_secs_f64() / r.elapsed.as_secs_f64(),
            100.0 * r.sandbox_cpu.as_secs_f64() / r.elapsed.as_secs_f64(),
            p99,
            place.map_or(f64::NAN, |c| c.ours_p99),
            r.errors
        );
        if p99 > P99_LIMIT_MS || r.errors > 0 {
            if let Some(e) = &r.first_error {
                println!("   first error: {e}");
            }
            break;
        }
        best = rate;
        rate += rate_step;
    }
    println!("   highest rate with place_order p99 ≤ {P99_LIMIT_MS} ms: {best} checkouts/s");
    if best == 0 {
        return;
    }

    println!("\n2. {runs} runs of {run_secs} s at 50 % and 80 % of {best}/s: median [min–max] over the runs");
    let mut series = vec![
        "run,second,since_start,call,n,p50_ms,p99_ms,max_ms,ours_p99_ms,app_cpu_ms,others_cpu_ms,steal_ms\n".to_owned(),
    ];
    for share in [50, 80] {
        let rate = best * share / 100;
        let mut all = Vec::new();
        for i in 0..runs {
            let r = one_run(&env, rate, run_secs).await;
            if share == 80 {
                series.extend(r.series.iter().map(|row| format!("{i},{row}\n")));
            }
            all.push(r);
        }
        if share == 80 {
            let path = std::path::Path::new("target/bench-checkout-series.csv");
            std::fs::create_dir_all("target").unwrap();
            std::fs::write(path, series.concat()).unwrap();
            println!("   per-second series of the runs at {rate}/s: {}", path.display());
        }
        let cpu: Vec<f64> = all.iter().map(|r| ms(r.app_cpu) / r.done.max(1) as f64).collect();
        println!(
            "   {share} % = {rate}/s: app CPU per checkout {}, errors {}",
            spread(&cpu, 3),
            all.iter().map(|r| r.errors).sum::<usize>()
        );
        println!("     {:<15} {:>24} {:>24} {:>24} {:>24}", "call", "p99", "p99.9", "ours p99", "ours p99.9");
        for call in CALLS {
            let pick =
                |f: fn(&Stats) -> f64| -> Vec<f64> { all.iter().filter_map(|r| r.calls.get(call)).map(f).collect() };
            println!(
                "     {call:<15} {:>24} {:>24} {:>24} {:>24}",
                spread(&pick(|s| s.p99), 2),
                spread(&pick(|s| s.p999), 2),
                spread(&pick(|s| s.ours_p99), 2),
                spread(&pick(|s| s.ours_p999), 2)
            );
        }
    }
    drop((app_proc, sandbox_proc));
}

fn support_alias() -> &'static str {
    card_checkout::server::config::sandbox_defaults::VERIFONE_PUBLIC_KEY_ALIAS
}

/// "median [min–max]" in milliseconds.
fn spread(v: &[f64], decimals: usize) -> String {
    if v.is_empty() {
        return "-".into();
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let median = v[v.len() / 2];
    format!("{median:.decimals$} [{:.decimals$}–{:.decimals$}]", v[0], v[v.len() - 1])
}

struct Stats {
    p99: f64,
    p999: f64,
    ours_p99: f64,
    ours_p999: f64,
}

struct RunResult {
    done: usize,
    errors: usize,
    first_error: Option<String>,
    elapsed: Duration,
    app_cpu: Duration,
    /// The app's context switches, all threads.
    app_switches: u64,
    /// The part of `app_cpu` spent on SQLite's connection threads.
    app_sqlite_cpu: Duration,
    /// Bytes the app wrote to storage.
    app_disk: u64,
    sandbox_cpu: Duration,
    calls: BTreeMap<&'static str, Stats>,
    /// CSV rows: second of the run, second since the app started, call, n, p50, p99, max (round trip, ms),
    /// ours p99 (ms), and that second's CPU on the app's core (`core_seconds`).
    series: Vec<String>,
}

/// Starts `rate` checkouts a second for `secs` seconds (open loop: each at its time, however many are still
/// running), waits for them all, and measures.
async fn one_run(env: &Env, rate: u64, secs: u64) -> RunResult {
    let n = (rate * secs) as usize;
    // The browser's part, done before the clock starts: one encrypted card per checkout (verifone.js's work).
    let cards: Vec<String> = (0..n).map(|_| encrypt_card(&env.key, "4000000000001000", env.year)).collect();
    let record = Arc::new(Record::default());
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let (app_before, sandbox_before) = (cpu_time(env.app_pid, env.tick), cpu_time(env.sandbox_pid, env.tick));
    let switches_before = context_switches(env.app_pid);
    let (sqlite_before, disk_before) = (sqlite_cpu_time(env.app_pid, env.tick), disk_written(env.app_pid));
    let started = Instant::now();
    let finished = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(core_seconds(env.app_pid, env.tick, started, finished.clone()));
    let mut tasks = Vec::with_capacity(n);
    for (i, card) in cards.into_iter().enumerate() {
        tokio::time::sleep_until((started + interval * i as u32).into()).await;
        let (http, app, sandbox, record, year) =
            (env.http.clone(), env.app.clone(), env.sandbox.clone(), record.clone(), env.year);
        // A client address per checkout (10.x.y.z), as many shoppers would have.
        let client = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        tasks.push(tokio::spawn(async move {
            if let Err(e) = checkout(&http, &app, &sandbox, &client, card, year, started, &record).await {
                record.errors.lock().unwrap().push(e);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed();
    finished.store(true, Ordering::Relaxed);
    let core = sampler.await.unwrap();
    let app_cpu = cpu_time(env.app_pid, env.tick) - app_before;
    let app_switches = context_switches(env.app_pid).saturating_sub(switches_before);
    let app_sqlite_cpu = sqlite_cpu_time(env.app_pid, env.tick).saturating_sub(sqlite_before);
    let app_disk = disk_written(env.app_pid).saturating_sub(disk_before);
    let sandbox_cpu = cpu_time(env.sandbox_pid, env.tick) - sandbox_before;
    let record = Arc::into_inner(record).unwrap();
    let samples = record.samples.into_inner().unwrap();
    let errors = record.errors.into_inner().unwrap();
    let mut calls = BTreeMap::new();
    let mut series = Vec::new();
    for call in CALLS {
        let of: Vec<&Sample> = samples.iter().filter(|s| s.call == call).collect();
        if of.is_empty() {
            continue;
        }
        let total: Vec<Duration> = of.iter().map(|s| s.total).collect();
        let ours: Vec<Duration> = of.iter().filter_map(|s| s.ours).collect();
        let q = |v: &[Duration], q: f64| if v.is_empty() { f64::NAN } else { ms(percentile(v, q)) };
        calls.insert(
            call,
            Stats {
                p99: q(&total, 0.99),
                p999: q(&total, 0.999),
                ours_p99: q(&ours, 0.99),
                ours_p999: q(&ours, 0.999),
            },
        );
        let mut by_second: BTreeMap<u64, (Vec<Duration>, Vec<Duration>)> = BTreeMap::new();
        for s in &of {
            let slot = by_second.entry(s.at.as_secs()).or_default();
            slot.0.push(s.total);
            slot.1.extend(s.ours);
        }
        for (second, (total, ours)) in by_second {
            let [app, others, steal] = core.get(second as usize).copied().unwrap_or([f64::NAN; 3]);
            series.push(format!(
                "{second},{},{call},{},{:.3},{:.3},{:.3},{:.3},{app:.0},{others:.0},{steal:.0}",
                (started - env.began).as_secs() + second,
                total.len(),
                q(&total, 0.5),
                q(&total, 0.99),
                q(&total, 1.0),
                q(&ours, 0.99)
            ));
        }
    }
    RunResult {
        done: n - errors.len(),
        errors: errors.len(),
        first_error: errors.into_iter().next(),
        elapsed,
        app_cpu,
        app_switches,
        app_sqlite_cpu,
        app_disk,
        sandbox_cpu,
        calls,
        series,
    }
}

/// Each second of a run until `finished`: the app's CPU, everyone else's on the app's core (other processes,
/// the kernel's interrupts) and the time the hypervisor took from that core, in ms (to the clock tick).
async fn core_seconds(app_pid: u32, tick: f64, started: Instant, finished: Arc<AtomicBool>) -> Vec<[f64; 3]> {
    let ms_of = |ticks: u64| ticks as f64 * 1000.0 / tick;
    let read = || (ms(cpu_time(app_pid, tick)), core_ticks(APP_CORE));
    let mut last = read();
    let mut seconds = Vec::new();
    loop {
        let end = started + Duration::from_secs(seconds.len() as u64 + 1);
        tokio::time::sleep_until(end.into()).await;
        let now = read();
        let app = now.0 - last.0;
        let (busy, steal) = (ms_of(now.1.0 - last.1.0), ms_of(now.1.1 - last.1.1));
        seconds.push([app, (busy - app).max(0.0), steal]);
        last = now;
        if finished.load(Ordering::Relaxed) {
            return seconds;
        }
    }
}

/// Sends, records the round trip and, when the server says how long the providers took inside it
/// (`Server-Timing: provider;dur=…`), our own part of it.
async fn timed(
    record: &Record,
    started: Instant,
    call: &'static str,
    req: reqwest::RequestBuilder,
) -> Result<Value, String> {
    let sent = Instant::now();
    let res = req.send().await.map_err(|e| format!("{call}: {e}"))?;
    let status = res.status();
    let provider = res
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').find_map(|p| p.trim().strip_prefix("provider;dur=")?.parse::<f64>().ok()));
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let total = sent.elapsed();
    if !status.is_success() {
        return Err(format!("{call}: {status} {body}"));
    }
    let ours = provider.map(|p| total.saturating_sub(Duration::from_secs_f64(p / 1000.0)));
    record.samples.lock().unwrap().push(Sample { at: sent - started, call, total, ours });
    Ok(body)
}

/// What the checkout page does: start, Cardinal setup (browser ↔ sandbox, not timed), place the order,
/// read the result.
#[allow(clippy::too_many_arguments)]
async fn checkout(
    http: &reqwest::Client,
    app: &str,
    sandbox: &str,
    client: &str,
    card: String,
    year: u16,
    started: Instant,
    record: &Record,
) -> Result<(), String> {
    let post = |path: &str| http.post(format!("{app}{path}")).header("x-forwarded-for", client);
    let start =
        timed(record, started, "start_checkout", post("/api/checkout/start").json(&json!({"cart": "tee:1"}))).await?;
    let session = setup(http, sandbox, start["plan"]["sdk"]["jwt"].as_str().ok_or("start_checkout: no jwt")?).await;
    let input = json!({"input": {
        "checkout_key": start["checkout_key"], "cart": "tee:1",
        "billing": {"first_name": "Ada", "last_name": "Lovelace", "address_1": "1 Main St", "city": "London", "country": "GB", "email": "ada@example.com"},
        "card": {"brand": "Visa", "bin6": "400000", "last4": "1000", "expiry_month": 1, "expiry_year": year},
        "session_id": session, "encrypted_card": card,
    }});
    let next = timed(record, started, "place_order", post("/api/checkout/place").json(&input)).await?;
    let id = next["Done"]["order_id"].clone();
    let order =
        timed(record, started, "order_result", post("/api/checkout/order").json(&json!({"order_id": id}))).await?;
    match order["status"].as_str() {
        Some("Captured") => Ok(()),
        _ => Err(format!("order_result: {order}")),
    }
}
