//! Bursts (incident windows): where errors rise far above the bundle's own background rate.
//!
//! The detector, per device:
//!
//! 1. Count errors (every code but 0) per minute over the device's whole span, quiet minutes
//!    included as zeros.
//! 2. The background is robust: the median `m` of those minute counts and their median
//!    absolute deviation, scaled to a standard deviation, `s = max(1.4826 × MAD, 1)`.
//! 3. A minute is *hot* when its count is at least `max(MIN_HOT, m + HOT_K × s)`
//!    (5 errors, and 5 robust deviations above the median).
//! 4. Hot minutes at most [`BRIDGE_MINUTES`] apart form one run; a run grows over the
//!    *warm* minutes beside it (at least `max(2, m + 2 × s)`), at most [`GROW_MINUTES`] each way.
//! 5. A run with at least [`MIN_ERRORS`] errors is a burst; it starts at its first error and
//!    ends at its last.
//!
//! Across devices: bursts of different devices whose windows overlap and that carry the same
//! label are one incident (one burst listing every device). The label comes from the mix of
//! codes ([`label`]).

use rayon::prelude::*;
use std::collections::BTreeMap;

use crate::model::Burst;
use crate::time::LogTime;

/// The fewest errors in a minute that can make it hot.
pub(crate) const MIN_HOT: u64 = 5;
/// How many robust deviations above the median a hot minute is.
pub(crate) const HOT_K: f64 = 5.0;
/// How many robust deviations above the median a warm minute is.
pub(crate) const WARM_K: f64 = 2.0;
/// Hot minutes this close (in minutes) belong to one run.
pub(crate) const BRIDGE_MINUTES: i64 = 2;
/// How far a run grows over warm minutes on each side.
pub(crate) const GROW_MINUTES: i64 = 5;
/// The fewest errors in a burst.
pub(crate) const MIN_ERRORS: u64 = 8;

/// explains the 201s after it better than a stray 202 does).
const FAMILIES: [(&str, &[u32], bool, u8); 4] = [
    ("network_outage", &[2, 300, 301, 302], false, 1),
    ("token_expiry", &[104, 108, 109, 202], true, 2),
    ("kicked_offline", &[206, 207, 213, 216, 217], true, 3),
    ("rate_limited", &[502, 509], false, 0),
];

/// USER_NOT_LOGIN: what follows a token expiry or a kick.
const NOT_LOGGED_IN: u32 = 201;

/// The label of a mix of codes: the family whose codes (with the 201s that follow a token
/// expiry or a kick) are the most errors, when they are at least half of them.
pub(crate) fn label(codes: &BTreeMap<u32, u64>) -> Option<&'static str> {
    let total: u64 = codes.values().sum();
    let not_logged_in = codes.get(&NOT_LOGGED_IN).copied().unwrap_or(0);
    FAMILIES
        .iter()
        .filter_map(|(name, members, with_201, priority)| {
            let own: u64 = members.iter().filter_map(|c| codes.get(c)).sum();
            if own == 0 {
                return None;
            }
            let score = own + if *with_201 { not_logged_in } else { 0 };
            Some((score, own, *priority, *name))
        })
        .max()
        .filter(|(score, ..)| score * 2 >= total)
        .map(|(.., name)| name)
}

/// The k-th smallest (0-based) of a multiset given as `(value, multiplicity)`.
fn kth(values: &mut [(f64, u64)], k: u64) -> f64 {
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut seen = 0;
    for &(v, n) in values.iter() {
        seen += n;
        if k < seen {
            return v;
        }
    }
    values.last().map_or(0.0, |v| v.0)
}

/// The median of minute counts: the non-zero ones in `counts`, plus `zeros` quiet minutes.
fn median(counts: &[u64], zeros: u64) -> f64 {
    let n = counts.len() as u64 + zeros;
    if n == 0 {
        return 0.0;
    }
    let mut values: Vec<(f64, u64)> = counts.iter().map(|&c| (c as f64, 1)).collect();
    values.push((0.0, zeros));
    let lo = kth(&mut values, (n - 1) / 2);
    let hi = kth(&mut values, n / 2);
    (lo + hi) / 2.0
}

