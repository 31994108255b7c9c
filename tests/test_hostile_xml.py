"""Issue 2 item 7 / issue 9 item 1: hostile XML gives a DevframeError in bounded time and memory.

Each hostile document is parsed in a child process forked for it by a small fork server
(``python tests/test_hostile_xml.py --worker``), so that a hang is caught by a timeout and the
peak memory of that one parse can be measured (``resource.getrusage``), with an address-space
limit as a last guard. No file is read and no
connection attempted: the local-file cases point at a FIFO (reading it would block) and at a
file holding a unique marker; the URL cases point at a listener on 127.0.0.1 that must see no
connection.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from devframe import DevframeError, ParseLimits, XMLError, load_domain, parse_domain, parse_xml
from devframe.core.safexml import parse_trusted_file, parse_trusted_xml

HERE = Path(__file__).resolve()
TIMEOUT = 60  # generous: a hang, not speed, is what this catches
MIB = 1024 * 1024


# -- the hostile documents ------------------------------------------------------------------------


def billion_laughs() -> str:
    entities = ['<!ENTITY lol0 "lol">']
    for i in range(1, 10):
        entities.append(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">')
    return f'<?xml version="1.0"?><!DOCTYPE domain [{"".join(entities)}]><domain><name>&lol9;</name></domain>'


def quadratic_blowup() -> str:
    big = "A" * 100_000
    return f'<!DOCTYPE domain [<!ENTITY a "{big}">]><domain><name>{"&a;" * 20_000}</name></domain>'


def xxe_file(path: str) -> str:
    return f'<!DOCTYPE domain [<!ENTITY x SYSTEM "file://{path}">]><domain><name>&x;</name></domain>'


def xxe_url(url: str) -> str:
    return f'<!DOCTYPE domain [<!ENTITY x SYSTEM "{url}">]><domain><name>&x;</name></domain>'


def external_dtd(target: str) -> str:
    return f'<?xml version="1.0"?><!DOCTYPE domain SYSTEM "{target}"><domain><name>x</name></domain>'


def external_dtd_public(target: str) -> str:
    return f'<!DOCTYPE domain PUBLIC "-//devframe//hostile//EN" "{target}"><domain/>'


def parameter_entity(target: str) -> str:
    return f'<!DOCTYPE domain [<!ENTITY % p SYSTEM "{target}"> %p;]><domain><name>x</name></domain>'


def parameter_entity_internal() -> str:
    return "<!DOCTYPE domain [<!ENTITY % p \"<!ENTITY x 'boom'>\"> %p;]><domain><name>&x;</name></domain>"


def xinclude(target: str) -> str:
    return (
        '<domain xmlns:xi="http://www.w3.org/2001/XInclude"><name>x</name>'
        f'<devices><xi:include href="{target}" parse="text"/></devices></domain>'
    )


def deep_nesting() -> str:
    depth = 10_000
    return f"<domain><metadata>{'<a>' * depth}{'</a>' * depth}</metadata></domain>"


def big_attribute() -> str:
    return '<domain><devices><disk type="file"><source file="' + "x" * (50 * MIB) + '"/></disk></devices></domain>'


def invalid_utf8() -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n<domain>\n  <name>bad \xff\xfe here</name>\n</domain>\n'


def many_unknown_devices() -> str:
    unit = '<thing{i} kind="k"><alias name="ua-{i}"/></thing{i}>'
    return (
        "<domain><name>many</name><devices>"
        + "".join(unit.format(i=i % 7) for i in range(100_000))
        + "</devices></domain>"
    )


def build(case: str, arg: str) -> str | bytes:
    makers: dict[str, Any] = {
        "billion_laughs": billion_laughs,
        "quadratic_blowup": quadratic_blowup,
        "xxe_file": lambda: xxe_file(arg),
        "xxe_url": lambda: xxe_url(arg),
        "external_dtd": lambda: external_dtd(arg),
        "external_dtd_public": lambda: external_dtd_public(arg),
        "parameter_entity": lambda: parameter_entity(arg),
        "parameter_entity_internal": parameter_entity_internal,
        "xinclude": lambda: xinclude(arg),
        "deep_nesting": deep_nesting,
        "big_attribute": big_attribute,
        "invalid_utf8": invalid_utf8,
        "many_unknown_devices": many_unknown_devices,
    }
    return makers[case]()  # type: ignore[no-any-return]


def _parse_and_report(case: str, arg: str, as_bytes: bool) -> dict[str, Any]:
    """Runs in a forked child: parse one hostile document and describe the outcome."""
    limit = 3 * 1024 * MIB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    data = build(case, arg)
    if as_bytes and isinstance(data, str):
        data = data.encode("utf-8")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report: dict[str, Any] = {}
    try:
        domain = parse_domain(data)
        xml = domain.to_xml()
        report.update(
            outcome="ok",
            devices=len(domain.devices),
            dev_types=sorted(domain.dev_map),
            name=domain.name,
            aliases_ok=all(d.alias == f"ua-{i % 7}" for i, d in enumerate(domain.devices)),
            xml_len=len(xml),
            text=xml[:2000],
        )
    except DevframeError as exc:
        report.update(
            outcome="DevframeError",
            kind=type(exc).__name__,
            message=str(exc),
            line=getattr(exc, "line", None),
            column=getattr(exc, "column", None),
        )
    except BaseException as exc:  # noqa: BLE001 - report, the test fails on it
        report.update(outcome="other", kind=type(exc).__name__, message=repr(exc)[:2000])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report["rss_growth_mib"] = (after - before) / 1024
    return report


def worker() -> None:
    """A fork server: imports devframe and loads the plugins once, forks one child per case.

    Each request is a JSON line ``[case, arg, as_bytes]``; each answer a JSON line. A child
    that does not answer within TIMEOUT (blocked on a FIFO, a socket, ...) is killed and
    reported as ``timeout``.
    """
    import select
    import signal

    from devframe import default_registry

    default_registry()
    for line in sys.stdin:
        case, arg, as_bytes = json.loads(line)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            os.close(read_fd)
            try:
                payload = json.dumps(_parse_and_report(case, arg, as_bytes)).encode()
            except BaseException as exc:  # noqa: BLE001
                payload = json.dumps({"outcome": "other", "kind": type(exc).__name__, "message": repr(exc)}).encode()
            with os.fdopen(write_fd, "wb") as out:
                out.write(payload)
            os._exit(0)
        os.close(write_fd)
        chunks: list[bytes] = []
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while True:
                ready, _, _ = select.select([pipe], [], [], TIMEOUT)
                if not ready:
                    os.kill(pid, signal.SIGKILL)
                    chunks = [json.dumps({"outcome": "timeout"}).encode()]
                    break
                chunk = pipe.read(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        os.waitpid(pid, 0)
        answer = b"".join(chunks) or json.dumps({"outcome": "other", "message": "child died"}).encode()
        sys.stdout.write(answer.decode() + "\n")
        sys.stdout.flush()


Hostile = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    """``hostile(case, arg="", as_bytes=False)``: parse one case in a fresh child, get its report."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE), "--worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=HERE.parent.parent,
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def run(case: str, arg: str = "", *, as_bytes: bool = False) -> dict[str, Any]:
        stdin.write(json.dumps([case, arg, as_bytes]) + "\n")
        stdin.flush()
        line = stdout.readline()
        assert line, f"{case}: the fork server died (exit status {proc.poll()})"
        report: dict[str, Any] = json.loads(line)
        if report["outcome"] == "timeout":
            pytest.fail(f"{case}: parsing did not finish within {TIMEOUT}s (blocked on a file or the network?)")
        return report

    yield run
    stdin.close()
    proc.wait(timeout=TIMEOUT)


