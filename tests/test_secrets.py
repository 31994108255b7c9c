"""Issue 9 item 6: secrets never reach logs, repr, summary(), inspect or exceptions.

Secrets: graphics passwords (``passwd``), disk and iSCSI/RBD auth secrets
(``<auth><secret uuid=... usage=...>``), encryption secrets, and any value whose key
follows the secret naming convention (``devframe.core.log.is_secret_key``: ``passwd``,
``password``, ``secret``, ..., or a name ending in passwd/password/secret/token/
passphrase, e.g. the metadata key ``iscsiPassword``). Every test puts one marker
string in each secret and greps the output for it; each also checks that the output
is there at all, so a silent empty output cannot pass.
"""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import CliRunner
from lxml import etree

from devframe import (
    INT,
    DevframeError,
    Device,
    Field,
    FieldValueError,
    MetadataError,
    create_registry,
    dev_map_from_spec_list,
    device_from_spec,
    parse_domain,
)
from devframe.cli import main
from devframe.core.log import configure_logging, get_logger, is_secret_key, redact_text

MARK = "S3CRET-MARK"
NS = "http://ovirt.org/vm/1.0"

DOMAIN = f"""<domain type='kvm'>
  <name>secrets</name>
  <metadata>
    <ovirt-vm:vm xmlns:ovirt-vm="{NS}">
      <ovirt-vm:device devtype="disk" name="vdb">
        <ovirt-vm:iscsiPassword>{MARK}-meta</ovirt-vm:iscsiPassword>
        <ovirt-vm:domainID>d1</ovirt-vm:domainID>
      </ovirt-vm:device>
    </ovirt-vm:vm>
  </metadata>
  <devices>
    <graphics type='vnc' port='5900' passwd='{MARK}-vnc' passwdValidTo='2030-01-01T00:00:00'/>
    <graphics type='spice' autoport='yes' passwd='{MARK}-spice'/>
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <auth username='admin'><secret type='ceph' uuid='{MARK}-rbd-uuid'/></auth>
      <source protocol='rbd' name='pool/image'><host name='mon1' port='6789'/></source>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='network' device='disk'>
      <source protocol='iscsi' name='iqn.2013-07.com.example:iscsi/1'>
        <host name='example.com' port='3260'/>
        <auth username='myuser'><secret type='iscsi' usage='{MARK}-iscsi-usage'/></auth>
      </source>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/var/lib/enc.qcow2'>
        <encryption format='luks'><secret type='passphrase' uuid='{MARK}-luks-uuid'/></encryption>
      </source>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <hostdev mode='subsystem' type='scsi'>
      <source protocol='iscsi' name='iqn.2014-08.com.example:iscsi-pool/1'>
        <host name='example.com' port='3260'/>
        <auth username='myuser'><secret type='iscsi' usage='{MARK}-hostdev-usage'/></auth>
      </source>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </hostdev>
  </devices>
</domain>
"""


@pytest.fixture
def domain_file(tmp_path: Path) -> Path:
    path = tmp_path / "secrets.xml"
    path.write_text(DOMAIN)
    return path


def assert_clean(text: str, what: str) -> None:
    assert MARK not in text, f"{what} shows a secret:\n{text[:2000]}"


# -- the convention ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("passwd", True), ("password", True), ("iscsiPassword", True), ("cephSecret", True),
        ("sessionToken", True), ("luksPassphrase", True), ("secret", True), ("auth", True),
        ("passwdValidTo", True), ("path", False), ("domainID", False), ("alias", False), (3, False),
    ],
)  # fmt: skip
def test_secret_naming_convention(name: Any, secret: bool) -> None:
    assert is_secret_key(name) is secret


# -- logs ------------------------------------------------------------------------------------


class Boom(Exception):
    pass


def _log_everything() -> None:
    log = get_logger(domain="secrets")
    xml = f"<graphics type='vnc' passwd='{MARK}-a'/><auth><secret type='ceph' uuid='{MARK}-b'/></auth>"
    spec = {"type": "graphics", "specParams": {"passwd": f"{MARK}-c"}, "iscsiPassword": f"{MARK}-d"}
    for method in ("debug", "info", "warning", "error"):
        getattr(log, method)("device event", xml=xml, spec=spec, passwd=f"{MARK}-e", rbdSecret=f"{MARK}-f")
        getattr(log, method)(f"inline passwd='{MARK}-g' and {{'passwd': '{MARK}-h'}}")
    try:
        raise Boom(f"cannot attach <graphics passwd='{MARK}-i'/> with spec {spec!r}")
    except Boom:
        log.error("attach failed", exc_info=True)
        log.exception("attach failed again")


