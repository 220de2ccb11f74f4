//! The `open_data` setting (flag `--open-data`, `TROC_OPEN_DATA`, `open_data` in the TOML
//! file): off by default, shown by `troc config`, and honoured by `troc serve`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn troc() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_troc"));
    for (name, _) in std::env::vars() {
        if name.starts_with("TROC_") {
            command.env_remove(name);
        }
    }
    command
}

fn config_output(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn troc_config_shows_the_open_data_setting_and_its_source() {
    let text = config_output(troc().arg("config"));
    assert!(text.contains("open_data = \"false\"  # default"), "{text}");
    let text = config_output(troc().arg("config").env("TROC_OPEN_DATA", "true"));
    assert!(
        text.contains("open_data = \"true\"  # environment"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("troc.toml");
    std::fs::write(&file, "open_data = true\n").unwrap();
    let text = config_output(troc().args(["config", "--config"]).arg(&file));
    assert!(text.contains("open_data = \"true\"  # file"), "{text}");
}

/// The status line of `GET path` on a local server, retried until it answers (bounded).
fn status_of(port: u16, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            stream.write_all(request.as_bytes()).unwrap();
            let mut response = String::new();
            let _ = stream.read_to_string(&mut response);
            if let Some(line) = response.lines().next() {
                return line.to_owned();
            }
        }
        assert!(Instant::now() < deadline, "the server did not answer");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(dir: &std::path::Path, port: u16, open_data: bool) -> std::process::Child {
    let mut command = troc();
    command
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .arg("--database-url")
        .arg(format!("sqlite://{}", dir.join("troc.db").display()))
        .arg("--key-file")
        .arg(dir.join("network.key"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if open_data {
        command.arg("--open-data");
    }
    command.spawn().unwrap()
}

#[test]
fn troc_serve_publishes_open_data_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    for (open_data, expected) in [(false, "404"), (true, "200")] {
        let port = free_port();
        let mut server = serve(dir.path(), port, open_data);
        let status = status_of(port, "/open-data");
        server.kill().unwrap();
        server.wait().unwrap();
        assert!(status.contains(expected), "open_data={open_data}: {status}");
    }
}
