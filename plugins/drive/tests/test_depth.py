"""Issue 15 for the disk: every child of libvirt 11.3's <disk> modeled, the engine's
spellings, libvirt's literal cow, secrets kept out of every output."""

from __future__ import annotations

import copy
import io
import sys
from pathlib import Path
from typing import Any

import pytest
from devframe_drive import Drive
from lxml import etree

import devframe
from devframe.core.log import configure_logging, get_logger
from devframe.testing import (
    DOMAIN_RNG,
    SAMPLE_DOMAINS,
    assert_edit_changes_only,
    canonical,
    validate_against_schema,
    wrap_in_domain,
)

sys.path.insert(0, str(Path(__file__).parent))
import samples as S


@pytest.fixture
def registry(devframe_registry: Any) -> devframe.Registry:
    return devframe_registry("drive")  # type: ignore[no-any-return]


def parse(registry: devframe.Registry, xml: str) -> Drive:
    (device,) = devframe.parse_domain(wrap_in_domain(xml), registry=registry).devices
    assert isinstance(device, Drive)
    return device


def at(xml: str | etree._Element, path: str) -> etree._Element:
    """The element at ``path`` (it must be there)."""
    root = etree.fromstring(xml) if isinstance(xml, str) else xml
    found = root.find(path)
    assert found is not None, f"no {path} in {etree.tostring(root)!r}"
    return found


def rebuilt(registry: devframe.Registry, spec: dict[str, Any]) -> Drive:
    device = registry.device_from_spec(spec)
    assert isinstance(device, Drive)
    return device


# -- nothing needs the raw-XML escape ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(S.BY_NAME))
def test_every_sample_is_modeled_and_rebuilds_from_its_spec(registry: devframe.Registry, name: str) -> None:
    xml = S.BY_NAME[name]
    spec = parse(registry, xml).to_spec(secrets=True)  # rebuilt elsewhere: cookies too
    assert "xml" not in spec["specParams"], f"{name} still needs specParams.xml: {spec['specParams'].get('xml')}"
    again = rebuilt(registry, spec)
    expected = etree.fromstring(xml)
    expected.set("device", expected.get("device", "disk"))
    assert canonical(again.to_xml()) == canonical(expected)
    assert again.to_spec(secrets=True) == spec


def test_no_disk_of_the_sample_domains_needs_the_raw_xml_escape(registry: devframe.Registry) -> None:
    counted = 0
    for path in sorted(SAMPLE_DOMAINS.glob("*.xml")):
        domain = devframe.load_domain(path, registry=registry)
        for disk in domain.dev_map.get("disk", []):
            spec = disk.to_spec()
            assert "xml" not in spec["specParams"], f"{path.name} {disk!r}: {spec['specParams']['xml']}"
            again = rebuilt(registry, spec)
            assert again.to_spec() == spec, f"{path.name} {disk!r}"
            counted += 1
    assert counted >= 70  # the sample domains hold some 75 disks


def test_unknown_extensions_still_travel_verbatim(registry: devframe.Registry) -> None:
    xml = (
        "<disk type='file' device='disk' xmlns:ext='urn:example:ext'>"
        "<driver name='qemu' type='raw'><ext:tuning level='3'/></driver>"
        "<source file='/i.img'><ext:hint value='fast'/></source>"
        "<target dev='vda' bus='virtio'/><ext:note>kept</ext:note></disk>"
    )
    spec = parse(registry, xml).to_spec()
    extra = spec["specParams"]["xml"]
    # the core's escape (devframe.core.escape), version 1: element path -> its children
    assert set(extra) == {"version", ".", "source", "driver"}
    assert "ext:note" in extra["."]["children"][0] and "ext:hint" in extra["source"]["children"][0]
    assert "ext:tuning" in extra["driver"]["children"][0]
    again = rebuilt(registry, spec).to_xml()
    for needle in ("kept", 'value="fast"', 'level="3"'):
        assert needle in again


# -- schema validity -------------------------------------------------------------------------


