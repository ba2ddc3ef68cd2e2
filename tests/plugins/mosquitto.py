"""A private Mosquitto for tests: a login (password file) and no in-flight/queue caps.

The shared broker on 127.0.0.1:1883 allows anonymous clients and keeps Mosquitto's
defaults (20 unacknowledged messages in flight per client, 1,000 queued), so tests of
logins and of at-least-once delivery at volume start their own on a free port.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER, PASSWORD = "fustgo", "s3cret"


@dataclass
class Mosquitto:
    port: int
    process: subprocess.Popen[bytes]
    directory: Path
    user: str = USER
    password: str = PASSWORD

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_mosquitto() -> Mosquitto:
    directory = Path(tempfile.mkdtemp(prefix="fg-mosquitto-"))
    directory.chmod(0o755)  # mosquitto started as root reads its files as user `mosquitto`
    passwords = directory / "passwd"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), USER, PASSWORD],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    config = directory / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous false\n"
        f"password_file {passwords}\n"
        "max_inflight_messages 0\n"
        "max_queued_messages 0\n"
        "persistence false\n"
    )
    process = subprocess.Popen(
        ["mosquitto", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                shutil.rmtree(directory, ignore_errors=True)
                raise RuntimeError(f"mosquitto did not start on 127.0.0.1:{port}") from None
            time.sleep(0.1)
    return Mosquitto(port, process, directory)
