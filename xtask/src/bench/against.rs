//! `cargo xtask bench --against REV`: this tree's `echo` example against
//! the same example built at git revision REV, side by side in one run
//! (`compare.rs`): the before and after of a change, on the same load
//! generator and the same machine state, as ratios (this tree ÷ REV) per
//! second and per second of the server's CPU.
//!
//! REV's tree is exported (`git archive`) to
//! `target/wsup-bench/against/<commit>/` and built there in release, with a
//! target directory of its own beside it that later runs reuse. REV's
//! `echo` must take the address as its argument and print `listening on`,
//! as it has since the bench began.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use super::compare::{self, Comparison, Variant};
use super::{build_echo, build_loadgen, output_dirs, Options, Plan};
use crate::runtime::Runtime;
use crate::util::{check, Workspace};

pub fn run(options: &Options, rev: &str) -> Result<(), String> {
    let workspace = Workspace::load()?;
    let (out_dir, bin_dir) = output_dirs(&workspace)?;
    let commit = resolve(&workspace.root, rev)?;
    let short = &commit[..10];
    let runtimes = options.runtimes_or(&Runtime::ALL);
    let comparison = Comparison {
        stem: "against",
        intro: format!(
            "# This tree against `{short}`\n\n`cargo xtask bench --against {rev}`: the `echo` \
             example of this tree against the same example built at `{commit}`, side by side \
             (each pinned to the server core, one worker thread), each ratio (this tree ÷ \
             `{short}`) taken within a repeat (median, min–max), of messages a second and of \
             messages per second of the server's CPU. Above 1 is better.\n"
        ),
        plan: Plan::of(options).with_sizes(&[16, 64 << 10], &[16, 1024, 64 << 10, 1 << 20]),
    };
    let tree = out_dir.join("against").join(&commit);
    export(&workspace.root, &commit, &tree)?;
    let loadgen = build_loadgen(&workspace)?;
    compare::run(&comparison, &loadgen, &runtimes, |rt| {
        let now = build_echo(&workspace, &bin_dir, rt, false)?;
        let before = build_at(&workspace, &tree, rt)?;
        let to = bin_dir.join(format!("echo-{}-{short}", rt.name()));
        fs::copy(&before, &to).map_err(|e| format!("cannot copy {}: {e}", before.display()))?;
        // Named once per run: a CLI's string, leaked on purpose.
        let rev_name: &'static str = Box::leak(format!("at {short}").into_boxed_str());
        Ok(vec![
            Variant::plain(rev_name, to),
            Variant::plain("this tree", now),
        ])
    })
    .map(drop)
}

/// The full commit hash `rev` names.
fn resolve(root: &Path, rev: &str) -> Result<String, String> {
    let output = Command::new("git")
        .current_dir(root)
        .args(["rev-parse", "--verify", "--end-of-options"])
        .arg(format!("{rev}^{{commit}}"))
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        return Err(format!("`{rev}` names no commit"));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Writes the tree of `commit` to `dir`, unless it is there already.
fn export(root: &Path, commit: &str, dir: &Path) -> Result<(), String> {
    if dir.join("Cargo.toml").exists() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let archive = format!(
        "git -C '{}' archive --format=tar {commit} | tar -x -C '{}'",
        root.display(),
        dir.display()
    );
    let exported = check(Command::new("sh").args(["-c", &archive]), "git archive");
    if exported.is_err() {
        let _ = fs::remove_dir_all(dir);
    }
    exported
}

/// Builds the `echo` example of the tree in `dir` for `rt`, in release,
/// in a target directory shared by every exported revision.
fn build_at(workspace: &Workspace, dir: &Path, rt: Runtime) -> Result<std::path::PathBuf, String> {
    let target = dir.parent().ok_or("no parent")?.join("target");
    println!("==> building echo ({}) at {}", rt.feature(), dir.display());
    check(
        workspace
            .cargo()
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", &target)
            .args(["build", "--release", "-p", "wsup-examples", "--bin", "echo"])
            .args(["--no-default-features", "--features", &rt.feature()]),
        "cargo build echo at the revision",
    )?;
    Ok(target.join("release").join("echo"))
}
