//! Search: finds codes in bytes. The candidate kernel, the rules that confirm candidates, the
//! extraction of one chunk, line helpers, and chunks with their join. This layer knows
//! nothing of files, summaries or output: it imports only [`crate::time`] and the error type.

pub(crate) mod chunks;
pub mod extract;
pub mod kernel;
pub(crate) mod line;
pub mod rules;