def _schema_is_v11() -> bool:
    # libvirt's domaincommon.rng sits beside domain.rng; vhostvdpa disks arrived in 9.8
    common = Path(DOMAIN_RNG).with_name("domaincommon.rng")
    return "diskSourceVhostVdpa" in common.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(S.BY_NAME))
def test_spec_built_xml_is_valid_for_the_schema_in_use(registry: devframe.Registry, name: str) -> None:
    """9.0-valid samples (and, with DEVFRAME_DOMAIN_RNG naming libvirt 11.3's schema, all of
    them) validate, as written and as rebuilt from their spec; the 11-only samples really
    are refused by 9.0's schema (so the list of 11-only samples stays honest)."""
    xml = S.BY_NAME[name]
    built = rebuilt(registry, parse(registry, xml).to_spec()).to_xml()
    if name in S.V11_ONLY and not _schema_is_v11():
        assert validate_against_schema(wrap_in_domain(xml)), f"{name} is valid for libvirt 9.0: not 11-only"
        return
    assert not validate_against_schema(wrap_in_domain(xml)), name
    assert not validate_against_schema(wrap_in_domain(built)), built


# -- the backing chain -------------------------------------------------------------------------

THREE_DEEP = (
    "<disk type='file' device='disk'>"
    "<driver name='qemu' type='qcow2'/>"
    "<source file='/images/top.qcow2' index='1'/>"
    "<backingStore type='file' index='2'><format type='qcow2'/><source file='/images/snap2.qcow2'/>"
    "<backingStore type='file' index='3'><format type='qcow2'/><source file='/images/snap1.qcow2'/>"
    "<backingStore type='block' index='4'><format type='raw'/><source dev='/dev/vg/base'/>"
    "<backingStore/></backingStore></backingStore></backingStore>"
    "<target dev='vda' bus='virtio'/>"
    "</disk>"
)


def test_backing_chain_is_a_list_top_first(registry: devframe.Registry) -> None:
    chain = parse(registry, THREE_DEEP).to_spec()["specParams"]["backingChain"]
    assert chain == [
        {"diskType": "file", "index": 2, "format": "cow", "path": "/images/snap2.qcow2"},
        {"diskType": "file", "index": 3, "format": "cow", "path": "/images/snap1.qcow2"},
        {"diskType": "block", "index": 4, "format": "raw", "path": "/dev/vg/base"},
        {},
    ]


def test_three_deep_chain_edited_through_the_spec(registry: devframe.Registry) -> None:
    spec = parse(registry, THREE_DEEP).to_spec()
    spec["specParams"]["backingChain"][1]["path"] = "/images/snap1-moved.qcow2"
    xml = rebuilt(registry, spec).to_xml()
    expected = etree.fromstring(THREE_DEEP)
    expected.set("device", "disk")
    at(expected, "backingStore/backingStore/source").set("file", "/images/snap1-moved.qcow2")
    assert canonical(xml) == canonical(expected)
    assert "/images/snap2.qcow2" in xml and "/dev/vg/base" in xml and '/images/snap1.qcow2"' not in xml


def test_chain_edited_on_the_object_changes_only_that_layer(registry: devframe.Registry) -> None:
    drive = parse(registry, THREE_DEEP)
    expected = etree.fromstring(drive.to_xml())
    middle = drive.backing_chain[1]
    middle.path = "/images/other.qcow2"
    middle.format = "raw"
    at(expected, "backingStore/backingStore/source").set("file", "/images/other.qcow2")
    at(expected, "backingStore/backingStore/format").set("type", "raw")
    assert canonical(drive.to_xml()) == canonical(expected)
    # cutting the chain below the first layer keeps that layer as it was
    drive.backing_chain = [drive.backing_chain[0], {}]
    assert [layer.path for layer in drive.backing_chain] == ["/images/snap2.qcow2", None]
    assert drive.to_xml().count("<backingStore") == 2