@pytest.mark.parametrize("json_output", [False, True], ids=["console", "json"])
def test_logs_never_show_secrets_at_any_level(json_output: bool) -> None:
    stream = io.StringIO()
    configure_logging(json=json_output, level="debug", stream=stream, env={})
    _log_everything()
    out = stream.getvalue()
    assert out.count("device event") == 4 and "attach failed" in out and "Boom" in out, out
    assert "Traceback" in out, "the traceback is logged, only redacted"
    assert_clean(out, "log output")
    if json_output:
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert lines and lines[0]["passwd"] == "***"


def test_unconfigured_logging_never_shows_secrets(caplog: pytest.LogCaptureFixture) -> None:
    """Without structlog configured, lines go to the stdlib logger ``devframe``: what any
    handler receives (message, fields, traceback) is already redacted."""
    structlog.reset_defaults()
    with caplog.at_level(logging.DEBUG, logger="devframe"):
        _log_everything()
    assert "attach failed" in caplog.text and "Traceback" in caplog.text and "Boom" in caplog.text
    assert len(caplog.records) == 10
    fields = [json.dumps(getattr(record, "devframe", {}), default=str) for record in caplog.records]
    assert_clean(caplog.text + "".join(fields), "unconfigured log output")


def test_plugin_fault_logs_never_show_secrets() -> None:
    """A parse failure logs ``repr(exc)``: a plugin quoting the element must not leak."""
    from devframe import DeviceTypeRegister, hookimpl

    class Knob(Device):
        dev_type = "knob"

        def __init__(self, element: Any, **kwargs: Any) -> None:
            # A class quoting the element it could not read, as plugins do.
            raise ValueError(f"cannot read {etree.tostring(element, encoding='unicode')}")

    class Leaky:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(Knob)

    stream = io.StringIO()
    configure_logging(json=True, level="debug", stream=stream, env={})
    registry = create_registry(entry_points=False, plugins=[("leaky", Leaky())], env={})
    domain = parse_domain(f"<domain><devices><knob passwd='{MARK}'/></devices></domain>", registry=registry)
    assert "plugin failed to parse device" in stream.getvalue()
    assert_clean(stream.getvalue(), "plugin fault log")
    assert MARK in domain.to_xml(), "the device itself keeps its password: only output is redacted"


# -- repr and summary ----------------------------------------------------------------------


def test_repr_and_summary_never_show_secrets() -> None:
    domain = parse_domain(DOMAIN)
    assert {type(d).__name__ for d in domain.devices} >= {"Graphics", "Drive", "Hostdev"}
    shown = [repr(domain), repr(domain.dev_map)]
    for device in domain.devices:
        shown += [repr(device), repr(device.summary()), repr(device.metadata), str(device.problems())]
    text = "\n".join(shown)
    assert "graphics" in text and "vdb" in text
    assert_clean(text, "repr/summary")
    vnc = domain.dev_map["graphics"][0]
    assert vnc.summary().get("passwd") == "***", "summary says there is a password, not what it is"
    assert vnc.passwd == f"{MARK}-vnc", "the value itself stays readable to the program"


def test_a_declared_secret_field_hides_its_value_in_problems_and_errors() -> None:
    class Locker(Device):
        dev_type = "locker"
        pin = Field("@pin", INT, secret=True)

    locker = Locker(parse_domain(f"<domain><devices><locker pin='{MARK}'/></devices></domain>").root[0][0])
    assert locker.problems() and "pin" in locker.problems()[0]
    assert_clean(str(locker.problems()), "problems()")
    assert locker.summary()["pin"] == "***"
    with pytest.raises(FieldValueError) as caught:
        _ = locker.pin
    assert "pin" in str(caught.value)
    assert_clean(str(caught.value) + repr(caught.value.value), "FieldValueError")


# -- exceptions ------------------------------------------------------------------------------


