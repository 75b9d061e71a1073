//! The Apache Spark example (`examples/spark/`) in local mode: its per-code totals over
//! several generated bundles must equal one `emscan scan` over all of them. Needs python3
//! with pyspark and a Java runtime, so it is ignored by plain `cargo test`; `.ci/run` installs
//! them and runs it with `cargo test -- --include-ignored`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[test]
#[ignore = "needs python3 with pyspark and Java"]
fn spark_job_totals_equal_one_scan() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ready = Command::new("python3")
        .args(["-c", "import pyspark"])
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("java")
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success());
    assert!(
        ready,
        "the Spark test needs python3 with pyspark and Java: `pip install pyspark` and \
         `apt-get install -y default-jre-headless` (.ci/run does both)"
    );
    let started = Instant::now();
    let out = Command::new("python3")
        .arg(root.join("examples/spark/test_spark_local.py"))
        .arg("--emscan")
        .arg(env!("CARGO_BIN_EXE_emscan"))
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .env("PYSPARK_PYTHON", "python3")
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "spark job failed after {:.1} s:\n{stdout}\n{stderr}",
        started.elapsed().as_secs_f64()
    );
    assert!(stdout.contains("ok in"), "{stdout}");
    eprintln!("{}", stdout.trim());
}
