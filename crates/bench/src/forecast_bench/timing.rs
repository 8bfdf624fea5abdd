//! Time to forecast many accounts.

pub fn report(_accounts: usize) {}