def test_chain_built_from_an_engine_spec(registry: devframe.Registry) -> None:
    """An engine builds the chain from VDSM's volumeChain (base first): reversed, without
    the active volume, each path a layer (see the mapping docstring)."""
    volume_chain = [
        {"domainID": "d", "imageID": "i", "volumeID": "base", "path": "/rhev/i/base"},
        {"domainID": "d", "imageID": "i", "volumeID": "mid", "path": "/rhev/i/mid"},
        {"domainID": "d", "imageID": "i", "volumeID": "top", "path": "/rhev/i/top"},
    ]
    layers = [{"diskType": "file", "path": v["path"], "format": "cow"} for v in reversed(volume_chain[:-1])]
    spec = {
        "type": "disk",
        "path": volume_chain[-1]["path"],
        "format": "cow",
        "volumeChain": volume_chain,
        "specParams": {"backingChain": [*layers, {}]},
    }
    drive = rebuilt(registry, spec)
    assert [layer.path for layer in drive.backing_chain] == ["/rhev/i/mid", "/rhev/i/base", None]
    assert drive.metadata["volumeChain"] == volume_chain
    assert not validate_against_schema(wrap_in_domain(drive.to_xml()))


@pytest.mark.parametrize(
    ("layer", "key"),
    [
        ({"diskType": "file", "pth": "/x"}, "specParams.backingChain.0.pth"),
        ({"diskType": "volume", "path": "/x"}, "specParams.backingChain.0.path"),
        ({"diskType": "file", "index": "first"}, "specParams.backingChain.0.index"),
        ({"diskType": "network", "protocol": "rbd", "auth": {"secret": {"uuid": "nope"}}}, "auth.secret.uuid"),
    ],
)
def test_a_bad_layer_is_named_by_its_whole_key(registry: devframe.Registry, layer: Any, key: str) -> None:
    with pytest.raises(devframe.SpecError, match=key.replace(".", r"\.")):
        registry.device_from_spec({"type": "disk", "specParams": {"backingChain": [layer]}})


def test_mirror_with_its_own_chain(registry: devframe.Registry) -> None:
    mirror = parse(registry, S.MIRROR_COMMIT).to_spec()["specParams"]["mirror"]
    assert mirror == {
        "diskType": "block",
        "path": "/dev/vg/base",
        "sourceIndex": 5,
        "format": "raw",
        "job": "active-commit",
        "ready": "pivot",
        "backingChain": [{}],
    }
    old = parse(registry, S.MIRROR_OLD).to_spec()["specParams"]["mirror"]
    assert old == {"file": "/var/lib/libvirt/images/old-copy.img", "fileFormat": "raw", "job": "copy", "ready": "abort"}


# -- the source's children ----------------------------------------------------------------------


def test_source_children_in_the_spec(registry: devframe.Registry) -> None:
    params = parse(registry, S.NETWORK_ISCSI).to_spec()["specParams"]
    assert params["initiator"] == "iqn.2013-07.com.example:client"
    assert params["auth"] == {"username": "myuser", "secret": {"type": "iscsi", "usage": "libvirtiscsi"}}
    http = parse(registry, S.NETWORK_HTTP).to_spec()["specParams"]
    assert (http["readahead"], http["timeout"], http["query"]) == (65536, 10, "foo=bar")
    assert parse(registry, S.NETWORK_HTTPS).to_spec()["specParams"]["sslVerify"] is False
    assert parse(registry, S.VHOSTUSER).to_spec()["specParams"]["reconnect"] == {"enabled": True, "timeout": 10}
    assert parse(registry, S.NETWORK_NFS).to_spec()["specParams"]["identity"] == {"user": "qemu", "group": "kvm"}
    ssh = parse(registry, S.NETWORK_SSH).to_spec()["specParams"]
    assert ssh["knownHosts"] == "/etc/libvirt/ssh_known_hosts"
    assert ssh["identity"] == {"username": "qemu", "keyfile": "/etc/libvirt/ssh_key"}
    labels = parse(registry, S.SECLABELS_SLICES).to_spec()["specParams"]
    assert labels["seclabels"] == [
        {"model": "selinux", "relabel": True, "labels": ["system_u:object_r:svirt_image_t:s0:c10,c20"]},
        {"model": "dac", "relabel": False},
        {"model": "apparmor", "labelskip": True},
    ]
    assert labels["slices"] == [{"type": "storage", "offset": 1048576, "size": 104857600}]
    assert labels["fdgroup"] == "images"
    reservations = parse(registry, S.RESERVATIONS_RECONNECT).to_spec()["specParams"]["reservations"]
    assert reservations == {
        "managed": False,
        "source": {
            "type": "unix",
            "path": "/run/pr-helper.sock",
            "mode": "server",
            "reconnect": {"enabled": True, "timeout": 5},
        },
    }
    data = parse(registry, S.DATASTORE).to_spec()["specParams"]["dataStore"]
    assert data == {"diskType": "file", "path": "/var/lib/libvirt/images/data.raw", "format": "raw"}


