"""Issue 19 item 5: what every command does the same way.

``-c/--connect`` and ``$LIBVIRT_DEFAULT_URI`` on every command that talks to libvirt;
``run`` on the test driver says so; tables fit the terminal (``--wide`` shows all);
colour only on a terminal; ``--json`` everywhere; shell completion; ``python -m
devframe``; progress on stderr; Ctrl-C exits 130 with one line. Mostly through the
installed program, with real terminals (``pty``) and real signals.
"""

from __future__ import annotations

import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devframe.cli import COMMANDS, _load_builtin
from devframe.cli.connect import ENV_URI, is_test_driver, resolve_uri
from devframe.cli.output import ELLIPSIS, fit, render_table
from devframe.cli.progress import Progress

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "domain.xml"
ENGINE_EXAMPLE = REPO / "examples" / "engine-domain.xml"
DEVFRAME = Path(sys.executable).with_name("devframe")
#: commands that talk to libvirt (the others read files only)
LIBVIRT_COMMANDS = ("run", "monitor", "edit", "tree")


def env(**extra: str) -> dict[str, str]:
    """This process's environment without DEVFRAME_*, COLUMNS, NO_COLOR or a default URI."""
    drop = ("COLUMNS", "NO_COLOR", ENV_URI)
    base = {k: v for k, v in os.environ.items() if not k.startswith("DEVFRAME_") and k not in drop}
    return {**base, **extra}


