//! The candidate kernel: one pass over a chunk that finds every occurrence of the rules'
//! anchors and counts lines at the same time.
//!
//! Each anchor is reduced to a pair of its bytes at a fixed distance (the two rarest, as
//! `memchr`'s packed-pair heuristic ranks them). The chunk is walked in 64-byte blocks; for
//! every block one SIMD compare per pair byte gives a bit mask of the positions where an anchor
//! may start, and one more compare gives the block's newlines. Blocks without a candidate cost
//! a few instructions; at a candidate the whole anchor is compared, and the hit gets its line
//! start and line index from the newline masks, with no second pass over the bytes.
//!
//! AVX-512 (BW and VBMI: the bytes at each pair offset come from one aligned load per block
//! and a byte permutation) and AVX2 (unaligned loads at each offset) are chosen at run time. Elsewhere (or with more anchors than the SIMD
//! paths take) a portable path finds each anchor with `memchr`'s substring search, which is
//! vectorised on other targets too; a byte-by-byte version of the block test handles the tail
//! of every chunk. Tests hold every path to the answers of a naive search.

use memchr::arch::all::packedpair::Pair;

/// At most this many anchors go through the SIMD paths (more use the scalar path).
pub const MAX_SIMD_ANCHORS: usize = 8;

/// Bytes the SIMD paths read ahead of the block they test, to fetch them into cache early.
#[cfg(target_arch = "x86_64")]
const PREFETCH_DISTANCE: usize = 8 << 10;

/// One anchor and the byte pair that stands for it in the block test.
#[derive(Clone, Debug)]
struct Anchor {
    literal: Box<[u8]>,
    /// The literal's first (up to) 8 bytes, little-endian, and the mask of the bytes used:
    /// one load and compare rejects almost every false candidate without a `memcmp` call.
    head: u64,
    head_mask: u64,
    index1: usize,
    byte1: u8,
    index2: usize,
    byte2: u8,
}

impl Anchor {
    /// Whether the anchor occurs in `hay` at `start`.
    #[inline(always)]
    fn starts(&self, hay: &[u8], start: usize) -> bool {
        let rest = hay.get(start..).unwrap_or_default();
        match rest.first_chunk::<8>() {
            Some(&word) => {
                u64::from_le_bytes(word) & self.head_mask == self.head
                    && (self.literal.len() <= 8 || rest.starts_with(&self.literal))
            }
            None => rest.starts_with(&self.literal),
        }
    }
}

/// Which implementation of the block test runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Any target: `memchr` substring search per anchor.
    Scalar,
    /// x86-64 with AVX2.
    Avx2,
    /// x86-64 with AVX-512BW and AVX-512VBMI (byte permutes).
    Avx512,
}

impl Level {
    /// The best level this CPU supports.
    pub fn detect() -> Level {
        #[cfg(target_arch = "x86_64")]
        {
            if Level::Avx512.is_supported() {
                return Level::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Level::Avx2;
            }
        }
        Level::Scalar
    }