def refused(report: dict[str, Any], *needles: str, max_mib: float = 64) -> str:
    assert report["outcome"] == "DevframeError", report
    assert report["kind"] == "XMLError", report
    message: str = report["message"]
    for needle in needles:
        assert needle.lower() in message.lower(), (needle, message)
    assert report["rss_growth_mib"] < max_mib, report
    return message


# -- entity tricks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_billion_laughs(hostile: Hostile, as_bytes: bool) -> None:
    refused(hostile("billion_laughs", as_bytes=as_bytes), "entit")


def test_quadratic_blowup(hostile: Hostile) -> None:
    refused(hostile("quadratic_blowup"), "entit")


def test_internal_parameter_entity(hostile: Hostile) -> None:
    refused(hostile("parameter_entity_internal"), "refused")


# -- local files ------------------------------------------------------------------------------------


@pytest.fixture
def marker_file(tmp_path: Path) -> tuple[Path, str]:
    marker = f"DEVFRAME-SECRET-{uuid.uuid4().hex}"
    path = tmp_path / "secret.txt"
    path.write_text(marker)
    return path, marker


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "blocking-fifo"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("case", ["xxe_file", "external_dtd", "external_dtd_public", "parameter_entity", "xinclude"])
def test_local_file_is_never_read(hostile: Hostile, case: str, marker_file: tuple[Path, str], fifo: Path) -> None:
    path, marker = marker_file
    target = str(path) if case in ("xxe_file", "xinclude") else f"file://{path}"
    report = hostile(case, target)
    assert marker not in json.dumps(report), f"{case}: the file's content leaked"
    if case == "xinclude":
        # No XInclude processing: the element is kept as an unknown device, nothing included.
        assert report["outcome"] == "ok", report
        assert "xi:include" in report["text"]
    else:
        refused(report, "refused")
    # Opening a FIFO for reading blocks until a writer comes: a read attempt hangs the child,
    # which run_case turns into a failure.
    fifo_target = str(fifo) if case in ("xxe_file", "xinclude") else f"file://{fifo}"
    report = hostile(case, fifo_target)
    assert report["outcome"] in ("DevframeError", "ok"), report


