/// The one place bpstune's version is written: `bpstune --version` prints it, and `make deb`
/// reads it from this line for the package's version.
let bpstuneVersion = "0.2.0"
