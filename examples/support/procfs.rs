//! What the benchmarks read of a process from `/proc` (Linux), and pinning it to a core.

use std::{process::Command, time::Duration};

/// Pins every thread of `pid`, and those it starts later, to `core` (`taskset`, util-linux).
pub fn pin(pid: u32, core: usize) {
    let ok = Command::new("taskset").args(["-a", "-p", "-c", &core.to_string(), &pid.to_string()]).output();
    assert!(ok.is_ok_and(|o| o.status.success()), "taskset is needed to pin processes (util-linux)");
}

/// Clock ticks per second (`getconf CLK_TCK`), the unit of `/proc`'s CPU times.
pub fn clock_tick() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap().stdout;
    String::from_utf8(out).unwrap().trim().parse().unwrap()
}

/// The command name and utime + stime (fields 14 and 15, in clock ticks) of a `/proc/.../stat` line.
fn name_and_ticks(stat: &str) -> Option<(&str, u64)> {
    // The command name, in parentheses, may hold spaces; the fields after it are fixed (state is field 3).
    let (name, rest) = stat.split_once(" (")?.1.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((name, fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?))
}

/// utime + stime of every thread of `pid`, from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32, tick: f64) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let (_, ticks) = name_and_ticks(&stat).unwrap();
    Duration::from_secs_f64(ticks as f64 / tick)
}

/// Clock ticks `core` has spent since boot busy (user, nice, system, irq, softirq: any process's, and the
/// kernel's) and stolen by the hypervisor (runnable, but the host ran something else), from `/proc/stat`.
pub fn core_ticks(core: usize) -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let line = stat.lines().find(|l| l.split_whitespace().next() == Some(&format!("cpu{core}"))).unwrap();
    let t: Vec<u64> = line.split_whitespace().skip(1).map(|v| v.parse().unwrap()).collect();
    (t[0] + t[1] + t[2] + t[5] + t[6], t[7])
}

/// CPU time of `pid`'s SQLite connection threads (sqlx runs each connection on a thread of its own, named
/// `sqlx-sqlite-worker-N`): the database engine's work, the WAL writes and fsyncs included. Threads that ended
/// are not counted (SQLite's live as long as their connections).
pub fn sqlite_cpu_time(pid: u32, tick: f64) -> Duration {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Duration::ZERO };
    let ticks: u64 = tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("stat")).ok())
        .filter_map(|stat| {
            let (name, ticks) = name_and_ticks(&stat)?;
            name.starts_with("sqlx-sqlite").then_some(ticks)
        })
        .sum();
    Duration::from_secs_f64(ticks as f64 / tick)
}

/// Bytes `pid` has caused to be written to storage (`write_bytes` of `/proc/<pid>/io`): the WAL and, at
/// checkpoints, the database file.
pub fn disk_written(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    io.lines().find_map(|l| l.strip_prefix("write_bytes:")?.trim().parse().ok()).unwrap_or(0)
}

/// Context switches (voluntary and not) of all the threads of `pid` now, from `/proc/<pid>/task/*/status`.
pub fn context_switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter_map(|l| {
                    l.strip_prefix("voluntary_ctxt_switches:").or(l.strip_prefix("nonvoluntary_ctxt_switches:"))
                })
                .filter_map(|v| v.trim().parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}