def test_encryption_in_both_places(registry: devframe.Registry) -> None:
    source = parse(registry, S.LUKS_CIPHER).to_spec()["specParams"]["encryption"]
    assert source == {
        "format": "luks",
        "engine": "qemu",
        "secrets": [{"type": "passphrase", "usage": "luks-volume-1"}],
        "cipher": {"name": "aes", "size": 256, "mode": "xts", "hash": "sha256"},
        "ivgen": {"name": "plain64", "hash": "sha256"},
    }
    disk = parse(registry, S.OLD_ENCRYPTION).to_spec()["specParams"]
    assert "encryption" not in disk
    assert disk["diskEncryption"]["secrets"] == [{"type": "passphrase", "usage": "/var/lib/libvirt/images/old.qcow2"}]


def test_driver_children_and_disk_level_extras(registry: devframe.Registry) -> None:
    params = parse(registry, S.THROTTLE_IOTHREADS).to_spec()["specParams"]
    assert params["iothreads"] == [{"id": 1, "queues": [{"id": 0}]}, {"id": 2, "queues": [{"id": 1}]}]
    assert params["throttleFilters"] == [{"group": "limit0"}, {"group": "limit1"}]
    assert params["discardNoUnref"] is True
    xen = parse(registry, S.XEN_BACKEND_ACPI).to_spec()["specParams"]
    assert (xen["backendDomain"], xen["acpiIndex"]) == ("driver-domain", 7)
    vdpa = parse(registry, S.VHOSTVDPA).to_spec()
    assert (vdpa["diskType"], vdpa["path"]) == ("vhostvdpa", "/dev/vhost-vdpa-0")


def test_an_element_with_nothing_modeled_keeps_its_presence(registry: devframe.Registry) -> None:
    xml = S.NETWORK_NBD.replace("</source>", "<identity/></source>")
    spec = parse(registry, xml).to_spec()
    assert spec["specParams"]["identity"] == {}
    assert "<identity/>" in rebuilt(registry, spec).to_xml()


# -- editing one field changes only it ---------------------------------------------------------

EDITS: list[tuple[str, list[Any]]] = [
    ("backend_domain", ["other-domain"]),
    ("acpi_index", [9]),
    ("snapshot_name", ["snap9"]),
    ("config_file", ["/etc/ceph/other.conf"]),
    ("initiator", ["iqn.2024-01.org.example:other"]),
    ("ssl_verify", [True, False]),
    ("readahead", [4096]),
    ("timeout", [99]),
    ("known_hosts", ["/root/.ssh/known_hosts"]),
    ("fdgroup", ["other"]),
    ("discard_no_unref", [False, True]),
    ("source_index", [8]),
    ("query", ["a=b"]),
]


@pytest.mark.parametrize(("name", "values"), EDITS, ids=[name for name, _ in EDITS])
def test_setting_a_modeled_field_changes_only_it(registry: devframe.Registry, name: str, values: list[Any]) -> None:
    assert_edit_changes_only(registry, Drive, S.SAMPLES, name, values)


