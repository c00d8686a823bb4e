//! Rebuilds the binary when a migration is added or changed: `sqlx::migrate!` embeds the
//! migration files, and on stable Rust the compiler does not know it reads them.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
