//! The committed `schema.graphql` is the served schema.
#[test]
fn schema_file_matches_the_served_schema() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).expect("schema.graphql exists");
    let served = semasocial::graphql::sdl();
    assert!(committed.trim_end() == served.trim_end(), "schema.graphql is stale: run `cargo run -- export-schema`");
}

#[test]
fn the_sdl_marks_specified_scalars_and_leaves_built_in_directives_to_tools() {
    let sdl = semasocial::graphql::sdl();
    assert!(sdl.contains("scalar DateTime @specifiedBy(url: \"https://datatracker.ietf.org/doc/html/rfc3339\")"));
    for built_in in ["include", "skip", "deprecated", "specifiedBy", "oneOf"] {
        assert!(!sdl.contains(&format!("directive @{built_in}")), "@{built_in} is redeclared");
    }
    assert!(!sdl.contains("Implement the DateTime"), "a placeholder description is left");
    for root in ["type Query {", "type Mutation {", "type Subscription {"] {
        assert!(sdl.contains(root), "{root} missing");
    }
}