@pytest.mark.parametrize(
    ("sample", "edit", "expect"),
    [
        (
            S.NETWORK_RBD,
            lambda d: setattr(d.auth, "username", "other"),
            lambda e: e.find("source/auth").set("username", "other"),
        ),
        (
            S.LUKS_CIPHER,
            lambda d: setattr(d.encryption, "cipher_size", 128),
            lambda e: e.find("source/encryption/cipher").set("size", "128"),
        ),
        (
            S.VHOSTUSER,
            lambda d: setattr(d.reconnect, "timeout", 3),
            lambda e: e.find("source/reconnect").set("timeout", "3"),
        ),
        (
            S.BLOCK_LUN,
            lambda d: setattr(d.reservations, "source_path", "/run/other.sock"),
            lambda e: e.find("source/reservations/source").set("path", "/run/other.sock"),
        ),
        (
            S.MIRROR,
            lambda d: setattr(d.mirror, "path", "/var/lib/libvirt/images/other.qcow2"),
            lambda e: e.find("mirror/source").set("file", "/var/lib/libvirt/images/other.qcow2"),
        ),
        (
            S.NETWORK_HTTP,
            lambda d: setattr(d.cookies[0], "value", "efgh"),
            lambda e: setattr(e.find("source/cookies/cookie"), "text", "efgh"),
        ),
        (
            S.DATASTORE,
            lambda d: setattr(d.data_store, "format", "qcow2"),  # objects hold libvirt's words
            lambda e: e.find("source/dataStore/format").set("type", "qcow2"),
        ),
    ],
)
def test_editing_a_nested_value_changes_only_it(
    registry: devframe.Registry, sample: str, edit: Any, expect: Any
) -> None:
    drive = parse(registry, sample)
    expected = etree.fromstring(drive.to_xml())
    edit(drive)
    expect(expected)
    assert canonical(drive.to_xml()) == canonical(expected)


def test_setting_a_child_replaces_it_in_place_and_none_removes_it(registry: devframe.Registry) -> None:
    drive = parse(registry, S.NETWORK_RBD)
    drive.auth = {"username": "u2", "secret": {"type": "ceph", "usage": "client.u2"}}
    source = at(drive.to_xml(), "source")
    assert [child.tag for child in source] == ["host", "host", "snapshot", "config", "auth"]
    assert at(source, "auth/secret").get("usage") == "client.u2" and at(source, "auth/secret").get("uuid") is None
    drive.auth = None
    assert etree.fromstring(drive.to_xml()).find("source/auth") is None
    drive.iotune = {"total_iops_sec": 500}
    assert at(drive.to_xml(), "iotune/total_iops_sec").text == "500"


# -- the engine's spellings ---------------------------------------------------------------------


def test_engine_iotune(registry: devframe.Registry) -> None:
    drive = rebuilt(
        registry, {"type": "disk", "path": "/i.img", "iotune": {"total_bytes_sec": 1000, "read_iops_sec": "7"}}
    )
    iotune = at(drive.to_xml(), "iotune")
    assert (at(iotune, "total_bytes_sec").text, at(iotune, "read_iops_sec").text) == ("1000", "7")
    spec = drive.to_spec()
    assert "iotune" not in spec and spec["specParams"]["ioTune"] == {"total_bytes_sec": 1000, "read_iops_sec": 7}


def test_engine_discard_no_unref(registry: devframe.Registry) -> None:
    drive = rebuilt(registry, {"type": "disk", "path": "/i.qcow2", "format": "cow", "discard_no_unref": True})
    assert at(drive.to_xml(), "driver").get("discard_no_unref") == "on"
    spec = drive.to_spec()
    assert "discard_no_unref" not in spec and spec["specParams"]["discardNoUnref"] is True


@pytest.mark.parametrize(("given", "managed"), [(True, "yes"), ("true", "yes"), (False, None), ("false", None)])
def test_engine_managed_reservation(registry: devframe.Registry, given: Any, managed: str | None) -> None:
    spec = {"type": "disk", "device": "lun", "diskType": "block", "path": "/dev/sdx", "managed_reservation": given}
    drive = rebuilt(registry, spec)
    reservations = etree.fromstring(drive.to_xml()).find("source/reservations")
    assert (reservations.get("managed") if reservations is not None else None) == managed
    out = drive.to_spec()
    assert "managed_reservation" not in out and "managed_reservation" not in drive.metadata
    assert out["specParams"].get("reservations") == ({"managed": True} if managed else None)