/// The background of a device: `(median, robust deviation)` of its minute counts.
fn background(per_minute: &[(i64, u64)], minutes: u64) -> (f64, f64) {
    let counts: Vec<u64> = per_minute.iter().map(|&(_, n)| n).collect();
    let zeros = minutes.saturating_sub(counts.len() as u64);
    let m = median(&counts, zeros);
    let deviations: Vec<(f64, u64)> = counts
        .iter()
        .map(|&c| ((c as f64 - m).abs(), 1))
        .chain(std::iter::once((m, zeros)))
        .collect();
    let n = counts.len() as u64 + zeros;
    let mad = if n == 0 {
        0.0
    } else {
        let mut d = deviations.clone();
        let lo = kth(&mut d, (n - 1) / 2);
        let hi = kth(&mut d, n / 2);
        (lo + hi) / 2.0
    };
    (m, (1.4826 * mad).max(1.0))
}

/// A device's errors and span, the detector's input.
pub(crate) struct DeviceErrors<'a> {
    /// The device.
    pub(crate) name: &'a str,
    /// The first and last entry of its logs (the background's span).
    pub(crate) span: Option<(LogTime, LogTime)>,
    /// Its timed errors `(time, code)`, code 0 excluded, in any order: in the lists the scan
    /// made (one per run of chunks of each file), which are not copied into one.
    pub(crate) hits: Vec<Vec<(LogTime, u32)>>,
}

/// Finds the bursts of one device.
fn device_bursts(device: &DeviceErrors<'_>) -> Vec<Burst> {
    // Hits come mostly in time order: count runs of one minute, then merge the runs. A
    // minute's index is worked out only when a hit leaves the minute of the hit before.
    let mut runs: Vec<(i64, u64)> = Vec::new();
    let mut run_minute = None;
    for &(t, _) in device.hits.iter().flatten() {
        let day_minute = Some(t.day_minute());
        match runs.last_mut() {
            Some((_, n)) if day_minute == run_minute => *n += 1,
            _ => {
                run_minute = day_minute;
                runs.push((t.minute_index(), 1));
            }
        }
    }
    runs.sort_unstable_by_key(|&(minute, _)| minute);
    // Counts per minute, in minute order: the runs with equal minutes summed.
    let mut per_minute: Vec<(i64, u64)> = Vec::with_capacity(runs.len());
    for (minute, n) in runs {
        match per_minute.last_mut() {
            Some((m, count)) if *m == minute => *count += n,
            _ => per_minute.push((minute, n)),
        }
    }
    let (Some(&(lo, _)), Some(&(hi, _))) = (per_minute.first(), per_minute.last()) else {
        return Vec::new();
    };
    let (lo, hi) = match device.span {
        Some((a, b)) => (lo.min(a.minute_index()), hi.max(b.minute_index())),
        None => (lo, hi),
    };
    let minutes = u64::try_from(hi - lo + 1).unwrap_or(u64::MAX);
    let (m, s) = background(&per_minute, minutes);
    let hot = MIN_HOT.max((m + HOT_K * s).ceil() as u64);
    let warm = 2u64.max((m + WARM_K * s).ceil() as u64);
    let count = |minute: i64| {
        per_minute
            .binary_search_by_key(&minute, |&(m, _)| m)
            .map_or(0, |i| per_minute[i].1)
    };
    // Runs of hot minutes.
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &(minute, c) in &per_minute {
        if c < hot {
            continue;
        }
        match runs.last_mut() {
            Some(run) if minute - run.1 <= BRIDGE_MINUTES => run.1 = minute,
            _ => runs.push((minute, minute)),
        }
    }
    // Hits by time, so that each run's hits are one slice (not a pass over all hits per run).
    let mut by_time: Vec<&(LogTime, u32)> = device.hits.iter().flatten().collect();
    by_time.sort_by_key(|h| h.0);
    let mut out = Vec::new();
    for (mut a, mut b) in runs {
        for _ in 0..GROW_MINUTES {
            if count(a - 1) >= warm {
                a -= 1;
            } else {
                break;
            }
        }
        for _ in 0..GROW_MINUTES {
            if count(b + 1) >= warm {
                b += 1;
            } else {
                break;
            }
        }
        let from = by_time.partition_point(|h| h.0.minute_index() < a);
        let to = by_time.partition_point(|h| h.0.minute_index() <= b);
        let inside = &by_time[from..to];
        let errors = inside.len() as u64;
        // `by_time` is sorted: the first and last hits are the earliest and latest.
        let (Some(&&(start, _)), Some(&&(end, _))) = (inside.first(), inside.last()) else {
            continue;
        };
        if errors < MIN_ERRORS {
            continue;
        }
        let mut codes: BTreeMap<u32, u64> = BTreeMap::new();
        for (_, code) in inside {
            *codes.entry(*code).or_default() += 1;
        }
        out.push(Burst {
            start,
            end,
            devices: vec![device.name.to_string()],
            label: label(&codes).map(str::to_string),
            codes: codes.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            errors,
            per_device: BTreeMap::from([(device.name.to_string(), errors)]),
            peak_per_minute: (a..=b).map(count).max().unwrap_or(0),
            baseline_per_minute: m,
            threshold_per_minute: hot,
            samples: Vec::new(),
        });
    }
    out
}