def _message(call: Any) -> str:
    with pytest.raises(DevframeError) as caught:
        call()
    return str(caught.value) + repr(caught.value.args)


def test_exceptions_never_quote_a_password() -> None:
    graphics = parse_domain(DOMAIN).dev_map["graphics"][0]

    def set_control_char() -> None:
        graphics.passwd = f"{MARK}\x01"

    def set_wrong_type() -> None:
        graphics.passwd = 12345  # type: ignore[assignment]

    messages = [
        _message(set_control_char),
        _message(set_wrong_type),
        _message(lambda: device_from_spec({"device": "vnc", "passwd": MARK, "specParams": {"passwd": MARK}})),
        _message(lambda: device_from_spec({"type": "graphics", "device": "vnc", "specParams": {"passwd": [MARK]}})),
        _message(lambda: dev_map_from_spec_list([{"device": "vnc", "specParams": {"passwd": MARK}}])),
    ]
    assert all(messages)
    assert "passwd" in messages[0] and "***" in messages[0]
    for message in messages:
        assert_clean(message, "exception message")


def test_malformed_secret_metadata_is_named_without_its_value() -> None:
    xml = DOMAIN.replace(
        f"<ovirt-vm:iscsiPassword>{MARK}-meta</ovirt-vm:iscsiPassword>",
        f"<ovirt-vm:iscsiPassword type='int'>{MARK}-meta</ovirt-vm:iscsiPassword>",
    )
    disk = parse_domain(xml).dev_map["disk"][1]
    with pytest.raises(MetadataError) as caught:
        disk.metadata.get("iscsiPassword")
    assert "iscsiPassword" in str(caught.value)
    assert_clean(str(caught.value), "MetadataError")


def test_spec_with_a_secret_metadata_value_keeps_it_but_never_shows_it() -> None:
    disk = parse_domain(DOMAIN).dev_map["disk"][1]
    assert disk.metadata["iscsiPassword"] == f"{MARK}-meta"
    assert_clean(repr(disk) + repr(disk.metadata) + repr(disk.summary()), "disk with secret metadata")


# -- devframe inspect ------------------------------------------------------------------------


def _invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("DEVFRAME_")}
    overrides.update(env or {})
    return CliRunner().invoke(main, list(args), env=overrides, catch_exceptions=False)


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
@pytest.mark.parametrize("disabled", ["", "graphics,drive"], ids=["plugins", "unknown-devices"])
def test_inspect_never_shows_secrets(domain_file: Path, as_json: bool, disabled: str) -> None:
    args = ["--log-level", "debug", "inspect", *(["--json"] if as_json else []), str(domain_file)]
    result = _invoke(*args, env={"DEVFRAME_DISABLE_PLUGINS": disabled} if disabled else None)
    assert result.exit_code == 0, result.output
    assert "graphics" in result.stdout and "disk" in result.stdout and "hostdev" in result.stdout
    assert_clean(result.stdout, "inspect stdout")
    assert_clean(result.stderr, "inspect stderr")
    if as_json:
        spec_map = json.loads(result.stdout)
        assert len(spec_map["disk"]) == 3 and len(spec_map["graphics"]) == 2


def test_rebuild_documents_that_it_prints_the_full_xml(domain_file: Path) -> None:
    help_text = _invoke("rebuild", "--help").stdout
    assert "password" in help_text.lower() and "libvirt" in help_text
    result = _invoke("rebuild", str(domain_file))
    assert result.exit_code == 0
    assert f"{MARK}-vnc" in result.stdout, "rebuild is the domain itself, secrets included, by design"


# -- the redaction function itself --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"<graphics passwd='{MARK}'/>",
        f'<graphics passwd="{MARK}"/>',
        f"<auth username='u'><secret type='iscsi' usage='{MARK}'/></auth>",
        f"<ns:secret uuid='{MARK}'/>",
        f"{{'passwd': '{MARK}'}}",
        f'{{"iscsiPassword": "{MARK}"}}',
        f"{{'passwd': 1234{MARK}}}".replace(MARK, "5678"),
        f"passwd={MARK} and more",
    ],
)
def test_redact_text_forms(text: str) -> None:
    out = redact_text(text)
    assert "***" in out
    assert MARK not in out and "5678" not in out