    /// Whether this CPU can run this level.
    pub fn is_supported(self) -> bool {
        match self {
            Level::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vbmi")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// An anchor occurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnchorHit {
    /// Index of the anchor, in the order given to [`AnchorKernel::new`].
    pub anchor: usize,
    /// Byte offset where the anchor starts.
    pub start: usize,
    /// Byte offset where its line starts.
    pub line_start: usize,
    /// 0-based index of its line (the number of `\n` before it).
    pub line_index: u64,
}

/// The masks of one 64-byte block: bit `k` stands for the byte at block start + `k`.
#[derive(Clone, Copy, Default)]
struct BlockMasks {
    /// Bytes that are `\n`.
    newline: u64,
    /// Positions where an anchor may start: the union of `by_anchor`.
    any: u64,
    /// Per anchor, positions where its byte pair is present.
    by_anchor: [u64; MAX_SIMD_ANCHORS],
}

/// Lines seen before the current block.
#[derive(Clone, Copy, Default)]
struct Lines {
    /// `\n` bytes before the block.
    newlines: u64,
    /// Start of the last line that begins before the block.
    line_start: usize,
}

impl Lines {
    /// Moves past the block at `at`.
    #[inline(always)]
    fn advance(&mut self, at: usize, newline: u64) {
        self.newlines += u64::from(newline.count_ones());
        if newline != 0 {
            self.line_start = at + 64 - newline.leading_zeros() as usize;
        }
    }
}

/// Finds the rules' anchors and counts lines in one pass (see the module docs).
#[derive(Clone, Debug)]
pub struct AnchorKernel {
    anchors: Vec<Anchor>,
    level: Level,
    /// Substring finders for the portable path, one per anchor.
    finders: Vec<memchr::memmem::Finder<'static>>,
}

/// An anchor to find: a literal (non-empty, without `\n`) and, if known, the two of its bytes
/// (by index) that are rarest together in logs, for the block test.
#[derive(Clone, Copy, Debug)]
pub struct AnchorSpec<'a> {
    /// The literal.
    pub literal: &'a [u8],
    /// Indexes of the two bytes the block test checks (`None`: `memchr`'s heuristic picks).
    pub pair: Option<(usize, usize)>,
}

impl<'a> From<&'a [u8]> for AnchorSpec<'a> {
    fn from(literal: &'a [u8]) -> AnchorSpec<'a> {
        AnchorSpec {
            literal,
            pair: None,
        }
    }
}

impl AnchorKernel {
    /// A kernel for `anchors` at the best level this CPU runs.
    pub fn new(anchors: &[AnchorSpec<'_>]) -> AnchorKernel {
        AnchorKernel::with_level(anchors, Level::detect())
    }

    /// A kernel that runs the block test at `level` (which must be supported by this CPU;
    /// an unsupported level falls back to the scalar path).
    pub fn with_level(anchors: &[AnchorSpec<'_>], level: Level) -> AnchorKernel {
        let anchors: Vec<Anchor> = anchors
            .iter()
            .map(|&AnchorSpec { literal, pair }| {
                let given = pair.filter(|&(i, j)| i < literal.len() && j < literal.len());
                let (index1, index2) = match (given, Pair::new(literal)) {
                    (Some(pair), _) => pair,
                    (None, Some(pair)) => (usize::from(pair.index1()), usize::from(pair.index2())),
                    // One byte (or a needle too long for the heuristic): its first byte twice.
                    (None, None) => (0, 0),
                };
                let mut head = [0u8; 8];
                let used = literal.len().min(8);
                head[..used].copy_from_slice(&literal[..used]);
                Anchor {
                    literal: literal.into(),
                    head: u64::from_le_bytes(head),
                    head_mask: u64::MAX >> (8 * (8 - used)),
                    index1,
                    byte1: literal.get(index1).copied().unwrap_or(0),
                    index2,
                    byte2: literal.get(index2).copied().unwrap_or(0),
                }
            })
            .collect();
        // The SIMD paths read pair bytes from the next block: offsets must be below 64.
        let reach = anchors
            .iter()
            .map(|a| a.index1.max(a.index2))
            .max()
            .unwrap_or(0);
        let level = if level.is_supported() && anchors.len() <= MAX_SIMD_ANCHORS && reach < 64 {
            level
        } else {
            Level::Scalar
        };
        let finders = anchors
            .iter()
            .map(|a| memchr::memmem::Finder::new(&a.literal).into_owned())
            .collect();
        AnchorKernel {
            anchors,
            level,
            finders,
        }
    }

    /// The level the block test runs at.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Reports every anchor occurrence in `hay`, by position (by anchor at one position), and
    /// returns the number of `\n` bytes in `hay`.
    pub fn scan(&self, hay: &[u8], on_hit: &mut dyn FnMut(AnchorHit)) -> u64 {
        if self.level == Level::Scalar {
            return self.scan_portable(hay, on_hit);
        }
        let mut lines = Lines::default();
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `with_level` keeps a SIMD level only when the CPU supports it.
        let simd_end = unsafe { self.blocks_simd(hay, &mut lines, on_hit) };
        #[cfg(not(target_arch = "x86_64"))]
        let simd_end = 0;
        let mut at = simd_end;
        while at < hay.len() {
            let masks = self.masks_scalar(hay, at);
            self.emit(hay, at, &masks, &lines, on_hit);
            lines.advance(at, masks.newline);
            at += 64;
        }
        lines.newlines
    }

    /// The portable path: each anchor found by `memchr`'s substring search (vectorised on
    /// every target memchr supports, NEON included), the hits merged in position order and
    /// lines counted between them.
    fn scan_portable(&self, hay: &[u8], on_hit: &mut dyn FnMut(AnchorHit)) -> u64 {
        let mut starts: Vec<(usize, usize)> = Vec::new();
        for (a, finder) in self.finders.iter().enumerate() {
            // Overlapping occurrences too: resume one byte after each.
            let mut from = 0;
            while let Some(i) = hay.get(from..).and_then(|rest| finder.find(rest)) {
                starts.push((from + i, a));
                from += i + 1;
            }
        }
        starts.sort_unstable();
        let (mut newlines, mut line_start, mut counted) = (0, 0, 0);
        for (start, anchor) in starts {
            let gap = &hay[counted..start];
            newlines += bytecount::count(gap, b'\n') as u64;
            if let Some(i) = memchr::memrchr(b'\n', gap) {
                line_start = counted + i + 1;
            }
            counted = start;
            on_hit(AnchorHit {
                anchor,
                start,
                line_start,
                line_index: newlines,
            });
        }
        newlines + bytecount::count(&hay[counted..], b'\n') as u64
    }

    /// Where the SIMD paths stop: blocks at `p < end` can be read in full (pair loads
    /// included) without passing the end of `hay`.
    fn simd_end(&self, len: usize) -> usize {
        // The AVX-512 loop reads the block after the last one too (pair offsets are < 64).
        if len < 128 {
            0
        } else {
            let last = len - 128;
            last - last % 64 + 64
        }
    }

    /// The masks of the block at `at`, byte by byte; positions past the end are clear.
    fn masks_scalar(&self, hay: &[u8], at: usize) -> BlockMasks {
        let mut masks = BlockMasks::default();
        for k in 0..64 {
            let p = at + k;
            if hay.get(p) == Some(&b'\n') {
                masks.newline |= 1 << k;
            }
            for (a, anchor) in self.anchors.iter().enumerate() {
                if hay.get(p + anchor.index1) == Some(&anchor.byte1)
                    && hay.get(p + anchor.index2) == Some(&anchor.byte2)
                {
                    if let Some(m) = masks.by_anchor.get_mut(a) {
                        *m |= 1 << k;
                    }
                    masks.any |= 1 << k;
                }
            }
        }
        masks
    }

    /// Verifies the candidates of the block at `at` and reports the hits.
    #[inline(always)]
    fn emit(
        &self,
        hay: &[u8],
        at: usize,
        masks: &BlockMasks,
        lines: &Lines,
        on_hit: &mut dyn FnMut(AnchorHit),
    ) {
        let mut any = masks.any;
        while any != 0 {
            let k = any.trailing_zeros() as usize;
            any &= any - 1;
            let start = at + k;
            let below = masks.newline & ((1u64 << k) - 1);
            let line_index = lines.newlines + u64::from(below.count_ones());
            let line_start = if below == 0 {
                lines.line_start
            } else {
                at + 64 - below.leading_zeros() as usize
            };
            for (a, anchor) in self.anchors.iter().enumerate() {
                let paired = masks.by_anchor.get(a).is_none_or(|m| m & (1 << k) != 0);
                if paired && anchor.starts(hay, start) {
                    on_hit(AnchorHit {
                        anchor: a,
                        start,
                        line_start,
                        line_index,
                    });
                }
            }
        }
    }
}

/// Blocks per window: the SIMD loop runs through a window without calls, so that its vectors
/// stay in registers, and records the blocks that hold candidates; those are verified after.
#[cfg(target_arch = "x86_64")]
const WINDOW_BLOCKS: usize = 64;

/// A block with candidates, as the SIMD loop records it.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct CandidateBlock<const N: usize> {
    at: usize,
    newline: u64,
    by_anchor: [u64; N],
    lines: Lines,
}

/// Records the block at `at` if it has candidates (the rare case), and moves the line count
/// past it.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn record<const N: usize>(
    out: &mut [CandidateBlock<N>; WINDOW_BLOCKS],
    count: &mut usize,
    at: usize,
    newline: u64,
    by_anchor: [u64; N],
    lines: &mut Lines,
) {
    if by_anchor.iter().any(|&m| m != 0)
        && let Some(slot) = out.get_mut(*count)
    {
        *slot = CandidateBlock {
            at,
            newline,
            by_anchor,
            lines: *lines,
        };
        *count += 1;
    }
    lines.advance(at, newline);
}

/// The SIMD loop over one window: `(kernel, base, from, to, lines, out)`, returning how many
/// blocks it recorded in `out`.
#[cfg(target_arch = "x86_64")]
type WindowFn<const N: usize> = unsafe fn(
    &AnchorKernel,
    *const u8,
    usize,
    usize,
    &mut Lines,
    &mut [CandidateBlock<N>; WINDOW_BLOCKS],
) -> usize;

#[cfg(target_arch = "x86_64")]
impl AnchorKernel {
    /// Runs the best SIMD loop; returns where it stopped.
    ///
    /// # Safety
    /// `self.level` must be supported by this CPU.
    unsafe fn blocks_simd(
        &self,
        hay: &[u8],
        lines: &mut Lines,
        on_hit: &mut dyn FnMut(AnchorHit),
    ) -> usize {
        /// Picks the loop for the anchor count, known at compile time so that the pair vectors
        /// stay in registers.
        macro_rules! by_count {
            ($window:ident) => {
                match self.anchors.len() {
                    0 => self.blocks::<0>(hay, lines, on_hit, Self::$window::<0>),
                    1 => self.blocks::<1>(hay, lines, on_hit, Self::$window::<1>),
                    2 => self.blocks::<2>(hay, lines, on_hit, Self::$window::<2>),
                    3 => self.blocks::<3>(hay, lines, on_hit, Self::$window::<3>),
                    4 => self.blocks::<4>(hay, lines, on_hit, Self::$window::<4>),
                    5 => self.blocks::<5>(hay, lines, on_hit, Self::$window::<5>),
                    6 => self.blocks::<6>(hay, lines, on_hit, Self::$window::<6>),
                    7 => self.blocks::<7>(hay, lines, on_hit, Self::$window::<7>),
                    _ => self.blocks::<8>(hay, lines, on_hit, Self::$window::<8>),
                }
            };
        }
        // SAFETY: the caller's promise.
        unsafe {
            match self.level {
                Level::Avx512 => by_count!(window_avx512),
                Level::Avx2 => by_count!(window_avx2),
                Level::Scalar => 0,
            }
        }
    }