# -- network ----------------------------------------------------------------------------------------


@pytest.fixture
def listener() -> Any:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.setblocking(False)
    yield server
    server.close()


def _no_connection(server: socket.socket) -> None:
    try:
        conn, peer = server.accept()
    except BlockingIOError:
        return
    conn.close()
    pytest.fail(f"the parser connected to the listener from {peer}")


@pytest.mark.parametrize("case", ["xxe_url", "external_dtd", "external_dtd_public", "parameter_entity"])
def test_url_is_never_fetched(hostile: Hostile, case: str, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    report = hostile(case, f"http://127.0.0.1:{port}/evil-{case}")
    refused(report, "refused")
    _no_connection(listener)


# -- size, depth, encoding, syntax ---------------------------------------------------------------------


def test_ten_thousand_deep_nesting(hostile: Hostile) -> None:
    message = refused(hostile("deep_nesting"), "depth")
    assert "huge_tree" in message, "the error says which limit and how to lift it"


def test_fifty_megabyte_attribute(hostile: Hostile) -> None:
    report = hostile("big_attribute")
    # The input itself is 50 MiB (twice, as str and UTF-8); the parser must stop at its limit
    # instead of buffering the whole value again.
    refused(report, "limit", max_mib=200)


def test_invalid_utf8(hostile: Hostile) -> None:
    report = hostile("invalid_utf8", as_bytes=True)
    message = refused(report, "encoding")
    assert report["line"] == 3 and report["column"] is not None, report
    assert "line 3" in message
    with pytest.raises(XMLError):
        parse_domain("<domain><name>\udcff</name></domain>")  # a lone surrogate in a str


def test_hundred_thousand_unknown_devices(hostile: Hostile) -> None:
    report = hostile("many_unknown_devices")
    assert report["outcome"] == "ok", report
    assert report["devices"] == 100_000
    assert report["dev_types"] == [f"thing{i}" for i in range(7)]
    assert report["aliases_ok"] is True
    assert report["rss_growth_mib"] < 512, report


@pytest.mark.parametrize(
    ("xml", "line", "column", "needle"),
    [
        ("<domain>\n  <name>x</nam>\n</domain>", 2, None, "mismatch"),
        ("<domain>\n  <devices>\n    <disk type='file'\n  </devices>\n</domain>", 4, None, ""),
        ("<domain><name>a & b</name></domain>", 1, None, ""),
        ("<domain><name>x</name></domain><domain/>", 1, None, "extra content"),
        ("", 1, None, "empty"),
        ("   \n", None, None, ""),
        ("<domain><name>&undefined;</name></domain>", 1, None, "undefined entity"),
    ],
)
def test_malformed_xml_names_line_and_column(xml: str, line: int | None, column: int | None, needle: str) -> None:
    with pytest.raises(XMLError) as caught:
        parse_domain(xml, source="guest.xml")
    error = caught.value
    assert isinstance(error, DevframeError)
    assert str(error).startswith("guest.xml")
    if line is not None:
        assert error.line == line, str(error)
        assert error.column is not None and error.column >= 1, str(error)
        assert f"line {line}, column {error.column}" in str(error)
    assert needle.lower() in str(error).lower()


def test_not_xml_at_all() -> None:
    for data in (b"\x00\x01\x02binary", b"\x89PNG\r\n\x1a\n", "just text"):
        with pytest.raises(XMLError):
            parse_domain(data)
    with pytest.raises(XMLError):
        parse_domain(12345)  # type: ignore[arg-type]


# -- configurable limits -------------------------------------------------------------------------------


SMALL = "<domain><name>small</name><devices><memballoon model='none'/></devices></domain>"


def test_max_bytes_limit_is_configurable() -> None:
    with pytest.raises(XMLError) as caught:
        parse_domain(SMALL, limits=ParseLimits(max_bytes=20))
    assert "limit of 20 bytes" in str(caught.value)
    assert parse_domain(SMALL, limits=ParseLimits(max_bytes=len(SMALL))).name == "small"


def test_max_bytes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEVFRAME_XML_MAX_BYTES", "40")
    with pytest.raises(XMLError, match="limit of 40 bytes"):
        parse_domain(SMALL)
    path = tmp_path / "small.xml"
    path.write_text(SMALL)
    with pytest.raises(DevframeError, match="40 bytes"):
        load_domain(path)
    # Limits passed explicitly win over the environment.
    assert parse_domain(SMALL, limits=ParseLimits(max_bytes=1000)).name == "small"
    monkeypatch.setenv("DEVFRAME_XML_MAX_BYTES", "lots")
    with pytest.raises(XMLError, match="DEVFRAME_XML_MAX_BYTES"):
        parse_domain(SMALL)
    monkeypatch.setenv("DEVFRAME_XML_MAX_BYTES", "-1")
    with pytest.raises(XMLError, match="DEVFRAME_XML_MAX_BYTES"):
        parse_domain(SMALL)
    monkeypatch.delenv("DEVFRAME_XML_MAX_BYTES")
    assert parse_domain(SMALL).name == "small"


def test_huge_tree_lifts_libxml2_depth_limit_for_trusted_input() -> None:
    depth = 400
    xml = f"<domain><metadata>{'<a>' * depth}{'</a>' * depth}</metadata></domain>"
    with pytest.raises(XMLError, match="depth"):
        parse_domain(xml)
    assert parse_domain(xml, limits=ParseLimits(huge_tree=True)).root.find("metadata") is not None


def test_huge_tree_still_refuses_dtds_and_external_loads(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    trusted = ParseLimits(huge_tree=True)
    with pytest.raises(XMLError, match="refused"):
        parse_domain(external_dtd(f"http://127.0.0.1:{port}/x.dtd"), limits=trusted)
    with pytest.raises(XMLError):
        parse_domain(billion_laughs(), limits=trusted)
    _no_connection(listener)


def test_trusted_parsing_refuses_the_same_but_ignores_the_size_limit(
    monkeypatch: pytest.MonkeyPatch, listener: socket.socket
) -> None:
    # libvirt's replies and devframe's own output: a low limit meant for outside input must not apply.
    monkeypatch.setenv("DEVFRAME_XML_MAX_BYTES", "40")
    with pytest.raises(XMLError, match="limit of 40 bytes"):
        parse_xml(SMALL)
    assert parse_trusted_xml(SMALL, source="libvirt").getroot().findtext("name") == "small"
    port = listener.getsockname()[1]
    for hostile in (
        billion_laughs(),
        xxe_url(f"http://127.0.0.1:{port}/x"),
        external_dtd(f"http://127.0.0.1:{port}/d"),
    ):
        with pytest.raises(XMLError, match="libvirt"):
            parse_trusted_xml(hostile, source="libvirt")
    _no_connection(listener)


def test_trusted_file_finds_includes_beside_it_and_refuses_dtds(tmp_path: Path) -> None:
    rng = 'xmlns="http://relaxng.org/ns/structure/1.0"'
    (tmp_path / "main.rng").write_text(f'<grammar {rng}><include href="part.rng"/></grammar>')
    (tmp_path / "part.rng").write_text(f'<grammar {rng}><start><element name="a"><empty/></element></start></grammar>')
    schema = etree.RelaxNG(parse_trusted_file(tmp_path / "main.rng"))
    assert schema.validate(etree.fromstring("<a/>")) and not schema.validate(etree.fromstring("<b/>"))
    (tmp_path / "dtd.rng").write_text('<!DOCTYPE g [<!ENTITY e "x">]><grammar/>')
    with pytest.raises(XMLError, match=r"dtd\.rng.*document type declaration refused"):
        parse_trusted_file(tmp_path / "dtd.rng")


def test_security_doc_lists_the_limits() -> None:
    doc = (HERE.parent.parent / "docs" / "security.md").read_text(encoding="utf-8")
    for needle in ("DEVFRAME_XML_MAX_BYTES", "ParseLimits", "huge_tree", "max_bytes", "DTD", "256"):
        assert needle in doc, needle


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    worker()
