"""A Host on a qemu+ssh:// URI, for real: libvirt's ssh transport through an sshd the
test starts on the loopback address, to the real libvirtd of this machine.

The fixture leaves the machine's own ssh set-up alone: host key, client keys,
authorized_keys, sshd_config and pid file live in a pytest tmp dir, and sshd listens on
127.0.0.1 on a free port (root login by key only). libvirt's ``ssh`` transport runs the
OpenSSH client, which keeps host keys in ``~/.ssh/known_hosts`` whatever the URI says
(libvirt's ``known_hosts`` parameter only reaches its libssh/libssh2 transports), so the
URI's ``command`` parameter names a wrapper in the tmp dir that points the client at a
known_hosts file there and reads no ssh configuration. ``keyfile`` and ``no_verify`` are
libvirt's own parameters. A missing or failing sshd fails the tests, never skips them.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import libvirt_host as qemu  # the real libvirtd's helpers (tests/ is on pytest's pythonpath)
import pytest

import devframe
from devframe.agent import LIFECYCLE, Event, Host, HostUnavailableError

URI: str = qemu.URI
PREFIX = f"{qemu.PREFIX}ssh-"
SSHD = "/usr/sbin/sshd"  # sshd re-executes itself: it must be started by absolute path

pytestmark = pytest.mark.libvirtd


@dataclass(frozen=True)
class Sshd:
    port: int
    directory: Path
    key: Path  #: in authorized_keys
    wrong_key: Path  #: generated the same way, not in authorized_keys
    ssh_command: Path  #: the ssh client wrapper libvirt runs (URI parameter ``command``)
    log: Path

    def uri(self, key: Path) -> str:
        query = f"keyfile={quote(str(key))}&no_verify=1&command={quote(str(self.ssh_command))}"
        return f"qemu+ssh://root@127.0.0.1:{self.port}/system?{query}"


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _keygen(path: Path) -> None:
    result = _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path))
    if result.returncode:
        pytest.fail(f"ssh-keygen {path.name} failed: {result.stderr.strip()}")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def sshd(libvirtd: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    for tool in (SSHD, "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (Debian packages openssh-server, openssh-client; scripts/bootstrap)")
    if shutil.which("virt-ssh-helper") is None and shutil.which("nc") is None:
        pytest.fail("neither virt-ssh-helper nor nc: libvirt's ssh transport has nothing to run on the server side")
    directory = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "client_key", "wrong_key"):
        _keygen(directory / name)
    shutil.copy(directory / "client_key.pub", directory / "authorized_keys")
    port = _free_port()
    config = directory / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\n"
        f"Port {port}\n"
        f"HostKey {directory / 'host_key'}\n"
        f"AuthorizedKeysFile {directory / 'authorized_keys'}\n"
        f"PidFile {directory / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "StrictModes no\n"  # the tmp dir's modes are not sshd's business here
        "UsePAM no\n"
        "LogLevel VERBOSE\n"
    )
    known_hosts = directory / "known_hosts"
    ssh_command = directory / "ssh"
    ssh_command.write_text(
        "#!/bin/sh\n"
        "# libvirt's ssh transport runs this instead of ssh: host keys go to the tmp dir,\n"
        "# never ~/.ssh; no ssh configuration is read; only the URI's keyfile is offered.\n"
        f"exec {shlex.quote(str(shutil.which('ssh')))} -F none"
        f" -o UserKnownHostsFile={shlex.quote(str(known_hosts))} -o GlobalKnownHostsFile=/dev/null"
        ' -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 "$@"\n'
    )
    ssh_command.chmod(0o755)
    # The privilege separation directory a packaged sshd service would create.
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    check = _run(SSHD, "-t", "-f", str(config))
    if check.returncode:
        pytest.fail(f"sshd refuses {config}: {check.stderr.strip()}")
    log = directory / "sshd.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL, stdout=handle, stderr=handle
        )
    try:
        deadline = time.monotonic() + 15
        while not _accepts(port):
            if process.poll() is not None:
                pytest.fail(f"sshd exited with status {process.returncode}: {log.read_text().strip()}")
            if time.monotonic() > deadline:
                pytest.fail(f"sshd does not accept connections on 127.0.0.1:{port} after 15 s: {log.read_text()}")
            time.sleep(0.05)
        yield Sshd(port, directory, directory / "client_key", directory / "wrong_key", ssh_command, log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        for line in _run("virsh", "-c", URI, "list", "--all", "--name").stdout.split():
            if line.startswith(PREFIX):
                _run("virsh", "-c", URI, "destroy", line)
                _run("virsh", "-c", URI, "undefine", line)


@pytest.fixture
def hosts(sshd: Sshd) -> Iterator[tuple[Host, Host]]:
    local, remote = Host(URI), Host(sshd.uri(sshd.key), reconnect_timeout=10, backoff=(0.05, 0.5))
    yield local, remote
    local.close()
    remote.close()


def _wait_for(events: list[Event], predicate: Callable[[Event], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(predicate(e) for e in list(events)):
            return True
        time.sleep(0.02)
    return False


def _devices(domain: devframe.Domain) -> list[tuple[str, str | None]]:
    return [(d.dev_type, d.alias) for d in domain.devices]


def test_ssh_host_defines_starts_reads_back_and_undefines(sshd: Sshd, hosts: tuple[Host, Host]) -> None:
    local, remote = hosts
    assert remote._is_remote() and not local._is_remote()
    facts = remote.facts(cpu_interval=0.01)
    local_facts = local.facts(cpu_interval=0.01)
    assert facts["uri"] == remote.uri and facts["hypervisor"] == "QEMU"
    for key in ("hostname", "cpus", "cpu_model", "hypervisor_version", "memory_total"):
        assert facts[key] == local_facts[key], key
    # It went through the test's sshd, with the authorized key: not some other route.
    assert "Accepted publickey for root from 127.0.0.1" in sshd.log.read_text()
    assert (sshd.directory / "known_hosts").stat().st_size > 0  # the host key went there, not to ~/.ssh

    name = f"{PREFIX}{uuid.uuid4().hex[:8]}"
    domain = devframe.parse_domain(qemu.tiny_domain_xml(name))
    nic = domain.add(
        devframe.device_from_spec(
            {
                "type": "interface",
                "device": "user",
                "macAddr": "52:54:00:5e:00:01",
                "nicModel": "virtio",
                "deviceId": str(uuid.uuid4()),
            }
        )
    )
    sound = domain.add(devframe.device_from_spec({"type": "sound", "device": "ich9", "deviceId": str(uuid.uuid4())}))
    ours = [("interface", nic.alias), ("sound", sound.alias)]
    assert all(alias and alias.startswith("ua-") for _, alias in ours)

    events: list[Event] = []
    remote.subscribe(events.append, (LIFECYCLE,))
    start = time.monotonic()
    guest = remote.create_guest(domain)
    try:
        assert guest.host is remote and guest.is_active()
        assert time.monotonic() - start < 30
        assert _wait_for(
            events, lambda e: e.kind == LIFECYCLE and e.uuid == guest.uuid and e.detail["event"] == "started"
        )
        # Read back over ssh (a fresh lookup, live and persistent) and locally: the same devices.
        for inactive in (False, True):
            over_ssh = remote.guest(name).domain(inactive=inactive)
            seen_locally = local.guest(name).domain(inactive=inactive)
            assert _devices(over_ssh) == _devices(seen_locally), inactive
            for dev_type, alias in ours:
                found = over_ssh.find(alias=alias)
                assert [d.dev_type for d in found] == [dev_type], (inactive, alias)
        live_nic = remote.guest(name).domain().find(alias=nic.alias)[0]
        assert live_nic.address is not None and live_nic.address["type"] == "pci"  # assigned by libvirt

        # Per-device metadata through libvirt's metadata API, over ssh.
        tracked_nic = guest.domain().find(alias=nic.alias)[0]
        assert tracked_nic.metadata.get("network") is None
        tracked = guest.tracked.find(alias=nic.alias)[0]
        tracked.metadata["network"] = "ovirtmgmt"
        tracked.metadata["portMirroring"] = ["net1", "net2"]
        guest.save_metadata()
        for reader in (remote, local):
            for inactive in (False, True):
                found = reader.guest(name).domain(inactive=inactive).find(alias=nic.alias)
                assert found, (reader.uri, inactive)
                assert found[0].metadata["network"] == "ovirtmgmt"
                assert found[0].metadata["portMirroring"] == ["net1", "net2"]
    finally:
        guest.destroy()
    assert name not in {g.name for g in remote.guests()}
    assert name not in {g.name for g in local.guests()}
    assert _wait_for(
        events, lambda e: e.kind == LIFECYCLE and e.uuid == guest.uuid and e.detail["event"] == "undefined"
    )


def test_ssh_key_not_authorized_is_host_unavailable(sshd: Sshd) -> None:
    uri = sshd.uri(sshd.wrong_key)
    host = Host(uri, reconnect_timeout=1, backoff=(0.05, 0.2))
    start = time.monotonic()
    try:
        with pytest.raises(HostUnavailableError) as raised:
            host.guests()
    finally:
        host.close()
    elapsed = time.monotonic() - start
    assert uri in str(raised.value) and raised.value.uri == uri and raised.value.operation == "list domains"
    assert "Permission denied (publickey)" in str(raised.value)  # refused by sshd, not unreachable otherwise
    assert elapsed < 15, elapsed
    # sshd saw the key and refused it: the failure is the authentication, nothing else.
    fingerprint = _run("ssh-keygen", "-l", "-f", f"{sshd.wrong_key}.pub").stdout.split()[1]
    log = sshd.log.read_text().splitlines()
    assert any(fingerprint in line for line in log if line.startswith("Failed publickey for root")), log
    assert not any(fingerprint in line for line in log if line.startswith("Accepted")), log
