// The README's example, extracted by build.rs; run by tests/readme.rs.
include!(concat!(env!("OUT_DIR"), "/readme_example.rs"));
