//! Input: which files to scan and which device each belongs to (discover), and how their
//! bytes are read (positional reads, mapping, gzip, UTF-16) and cut into chunks for search.

pub(crate) mod discover;
pub(crate) mod follow;
pub(crate) mod read;
pub(crate) mod stream;