def devframe(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    options: dict[str, object] = {"capture_output": True, "text": True, "timeout": 120, "env": env(), "cwd": REPO}
    options.update(kw)
    return subprocess.run([str(DEVFRAME), *args], **options)  # type: ignore[call-overload,no-any-return]


# -- tables fit the terminal ------------------------------------------------------------------


def test_inspect_fits_80_columns_and_wide_shows_everything() -> None:
    narrow = devframe("inspect", str(EXAMPLE), env=env(COLUMNS="80"))
    assert narrow.returncode == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert len(lines) == 2 + 36  # title, header, one line per device
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    cut = [line for line in lines if line.endswith(ELLIPSIS)]
    assert cut, "the example's long lines were not cut"
    wide = devframe("inspect", "--wide", str(EXAMPLE), env=env(COLUMNS="80"))
    assert max(len(line) for line in wide.stdout.splitlines()) > 300
    assert ELLIPSIS not in wide.stdout
    # Same rows, same order: only the cells were cut.
    assert [line.split()[0] for line in lines] == [line.split()[0] for line in wide.stdout.splitlines()]


def test_a_pipe_without_columns_is_never_cut() -> None:
    piped = devframe("inspect", str(EXAMPLE))
    assert ELLIPSIS not in piped.stdout
    assert piped.stdout == devframe("inspect", "--wide", str(EXAMPLE)).stdout


def test_inspect_on_a_terminal_fits_the_terminals_width() -> None:
    out = _on_terminal(["inspect", str(EXAMPLE)], stdout_too=True, columns=60)
    lines = [line for line in out.replace("\r", "").splitlines() if line]
    assert len(lines) == 38 and max(len(line) for line in lines) <= 60, max(lines, key=len)


def test_render_table_cuts_the_widest_columns_first() -> None:
    rows = [("disk", "ua-" + "a" * 37, "name=vda " + "x" * 100), ("rng", "", "model=virtio")]
    lines = render_table(rows, ("DEV_TYPE", "ALIAS", "KEY FIELDS"), width=50)
    assert all(len(line) <= 50 for line in lines)
    assert lines[0].startswith("DEV_TYPE  ALIAS")
    assert lines[1].startswith("disk      ua-aaaa") and ELLIPSIS in lines[1]
    assert lines[2].split() == ["rng", "model=virtio"]
    # Both long columns gave up room; the short one kept its width.
    alias_width = lines[0].index("KEY FIELDS") - lines[0].index("ALIAS") - 2
    assert 10 < alias_width < 40
    assert render_table(rows, ("DEV_TYPE", "ALIAS", "KEY FIELDS"), width=50, wide=True)[1].endswith("x" * 100)
    assert fit("abcdef", 4) == "abc" + ELLIPSIS and fit("abc", 4) == "abc" and fit("abc", None) == "abc"


# -- -c/--connect, LIBVIRT_DEFAULT_URI, the test driver ----------------------------------------


@pytest.mark.parametrize("name", LIBVIRT_COMMANDS)
def test_every_command_that_talks_to_libvirt_takes_c_and_connect(name: str) -> None:
    command = _load_builtin(name)
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert {"-c", "--connect"} <= options, (name, options)
    assert any(ENV_URI in (getattr(param, "help", None) or "") for param in command.params), name


def test_resolve_uri_prefers_the_option_then_the_environment_then_the_fallback() -> None:
    assert resolve_uri("qemu:///system", "test:///default", env={ENV_URI: "qemu:///session"}) == "qemu:///system"
    assert resolve_uri(None, "test:///default", env={ENV_URI: "qemu:///session"}) == "qemu:///session"
    assert resolve_uri(None, "test:///default", env={ENV_URI: "  "}) == "test:///default"
    assert resolve_uri(None, None, env={}) is None
    assert is_test_driver("test:///default") and is_test_driver("TEST:///tmp/node.xml")
    assert not is_test_driver("qemu+ssh://root@h/system")


def _node_file(tmp_path: Path) -> str:
    """A libvirt test-driver node of our own: a URI no default could produce."""
    node = tmp_path / "node.xml"
    node.write_text(
        "<node><domain type='test'><name>from-env</name><memory>65536</memory>"
        "<os><type>hvm</type></os><devices/></domain></node>"
    )
    return f"test://{node}"


def test_monitor_honours_libvirt_default_uri_and_c_overrides_it(tmp_path: Path) -> None:
    uri = _node_file(tmp_path)
    from_env = devframe("monitor", "--json", "--count", "1", env=env(**{ENV_URI: uri}))
    assert from_env.returncode == 0, from_env.stderr
    assert json.loads(from_env.stdout) == {"type": "watching", "uri": uri}
    given = devframe("monitor", "-c", "test:///default", "--json", "--count", "1", env=env(**{ENV_URI: uri}))
    assert json.loads(given.stdout) == {"type": "watching", "uri": "test:///default"}
    fallback = devframe("monitor", "--connect", "test:///default", "--uri", uri, "--json", "--count", "2")
    assert [json.loads(line)["uri"] for line in fallback.stdout.splitlines()] == ["test:///default", uri]


def test_run_on_the_test_driver_says_so_loudly_on_stderr() -> None:
    out = devframe("run", str(ENGINE_EXAMPLE), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["uri"] == "test:///default"  # stdout stays pure JSON
    (warning,) = [line for line in out.stderr.splitlines() if "WARNING" in line]
    assert "test:///default" in warning and "test driver" in warning and "no VM runs" in warning
    assert "-c qemu:///system" in warning


def test_run_uses_libvirt_default_uri(tmp_path: Path) -> None:
    uri = _node_file(tmp_path)
    out = devframe("run", str(ENGINE_EXAMPLE), "--json", env=env(**{ENV_URI: uri}))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["uri"] == uri and "WARNING" in out.stderr


# -- colour only on a terminal ----------------------------------------------------------------


def _on_terminal(
    args: list[str], *, stdout_too: bool = False, columns: int | None = None, extra_env: dict[str, str] | None = None
) -> str:
    """Run devframe with stderr (and ``stdout_too``: stdout) on a real pseudo-terminal;
    return what the terminal received."""
    master, slave = pty.openpty()
    if columns is not None:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        [str(DEVFRAME), *args],
        stdout=slave if stdout_too else subprocess.DEVNULL,
        stderr=slave,
        env=env(**(extra_env or {})),
        cwd=REPO,
    )
    os.close(slave)
    received = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            process.kill()
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer closed its end
            break
        if not chunk:
            break
        received += chunk
    process.wait(timeout=60)
    os.close(master)
    return received.decode("utf-8", "replace")


def test_colour_on_a_terminal_only_and_never_with_no_color() -> None:
    args = ["run", str(ENGINE_EXAMPLE), "--json"]
    terminal = _on_terminal(args)
    assert "WARNING" in terminal and "\x1b[" in terminal
    assert "\x1b[" not in devframe(*args).stderr
    assert "\x1b[" not in _on_terminal(args, extra_env={"NO_COLOR": "1"})


# -- --json on every command, completion, python -m devframe ----------------------------------


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_json(name: str) -> None:
    command = _load_builtin(name)
    assert any("--json" in getattr(param, "opts", []) for param in command.params), name


def test_rebuild_and_legacy_json() -> None:
    rebuilt = json.loads(devframe("rebuild", "--json", str(EXAMPLE)).stdout)
    assert rebuilt["name"] == "web-frontend-01" and rebuilt["xml"].count("<disk ") == 4
    conf = json.dumps({"vmName": "v", "vmId": "5f0c2a4e-8d1b-4c3a-9e7f-2b6d4a1c0e93", "soundDevice": "ich6"})
    as_xml = devframe("legacy", "-", "--arch", "x86_64", "--xml", "--json", input=conf)
    assert as_xml.returncode == 0, as_xml.stderr
    assert "<sound " in json.loads(as_xml.stdout)["xml"]


def test_shell_completion_as_documented() -> None:
    script = devframe(env=env(_DEVFRAME_COMPLETE="bash_source"))
    assert script.returncode == 0 and "_devframe_completion" in script.stdout
    words = devframe(env=env(_DEVFRAME_COMPLETE="bash_complete", COMP_WORDS="devframe ins", COMP_CWORD="1"))
    assert words.stdout.split() == ["plain,inspect"]
    options = devframe(env=env(_DEVFRAME_COMPLETE="bash_complete", COMP_WORDS="devframe tree --f", COMP_CWORD="2"))
    assert "plain,--format" in options.stdout.split()


def test_python_dash_m_devframe() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "devframe", "inspect", "--json", str(EXAMPLE)],
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["disk"]) == 4
    usage = subprocess.run([sys.executable, "-m", "devframe", "--help"], capture_output=True, text=True, env=env())
    assert usage.stdout.startswith("Usage: devframe ")


