//! `kakao-sim [--port N] [--config FILE]`: runs the offline Kakao simulator until Ctrl-C/SIGTERM.

use kakao_sim::{Sim, SimConfig};
use std::io::Write;

fn usage() -> ! {
    eprintln!("usage: kakao-sim [--port N] [--config FILE] | --print-demo-config\n  --port N       port on 127.0.0.1 (default 0 = any free port)\n  --config FILE  TOML config (default: the built-in demo app and users)");
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut port: u16 = 0;
    let mut config: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" | "-p" => {
                port = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--config" | "-c" => config = Some(args.next().unwrap_or_else(|| usage())),
            "--help" | "-h" => usage(),
            "--print-demo-config" => {
                print!("{}", SimConfig::demo().to_toml_string());
                return Ok(());
            }
            other => {
                if let Some(v) = other.strip_prefix("--port=") {
                    port = v.parse().unwrap_or_else(|_| usage());
                } else if let Some(v) = other.strip_prefix("--config=") {
                    config = Some(v.to_string());
                } else {
                    usage()
                }
            }
        }
    }
    let cfg = match &config {
        Some(path) => SimConfig::from_file(path)?,
        None => SimConfig::demo(),
    };
    let sim = Sim::start_on(cfg, port).await?;
    let mut out = std::io::stdout();
    writeln!(out, "kakao-sim listening on {}", sim.base_url())?;
    out.flush()?;
    if config.is_none() {
        eprintln!("kakao-sim: demo app client_id=sandbox-rest-api-key, users full@/noemail@/nonick@/notalk@kakao.test, password demo1234");
    }
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