    /// Runs `window` over the blocks that can be read in full, verifying the recorded
    /// candidates after each window; returns where it stopped.
    ///
    /// # Safety
    /// `window` must be runnable on this CPU.
    unsafe fn blocks<const N: usize>(
        &self,
        hay: &[u8],
        lines: &mut Lines,
        on_hit: &mut dyn FnMut(AnchorHit),
        window: WindowFn<N>,
    ) -> usize {
        let end = self.simd_end(hay.len());
        let empty = CandidateBlock {
            at: 0,
            newline: 0,
            by_anchor: [0; N],
            lines: Lines::default(),
        };
        let mut recorded = [empty; WINDOW_BLOCKS];
        let mut at = 0;
        while at < end {
            let to = (at + WINDOW_BLOCKS * 64).min(end);
            // SAFETY: blocks before `end` can be read in full (see `simd_end`); the CPU runs
            // `window` by the caller's promise.
            let count = unsafe { window(self, hay.as_ptr(), at, to, lines, &mut recorded) };
            for block in &recorded[..count] {
                let mut masks = BlockMasks {
                    newline: block.newline,
                    ..BlockMasks::default()
                };
                for (slot, &m) in masks.by_anchor.iter_mut().zip(&block.by_anchor) {
                    *slot = m;
                    masks.any |= m;
                }
                self.emit(hay, block.at, &masks, &block.lines, on_hit);
            }
            at = to;
        }
        end
    }

