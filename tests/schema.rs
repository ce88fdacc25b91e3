//! The SQLite and PostgreSQL migrations build the same schema: tables and views, columns (type, nullability,
//! default, collation), primary keys, foreign keys, CHECK constraints (per column: the card-data ones
//! included), indexes (columns, order, uniqueness, partial or not) and triggers, each read from the engine's
//! own catalog and written the same way. Needs `TEST_DATABASE` (scripts/test.sh gives it).

mod common;

use card_checkout::server::db;
use std::collections::BTreeSet;

/// Whether the PostgreSQL tests may be left out: only outside scripts/test.sh, which requires them.
fn postgres_url() -> Option<String> {
    match std::env::var("TEST_DATABASE") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("TEST_REQUIRE_POSTGRES").is_err(),
                "TEST_REQUIRE_POSTGRES is set without TEST_DATABASE"
            );
            None
        }
    }
}

async fn rows(pool: &db::Pool, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(pool).await.unwrap_or_else(|e| panic!("{e}: {sql}"))
}

/// SQLite's `INTEGER`, PostgreSQL's `bigint`: both are what the code reads as i64.
fn kind(t: &str) -> &'static str {
    match t.to_ascii_lowercase().as_str() {
        "integer" | "bigint" => "integer",
        "text" => "text",
        other => panic!("a column of type {other}"),
    }
}

