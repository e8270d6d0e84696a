//! A small undirected graph stored as one bit-set row per vertex, and the
//! bit-set operations the seat search runs on.
//!
//! The exact seat search ([`super::seats`]) spends nearly all its time
//! intersecting "which seats are still possible" with "which seats conflict
//! with this one"; as 64-bit words those are a few `and`s per row instead of
//! a walk over adjacency lists, and a node of the search costs no allocation.

/// An undirected graph as one bitset row per vertex, stored flat.
pub(super) struct BitGraph {
    /// Number of vertices.
    pub(super) len: usize,
    /// `u64` words per row: `len` bits, rounded up.
    pub(super) words: usize,
    rows: Vec<u64>,
}

impl BitGraph {
    pub(super) fn new(len: usize) -> Self {
        let words = len.div_ceil(64);
        Self {
            len,
            words,
            rows: vec![0; len * words],
        }
    }

    pub(super) fn row(&self, v: usize) -> &[u64] {
        &self.rows[v * self.words..(v + 1) * self.words]
    }

    pub(super) fn add_edge(&mut self, a: usize, b: usize) {
        let w = self.words;
        bit_set(&mut self.rows[a * w..(a + 1) * w], b);
        bit_set(&mut self.rows[b * w..(b + 1) * w], a);
    }

    pub(super) fn has_edge(&self, a: usize, b: usize) -> bool {
        bit_test(self.row(a), b)
    }

    pub(super) fn degree(&self, v: usize) -> u32 {
        self.row(v).iter().map(|w| w.count_ones()).sum()
    }
}

pub(super) fn bit_set(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

pub(super) fn bit_clear(bits: &mut [u64], i: usize) {
    bits[i / 64] &= !(1 << (i % 64));
}

pub(super) fn bit_test(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

pub(super) fn first_bit(bits: &[u64]) -> Option<usize> {
    bits.iter()
        .enumerate()
        .find(|(_, w)| **w != 0)
        .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
}

pub(super) fn and_count(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum()
}

/// Whether every bit of `a` is also set in `b`.
pub(super) fn is_subset(a: &[u64], b: &[u64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x & !y == 0)
}

/// Iterates over the set bits of a bitset, ascending.
pub(super) struct BitIter<'a> {
    bits: &'a [u64],
    word: usize,
    current: u64,
}

impl<'a> BitIter<'a> {
    pub(super) fn new(bits: &'a [u64]) -> Self {
        Self {
            bits,
            word: 0,
            current: bits.first().copied().unwrap_or(0),
        }
    }
}

impl Iterator for BitIter<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.current == 0 {
            self.word += 1;
            self.current = *self.bits.get(self.word)?;
        }
        let bit = self.current.trailing_zeros() as usize;
        // Clear the lowest set bit.
        self.current &= self.current - 1;
        Some(self.word * 64 + bit)
    }
}
