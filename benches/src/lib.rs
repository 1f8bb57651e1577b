//! Support code for the wsup benchmarks.