# -- progress -------------------------------------------------------------------------------------


class Terminal(io.StringIO):
    """A text stream that says it is a terminal (Progress only draws on one)."""

    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_and_erases_itself() -> None:
    screen = Terminal()
    with Progress("parsing", total=3, stream=screen, delay=0.0, interval=0.01) as progress:
        for _ in range(3):
            progress.advance()
            time.sleep(0.05)
    drawn = screen.getvalue()
    assert "devframe: parsing 3/3" in drawn
    assert drawn.endswith("\r\x1b[K")  # the line is gone: what follows starts clean


def test_progress_is_silent_off_a_terminal_and_for_quick_work() -> None:
    log = io.StringIO()
    with Progress("parsing", stream=log, delay=0.0, interval=0.01):
        time.sleep(0.05)
    assert log.getvalue() == ""
    screen = Terminal()
    with Progress("parsing", stream=screen, delay=5.0):
        pass
    assert screen.getvalue() == ""


# -- Ctrl-C ---------------------------------------------------------------------------------------


@pytest.fixture
def sigint_reaches_children() -> Iterator[None]:
    """Children started meanwhile get SIGINT at its default disposition. A suite started in
    the background (``cmd &`` without job control, nohup) ignores SIGINT, children inherit
    that, and Python then installs no KeyboardInterrupt handler: Ctrl-C could not be tested.
    A handler set here is reset to the default by exec; an ignored signal is not."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _interrupt(args: list[str], ready: str) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [str(DEVFRAME), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(), cwd=REPO
    )
    assert process.stdout is not None
    seen = process.stdout.readline()
    assert ready in seen, seen
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    return process, seen + stdout, stderr


@pytest.mark.usefixtures("sigint_reaches_children")
def test_ctrl_c_exits_130_with_one_line() -> None:
    process, stdout, stderr = _interrupt(["monitor", "-c", "test:///default", "--interval", "60"], "watching")
    assert process.returncode == 130, (stdout, stderr)
    assert stderr == "devframe: interrupted\n"


@pytest.mark.usefixtures("sigint_reaches_children")
def test_ctrl_c_stops_a_long_validation_and_its_child(tmp_path: Path) -> None:
    from devframe.testing import wrap_in_domain

    attributes = (
        'name="qemu" type="qcow2" cache="none" error_policy="stop" rerror_policy="stop" io="native" '
        'ioeventfd="on" event_idx="on" copy_on_read="on" discard="unmap" iothread="1" detect_zeroes="on" '
        'queues="4" queue_size="256" iommu="on" ats="on" packed="on" page_per_vq="on"'
    )
    slow = tmp_path / "slow.xml"  # valid, and minutes of libxml2's time (tests/test_schema_timeout.py)
    slow.write_text(
        wrap_in_domain(
            f'<disk type="file" device="disk"><driver {attributes}/><source file="/x.img"/>'
            '<target dev="vda" bus="virtio"/></disk>'
        )
    )
    process = subprocess.Popen(
        [str(DEVFRAME), "validate", str(slow)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env()
    )
    children: list[str] = []
    deadline = time.monotonic() + 30
    while not children and time.monotonic() < deadline:  # wait until the validating child runs
        time.sleep(0.1)
        found = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True)
        children = found.stdout.split()
    assert children, "validate never forked its validating child"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and stderr == "devframe: interrupted\n", stderr
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