/// Merges `b` into `a` (one incident on several devices).
fn merge(a: &mut Burst, b: Burst) {
    a.start = a.start.min(b.start);
    a.end = a.end.max(b.end);
    for d in b.devices {
        if !a.devices.contains(&d) {
            a.devices.push(d);
        }
    }
    a.devices.sort();
    for (c, n) in b.codes {
        *a.codes.entry(c).or_default() += n;
    }
    for (d, n) in b.per_device {
        *a.per_device.entry(d).or_default() += n;
    }
    a.errors += b.errors;
    if b.peak_per_minute > a.peak_per_minute {
        a.peak_per_minute = b.peak_per_minute;
        a.baseline_per_minute = b.baseline_per_minute;
        a.threshold_per_minute = b.threshold_per_minute;
    }
}

/// Finds the bursts of every device, joins overlapping ones with the same label across
/// devices, and returns them in time order.
pub(crate) fn detect(devices: &[DeviceErrors<'_>]) -> Vec<Burst> {
    let mut all: Vec<Burst> = devices.par_iter().flat_map_iter(device_bursts).collect();
    all.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then_with(|| a.devices.cmp(&b.devices))
    });
    let mut out: Vec<Burst> = Vec::new();
    for burst in all {
        // Times first: they rule out nearly every pair, and cost less than the label.
        let joined = out.iter_mut().find(|o| {
            o.start <= burst.end
                && burst.start <= o.end
                && o.label == burst.label
                && !burst.devices.iter().any(|d| o.devices.contains(d))
        });
        match joined {
            Some(o) => merge(o, burst),
            None => out.push(burst),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u32, second: u32) -> LogTime {
        LogTime::from_fields([2024, 3, 1, 8 + minute / 60, minute % 60, second, 0]).unwrap()
    }

    fn background_hits(minutes: u32, code: u32) -> Vec<(LogTime, u32)> {
        (0..minutes).step_by(3).map(|m| (at(m, 1), code)).collect()
    }

    #[test]
    fn labels_follow_the_mix() {
        let mix = |pairs: &[(u32, u64)]| label(&pairs.iter().copied().collect());
        assert_eq!(
            mix(&[(2, 50), (300, 20), (301, 15)]),
            Some("network_outage")
        );
        assert_eq!(
            mix(&[(108, 3), (109, 6), (201, 9), (202, 5)]),
            Some("token_expiry")
        );
        assert_eq!(mix(&[(201, 33), (217, 1)]), Some("kicked_offline"));
        assert_eq!(mix(&[(502, 9), (509, 1)]), Some("rate_limited"));
        assert_eq!(mix(&[(201, 30)]), None, "201 alone says nothing");
        assert_eq!(mix(&[(500, 20), (2, 1)]), None);
        assert_eq!(
            mix(&[(201, 29), (202, 1), (206, 1)]),
            Some("kicked_offline")
        );
    }

    #[test]
    fn a_spike_over_a_quiet_background_is_one_burst() {
        let mut hits = background_hits(120, 500);
        for s in 0..40 {
            hits.push((at(60 + s / 20, s % 60), if s % 2 == 0 { 2 } else { 300 }));
        }
        hits.sort();
        let span = Some((at(0, 0), at(119, 59)));
        let bursts = detect(&[DeviceErrors {
            name: "A",
            span,
            hits: vec![hits],
        }]);
        assert_eq!(bursts.len(), 1, "{bursts:?}");
        let b = &bursts[0];
        assert_eq!(b.label.as_deref(), Some("network_outage"));
        assert_eq!(b.devices, ["A"]);
        assert!(b.start >= at(60, 0) && b.end < at(62, 0));
        assert_eq!(b.codes["2"] + b.codes["300"], 40);
    }

    /// Hits out of time order (a file's clock set back, files of a device interleaved) give
    /// the bursts their sorted order gives.
    #[test]
    fn hit_order_does_not_change_the_bursts() {
        let mut hits = background_hits(120, 500);
        for s in 0..90 {
            hits.push((at(30 + s / 30, s % 60), if s % 3 == 0 { 2 } else { 300 }));
            hits.push((at(90 + s / 45, (s * 7) % 60), 401));
        }
        let span = Some((at(0, 0), at(119, 59)));
        // Split into lists as the scan hands them over: where they split does not matter.
        let bursts_of = |mut hits: Vec<(LogTime, u32)>| {
            let later = hits.split_off(hits.len() / 3);
            detect(&[DeviceErrors {
                name: "A",
                span,
                hits: vec![hits, Vec::new(), later],
            }])
        };
        let mut sorted = hits.clone();
        sorted.sort();
        let expected = bursts_of(sorted);
        assert_eq!(expected.len(), 2, "{expected:?}");
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5 {
            for i in (1..hits.len()).rev() {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                hits.swap(i, (rng % (i as u64 + 1)) as usize);
            }
            assert_eq!(bursts_of(hits.clone()), expected);
        }
    }

    #[test]
    fn steady_noise_and_small_clusters_are_not_bursts() {
        let mut hits = background_hits(600, 500);
        // Four errors in a minute, twice: busy, not a burst.
        hits.extend((0..4).map(|s| (at(100, s), 2)));
        hits.extend((0..4).map(|s| (at(300, s), 2)));
        hits.sort();
        let span = Some((at(0, 0), at(599, 0)));
        assert!(
            detect(&[DeviceErrors {
                name: "A",
                span,
                hits: vec![hits]
            }])
            .is_empty()
        );
    }

    #[test]
    fn simultaneous_outages_on_two_devices_are_one_incident() {
        let spike = |offset: u32| -> Vec<(LogTime, u32)> {
            (0..30).map(|s| (at(30, s + offset), 300)).collect()
        };
        let span = Some((at(0, 0), at(59, 0)));
        let bursts = detect(&[
            DeviceErrors {
                name: "B",
                span,
                hits: vec![spike(0)],
            },
            DeviceErrors {
                name: "A",
                span,
                hits: vec![spike(10)],
            },
        ]);
        assert_eq!(bursts.len(), 1);
        assert_eq!(bursts[0].devices, ["A", "B"]);
        assert_eq!(bursts[0].errors, 60);
    }
}
