"""Issue 20 item 2: secrets are listed in one place and never leak.

``devframe.core.secrets`` lists per kind what is secret: libvirt's own (graphics
passwords, disk HTTP cookies: what ``virsh dumpxml`` shows only with
``--security-info``), every field declared ``secret=True``, and what a plugin
registers. A marker in each secret is looked for in logs, exception messages, ``repr``,
``summary()``, ``inspect`` (table and JSON) and dev_specs: it must appear only where a
caller asked for secrets (``to_spec(secrets=True)``) and in the device itself.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree
from structlog.testing import capture_logs

from devframe import (
    Device,
    DeviceTypeRegister,
    Field,
    PlaceholderError,
    Registry,
    Resolvers,
    SpecError,
    UnknownDevice,
    create_registry,
    hookimpl,
    parse_domain,
    prepare_domain,
)
from devframe.cli import main
from devframe.core.log import configure_logging, get_logger, is_secret_key, redact_text
from devframe.core.secrets import LIBVIRT_SECRETS, SecretPlace, plan_for, register_secret
from devframe.testing import canonical, wrap_in_domain

MARK = "S3CRET-20"
REF = "a7c91e30-3b1f-4c52-9d0e-5f6a7b8c9d01"  # a reference to a libvirt secret: not a secret
NS = "http://ovirt.org/vm/1.0"

GRAPHICS = f"<graphics type='vnc' port='5900' passwd='{MARK}-vnc'/>"
SPICE = f"<graphics type='spice' autoport='yes' passwd='{MARK}-spice'/>"
COOKIE_DISK = (
    "<disk type='network' device='cdrom'><driver name='qemu' type='raw'/>"
    "<source protocol='https' name='/images/boot.iso'><host name='images.example.org' port='443'/>"
    f"<cookies><cookie name='session'>{MARK}-cookie</cookie><cookie name='t'>{MARK}-two</cookie></cookies>"
    "</source><target dev='sdb' bus='sata'/><readonly/><alias name='ua-cd'/></disk>"
)
AUTH_DISK = (
    "<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
    f"<auth username='admin'><secret type='ceph' uuid='{REF}'/></auth>"
    "<source protocol='rbd' name='pool/image'><host name='mon1' port='6789'/></source>"
    "<target dev='vda' bus='virtio'/><alias name='ua-rbd'/></disk>"
)
DEVICES = [GRAPHICS, SPICE, COOKIE_DISK, AUTH_DISK]
DOMAIN = f"""<domain type='kvm'><name>secrets</name><uuid>{REF}</uuid>
<metadata><ovirt-vm:vm xmlns:ovirt-vm="{NS}">
<ovirt-vm:device alias="ua-rbd"><ovirt-vm:cephSecret>{MARK}-meta</ovirt-vm:cephSecret>
<ovirt-vm:poolID>p1</ovirt-vm:poolID></ovirt-vm:device></ovirt-vm:vm></metadata>
<devices>{"".join(DEVICES)}</devices></domain>"""


def registries() -> list[tuple[str, Registry]]:
    return [
        ("plugins", create_registry(env={})),
        ("unknown-devices", create_registry(env={"DEVFRAME_DISABLE_PLUGINS": "graphics,drive"})),
    ]


@pytest.fixture(params=registries(), ids=lambda pair: pair[0])
def registry(request: pytest.FixtureRequest) -> Registry:
    return request.param[1]  # type: ignore[no-any-return]


def clean(text: str, what: str) -> None:
    assert MARK not in text, f"{what} shows a secret:\n{text[:1500]}"


# -- the one list ----------------------------------------------------------------------------------


def test_the_list_names_libvirts_secrets_and_every_declared_field() -> None:
    assert "@passwd" in LIBVIRT_SECRETS["graphics"] and "//cookies" in LIBVIRT_SECRETS["*"]
    graphics = {str(place) for place in plan_for("graphics").places}
    assert {"@passwd", "//cookies"} <= graphics
    from devframe_graphics.device import Graphics

    assert SecretPlace.parse("@passwd") in Graphics.own_secrets, "declared secret=True: registered as defined"
    disk = {str(place) for place in plan_for("disk").places}
    assert "//cookies" in disk and not any("uuid" in place for place in disk), "references are not secrets"


def test_a_plugin_adds_its_kinds_secrets_and_a_field_declares_its_own() -> None:
    class Vault(Device):
        dev_type = "vault"
        token = Field("@token", spec="token", secret=True)
        label = Field("@label", spec="label")

    register_secret("vault", "sealed")  # the content of <sealed>, which no field models

    class Plugin:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(Vault)

    xml = f"<vault token='{MARK}-token' label='front'><sealed>{MARK}-sealed<x/></sealed></vault>"
    registry = create_registry(entry_points=False, plugins=[("vault", Plugin())], env={})
    bare = create_registry(entry_points=False, env={})  # the same element as an unknown device
    for reg in (registry, bare):
        (device,) = parse_domain(wrap_in_domain(xml), registry=reg).devices
        shown = json.dumps(device.to_spec()) + repr(device) + repr(device.summary())
        clean(shown, f"{type(device).__name__} spec, repr, summary")
        full = device.to_spec(secrets=True)
        assert f"{MARK}-token" in json.dumps(full)
        if reg is bare:  # an unknown device's spec carries its XML: all of it, when asked
            assert canonical(reg.device_from_spec(full).to_xml()) == canonical(xml)
        else:  # a known kind's spec carries its fields (item 10): the token, when asked
            assert reg.device_from_spec(full).token == f"{MARK}-token"
    assert is_secret_key("token") and redact_text(xml).count("***") == 2
    clean(redact_text(xml), "log text of the element")


# -- dev_specs -------------------------------------------------------------------------------------


def test_dev_specs_carry_no_secret_unless_asked(registry: Registry) -> None:
    domain = parse_domain(DOMAIN, registry=registry)
    asked = []
    for device in domain.devices:
        clean(json.dumps(device.to_spec()), f"to_spec() of {device!r}")
        full = device.to_spec(secrets=True)
        asked.append(json.dumps(full))
        rebuilt = registry.device_from_spec(full)
        assert type(rebuilt) is type(device)
        if isinstance(device, UnknownDevice) or device.dev_type == "disk":
            assert canonical(rebuilt.to_xml()) == canonical(device.to_xml()), "everything, when asked"
    text = "\n".join(asked)
    assert f"{MARK}-cookie" in text and f"{MARK}-meta" in text, "secrets=True gives them back"
    if isinstance(domain.devices[0], UnknownDevice):
        assert f"{MARK}-vnc" in text  # its XML with the password
    assert REF in json.dumps(domain.devices[3].to_spec()), "a reference to a libvirt secret is no secret"


def test_what_the_device_keeps_is_the_real_value(registry: Registry) -> None:
    domain = parse_domain(DOMAIN, registry=registry)
    assert f"{MARK}-cookie" in domain.devices[2].to_xml() and f"{MARK}-vnc" in domain.to_xml()


def test_repr_summary_and_problems_show_no_secret(registry: Registry) -> None:
    domain = parse_domain(DOMAIN, registry=registry)
    shown = [repr(domain), repr(domain.dev_map)]
    for device in domain.devices:
        shown += [repr(device), repr(device.summary()), str(device.problems()), repr(device.metadata)]
    text = "\n".join(shown)
    assert "graphics" in text and "disk" in text
    clean(text, "repr/summary/problems")


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
@pytest.mark.parametrize("disabled", ["", "graphics,drive"], ids=["plugins", "unknown-devices"])
def test_inspect_shows_no_secret(tmp_path: Path, as_json: bool, disabled: str) -> None:
    path = tmp_path / "secrets.xml"
    path.write_text(DOMAIN)
    env: dict[str, str | None] = {key: None for key in os.environ if key.startswith("DEVFRAME_")}
    if disabled:
        env["DEVFRAME_DISABLE_PLUGINS"] = disabled
    args = ["--log-level", "debug", "inspect", *(["--json"] if as_json else []), str(path)]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "graphics" in result.stdout and "disk" in result.stdout
    clean(result.stdout, "inspect stdout")
    clean(result.stderr, "inspect stderr")
    if as_json:
        specs = json.loads(result.stdout)
        assert len(specs["disk"]) == 2 and len(specs["graphics"]) == 2


# -- logs and errors -----------------------------------------------------------------------------------


def test_logs_redact_cookies_in_any_text() -> None:
    stream = io.StringIO()
    configure_logging(json=True, level="debug", stream=stream, env={})
    (disk,) = parse_domain(wrap_in_domain(COOKIE_DISK)).devices
    log = get_logger(test="cookies")
    log.info("disk", xml=disk.to_xml(), spec=disk.to_spec(secrets=True), text=f"got {disk.to_xml()} back")
    out = stream.getvalue()
    assert "disk" in out and "images.example.org" in out
    clean(out, "log line")


def test_an_unresolved_placeholder_in_a_password_is_named_without_its_value() -> None:
    for device in (
        f"<graphics type='vnc' port='5900' passwd='MY-PASS:{MARK}'/>",
        COOKIE_DISK.replace(f"{MARK}-cookie", f"COOKIE-JAR:{MARK}"),
    ):
        domain = parse_domain(wrap_in_domain(device))
        with pytest.raises(PlaceholderError) as caught:
            prepare_domain(domain, Resolvers())
        message = str(caught.value) + repr(caught.value.args)
        assert "unresolved placeholder '***'" in message, message
        clean(message, "placeholder error")


def test_a_resolved_placeholder_is_logged_without_a_secrets_value() -> None:
    xml = wrap_in_domain(
        "<graphics type='vnc' port='5900' passwd='PAYLOAD:pw'/>"
        "<disk type='file' device='cdrom'><source file='PAYLOAD:iso'/><target dev='hdc' bus='ide'/></disk>"
    )
    domain = parse_domain(xml)
    with capture_logs() as logs:  # the events as devframe made them, before any processor
        prepare_domain(domain, Resolvers(values={"PAYLOAD:pw": f"{MARK}-resolved", "PAYLOAD:iso": "/payload.iso"}))
    resolved = [e for e in logs if e["event"] == "placeholder resolved"]
    assert len(resolved) == 2
    by_tag = {e["where"].split(">")[0]: e for e in resolved}
    assert by_tag["<graphics"]["value"] == "***" and by_tag["<graphics"]["placeholder"] == "***"
    assert by_tag["<source"]["value"] == "/payload.iso", "what is no secret is still logged"
    clean(repr(logs), "placeholder log")
    assert f"{MARK}-resolved" in domain.to_xml(), "libvirt gets the password"


def test_a_plugin_choking_on_a_secret_does_not_quote_it() -> None:
    class Picky(Device):
        dev_type = "picky"

        def read_spec(self, rest: dict[str, Any]) -> None:
            raise ValueError(f"cannot use passwd='{rest.get('passwd')}'")

    class Plugin:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(Picky)

    registry = create_registry(entry_points=False, plugins=[("picky", Plugin())], env={})
    with capture_logs() as logs, pytest.raises(SpecError) as caught:
        registry.device_from_spec({"type": "picky", "passwd": MARK})
    assert "'passwd'" in str(caught.value)
    clean(str(caught.value) + repr(caught.value.args), "SpecError")
    clean(repr(logs), "plugin failure log")


def test_the_element_kept_for_the_device_is_never_changed_by_redaction(registry: Registry) -> None:
    domain = parse_domain(DOMAIN, registry=registry)
    before = etree.tostring(domain.root)
    for device in domain.devices:
        device.to_spec()
        repr(device)
        device.summary()
    assert etree.tostring(domain.root) == before


# -- the quick question (does a device hold a secret at all?) against the places -----------------


def test_holds_secrets_answers_as_the_places_do_on_every_sample_device() -> None:
    """to_spec asks ``holds_secrets`` of every device (no element of a deep place's tag:
    only the shallow places are looked at); it must say what ``spots`` says."""
    from devframe.testing import sample_domain_files

    # Beside each kind's own places: a deep place with an attribute (a <secret> may lack
    # it) and a shallow place with steps.
    extra = (SecretPlace.parse("//secret@usage"), SecretPlace.parse("source/adapter@name"))
    domains = [parse_domain(DOMAIN)] + [parse_domain(path.read_bytes()) for path in sample_domain_files()]
    answers = []
    for domain in domains:
        for device in domain.devices:
            for plan in (device.secret_plan(), plan_for(device.dev_type, type(device).own_secrets + extra)):
                for element in [device.element, *device.element.iterdescendants()]:
                    if not isinstance(element.tag, str):
                        continue
                    expected = bool(plan.spots(element))
                    assert plan.holds_secrets(element) is expected, etree.tostring(element)
                    assert (plan.without_secrets(element) is None) is not expected
                    answers.append(expected)
    assert answers.count(True) >= 5 and False in answers


def test_a_deep_tag_without_its_place_is_no_secret() -> None:
    plan = plan_for("disk", (SecretPlace.parse("//secret@usage"),))
    bare = etree.fromstring(f"<disk><auth><secret type='ceph' uuid='{REF}'/></auth></disk>")
    assert not plan.holds_secrets(bare) and plan.without_secrets(bare) is None
    used = etree.fromstring(f"<disk><auth><secret type='ceph' usage='{MARK}'/></auth></disk>")
    assert plan.holds_secrets(used)
    clean(etree.tostring(plan.without_secrets(used)).decode(), "the copy without secrets")


def _tree_strategy() -> Any:
    from hypothesis import strategies as st

    tags = st.sampled_from(["cookies", "source", "cookie", "secret", "x"])
    attrs = st.dictionaries(st.sampled_from(["passwd", "usage", "name"]), st.just("v"), max_size=2)
    leaf = st.tuples(tags, attrs, st.just(()))
    return st.recursive(leaf, lambda kids: st.tuples(tags, attrs, st.lists(kids, max_size=3)), max_leaves=8)


def _build(node: Any) -> etree._Element:
    tag, attrs, kids = node
    element = etree.Element(tag, attrs)
    for kid in kids:
        element.append(_build(kid))
    return element


def test_holds_secrets_skips_shallow_places_under_a_deep_tag_only_when_none_is_there() -> None:
    """holds_secrets leaves out the shallow places passing through a deep place's tag when
    no element of that tag is below (and a device element of that tag is not its own
    descendant): on any tree it must still say what ``spots`` says."""
    from hypothesis import given, settings

    places = ("//cookies", "source/cookies/cookie", "cookies/x", "@passwd", "//secret@usage", "source@name")
    plan = plan_for("tree-kind", tuple(SecretPlace.parse(p) for p in places))
    assert plan.shallow_outside and len(plan.shallow_outside) < len(plan.shallow)

    @settings(max_examples=300, deadline=None)
    @given(_tree_strategy())
    def check(node: Any) -> None:
        root = _build(node)
        for element in root.iter():
            assert plan.holds_secrets(element) is bool(plan.spots(element)), etree.tostring(element)

    check()
