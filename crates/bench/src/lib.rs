//! What the benchmark binaries share with the integration tests: the loopback upstream.

pub mod wire;
