//! The `emscan` binary: everything lives in the library; see `emscan::cli`.

fn main() -> std::process::ExitCode {
    emscan::cli::run()
}