async fn sqlite_schema(pool: &db::Pool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let objects: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT type, name, coalesce(sql, '') FROM sqlite_master
         WHERE name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (kind_, name, sql) in &objects {
        match kind_.as_str() {
            "table" => {
                out.insert(format!("table {name}"));
                // Column-level CHECKs and collations, from the table's definition: its parts between commas
                // outside parentheses (ALTER TABLE … ADD COLUMN appends to it), comments left out.
                let body: String =
                    sql.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join(" ");
                let body = &body[body.find('(').unwrap() + 1..body.rfind(')').unwrap()];
                let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
                for (i, ch) in body.char_indices() {
                    match ch {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        ',' if depth == 0 => {
                            parts.push(&body[start..i]);
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                parts.push(&body[start..]);
                let mut table_checks = 0;
                for part in parts.into_iter().map(str::trim) {
                    let column = part.split_whitespace().next().unwrap_or("");
                    // A CHECK of the table (over several columns): counted, as PostgreSQL numbers them.
                    if column == "CHECK" {
                        out.insert(format!("check {name}.(table #{table_checks})"));
                        table_checks += 1;
                    }
                    if ["PRIMARY", "UNIQUE", "CHECK", "FOREIGN"].contains(&column) {
                        continue;
                    }
                    if part.contains("CHECK") {
                        out.insert(format!("check {name}.{column}"));
                    }
                    if part.contains("COLLATE NOCASE") {
                        out.insert(format!("collate {name}.{column} nocase"));
                    }
                }
            }
            "view" => {
                out.insert(format!("view {name}"));
            }
            "trigger" => {
                out.insert(format!("trigger {name}"));
            }
            _ => {}
        }
    }
    // ALTER TABLE … ADD COLUMN … CHECK: the added column's line holds it too (it is appended to the SQL).
    let tables: Vec<&String> = objects.iter().filter(|o| o.0 == "table").map(|o| &o.1).collect();
    for t in tables {
        let columns: Vec<(String, String, i64, Option<String>, i64)> =
            sqlx::query_as(&format!("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{t}')"))
                .fetch_all(pool)
                .await
                .unwrap();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for (c, ty, notnull, default, in_pk) in columns {
            // A primary key column is never null (SQLite's INTEGER PRIMARY KEY does not say so).
            let notnull = notnull == 1 || in_pk > 0;
            out.insert(format!(
                "column {t}.{c} {} notnull={notnull} default={}",
                kind(&ty),
                default.unwrap_or_default()
            ));
            if in_pk > 0 {
                pk.push((in_pk, c));
            }
        }
        pk.sort();
        out.insert(format!("pk {t}({})", pk.into_iter().map(|p| p.1).collect::<Vec<_>>().join(", ")));
        let fks: Vec<(String, String, String)> =
            sqlx::query_as(&format!("SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list('{t}')"))
                .fetch_all(pool)
                .await
                .unwrap();
        for (from, table, to) in fks {
            out.insert(format!("fk {t}.{from} -> {table}.{to}"));
        }
        let indexes: Vec<(String, i64, String, i64)> =
            sqlx::query_as(&format!("SELECT name, \"unique\", origin, partial FROM pragma_index_list('{t}')"))
                .fetch_all(pool)
                .await
                .unwrap();
        for (index, unique, origin, partial) in indexes {
            if origin == "pk" {
                continue;
            }
            let columns: Vec<(String, i64)> = sqlx::query_as(&format!(
                "SELECT name, \"desc\" FROM pragma_index_xinfo('{index}') WHERE key = 1 ORDER BY seqno"
            ))
            .fetch_all(pool)
            .await
            .unwrap();
            let name = if origin == "u" { "(constraint)".to_owned() } else { index };
            out.insert(index_line(t, &name, unique == 1, partial == 1, columns));
        }
    }
    out
}

fn index_line(table: &str, name: &str, unique: bool, partial: bool, columns: Vec<(String, i64)>) -> String {
    let columns: Vec<String> =
        columns.into_iter().map(|(c, desc)| if desc == 1 { format!("{c} DESC") } else { c }).collect();
    format!("index {table}.{name} ({}) unique={unique} partial={partial}", columns.join(", "))
}

async fn postgres_schema(pool: &db::Pool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    // `rowid`: the identity column that stands for SQLite's implicit one (see migrations/postgres).
    for (kind_, sql) in [
        (
            "table",
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'",
        ),
        ("view", "SELECT CAST(table_name AS TEXT) FROM information_schema.views WHERE table_schema = 'public'"),
        ("trigger", "SELECT DISTINCT CAST(tgname AS TEXT) FROM pg_trigger WHERE NOT tgisinternal"),
    ] {
        for name in rows(pool, sql).await {
            out.insert(format!("{kind_} {name}"));
        }
    }
    let columns: Vec<(String, String, String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT CAST(c.table_name AS TEXT), CAST(c.column_name AS TEXT), CAST(c.data_type AS TEXT),
            CAST(c.is_nullable AS TEXT), CAST(c.column_default AS TEXT), CAST(c.collation_name AS TEXT)
         FROM information_schema.columns c JOIN information_schema.tables t
            ON t.table_name = c.table_name AND t.table_schema = c.table_schema
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name <> '_sqlx_migrations'
            AND c.column_name <> 'rowid'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (t, c, ty, nullable, default, collation) in columns {
        let notnull = nullable == "NO";
        out.insert(format!("column {t}.{c} {} notnull={notnull} default={}", kind(&ty), default.unwrap_or_default()));
        if let Some(collation) = collation {
            out.insert(format!("collate {t}.{c} {collation}"));
        }
    }
    // Constraints, with the names of the columns each covers.
    let constraints: Vec<(String, String, String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT CAST(r.relname AS TEXT), CAST(k.conname AS TEXT), CAST(k.contype AS TEXT),
            string_agg(CAST(a.attname AS TEXT), ', ' ORDER BY u.n),
            CAST(f.relname AS TEXT),
            (SELECT string_agg(CAST(fa.attname AS TEXT), ', ') FROM unnest(k.confkey) fk(n)
                JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = fk.n)
         FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid
            JOIN pg_namespace s ON s.oid = r.relnamespace AND s.nspname = 'public'
            CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY u(attnum, n)
            JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
            LEFT JOIN pg_class f ON f.oid = k.confrelid
         WHERE k.contype IN ('c', 'p', 'u', 'f') AND r.relname <> '_sqlx_migrations'
         GROUP BY r.relname, k.oid, k.conname, k.contype, f.relname, k.confkey, k.confrelid",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (t, name, kind_, columns, foreign, foreign_columns) in constraints {
        match kind_.as_str() {
            // A column's CHECK is named after it (`orders_card_bin6_check`), though it may read other columns.
            // A CHECK of the table is named `{t}_check`, then `{t}_check1`, ….
            "c" => match name.strip_prefix(&format!("{t}_check")) {
                Some(n) if n.chars().all(|c| c.is_ascii_digit()) => {
                    out.insert(format!("check {t}.(table #{})", n.parse::<u32>().unwrap_or(0)))
                }
                _ => {
                    let column = name.strip_prefix(&format!("{t}_")).and_then(|n| n.strip_suffix("_check"));
                    out.insert(format!("check {t}.{}", column.unwrap_or(&name)))
                }
            },
            "p" => out.insert(format!("pk {t}({columns})")),
            "f" => out.insert(format!("fk {t}.{columns} -> {}.{}", foreign.unwrap(), foreign_columns.unwrap())),
            // UNIQUE: its index is listed below.
            _ => false,
        };
    }
    let indexes: Vec<(String, String, bool, bool, bool, String)> = sqlx::query_as(
        "SELECT CAST(t.relname AS TEXT), CAST(i.relname AS TEXT), x.indisunique, x.indpred IS NOT NULL,
            EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid AND k.contype = 'u'),
            string_agg(CAST(a.attname AS TEXT) || CASE WHEN x.indoption[u.n - 1] & 1 = 1 THEN ' DESC' ELSE '' END,
                ', ' ORDER BY u.n)
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace s ON s.oid = t.relnamespace AND s.nspname = 'public'
            CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY u(attnum, n)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = u.attnum
         WHERE NOT x.indisprimary AND t.relname <> '_sqlx_migrations'
         GROUP BY t.relname, i.relname, x.indisunique, x.indpred, i.oid",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (t, index, unique, partial, constraint, columns) in indexes {
        if columns == "rowid" {
            continue;
        }
        let name = if constraint { "(constraint)".to_owned() } else { index };
        let columns = columns
            .split(", ")
            .map(|c| match c.strip_suffix(" DESC") {
                Some(c) => (c.to_owned(), 1),
                None => (c.to_owned(), 0),
            })
            .collect();
        out.insert(index_line(&t, &name, unique, partial, columns));
    }
    out
}

#[tokio::test]
async fn both_engines_migrate_to_the_same_schema() {
    let Some(_) = postgres_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = db::connect(&format!("sqlite://{}/schema.db", dir.path().display())).await.unwrap();
    let postgres = db::connect(&common::fresh_database_on(db::Engine::Postgres, &dir).await).await.unwrap();
    let (s, p) = (sqlite_schema(&sqlite).await, postgres_schema(&postgres).await);
    let only_sqlite: Vec<_> = s.difference(&p).collect();
    let only_postgres: Vec<_> = p.difference(&s).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in SQLite: {only_sqlite:#?}\nonly in PostgreSQL: {only_postgres:#?}"
    );
    // The card-data CHECKs are there on both, and say the same: a card number does not fit.
    for (column, value) in [("card_bin6", "4111111111111111"), ("card_last4", "41a1"), ("card_bin6", "41111a")] {
        for pool in [&*sqlite, &*postgres] {
            let sql = format!(
                "INSERT INTO orders (id, merchant_reference, amount_minor, currency, email, billing_first_name,
                    billing_last_name, billing_address_1, billing_city, billing_country, status, provider,
                    capture_mode, created_at, updated_at, {column})
                 VALUES ('o', 'r', 1, 'EUR', 'e', 'f', 'l', 'a', 'c', 'GB', 'pending', 'verifone', 'sale', 0, 0, $1)"
            );
            assert!(sqlx::query(&sql).bind(value).execute(pool).await.is_err(), "{column} = {value} accepted");
        }
    }
    assert!(s.iter().filter(|l| l.starts_with("check orders.card_")).count() >= 5, "{s:#?}");
}
