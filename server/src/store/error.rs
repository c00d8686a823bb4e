//! Store errors, with database constraint violations turned into something a caller can act on.

/// What can go wrong talking to the database. Constraint violations are separated out so the
/// service layer can answer them as conflicts instead of internal errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    #[error("could not create the database directory: {0}")]
    CreateDir(#[source] std::io::Error),
    #[error("a row with the same key already exists ({constraint})")]
    UniqueViolation { constraint: String },
    #[error("a referenced row does not exist ({constraint})")]
    ForeignKeyViolation { constraint: String },
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("the database schema cannot be served: {0}")]
    Schema(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            // SQLite reports no constraint name, so fall back to its message, which names
            // the table and column.
            let constraint = db
                .constraint()
                .map(str::to_owned)
                .unwrap_or_else(|| db.message().to_owned());
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    return StoreError::UniqueViolation { constraint }
                }
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    return StoreError::ForeignKeyViolation { constraint }
                }
                _ => {}
            }
        }
        StoreError::Database(err)
    }
}
