//! The `emscan` binary: everything lives in the library; see `emscan::cli`.

/// mimalloc instead of the system allocator: the scan's workers allocate and free many small
/// per-file tallies, which glibc's arenas serve slowly (consolidation, growing heaps by
/// `mprotect`); mimalloc costs some peak RSS for it (README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let status = emscan::cli::run();
    keep_memory_at_exit();
    status
}

/// mimalloc's `mi_option_purge_delay` (its place in `mi_option_e`, `mimalloc.h`).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Stops mimalloc from purging its free memory when the process ends: it would return it to
/// the OS range by range (`madvise`), which the exit does at once anyway.
fn keep_memory_at_exit() {
    // SAFETY: setting an option is safe at any time; -1 means "never purge" (`mimalloc.h`).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

#[cfg(test)]
mod tests {
    /// The option number names the purge delay: it reads as mimalloc v3's default delay,
    /// 1000 ms (`options.c`), where the options beside it default to 1 and 0.
    #[test]
    fn the_purge_delay_option_is_the_one_set_at_exit() {
        // SAFETY: reading an option is safe at any time.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(delay, 1000);
    }
}
