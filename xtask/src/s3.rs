//! `cargo xtask s3 start|stop`: the S3 server the remote tier's tests use
//! (s3s-fs over a directory, SigV4 checked), started for people on
//! loopback, with a bucket ready, printing the `export` lines a shell can
//! `eval` (`eval "$(cargo xtask s3 start)"`).
//!
//! `start` runs `xtask s3 serve` in the background (its own process
//! group, so it outlives the command), waits for it to listen, and keeps
//! its pid and address under `target/s3/`; `stop` ends it. The data stays
//! in `target/s3/data` (or `--dir`) between runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The loopback server's credentials (it serves only 127.0.0.1).
pub(crate) const ACCESS_KEY: &str = "cst-dev";
pub(crate) const SECRET_KEY: &str = "cst-dev-secret-key";
/// The bucket made ready, and the prefix the printed URL uses.
pub(crate) const BUCKET: &str = "cst";

fn state_dir() -> PathBuf {
    crate::root().join("target/s3")
}

/// Starts the server in the background and prints the exports.
pub(crate) fn start(dir: Option<&Path>, port: u16) -> Result<bool> {
    let state = state_dir();
    std::fs::create_dir_all(&state)?;
    let pid_file = state.join("pid");
    if let Ok(pid) = std::fs::read_to_string(&pid_file)
        && Path::new(&format!("/proc/{}", pid.trim())).exists()
    {
        bail!(
            "already running (pid {}); `cargo xtask s3 stop` first",
            pid.trim()
        );
    }
    let data = dir.map_or_else(|| state.join("data"), Path::to_path_buf);
    std::fs::create_dir_all(data.join(BUCKET))?;
    let addr_file = state.join("addr");
    let _ = std::fs::remove_file(&addr_file);
    let log = std::fs::File::create(state.join("log"))?;
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["s3", "serve", "--port", &port.to_string(), "--dir"])
        .arg(&data)
        .arg("--addr-file")
        .arg(&addr_file)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let child = cmd.spawn().context("starting the server")?;
    std::fs::write(&pid_file, child.id().to_string())?;
    let started = Instant::now();
    let addr = loop {
        if let Ok(a) = std::fs::read_to_string(&addr_file)
            && !a.trim().is_empty()
        {
            break a.trim().to_string();
        }
        if started.elapsed() > Duration::from_secs(20) {
            bail!(
                "the server did not start; see {}",
                state.join("log").display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!(
        "s3s-fs on http://{addr} (pid {}), data in {}; `cargo xtask s3 stop` ends it",
        child.id(),
        data.display()
    );
    println!("export CST_REMOTE_URL=s3://{BUCKET}/dev");
    println!("export AWS_ENDPOINT_URL=http://{addr}");
    println!("export AWS_ACCESS_KEY_ID={ACCESS_KEY}");
    println!("export AWS_SECRET_ACCESS_KEY={SECRET_KEY}");
    println!("export AWS_REGION=us-east-1");
    println!("export AWS_ALLOW_HTTP=true");
    Ok(true)
}

/// Stops the server `start` started.
pub(crate) fn stop() -> Result<bool> {
    let state = state_dir();
    let pid_file = state.join("pid");
    let Ok(pid) = std::fs::read_to_string(&pid_file) else {
        eprintln!("not running (no {})", pid_file.display());
        return Ok(true);
    };
    let pid = pid.trim();
    if Path::new(&format!("/proc/{pid}")).exists() {
        let status = Command::new("kill").arg(pid).status()?;
        if !status.success() {
            bail!("kill {pid} failed");
        }
    }
    let _ = std::fs::remove_file(&pid_file);
    let _ = std::fs::remove_file(state.join("addr"));
    eprintln!("stopped (pid {pid})");
    Ok(true)
}

/// Runs the server in the foreground until killed.
pub(crate) fn serve(dir: &Path, port: u16, addr_file: Option<&Path>) -> Result<bool> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder as ConnBuilder;

    std::fs::create_dir_all(dir.join(BUCKET))?;
    let fs = s3s_fs::FileSystem::new(dir).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut b = s3s::service::S3ServiceBuilder::new(fs);
    b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = b.build();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        if let Some(f) = addr_file {
            std::fs::write(f, addr.to_string())?;
        }
        eprintln!("listening on {addr}");
        let http = ConnBuilder::new(TokioExecutor::new());
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let conn = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    })
}
