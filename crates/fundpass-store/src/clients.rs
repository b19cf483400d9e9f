//! [`ClientStore`] over `service_clients` and `client_tokens`, and the unit-of-work
//! writes of clients, access tokens and used client assertions.

use async_trait::async_trait;
use fundpass_core::clients::{AccessTokenRecord, ClientWrite, Scope, ServiceClient, UsedAssertion};
use fundpass_core::crypto::{PublicKey, Sealed, TokenDigest};
use fundpass_core::ports::{ClientStore, StoreError};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::codec::{from_micros, from_opt_micros, hash32, micros, opt_micros};
use crate::connect::Store;
use crate::errors::{bad_value, db_error};
use crate::members::column;

const CLIENT_COLUMNS: &str = "id, description, scopes, public_jwk, secret_digest, webhook_url, \
                              webhook_secret_enc, created_at, disabled_at, version";

#[async_trait]
impl ClientStore for Store {
    async fn client(&self, id: &str) -> Result<Option<ServiceClient>, StoreError> {
        // PostgreSQL text cannot hold a NUL, so no id has one; asking would fail the
        // query rather than find nothing.
        if id.contains('\0') {
            return Ok(None);
        }
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM service_clients WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn clients(&self) -> Result<Vec<ServiceClient>, StoreError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM service_clients ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(client_from_row).collect()
    }

    async fn access_token(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<AccessTokenRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT token_digest, client_id, scopes, issued_at, expires_at \
             FROM client_tokens WHERE token_digest = $1",
        )
        .bind(digest.0.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(AccessTokenRecord {
            digest: TokenDigest(hash32(column(&row, "token_digest")?, "token digest")?),
            client_id: column(&row, "client_id")?,
            scopes: scopes(&column::<String>(&row, "scopes")?)?,
            issued_at: from_micros(column(&row, "issued_at")?)?,
            expires_at: from_micros(column(&row, "expires_at")?)?,
        }))
    }
}

/// Registers or updates a client inside a unit of work.
pub(crate) async fn write_client(
    conn: &mut AnyConnection,
    write: &ClientWrite,
) -> Result<(), StoreError> {
    let (c, expected) = match write {
        ClientWrite::Insert(c) => (c, None),
        ClientWrite::Update {
            record,
            expected_version,
        } => (record, Some(*expected_version)),
    };
    let sql = match expected {
        None => {
            "INSERT INTO service_clients (id, description, scopes, public_jwk, secret_digest, \
             webhook_url, webhook_secret_enc, created_at, disabled_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        }
        Some(_) => {
            "UPDATE service_clients SET description = $2, scopes = $3, public_jwk = $4, \
             secret_digest = $5, webhook_url = $6, webhook_secret_enc = $7, created_at = $8, \
             disabled_at = $9, version = version + 1 WHERE id = $1 AND version = $10"
        }
    };
    let done = sqlx::query(sql)
        .bind(c.id.as_str())
        .bind(c.description.as_str())
        .bind(Scope::join(&c.scopes))
        .bind(c.public_key.to_jwk().to_string())
        .bind(c.secret_digest.map(|d| d.0.to_vec()))
        .bind(c.webhook_url.as_deref())
        .bind(c.webhook_secret.as_ref().map(|s| s.as_bytes().to_vec()))
        .bind(micros(c.created_at))
        .bind(opt_micros(c.disabled_at))
        .bind(expected.unwrap_or(c.version))
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Stores an access token's digest inside a unit of work.
pub(crate) async fn insert_token(
    conn: &mut AnyConnection,
    t: &AccessTokenRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO client_tokens (token_digest, client_id, scopes, issued_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(t.digest.0.as_slice())
    .bind(t.client_id.as_str())
    .bind(Scope::join(&t.scopes))
    .bind(micros(t.issued_at))
    .bind(micros(t.expires_at))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Records a used client assertion; a second use of one `jti` is a
/// [`StoreError::Duplicate`], whichever request gets there first.
pub(crate) async fn insert_assertion(
    conn: &mut AnyConnection,
    a: &UsedAssertion,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO client_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3)")
        .bind(a.client_id.as_str())
        .bind(a.jti.as_str())
        .bind(micros(a.expires_at))
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

fn scopes(text: &str) -> Result<Vec<Scope>, StoreError> {
    Scope::parse_list(text).map_err(|_| bad_value("client scopes"))
}

fn client_from_row(row: &AnyRow) -> Result<ServiceClient, StoreError> {
    let jwk: String = column(row, "public_jwk")?;
    let secret: Option<Vec<u8>> = column(row, "secret_digest")?;
    let webhook_secret: Option<Vec<u8>> = column(row, "webhook_secret_enc")?;
    Ok(ServiceClient {
        id: column(row, "id")?,
        description: column(row, "description")?,
        scopes: scopes(&column::<String>(row, "scopes")?)?,
        public_key: PublicKey::parse(&jwk).map_err(|_| bad_value("client public key"))?,
        secret_digest: secret
            .map(|s| hash32(s, "client secret digest").map(TokenDigest))
            .transpose()?,
        webhook_url: column(row, "webhook_url")?,
        webhook_secret: webhook_secret.map(Sealed::from_bytes),
        created_at: from_micros(column(row, "created_at")?)?,
        disabled_at: from_opt_micros(column(row, "disabled_at")?)?,
        version: column(row, "version")?,
    })
}