    /// The pair offsets and bytes of the first `N` anchors.
    fn pairs<const N: usize>(&self) -> [(usize, u8, usize, u8); N] {
        let mut pairs = [(0, 0, 0, 0); N];
        for (pair, anchor) in pairs.iter_mut().zip(&self.anchors) {
            *pair = (anchor.index1, anchor.byte1, anchor.index2, anchor.byte2);
        }
        pairs
    }

    /// The AVX-512 loop over the blocks `from..to` (multiples of 64).
    ///
    /// # Safety
    /// The CPU must support AVX-512BW and VBMI; `base + to + 127` must be readable.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,popcnt,lzcnt,bmi1")]
    unsafe fn window_avx512<const N: usize>(
        &self,
        base: *const u8,
        from: usize,
        to: usize,
        lines: &mut Lines,
        out: &mut [CandidateBlock<N>; WINDOW_BLOCKS],
    ) -> usize {
        use std::arch::x86_64::*;
        let pairs = self.pairs::<N>();
        let newline = _mm512_set1_epi8(b'\n' as i8);
        let byte1 = pairs.map(|p| _mm512_set1_epi8(p.1 as i8));
        let byte2 = pairs.map(|p| _mm512_set1_epi8(p.3 as i8));
        let mut count = 0;
        // The bytes at `block + offset`, for each pair offset, come from the block and the
        // next one by a byte permutation: one aligned load per block instead of nine loads.
        let shift = |offset: usize| {
            let mut index = [0u8; 64];
            for (i, x) in index.iter_mut().enumerate() {
                *x = (i + offset) as u8;
            }
            // SAFETY: reads 64 bytes of a local array.
            unsafe { _mm512_loadu_si512(index.as_ptr().cast()) }
        };
        let index1 = pairs.map(|p| shift(p.0));
        let index2 = pairs.map(|p| shift(p.2));
        let mut at = from;
        // SAFETY: the caller's promise: blocks up to `to` and the one after are readable.
        let mut block = unsafe { _mm512_loadu_si512(base.add(at).cast()) };
        while at < to {
            let mut by_anchor = [0u64; N];
            // SAFETY: as above. Prefetches never fault.
            let next = unsafe {
                _mm_prefetch::<_MM_HINT_T0>(base.add(at).wrapping_add(PREFETCH_DISTANCE).cast());
                _mm512_loadu_si512(base.add(at + 64).cast())
            };
            for a in 0..N {
                let first = _mm512_permutex2var_epi8(block, index1[a], next);
                let second = _mm512_permutex2var_epi8(block, index2[a], next);
                by_anchor[a] = _mm512_mask_cmpeq_epi8_mask(
                    _mm512_cmpeq_epi8_mask(first, byte1[a]),
                    second,
                    byte2[a],
                );
            }
            let newlines = _mm512_cmpeq_epi8_mask(block, newline);
            record(out, &mut count, at, newlines, by_anchor, lines);
            block = next;
            at += 64;
        }
        count
    }