def test_engine_auth(registry: devframe.Registry) -> None:
    uuid = "0f1e2d3c-0000-4000-8000-00000000abcd"
    spec = {
        "type": "disk",
        "diskType": "network",
        "protocol": "rbd",
        "path": "volumes/volume-1",
        "hosts": [{"name": "192.0.2.21", "port": "6789", "transport": "tcp"}],
        "auth": {"username": "cinder", "type": "ceph", "uuid": uuid},
    }
    drive = rebuilt(registry, spec)
    auth = at(drive.to_xml(), "auth")
    assert auth.get("username") == "cinder"
    assert (at(auth, "secret").get("type"), at(auth, "secret").get("uuid")) == ("ceph", uuid)
    out = drive.to_spec()
    assert "auth" not in out
    assert out["specParams"]["diskAuth"] == {"username": "cinder", "secret": {"type": "ceph", "uuid": uuid}}
    assert not validate_against_schema(wrap_in_domain(drive.to_xml()))


def test_engine_and_canonical_spelling_together(registry: devframe.Registry) -> None:
    same: dict[str, Any] = {
        "type": "disk",
        "iotune": {"total_iops_sec": 5},
        "specParams": {"ioTune": {"total_iops_sec": 5}},
    }
    iotune = rebuilt(registry, same).iotune
    assert iotune is not None and iotune.total_iops_sec == 5
    differ = copy.deepcopy(same)
    differ["specParams"]["ioTune"]["total_iops_sec"] = 6
    with pytest.raises(devframe.SpecError, match=r"'iotune': contradicts 'specParams\.ioTune'"):
        registry.device_from_spec(differ)


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"type": "disk", "auth": "cinder:ceph"}, "auth"),
        ({"type": "disk", "auth": {"username": "u", "type": "ceph", "uid": "x"}}, "auth"),
        ({"type": "disk", "managed_reservation": "maybe"}, "managed_reservation"),
        ({"type": "disk", "iotune": {"total_iops_sec": "fast"}}, "iotune.total_iops_sec"),  # as the engine spelt it
        ({"type": "disk", "iotune": {"total_iops": 5}}, "iotune.total_iops"),
    ],
)
def test_bad_engine_values_are_spec_errors(registry: devframe.Registry, spec: dict[str, Any], key: str) -> None:
    with pytest.raises(devframe.SpecError, match=key.replace(".", r"\.")):
        registry.device_from_spec(spec)


# -- libvirt's cow and VDSM's cow --------------------------------------------------------------


def test_vdsm_cow_is_qcow2(registry: devframe.Registry) -> None:
    drive = rebuilt(registry, {"type": "disk", "path": "/i.qcow2", "format": "cow"})
    assert drive.format == "qcow2"
    spec = drive.to_spec()
    assert spec["format"] == "cow" and "libvirtFormat" not in spec["specParams"]


def test_libvirt_cow_survives_xml_spec_xml(registry: devframe.Registry) -> None:
    drive = parse(registry, S.LITERAL_COW)
    spec = drive.to_spec()
    assert "format" not in spec and spec["specParams"]["libvirtFormat"] == "cow"
    assert spec["specParams"]["backingChain"] == [
        {"diskType": "file", "libvirtFormat": "cow", "path": "/var/lib/libvirt/images/uml-base.cow"}
    ]
    again = rebuilt(registry, spec).to_xml()
    assert at(again, "driver").get("type") == "cow"
    assert at(again, "backingStore/format").get("type") == "cow"


def test_libvirt_cow_from_a_spec(registry: devframe.Registry) -> None:
    drive = rebuilt(registry, {"type": "disk", "path": "/uml.cow", "specParams": {"libvirtFormat": "cow"}})
    assert at(drive.to_xml(), "driver").get("type") == "cow"
    agree = rebuilt(registry, {"type": "disk", "format": "cow", "specParams": {"libvirtFormat": "qcow2"}})
    assert agree.format == "qcow2"
    with pytest.raises(devframe.SpecError, match="libvirtFormat"):
        registry.device_from_spec({"type": "disk", "format": "cow", "specParams": {"libvirtFormat": "cow"}})
    with pytest.raises(devframe.SpecError, match="libvirtFormat"):
        registry.device_from_spec(
            {"type": "disk", "specParams": {"backingChain": [{"format": "cow", "libvirtFormat": "cow"}]}}
        )


