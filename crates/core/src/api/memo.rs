//! Answers kept between two asks while nothing they stand on changed: the read API's
//! `/metrics` and `/v1/status` are scraped far more often than balances move. An answer is
//! reused while the store's [change stamp](crate::db::accounts::change_stamp) and the
//! caller's `minute` (for answers that count down with time; 0 for those that do not) are
//! those it was built at.

use std::sync::Mutex;

/// The last answer of one kind, with what it was built from.
#[derive(Debug)]
pub(crate) struct Memo<T>(Mutex<Option<(String, i64, T)>>);

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo(Mutex::new(None))
    }
}

impl<T: Clone> Memo<T> {
    /// The answer kept for `stamp` and `minute`, or `build`'s, which is then kept. `stamp` is
    /// read *before* building: a write during the build leaves a stamp that no longer
    /// matches, so the next ask builds again rather than serving an older picture as newer.
    pub(crate) async fn get_or_build(
        &self,
        stamp: String,
        minute: i64,
        build: impl std::future::Future<Output = crate::Result<T>>,
    ) -> crate::Result<T> {
        if let Some(v) = self.get(&stamp, minute) {
            return Ok(v);
        }
        let v = build.await?;
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((stamp, minute, v.clone()));
        Ok(v)
    }

    fn get(&self, stamp: &str, minute: i64) -> Option<T> {
        let memo = self.0.lock().unwrap_or_else(|e| e.into_inner());
        memo.as_ref()
            .filter(|(s, m, _)| s == stamp && *m == minute)
            .map(|(_, _, v)| v.clone())
    }
}
