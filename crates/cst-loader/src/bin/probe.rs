//! `cst-grammar-probe LIBRARY SYMBOL [SAMPLE…]`: the child process that
//! probes a grammar before cst trusts it (see `cst_loader::probe`).

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    std::process::exit(cst_loader::probe::child_main(&args));
}
