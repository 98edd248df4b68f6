//! The committed `schema.graphql` is the served schema.
#[test]
fn schema_file_matches_the_served_schema() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).expect("schema.graphql exists");
    let served = semasocial::graphql::sdl();
    assert!(committed.trim_end() == served.trim_end(), "schema.graphql is stale: run `cargo run -- export-schema`");
}
