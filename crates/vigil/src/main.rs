//! The `vigil` binary: all logic lives in the library half of this crate.

fn main() -> std::process::ExitCode {
    vigil::main()
}
