// Extracts the README's ```rust block into OUT_DIR/readme_example.rs; examples/readme.rs
// includes it, so the README example is compiled and run (tests/readme.rs) exactly as written.
use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=README.md");
    let readme = fs::read_to_string("README.md").expect("README.md");
    let start = readme.find("```rust\n").expect("README.md has a ```rust block") + "```rust\n".len();
    let len = readme[start..].find("```").expect("the ```rust block ends");
    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("readme_example.rs");
    fs::write(out, &readme[start..start + len]).expect("write readme_example.rs");
}
