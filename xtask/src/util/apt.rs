//! Debian packages the suites need (`chromium`, `redis-server`), installed
//! with apt-get when the program is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use super::check;

/// The path of `program` as Debian's `package` installs it (under
/// `/usr/bin`), installing the package if the file is missing: `apt-get
/// update` once per run, then `apt-get install -y`, through `sudo` unless
/// run as root.
pub fn ensure_apt(package: &str, program: &str) -> Result<PathBuf, String> {
    let path = Path::new("/usr/bin").join(program);
    if path.is_file() {
        return Ok(path);
    }
    static UPDATE: Once = Once::new();
    let mut updated = Ok(());
    UPDATE.call_once(|| {
        println!("==> apt-get update");
        updated = check(apt_get().arg("update"), "apt-get update");
    });
    updated?;
    println!("==> apt-get install -y {package}");
    check(
        apt_get()
            .args(["install", "-y", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {package}"),
    )?;
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{package} is installed but {} is missing",
            path.display()
        ))
    }
}

/// `apt-get`, through `sudo` unless we are root.
fn apt_get() -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0");
    if root {
        Command::new("apt-get")
    } else {
        let mut command = Command::new("sudo");
        command.arg("apt-get");
        command
    }
}
