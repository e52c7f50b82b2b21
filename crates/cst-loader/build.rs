//! Passes the target triple to the crate: the `cc` crate needs it to compile
//! grammars at run time for the platform this binary runs on.
fn main() {
    for var in ["TARGET", "HOST"] {
        let value = std::env::var(var).expect("cargo sets TARGET and HOST for build scripts");
        println!("cargo:rustc-env=CST_LOADER_{var}={value}");
    }
}
