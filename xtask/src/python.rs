//! Python command-line tools the protocol checks use (schemathesis, the
//! SCIM checker), installed from PyPI into one virtual environment under
//! `.data/venv`, only when missing.

use std::path::{Path, PathBuf};

use crate::{run_command, tools, Result};

/// The tool `executable` from the pinned `package_spec` (`name==1.2.3`),
/// installed into `.data/venv` when that exact spec is not there yet.
/// Returns the executable's path.
pub fn ensure_python_tool(root: &Path, package_spec: &str, executable: &str) -> Result<PathBuf> {
    let venv = root.join(".data").join("venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        ensure_venv_module()?;
        std::fs::create_dir_all(root.join(".data")).map_err(|e| e.to_string())?;
        run_command(
            std::process::Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv),
            "python3 -m venv .data/venv",
        )?;
    }
    let tool = venv.join("bin").join(executable);
    // One marker per installed spec: a changed pin installs again.
    let marker = venv
        .join("installed")
        .join(package_spec.replace(['/', ' '], "_"));
    if tool.exists() && marker.exists() {
        return Ok(tool);
    }
    println!("xtask: installing {package_spec} into .data/venv");
    run_command(
        std::process::Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            package_spec,
        ]),
        &format!("pip install {package_spec}"),
    )?;
    if !tool.exists() {
        return Err(format!(
            "{package_spec} installed but {} is missing",
            tool.display()
        ));
    }
    if let Some(dir) = marker.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&marker, package_spec).map_err(|e| e.to_string())?;
    Ok(tool)
}

/// Debian splits `venv` (and `ensurepip`) out of python3.
fn ensure_venv_module() -> Result<()> {
    if tools::output_of("python3", &["-c", "import venv, ensurepip"]).is_some() {
        return Ok(());
    }
    tools::apt_install(&["python3", "python3-venv"])
}
