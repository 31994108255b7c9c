"""The real libvirtd the agent tests run against: how to start it, and small helpers.

Shared by test_agent_qemu.py, test_agent_remote.py, test_agent_faults.py and
test_agent_ssh.py (``tests`` is on pytest's pythonpath); tests/conftest.py exposes the
session fixture ``libvirtd``, which starts virtlogd and libvirtd when they are not
running (as the CI does) and fails loudly when it cannot.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import devframe

URI = "qemu:///system"
TCP_URI = "qemu+tcp://127.0.0.1/system"
PREFIX = "dftest-"
PIDFILE = Path("/run/libvirtd.pid")
#: libvirtd as scripts/test starts it: also listening on 127.0.0.1:16509, plain TCP (see the file)
LIBVIRTD_CONF = Path(__file__).resolve().parent.parent / ".ci" / "libvirtd.conf"
LIBVIRTD = ("libvirtd", "-d", "--listen", "-f", str(LIBVIRTD_CONF))
WORK = Path("/var/tmp/devframe-agent-tests")
OVIRT = "http://ovirt.org/vm/1.0"


def run_command(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def _libvirtd_answers(timeout: float, uri: str = URI) -> bool:
    import libvirt

    libvirt.registerErrorHandler(lambda *_: None, None)
    deadline = time.monotonic() + timeout
    while True:
        try:
            libvirt.open(uri).close()
            return True
        except libvirt.libvirtError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


def libvirtd_pid() -> int | None:
    """The running libvirtd's pid, or None."""
    try:
        pid = int(PIDFILE.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def start_libvirtd() -> None:
    """Start libvirtd (with .ci/libvirtd.conf) unless it runs; wait until it answers."""
    if libvirtd_pid() is None:
        result = run_command(*LIBVIRTD)
        if result.returncode != 0:
            pytest.fail(f"cannot start libvirtd: {result.stderr.strip()}")
    if not _libvirtd_answers(30):
        pytest.fail(f"libvirtd does not answer on {URI} after 30 s")


def start_libvirtd_with_tcp() -> None:
    """Make sure libvirtd also answers on qemu+tcp://127.0.0.1; restart it with
    .ci/libvirtd.conf when it runs without TCP (and leave it running)."""
    start_libvirtd()
    if _libvirtd_answers(0, TCP_URI):
        return
    stop_libvirtd()
    start_libvirtd()
    if not _libvirtd_answers(30, TCP_URI):
        pytest.fail(f"libvirtd started with {LIBVIRTD_CONF} does not answer on {TCP_URI}")


def stop_libvirtd() -> None:
    pid = int(PIDFILE.read_text().strip())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), "libvirtd did not stop"


@pytest.fixture(scope="session")
def libvirtd() -> Iterator[None]:
    try:
        import libvirt  # noqa: F401
    except ImportError:
        pytest.fail("libvirt-python is not installed (uv pip install libvirt-python)")
    for tool in ("libvirtd", "virtlogd", "qemu-system-x86_64"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (libvirt-daemon-driver-qemu, qemu-system-x86)")
    if os.geteuid() != 0:
        pytest.fail("the QEMU tests start libvirtd and need root")
    for directory in ("/var/log/libvirt", "/var/lib/libvirt"):
        os.makedirs(directory, exist_ok=True)
    if run_command("getent", "group", "kvm").returncode:
        run_command("groupadd", "-r", "kvm")
    if run_command("getent", "group", "libvirt-qemu").returncode:
        run_command("groupadd", "-r", "libvirt-qemu")
    if run_command("id", "libvirt-qemu").returncode:
        run_command(
            "useradd",
            "-r",
            "-g",
            "libvirt-qemu",
            "-G",
            "kvm",
            "-d",
            "/var/lib/libvirt",
            "-s",
            "/usr/sbin/nologin",
            "libvirt-qemu",
        )
    if Path("/dev/kvm").exists():
        # A /dev/kvm the qemu user cannot open makes libvirt discard its cached QEMU
        # capabilities on every start (36 s per guest here); give it to group kvm.
        run_command("chgrp", "kvm", "/dev/kvm")
        os.chmod("/dev/kvm", 0o660)
    if run_command("pgrep", "-x", "virtlogd").returncode:
        result = run_command("virtlogd", "-d")
        if result.returncode:
            pytest.fail(f"cannot start virtlogd: {result.stderr.strip()}")
    start_libvirtd()
    WORK.mkdir(exist_ok=True)
    os.chmod(WORK, 0o755)  # qemu runs as libvirt-qemu and must reach the disk images
    yield
    _cleanup_domains()
    shutil.rmtree(WORK, ignore_errors=True)


def _cleanup_domains() -> None:
    import libvirt

    try:
        conn = libvirt.open(URI)
    except libvirt.libvirtError:
        return
    for dom in conn.listAllDomains():
        if dom.name().startswith(PREFIX):
            try:
                if dom.isActive():
                    dom.destroy()
                if dom.isPersistent():
                    dom.undefine()
            except libvirt.libvirtError:
                pass
    conn.close()


def tiny_domain_xml(name: str, *, devices: str = "", metadata: str = "", extra: str = "") -> str:
    return f"""<domain type='qemu' xmlns:ovirt-vm='{OVIRT}'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  {metadata}
  {extra}
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    {devices}
  </devices>
</domain>"""


def nic(mac: str) -> devframe.Device:
    return devframe.device_from_spec({"type": "interface", "device": "user", "macAddr": mac, "nicModel": "virtio"})


def disk_image(name: str, size: int = 1 << 20) -> Path:
    path = WORK / name
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path
