//! The workspace as the subcommands see it: cargo, the repository root,
//! the target directory, and the `echo` example built per runtime.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::check;
use crate::runtime::{Runtime, Selection};

/// Cargo, and what `cargo metadata` says about the workspace.
#[derive(Debug)]
pub struct Workspace {
    /// `$CARGO`, or `cargo`.
    cargo: OsString,
    /// The repository root, the parent of `xtask/`.
    pub root: PathBuf,
    pub target_dir: PathBuf,
    /// The features of `wsup-examples`.
    examples_features: Vec<String>,
}

impl Workspace {
    pub fn load() -> Result<Self, String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let root = xtask_dir()
            .parent()
            .ok_or("xtask has no parent directory")?
            .to_owned();
        let output = Command::new(&cargo)
            .current_dir(&root)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
        if !output.status.success() {
            return Err(format!("cargo metadata failed: {}", output.status));
        }
        let metadata: Value =
            serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
        let target_dir = metadata["target_directory"]
            .as_str()
            .ok_or("cargo metadata: no target_directory")?;
        let examples = metadata["packages"]
            .as_array()
            .and_then(|packages| packages.iter().find(|p| p["name"] == "wsup-examples"))
            .ok_or("cargo metadata: no wsup-examples package")?;
        let examples_features = examples["features"]
            .as_object()
            .map(|features| features.keys().cloned().collect())
            .unwrap_or_default();
        Ok(Workspace {
            cargo,
            root,
            target_dir: PathBuf::from(target_dir),
            examples_features,
        })
    }

    /// A cargo command run at the repository root.
    pub fn cargo(&self) -> Command {
        let mut command = Command::new(&self.cargo);
        command.current_dir(&self.root);
        command
    }

    /// The path of binary `name` in `target/release`.
    pub fn release_bin(&self, name: &str) -> PathBuf {
        self.target_dir
            .join("release")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
    }

    /// Builds the binaries `bins` of wsup-benches in release (all of them
    /// if none is named); `what` names them in the progress line.
    pub fn build_bench_bins(&self, what: &str, bins: &[&str]) -> Result<(), String> {
        println!("==> building {what}");
        let mut command = self.cargo();
        command.args(["build", "--release", "-p", "wsup-benches"]);
        if bins.is_empty() {
            command.arg("--bins");
        }
        for bin in bins {
            command.args(["--bin", bin]);
        }
        check(&mut command, &format!("cargo build {what}"))
    }

    /// Builds the `echo` example in release for `rt`, with the allocation
    /// counter if `count_allocs`, and returns its path in `target/release`
    /// (which the next build with other features replaces).
    pub fn build_echo(&self, rt: Runtime, count_allocs: bool) -> Result<PathBuf, String> {
        let mut features = rt.feature();
        if count_allocs {
            features.push_str(",count-allocs");
        }
        self.build_example("echo", &features)
    }

    /// Builds example `bin` in release with `features` (and no default
    /// ones); returns its path.
    pub fn build_example(&self, bin: &str, features: &str) -> Result<PathBuf, String> {
        println!("==> building {bin} ({features})");
        check(
            self.cargo()
                .args(["build", "--release", "-p", "wsup-examples", "--bin", bin])
                .args(["--no-default-features", "--features", features]),
            &format!("cargo build {bin}"),
        )?;
        Ok(self.release_bin(bin))
    }

    /// The runtimes to run for `conformance` and `interop`: `all` skips,
    /// with a note, those the examples package has no feature for.
    pub fn select_runtimes(&self, selection: Selection) -> Result<Vec<Runtime>, String> {
        let has = |rt: &Runtime| self.examples_features.contains(&rt.feature());
        let runtimes = match selection {
            Selection::One(rt) if has(&rt) => vec![rt],
            Selection::One(rt) => {
                return Err(format!(
                    "runtime `{}`: examples/Cargo.toml has no `{}` feature",
                    rt.name(),
                    rt.feature()
                ))
            }
            Selection::All => {
                let (present, missing): (Vec<_>, Vec<_>) = Runtime::ALL.into_iter().partition(has);
                for rt in missing {
                    println!(
                        "note: skipping runtime `{}`: examples/Cargo.toml has no `{}` feature",
                        rt.name(),
                        rt.feature()
                    );
                }
                present
            }
        };
        if runtimes.is_empty() {
            return Err("no runtime to run".to_owned());
        }
        Ok(runtimes)
    }
}

/// The `xtask/` folder.
pub fn xtask_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
