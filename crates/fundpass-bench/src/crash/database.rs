//! Where a fault run keeps its data: the SQLite file in the installation's folder, or
//! a PostgreSQL database created for the run next to the one `--database-url` names
//! and dropped at the end; and the harness's own read-only connection to it.

use anyhow::Context as _;
use sqlx::{AnyConnection, Connection as _};

use crate::record::database::with_database;

/// The run's database.
#[derive(Debug, Clone)]
pub enum Database {
    /// `DATA_DIR/fundpass.db`, made by the server itself.
    Sqlite,
    /// A database of the run's own on a PostgreSQL server.
    Postgres {
        /// The URL the database was created through (allowed `CREATE DATABASE`).
        admin_url: String,
        /// The new database's name.
        name: String,
        /// Its URL, for the server and the checks.
        url: String,
    },
}

impl Database {
    /// A new, empty database named `<prefix>_<pid>` on the server of `admin_url`.
    pub async fn postgres(admin_url: &str, prefix: &str) -> anyhow::Result<Self> {
        let name = format!("{prefix}_{}", std::process::id());
        admin(
            admin_url,
            &[
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                format!("CREATE DATABASE {name}"),
            ],
        )
        .await
        .context("cannot create the run's PostgreSQL database")?;
        Ok(Self::Postgres {
            admin_url: admin_url.to_owned(),
            url: with_database(admin_url, &name),
            name,
        })
    }

    /// `SQLite` or `PostgreSQL`, for reports.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres { .. } => "PostgreSQL",
        }
    }

    /// The URL the server is configured with (`None`: its default SQLite file).
    pub fn server_url(&self) -> Option<String> {
        match self {
            Self::Sqlite => None,
            Self::Postgres { url, .. } => Some(url.clone()),
        }
    }

    /// Drops a PostgreSQL database (its connections too); nothing for SQLite, whose
    /// file goes with the installation's folder.
    pub async fn remove(&self) -> anyhow::Result<()> {
        if let Self::Postgres {
            admin_url, name, ..
        } = self
        {
            admin(
                admin_url,
                &[format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")],
            )
            .await
            .with_context(|| format!("cannot drop the database {name}"))?;
        }
        Ok(())
    }
}

/// Runs `statements` one at a time on the server of `url` (CREATE and DROP DATABASE
/// refuse a transaction).
pub async fn admin(url: &str, statements: &[String]) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(url).await?;
    for sql in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(())
}

/// A connection for the checks: read-only on the SQLite file at `sqlite_path`, or
/// to `postgres_url`.
pub async fn reader(
    sqlite_path: Option<&std::path::Path>,
    postgres_url: Option<&str>,
) -> anyhow::Result<AnyConnection> {
    sqlx::any::install_default_drivers();
    let url = match (sqlite_path, postgres_url) {
        (_, Some(url)) => url.to_owned(),
        (Some(path), None) => format!("sqlite://{}?mode=ro", path.display()),
        (None, None) => anyhow::bail!("no database to read"),
    };
    AnyConnection::connect(&url)
        .await
        .context("the harness cannot open the database")
}