    /// The AVX2 loop over the blocks `from..to` (two 32-byte halves per block).
    ///
    /// # Safety
    /// The CPU must support AVX2; `base + to + 127` must be readable.
    #[target_feature(enable = "avx2,popcnt,lzcnt,bmi1")]
    unsafe fn window_avx2<const N: usize>(
        &self,
        base: *const u8,
        from: usize,
        to: usize,
        lines: &mut Lines,
        out: &mut [CandidateBlock<N>; WINDOW_BLOCKS],
    ) -> usize {
        use std::arch::x86_64::*;
        let pairs = self.pairs::<N>();
        let newline = _mm256_set1_epi8(b'\n' as i8);
        let byte1 = pairs.map(|p| _mm256_set1_epi8(p.1 as i8));
        let byte2 = pairs.map(|p| _mm256_set1_epi8(p.3 as i8));
        let mut count = 0;
        let mut at = from;
        while at < to {
            let mut by_anchor = [0u64; N];
            let mut newlines = 0;
            for half in [0, 32] {
                // SAFETY: as in `window_avx512`.
                unsafe {
                    let part = base.add(at + half);
                    if half == 0 {
                        _mm_prefetch::<_MM_HINT_T0>(part.wrapping_add(PREFETCH_DISTANCE).cast());
                    }
                    // The pair tests stay vectors until a half has a candidate at all.
                    let mut paired = [_mm256_setzero_si256(); N];
                    let mut union = _mm256_setzero_si256();
                    for a in 0..N {
                        let first = _mm256_loadu_si256(part.add(pairs[a].0).cast());
                        let second = _mm256_loadu_si256(part.add(pairs[a].2).cast());
                        paired[a] = _mm256_and_si256(
                            _mm256_cmpeq_epi8(first, byte1[a]),
                            _mm256_cmpeq_epi8(second, byte2[a]),
                        );
                        union = _mm256_or_si256(union, paired[a]);
                    }
                    let nl = _mm256_cmpeq_epi8(_mm256_loadu_si256(part.cast()), newline);
                    newlines |= u64::from(_mm256_movemask_epi8(nl) as u32) << half;
                    if _mm256_testz_si256(union, union) == 0 {
                        for a in 0..N {
                            let m = u64::from(_mm256_movemask_epi8(paired[a]) as u32) << half;
                            by_anchor[a] |= m;
                        }
                    }
                }
            }
            record(out, &mut count, at, newlines, by_anchor, lines);
            at += 64;
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every occurrence of every literal, with its line, found the obvious way.
    fn naive(literals: &[&[u8]], hay: &[u8]) -> (Vec<AnchorHit>, u64) {
        let mut hits = Vec::new();
        for start in 0..hay.len() {
            for (a, lit) in literals.iter().enumerate() {
                if hay[start..].starts_with(lit) {
                    let before = &hay[..start];
                    hits.push(AnchorHit {
                        anchor: a,
                        start,
                        line_start: before
                            .iter()
                            .rposition(|&b| b == b'\n')
                            .map_or(0, |i| i + 1),
                        line_index: before.iter().filter(|&&b| b == b'\n').count() as u64,
                    });
                }
            }
        }
        let newlines = hay.iter().filter(|&&b| b == b'\n').count() as u64;
        (hits, newlines)
    }

    fn run(kernel: &AnchorKernel, hay: &[u8]) -> (Vec<AnchorHit>, u64) {
        let mut hits = Vec::new();
        let newlines = kernel.scan(hay, &mut |h| hits.push(h));
        (hits, newlines)
    }

    fn levels() -> Vec<Level> {
        let mut levels = vec![Level::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                levels.push(Level::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512bw") {
                levels.push(Level::Avx512);
            }
        }
        levels
    }

    fn specs<'a>(literals: &[&'a [u8]]) -> Vec<AnchorSpec<'a>> {
        literals.iter().map(|&l| AnchorSpec::from(l)).collect()
    }

