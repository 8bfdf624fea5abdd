//! Queries on `settings`: small user preferences as JSON values under a key.

use crate::Result;
use sqlx::SqliteExecutor;

/// The value stored under `key`, if any.
pub async fn get(db: impl SqliteExecutor<'_>, key: &str) -> Result<Option<serde_json::Value>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = ?")
        .bind(key)
        .fetch_optional(db)
        .await?;
    row.map(|(v,)| {
        serde_json::from_str(&v)
            .map_err(|e| crate::Error::Malformed(format!("setting `{key}`: {e}")))
    })
    .transpose()
}

/// Stores `value` under `key`, replacing what was there.
pub async fn set(db: impl SqliteExecutor<'_>, key: &str, value: &serde_json::Value) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings(key, value) VALUES (?, ?) \
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value.to_string())
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn set_get_and_replace() {
        let db = crate::db::open_in_memory().await.unwrap();
        assert_eq!(
            get(&db, "theme").await.unwrap(),
            None,
            "absent key reads as None"
        );
        set(&db, "theme", &serde_json::json!("dark")).await.unwrap();
        set(&db, "theme", &serde_json::json!("light"))
            .await
            .unwrap();
        assert_eq!(
            get(&db, "theme").await.unwrap(),
            Some(serde_json::json!("light"))
        );
    }
}
