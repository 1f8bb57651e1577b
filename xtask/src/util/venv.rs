//! Python venvs under `target/`, holding one pinned package each.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::check;

/// The `bin` folder of a venv.
pub fn venv_bin(venv: &Path) -> PathBuf {
    venv.join(if cfg!(windows) { "Scripts" } else { "bin" })
}

/// Makes sure `venv` holds `requirement` (a pinned pip spec) and passes
/// `works`, recreating it when it is missing or stale. Returns its python.
pub fn ensure_venv(
    venv: &Path,
    requirement: &str,
    works: impl Fn(&Path) -> bool,
) -> Result<PathBuf, String> {
    let python = venv_bin(venv).join("python");
    if works(&python) {
        return Ok(python);
    }
    if venv.exists() {
        println!(
            "note: {} is incomplete or stale; recreating it",
            venv.display()
        );
        fs::remove_dir_all(venv).map_err(|e| format!("cannot remove {}: {e}", venv.display()))?;
    }
    println!("==> installing {requirement} into {}", venv.display());
    check(
        Command::new("python3").args(["-m", "venv"]).arg(venv),
        "python3 -m venv",
    )?;
    check(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(requirement),
        &format!("pip install {requirement}"),
    )?;
    if works(&python) {
        Ok(python)
    } else {
        Err(format!("{requirement} does not work in {}", venv.display()))
    }
}