    const BUILTIN: [&[u8]; 4] = [b"\"error\"", b"desc:", b"onDisconnect", b"errorC"];

    #[test]
    fn every_level_finds_the_builtin_anchors_and_lines() {
        let log = "[2024/03/01 08:00:00:001]: {\"error\":{\"code\":3}}\r\n\
                   x code: 5; desc: y\nonDisconnect2 onDisconnect3\nerrorCode=1\n"
            .repeat(9);
        for level in levels() {
            let kernel = AnchorKernel::with_level(&specs(&BUILTIN), level);
            assert_eq!(kernel.level(), level);
            assert_eq!(
                run(&kernel, log.as_bytes()),
                naive(&BUILTIN, log.as_bytes())
            );
        }
    }

    #[test]
    fn overlapping_and_one_byte_anchors() {
        let literals: [&[u8]; 3] = [b"aba", b"bab", b"b"];
        let hay = b"ababab\nbab".repeat(20);
        for level in levels() {
            let kernel = AnchorKernel::with_level(&specs(&literals), level);
            assert_eq!(run(&kernel, &hay), naive(&literals, &hay), "{level:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Every level agrees with the naive search, at every length and alignment.
        #[test]
        fn levels_agree_with_naive_search(
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just("\"error\"".to_string()),
                    Just("desc:".to_string()),
                    Just("onDisconnect".to_string()),
                    Just("errorC".to_string()),
                    Just("\n".to_string()),
                    Just("\r\n".to_string()),
                    "[a-zA-Z\":;{} ]{0,70}",
                    "[\"erodsc:\n]{0,8}",
                ],
                0..120,
            ),
            skip in 0usize..64,
        ) {
            let text = pieces.concat();
            let hay = &text.as_bytes()[skip.min(text.len())..];
            let want = naive(&BUILTIN, hay);
            // The pairs the heuristic picks, and the pairs `data/rules.toml` gives.
            let given: Vec<AnchorSpec<'_>> = BUILTIN
                .iter()
                .zip([(5, 6), (0, 4), (1, 2), (1, 5)])
                .map(|(&literal, pair)| AnchorSpec { literal, pair: Some(pair) })
                .collect();
            for level in levels() {
                for anchors in [specs(&BUILTIN), given.clone()] {
                    let kernel = AnchorKernel::with_level(&anchors, level);
                    prop_assert_eq!(&run(&kernel, hay), &want, "{:?}", level);
                }
            }
        }
    }
}
