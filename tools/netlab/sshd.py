"""One sshd per router namespace, everything it needs generated under the state directory."""

from __future__ import annotations

from pathlib import Path

from .system import run

SSHD = "/usr/sbin/sshd"  # sshd re-execs itself and insists on an absolute path
PRIVSEP_DIR = Path("/run/sshd")  # compiled into Debian's sshd; normally created by the ssh service

CONFIG = """\
# netlab sshd for router {router}: management address only, root by key, nothing from /etc/ssh.
ListenAddress {address}:22
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized_keys}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The state directory may live under /tmp, which StrictModes would reject.
StrictModes no
UseDNS no
PrintMotd no
# Drop sessions whose client vanished (the lab is torn down under live ControlPersist connections).
ClientAliveInterval 5
ClientAliveCountMax 2
Subsystem sftp internal-sftp
LogLevel ERROR
"""


def keygen(path: Path) -> Path:
    """Create an ed25519 key pair at path (once)."""
    if not path.exists():
        run(
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "netlab",
            "-f",
            str(path),
        )
    return path


def client_files(ssh_dir: Path) -> dict[str, Path]:
    """The client key, authorized_keys and known_hosts shared by every router of the lab."""
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = keygen(ssh_dir / "id_ed25519")
    authorized = ssh_dir / "authorized_keys"
    authorized.write_text(key.with_suffix(".pub").read_text())
    known_hosts = ssh_dir / "known_hosts"
    known_hosts.write_text("")  # start clean on every `up`
    return {"key": key, "authorized_keys": authorized, "known_hosts": known_hosts}


def write_config(state_dir: Path, router: str, address: str) -> tuple[Path, Path]:
    """Write the router's sshd config (and host key); return the config and PidFile paths.

    sshd writes its PidFile once it listens, so the PidFile appearing means "ready".
    """
    ssh_dir = state_dir / "ssh"
    config = state_dir / f"sshd-{router}.conf"
    pid_file = state_dir / "run" / f"sshd-{router}.pid"
    pid_file.unlink(missing_ok=True)
    config.write_text(
        CONFIG.format(
            router=router,
            address=address,
            host_key=keygen(ssh_dir / f"host-{router}_ed25519"),
            pid_file=pid_file,
            authorized_keys=ssh_dir / "authorized_keys",
        )
    )
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    return config, pid_file


def argv(config: Path) -> list[str]:
    """Foreground sshd (-D) logging to stderr (-e), so the recorded PID is the listener itself."""
    return [SSHD, "-D", "-e", "-f", str(config)]