# -- secrets -------------------------------------------------------------------------------------

MARK = "C00KIE-MARK"
UUID_MARK = "5ec2e7a1-0000-4000-8000-000000000bad"
SECRET_DISK = (
    "<disk type='network' device='cdrom'>"
    "<driver name='qemu' type='raw'/>"
    f"<auth username='web'><secret type='iscsi' uuid='{UUID_MARK}'/></auth>"
    "<source protocol='https' name='/image.iso'><host name='secure.example.org' port='443'/>"
    f"<cookies><cookie name='session'>{MARK}</cookie></cookies></source>"
    "<target dev='sdd' bus='sata'/><readonly/>"
    "</disk>"
)


def test_cookie_values_and_secret_references_never_show(registry: devframe.Registry) -> None:
    drive = parse(registry, SECRET_DISK)
    assert drive.cookies[0].value == MARK, "the program reads the value"
    assert drive.to_spec(secrets=True)["specParams"]["cookies"] == [{"name": "session", "value": MARK}]
    assert "cookies" not in drive.to_spec()["specParams"], "a default spec leaves secrets out"
    shown = [repr(drive), repr(drive.summary()), str(drive.problems()), repr(drive.cookies[0])]
    stream = io.StringIO()
    configure_logging(json=True, level="debug", stream=stream, env={})
    get_logger(test="secrets").info("disk", spec=drive.to_spec(secrets=True), xml=drive.to_xml())
    shown.append(stream.getvalue())
    text = "\n".join(shown)
    assert MARK not in text and UUID_MARK not in text
    logged = stream.getvalue()
    assert '"cookies": "***"' in logged and "<cookies>***</cookies>" in logged, logged


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "disk", "specParams": {"cookies": [{"name": "session", "value": MARK + " with space"}]}},
        {"type": "disk", "specParams": {"cookies": MARK}},
        # (a <secret uuid> only names a libvirt secret object: no secret, see devframe.core.secrets)
    ],
)
def test_errors_never_quote_a_secret(registry: devframe.Registry, spec: dict[str, Any]) -> None:
    with pytest.raises(devframe.DevframeError) as caught:
        registry.device_from_spec(spec)
    message = str(caught.value) + repr(caught.value.args)
    assert message and MARK not in message


def test_bad_stored_cookie_is_a_redacted_problem(registry: devframe.Registry) -> None:
    drive = parse(registry, SECRET_DISK.replace(MARK, MARK + " bad"))
    problems = drive.problems()
    assert problems and "cookies" in problems[0] and MARK not in str(problems)
    with pytest.raises(devframe.FieldValueError) as caught:
        drive.to_spec(secrets=True)
    assert MARK not in str(caught.value)


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_inspect_never_shows_a_cookie_or_a_secret_reference(tmp_path: Path, as_json: bool) -> None:
    import os

    from click.testing import CliRunner

    from devframe.cli import main

    path = tmp_path / "secrets.xml"
    path.write_text(wrap_in_domain(SECRET_DISK))
    env: dict[str, str | None] = {key: None for key in os.environ if key.startswith("DEVFRAME_")}
    args = ["--log-level", "debug", "inspect", *(["--json"] if as_json else []), str(path)]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "sdd" in result.stdout or '"sdd"' in result.stdout
    assert MARK not in result.stdout + result.stderr and UUID_MARK not in result.stdout + result.stderr


def test_vdsm_keys_that_are_metadata_by_design_stay_metadata(registry: devframe.Registry) -> None:
    replicate = {"diskType": "file", "path": "/replica.img", "format": "raw"}
    drive = rebuilt(registry, {"type": "disk", "path": "/i.img", "diskReplicate": replicate, "guestName": "/dev/vda"})
    assert drive.metadata["diskReplicate"] == replicate and drive.metadata["guestName"] == "/dev/vda"
    assert "replica" not in drive.to_xml()
    spec = drive.to_spec()
    assert (spec["diskReplicate"], spec["guestName"]) == (replicate, "/dev/vda")
    assert registry.routes["disk"].metadata_schema.keys["diskReplicate"] is dict
