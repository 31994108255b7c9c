"""Tests of the graphics plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

import copy
import logging
import warnings
from typing import Any

import pytest
import structlog
from devframe_graphics import Graphics, LegacyConfError
from devframe_graphics.device import GRAPHICS_TYPES
from devframe_graphics.plugin import LEGACY_ARCH_TABLE
from lxml import etree

import devframe
from devframe.testing import (
    assert_edit_changes_only,
    canonical,
    contract_tests,
    validate_against_schema,
    wrap_in_domain,
)

DEVICE_ID = "5d5b3a8e-0000-4000-8000-00000000000a"
SECRET = "s3cr3t-Pa55"

VNC_FULL = (
    "<graphics type='vnc' port='5901' autoport='no' websocket='5700' listen='192.0.2.10'"
    f" sharePolicy='force-shared' powerControl='yes' passwd='{SECRET}' keymap='en-us'"
    " passwdValidTo='2030-01-01T00:00:01' connected='keep'>"
    "<listen type='address' address='192.0.2.10'/><audio id='1'/></graphics>"
)
VNC_NETWORK = (
    "<graphics type='vnc' port='-1' autoport='yes'>"
    "<listen type='network' network='ovirtmgmt' address='192.0.2.11'/></graphics>"
)
VNC_SOCKET = "<graphics type='vnc' socket='/run/vnc/guest.sock' keymap='de'/>"
VNC_LISTEN_SOCKET = "<graphics type='vnc'><listen type='socket' socket='/run/vnc/guest2.sock'/></graphics>"
SPICE_FULL = (
    "<graphics type='spice' port='5900' tlsPort='5901' autoport='no' listen='0.0.0.0'"
    " keymap='fr' passwdValidTo='2030-01-01T00:00:01' connected='disconnect' defaultMode='secure'>"
    "<listen type='address' address='0.0.0.0'/>"
    "<channel name='main' mode='secure'/><channel name='inputs' mode='secure'/>"
    "<channel name='smartcard' mode='secure'/><channel name='playback' mode='insecure'/>"
    "<channel name='record' mode='any'/>"
    "<image compression='auto_glz'/><jpeg compression='auto'/><zlib compression='never'/>"
    "<playback compression='on'/><streaming mode='filter'/><clipboard copypaste='no'/>"
    "<mouse mode='client'/><filetransfer enable='no'/>"
    "<gl enable='yes' rendernode='/dev/dri/renderD128'/></graphics>"
)
SPICE_AUTOPORT = "<graphics type='spice' port='-1' tlsPort='-1' autoport='yes'><listen type='none'/></graphics>"
EGL = "<graphics type='egl-headless'><gl rendernode='/dev/dri/renderD129'/></graphics>"
DBUS = (
    "<graphics type='dbus' address='unix:path=/run/dbus.sock'>"
    "<gl enable='yes' rendernode='/dev/dri/renderD128'/><audio id='2'/></graphics>"
)
DBUS_P2P = "<graphics type='dbus' p2p='yes'><gl enable='no'/></graphics>"
SDL = "<graphics type='sdl' display=':0.0' xauth='/root/.Xauthority' fullscreen='yes'><gl enable='yes'/></graphics>"
RDP = "<graphics type='rdp' port='3389' autoport='no' multiUser='yes' replaceUser='no' listen='192.0.2.12'/>"
DESKTOP = "<graphics type='desktop' display=':0.1' fullscreen='no'/>"

SAMPLES = [
    VNC_FULL,
    VNC_NETWORK,
    VNC_SOCKET,
    VNC_LISTEN_SOCKET,
    SPICE_FULL,
    SPICE_AUTOPORT,
    EGL,
    DBUS,
    DBUS_P2P,
    SDL,
    RDP,
    DESKTOP,
]

# libvirt 11.3's schema gives rdp a username and a password; 9.0's has neither.
RDP_11 = (
    f"<graphics type='rdp' port='3390' autoport='no' username='alice' passwd='{SECRET}'>"
    "<listen type='address' address='192.0.2.13'/></graphics>"
)
NEWER = [RDP_11]

TestContract = contract_tests("graphics", samples=SAMPLES + NEWER)

ARCHES = ("x86_64", "ppc64", "ppc64le", "s390x", "aarch64")
SPICE_ARCHES = ("x86_64", "ppc64", "ppc64le", "aarch64")


@pytest.fixture
def registry(devframe_registry):
    return devframe_registry("graphics")


def parse_one(registry, xml: str) -> Graphics:
    (device,) = devframe.parse_domain(wrap_in_domain(xml), registry=registry).dev_map["graphics"]
    assert isinstance(device, Graphics)
    return device


def legacy(registry, conf, arch="x86_64"):
    results = registry.call_collected("devframe_spec_list_from_legacy_conf", conf=conf, arch=arch)
    return [spec for _, specs in results for spec in specs]


# -- samples are what libvirt accepts --------------------------------------------------


@pytest.mark.parametrize("xml", SAMPLES)
def test_samples_are_schema_valid(xml):
    assert not validate_against_schema(wrap_in_domain(xml))


# -- typed fields ------------------------------------------------------------------------


def test_vnc_fields(registry):
    g = parse_one(registry, VNC_FULL)
    assert (g.type, g.port, g.autoport, g.websocket) == ("vnc", 5901, False, 5700)
    assert (g.share_policy, g.power_control, g.keymap) == ("force-shared", True, "en-us")
    assert (g.passwd, g.passwd_valid_to, g.connected, g.audio_id) == (SECRET, "2030-01-01T00:00:01", "keep", 1)
    assert [(item.type, item.address) for item in g.listens] == [("address", "192.0.2.10")]
    assert g.alias is None and g.device_id is None
    assert g.identity() == {"devtype": "graphics", "name": "vnc"}


def test_spice_fields(registry):
    g = parse_one(registry, SPICE_FULL)
    assert (g.port, g.tls_port, g.default_mode) == (5900, 5901, "secure")
    assert [(c.name, c.mode) for c in g.channels][:2] == [("main", "secure"), ("inputs", "secure")]
    assert (g.image_compression, g.jpeg_compression, g.zlib_compression) == ("auto_glz", "auto", "never")
    assert (g.playback_compression, g.streaming_mode, g.mouse_mode) == (True, "filter", "client")
    assert (g.copy_paste, g.file_transfer, g.gl_enable, g.gl_rendernode) == (False, False, True, "/dev/dri/renderD128")


def test_other_types_fields(registry):
    assert parse_one(registry, EGL).gl_rendernode == "/dev/dri/renderD129"
    dbus = parse_one(registry, DBUS)
    assert (dbus.dbus_address, dbus.audio_id, dbus.address) == ("unix:path=/run/dbus.sock", 2, None)
    assert parse_one(registry, DBUS_P2P).p2p is True
    sdl = parse_one(registry, SDL)
    assert (sdl.display, sdl.xauth, sdl.fullscreen, sdl.gl_enable) == (":0.0", "/root/.Xauthority", True, True)
    rdp = parse_one(registry, RDP)
    assert (rdp.port, rdp.multi_user, rdp.replace_user, rdp.listen) == (3389, True, False, "192.0.2.12")
    desktop = parse_one(registry, DESKTOP)
    assert (desktop.display, desktop.fullscreen) == (":0.1", False)
    assert parse_one(registry, VNC_SOCKET).socket == "/run/vnc/guest.sock"


def test_bad_port_is_reported_not_raised(registry):
    g = parse_one(registry, "<graphics type='vnc' port='70000' autoport='maybe'/>")
    problems = g.problems()
    assert any("port" in p and "range" in p for p in problems)
    assert any("autoport" in p for p in problems)
    with pytest.raises(devframe.FieldValueError, match="port"):
        g.to_spec()
    assert "70000" in g.to_xml()


def test_setting_out_of_range_port_raises(registry):
    g = parse_one(registry, VNC_NETWORK)
    with pytest.raises(devframe.DevframeError, match="port"):
        g.port = 65536


# -- dev_spec ------------------------------------------------------------------------------


def test_vnc_spec(registry):
    spec = parse_one(registry, VNC_FULL).to_spec()
    assert spec["type"] == "graphics" and spec["device"] == "vnc" and spec["port"] == 5901
    params = spec["specParams"]
    assert params["keyMap"] == "en-us" and params["displayIp"] == "192.0.2.10"
    assert params["listens"] == [{"type": "address", "address": "192.0.2.10"}]
    assert params["websocket"] == 5700 and params["autoport"] is False and params["audioId"] == 1
    assert "deviceId" not in spec and "alias" not in spec


def test_spice_spec_channels_and_options(registry):
    spec = parse_one(registry, SPICE_FULL).to_spec()
    params = spec["specParams"]
    assert spec["tlsPort"] == 5901
    assert params["spiceSecureChannels"] == "smain,sinputs,ssmartcard"
    assert params["spiceChannels"] == [{"name": "playback", "mode": "insecure"}, {"name": "record", "mode": "any"}]
    assert params["copyPasteEnable"] == "false" and params["fileTransferEnable"] == "false"
    assert params["imageCompression"] == "auto_glz" and params["playbackCompression"] is True
    assert params["glEnable"] is True and params["glRendernode"] == "/dev/dri/renderD128"


def test_network_listen_gives_display_network_and_ip(registry):
    params = parse_one(registry, VNC_NETWORK).to_spec()["specParams"]
    assert params["displayNetwork"] == "ovirtmgmt" and params["displayIp"] == "192.0.2.11"


@pytest.mark.parametrize("xml", SAMPLES)
def test_spec_round_trip(registry, xml):
    spec = parse_one(registry, xml).to_spec()
    again = registry.device_from_spec(copy.deepcopy(spec))
    assert again.to_spec() == spec


def test_engine_spec(registry):
    spec = {
        "type": "graphics",
        "device": "spice",
        "deviceId": DEVICE_ID,
        "port": "-1",
        "tlsPort": -1,
        "specParams": {
            "keyMap": "en-us",
            "displayNetwork": "ovirtmgmt",
            "displayIp": "192.0.2.1",
            "spiceSecureChannels": "smain, sinputs,cursor",
            "copyPasteEnable": "true",
            "fileTransferEnable": "false",
            "vendorThing": {"x": 1},
        },
    }
    g = registry.device_from_spec(spec)
    assert isinstance(g, Graphics)
    root = etree.fromstring(g.to_xml())
    assert root.find("alias") is None  # libvirt's schema has no alias for graphics
    assert (root.get("port"), root.get("tlsPort"), root.get("keymap")) == ("-1", "-1", "en-us")
    assert [(c.get("name"), c.get("mode")) for c in root.findall("channel")] == [
        ("main", "secure"),
        ("inputs", "secure"),
        ("cursor", "secure"),
    ]
    assert root.find("listen").attrib == {"type": "network", "network": "ovirtmgmt", "address": "192.0.2.1"}
    assert root.find("clipboard").get("copypaste") == "yes"
    assert root.find("filetransfer").get("enable") == "no"
    assert g.device_id == DEVICE_ID and g.metadata["deviceId"] == DEVICE_ID
    out = g.to_spec()
    assert out["deviceId"] == DEVICE_ID
    assert out["specParams"]["spiceSecureChannels"] == "smain,sinputs,scursor"
    assert out["specParams"]["vendorThing"] == {"x": 1}
    assert g.unmapped_spec_keys == ("specParams.vendorThing",)  # kept, and reported
    assert registry.device_from_spec(out).to_spec() == out
    assert not validate_against_schema(wrap_in_domain(g.to_xml()))


def test_display_ip_alone_builds_address_listen(registry):
    g = registry.device_from_spec({"type": "graphics", "device": "vnc", "specParams": {"displayIp": "0"}})
    assert [item.attrib for item in g.element.findall("listen")] == [{"type": "address", "address": "0"}]


def test_contradicting_display_keys_are_refused(registry):
    spec = {
        "type": "graphics",
        "device": "vnc",
        "specParams": {"listens": [{"type": "address", "address": "192.0.2.1"}], "displayIp": "192.0.2.2"},
    }
    with pytest.raises(devframe.SpecError, match="displayIp"):
        registry.device_from_spec(spec)
    spec["specParams"] = {"listen": "192.0.2.1", "displayIp": "192.0.2.2"}
    with pytest.raises(devframe.SpecError, match="displayIp"):
        registry.device_from_spec(spec)
    spec["specParams"] = {"listens": [{"type": "address"}], "displayNetwork": "ovirtmgmt"}
    with pytest.raises(devframe.SpecError, match="displayNetwork"):
        registry.device_from_spec(spec)


@pytest.mark.parametrize(
    "params, key",
    [
        ({"spiceSecureChannels": "main,bogus"}, "spiceSecureChannels"),
        ({"spiceSecureChannels": ["smain"]}, "spiceSecureChannels"),
        ({"spiceChannels": "main"}, "spiceChannels"),
        ({"displayIp": 7}, "displayIp"),
        ({"copyPasteEnable": "perhaps"}, "copyPasteEnable"),
        ({"audioId": 300}, "audioId"),
    ],
)
def test_bad_spec_values_name_the_key(registry, params, key):
    with pytest.raises(devframe.DevframeError, match=key):
        registry.device_from_spec({"type": "graphics", "device": "spice", "specParams": params})


def test_bad_port_in_spec_names_the_key(registry):
    with pytest.raises(devframe.DevframeError, match="port"):
        registry.device_from_spec({"type": "graphics", "device": "vnc", "port": "abc"})
    with pytest.raises(devframe.SpecError, match="specParams"):
        registry.device_from_spec({"type": "graphics", "device": "vnc", "specParams": "x"})


def test_copy_paste_accepts_bools_and_words(registry):
    for value, word in ((True, "yes"), ("False", "no"), ("yes", "yes")):
        g = registry.device_from_spec({"type": "graphics", "device": "spice", "specParams": {"copyPasteEnable": value}})
        assert g.element.find("clipboard").get("copypaste") == word


@pytest.mark.parametrize("kind", ["vnc", "spice", "sdl", "rdp", "desktop", "egl-headless", "dbus"])
def test_minimal_spec_is_schema_valid(registry, kind):
    g = registry.device_from_spec({"type": "graphics", "device": kind})
    assert g.type == kind
    assert not validate_against_schema(wrap_in_domain(g.to_xml()))


def test_partial_spec_gets_default_type(registry):
    g = registry.device_from_spec({"type": "graphics"})
    assert g.type == "vnc"
    assert canonical(g.to_xml()) == canonical("<graphics type='vnc'/>")


def test_spec_built_children_follow_libvirt_order(registry):
    spec = parse_one(registry, SPICE_FULL).to_spec()
    built = registry.device_from_spec(spec)
    tags = [child.tag for child in built.element]
    assert tags == [
        "listen",
        "channel",
        "channel",
        "channel",
        "channel",
        "channel",
        "image",
        "jpeg",
        "zlib",
        "playback",
        "streaming",
        "clipboard",
        "mouse",
        "filetransfer",
        "gl",
    ]


def test_deviceid_with_alias_uses_the_alias(registry):
    spec = {"type": "graphics", "device": "vnc", "alias": f"ua-{DEVICE_ID}", "deviceId": DEVICE_ID}
    g = registry.device_from_spec(spec)
    assert g.alias == f"ua-{DEVICE_ID}" and g.device_id == DEVICE_ID and "deviceId" not in g.metadata


# -- the password is secret ------------------------------------------------------------------


def test_passwd_never_in_spec_repr_summary(registry):
    g = parse_one(registry, VNC_FULL)
    assert type(g).fields["passwd"].secret
    assert SECRET not in repr(g)
    assert SECRET not in repr(g.to_spec())
    assert g.summary()["passwd"] == "***"
    assert SECRET not in repr(g.summary())
    assert SECRET in g.to_xml()  # kept in the element, where libvirt needs it


def test_passwd_from_spec_goes_to_element_not_metadata(registry):
    for spec in (
        {"type": "graphics", "device": "vnc", "passwd": SECRET},
        {"type": "graphics", "device": "vnc", "specParams": {"passwd": SECRET}},
    ):
        g = registry.device_from_spec(spec)
        assert g.passwd == SECRET
        assert SECRET not in repr(g.metadata.to_dict())
        assert SECRET not in repr(g.to_spec())


def test_passwd_never_in_error_messages(registry):
    g = parse_one(registry, VNC_FULL)
    with pytest.raises(devframe.DevframeError) as info:
        g.passwd = 12345  # type: ignore[assignment]
    assert "12345" not in str(info.value)
    with pytest.raises(devframe.SpecError) as info2:
        registry.device_from_spec({"type": "graphics", "device": "vnc", "passwd": ["hunter2"]})
    assert "hunter2" not in str(info2.value)


def test_passwd_never_logged(registry, caplog):
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        g = parse_one(registry, VNC_FULL)
        registry.device_from_spec({"type": "graphics", "device": "vnc", "passwd": SECRET}).to_spec()
        g.summary()
        legacy(registry, {"display": "vnc", "keyboardLayout": "en-us"})
    assert SECRET not in repr(logs) and SECRET not in caplog.text


# -- editing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "xml, name, value, path, raw",
    [
        (VNC_FULL, "port", 5999, "@port", "5999"),
        (VNC_FULL, "keymap", "de", "@keymap", "de"),
        (VNC_FULL, "autoport", True, "@autoport", "yes"),
        (VNC_FULL, "websocket", 5701, "@websocket", "5701"),
        (VNC_FULL, "passwd", "other", "@passwd", "other"),
        (VNC_FULL, "passwd_valid_to", "2031-01-01T00:00:00", "@passwdValidTo", "2031-01-01T00:00:00"),
        (VNC_FULL, "listen", "192.0.2.99", "@listen", "192.0.2.99"),
        (VNC_FULL, "audio_id", 3, "audio@id", "3"),
        (SPICE_FULL, "tls_port", 6001, "@tlsPort", "6001"),
        (SPICE_FULL, "default_mode", "any", "@defaultMode", "any"),
        (SPICE_FULL, "copy_paste", True, "clipboard@copypaste", "yes"),
        (SPICE_FULL, "file_transfer", True, "filetransfer@enable", "yes"),
        (SPICE_FULL, "image_compression", "off", "image@compression", "off"),
        (SPICE_FULL, "mouse_mode", "server", "mouse@mode", "server"),
        (SPICE_FULL, "gl_rendernode", "/dev/dri/renderD130", "gl@rendernode", "/dev/dri/renderD130"),
        (SDL, "display", ":1", "@display", ":1"),
        (RDP, "multi_user", False, "@multiUser", "no"),
        (DBUS, "dbus_address", "unix:path=/x", "@address", "unix:path=/x"),
    ],
)
def test_editing_changes_only_that_field(registry, xml, name, value, path, raw):
    g = parse_one(registry, xml)
    expected = etree.fromstring(g.to_xml())
    child, attr = path.split("@")
    (expected.find(child) if child else expected).set(attr, raw)
    setattr(g, name, value)
    assert canonical(g.to_xml()) == canonical(expected)


def test_editing_listens_keeps_the_rest(registry):
    g = parse_one(registry, VNC_FULL)
    g.listens = [{"type": "network", "network": "display"}]
    root = etree.fromstring(g.to_xml())
    assert [item.attrib for item in root.findall("listen")] == [{"type": "network", "network": "display"}]
    assert root.find("audio").get("id") == "1" and root.get("passwd") == SECRET


def test_new_field_is_created_in_libvirt_order(registry):
    g = parse_one(registry, "<graphics type='spice'><gl enable='no'/></graphics>")
    g.image_compression = "lz"
    assert [child.tag for child in g.element] == ["image", "gl"]


# -- metadata identity and hooks -------------------------------------------------------------


def test_metadata_identity_is_devtype_and_type(registry):
    g = parse_one(registry, SPICE_FULL)
    route = registry.routes["graphics"]
    assert g.checked_identity() == {"devtype": "graphics", "name": "spice"}
    assert route.dev_class(etree.fromstring("<graphics/>")).identity() is None
    assert dict(route.metadata_schema.keys) == {"deviceId": str, "display_network": str, "custom": dict}


def test_summary_shows_key_fields(registry):
    summary = parse_one(registry, VNC_NETWORK).summary()
    assert summary == {
        "type": "vnc",
        "port": -1,
        "autoport": True,
        "listen_network": "ovirtmgmt",
        "listen": "192.0.2.11",
    }
    spice = parse_one(registry, SPICE_FULL).summary()
    assert spice["secure_channels"] == ["main", "inputs", "smartcard"] and spice["tls_port"] == 5901
    broken = parse_one(registry, "<graphics type='vnc' port='x'/>").summary()
    assert broken["port"] == "<invalid 'x'>"


# -- legacy conf -------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", SPICE_ARCHES)
@pytest.mark.parametrize("display", ["qxl", "qxlnc"])
def test_legacy_spice_display_per_arch(registry, arch, display):
    assert legacy(registry, {"display": display}, arch) == [{"type": "graphics", "device": "spice"}]


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("display", ["vnc", "cirrus"])
def test_legacy_other_display_is_vnc_per_arch(registry, arch, display):
    assert legacy(registry, {"display": display}, arch) == [{"type": "graphics", "device": "vnc"}]


@pytest.mark.parametrize("display", ["qxl", "qxlnc"])
def test_legacy_spice_refused_on_s390x(registry, display):
    with pytest.raises(LegacyConfError, match="s390x") as info:
        legacy(registry, {"display": display}, "s390x")
    assert info.value.key == "display"


@pytest.mark.parametrize("arch", ARCHES)
def test_legacy_headless_per_arch(registry, arch):
    assert legacy(registry, {"vmName": "x"}, arch) == []
    assert legacy(registry, {"display": None}, arch) == []


@pytest.mark.parametrize("arch", SPICE_ARCHES)
def test_legacy_spice_spec_params_and_valid_domain(registry, arch):
    conf = {
        "display": "qxl",
        "keyboardLayout": "en-us",
        "displayNetwork": "ovirtmgmt",
        "spiceSecureChannels": "smain,sinputs,scursor,splayback,srecord,sdisplay,ssmartcard,susbredir",
        "copyPasteEnable": "false",
        "fileTransferEnable": "true",
    }
    (spec,) = legacy(registry, conf, arch)
    assert spec["specParams"] == {
        "keyMap": "en-us",
        "displayNetwork": "ovirtmgmt",
        "spiceSecureChannels": conf["spiceSecureChannels"],
        "copyPasteEnable": "false",
        "fileTransferEnable": "true",
    }
    g = registry.device_from_spec(spec)
    assert len(g.channels) == 8 and g.copy_paste is False and g.file_transfer is True
    assert not validate_against_schema(wrap_in_domain(g.to_xml(), arch=arch))


@pytest.mark.parametrize("arch", ARCHES)
def test_legacy_vnc_skips_spice_only_keys_and_logs_them(registry, arch):
    conf = {"display": "vnc", "keyboardLayout": "de", "spiceSecureChannels": "smain", "copyPasteEnable": "true"}
    with structlog.testing.capture_logs() as logs:
        (spec,) = legacy(registry, conf, arch)
    assert spec == {"type": "graphics", "device": "vnc", "specParams": {"keyMap": "de"}}
    assert any(entry.get("skipped") == ["spiceSecureChannels", "copyPasteEnable"] for entry in logs)
    g = registry.device_from_spec(spec)
    assert not validate_against_schema(wrap_in_domain(g.to_xml(), arch=arch))


def test_legacy_arch_table_covers_every_arch():
    assert set(LEGACY_ARCH_TABLE) == set(ARCHES)


@pytest.mark.parametrize("arch", ["i686", "riscv64", "", None])
def test_legacy_unknown_arch(registry, arch):
    with pytest.raises(devframe.DevframeError, match="arch"):
        legacy(registry, {"display": "vnc"}, arch)


@pytest.mark.parametrize("conf", [None, [], "display=vnc", 42])
def test_legacy_conf_not_a_dict(registry, conf):
    with pytest.raises(devframe.DevframeError, match="conf"):
        legacy(registry, conf)


@pytest.mark.parametrize(
    "conf, key",
    [
        ({"display": 1}, "display"),
        ({"display": "qxl", "keyboardLayout": 5}, "keyboardLayout"),
        ({"display": "qxl", "displayNetwork": ""}, "displayNetwork"),
        ({"display": "qxl", "spiceSecureChannels": "smain,nonsense"}, "spiceSecureChannels"),
        ({"display": "qxl", "copyPasteEnable": "maybe"}, "copyPasteEnable"),
        ({"display": "qxl", "fileTransferEnable": 3}, "fileTransferEnable"),
    ],
)
def test_legacy_bad_values_name_the_key(registry, conf, key):
    with pytest.raises(LegacyConfError) as info:
        legacy(registry, conf)
    assert info.value.key == key and key in str(info.value)


def test_legacy_keys_hook(registry):
    (keys,) = [r for _, r in registry.call_collected("devframe_legacy_conf_keys")]
    assert set(keys) == {
        "display",
        "keyboardLayout",
        "displayNetwork",
        "spiceSecureChannels",
        "copyPasteEnable",
        "fileTransferEnable",
    }


def test_legacy_does_not_warn_itself(registry):
    # The core emits the DeprecationWarning once per call; a plugin must not add more.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        legacy(registry, {"display": "qxl"})


def test_deviceid_survives_domain_metadata(registry):
    domain = devframe.parse_domain(wrap_in_domain(), registry=registry)
    domain.add(registry.device_from_spec({"type": "graphics", "device": "spice", "deviceId": DEVICE_ID}))
    domain.add(registry.device_from_spec({"type": "graphics", "device": "vnc", "deviceId": DEVICE_ID[:-1] + "b"}))
    xml = domain.to_xml()
    assert 'devtype="graphics" name="spice"' in xml
    assert not validate_against_schema(xml)
    again = devframe.parse_domain(xml, registry=registry)
    assert [g.device_id for g in again.dev_map["graphics"]] == [DEVICE_ID, DEVICE_ID[:-1] + "b"]
    assert again.dev_map["graphics"][0].to_spec()["deviceId"] == DEVICE_ID


# -- libvirt 11.3: rdp username and password; the whole schema, field by field -------------------


def test_newer_samples_are_outside_the_9_0_schema() -> None:
    # So the contract's schema check skips them; checked by hand against 11.3 (see the report).
    assert validate_against_schema(wrap_in_domain(RDP_11))


def test_rdp_username_and_password(registry: devframe.Registry) -> None:
    g = parse_one(registry, RDP_11)
    assert (g.username, g.passwd, g.port, g.autoport) == ("alice", SECRET, 3390, False)
    spec = g.to_spec()
    assert spec["specParams"]["username"] == "alice" and SECRET not in repr(spec)
    assert SECRET not in repr(g) and g.summary()["passwd"] == "***"
    built = registry.device_from_spec({**spec, "passwd": SECRET})
    assert canonical(built.to_xml()) == canonical(RDP_11)


def test_every_graphics_type_of_the_schema_has_a_sample(registry: devframe.Registry) -> None:
    assert {parse_one(registry, xml).type for xml in SAMPLES} == set(GRAPHICS_TYPES)
    listen_types = {item.type for xml in SAMPLES for item in parse_one(registry, xml).listens}
    assert listen_types == {"address", "network", "socket", "none"}


def test_metadata_by_design_is_not_reported(registry: devframe.Registry) -> None:
    spec = {"type": "graphics", "device": "vnc", "display_network": "ovirtmgmt", "custom": {"hook": "x"}}
    g = registry.device_from_spec(spec)
    assert g.unmapped_spec_keys == ()
    assert g.to_spec()["custom"] == {"hook": "x"}


def test_ports_use_the_core_int_range(registry: devframe.Registry) -> None:
    from devframe import IntRange

    assert isinstance(Graphics.port.kind, IntRange) and isinstance(Graphics.audio_id.kind, IntRange)
    with pytest.raises(devframe.SpecError, match=r"specParams\.audioId"):
        registry.device_from_spec({"type": "graphics", "device": "vnc", "specParams": {"audioId": 256}})


@pytest.mark.parametrize(
    "name, values",
    [
        ("port", [5999, -1]),
        ("tls_port", [6001]),
        ("autoport", [True, False]),
        ("websocket", [5799]),
        ("share_policy", ["ignore", "allow-exclusive"]),
        ("power_control", [False, True]),
        ("socket", ["/run/vnc/other.sock"]),
        ("keymap", ["sv", "de"]),
        ("passwd_valid_to", ["2031-01-01T00:00:00"]),
        ("connected", ["fail", "keep"]),
        ("default_mode", ["insecure", "any"]),
        ("listen", ["192.0.2.98"]),
        ("display", [":9"]),
        ("xauth", ["/tmp/.Xauth"]),
        ("fullscreen", [False, True]),
        ("multi_user", [False, True]),
        ("replace_user", [True, False]),
        ("username", ["bob"]),
        ("dbus_address", ["unix:path=/run/other"]),
        ("p2p", [False, True]),
        ("image_compression", ["quic", "off"]),
        ("jpeg_compression", ["never", "always"]),
        ("zlib_compression", ["auto", "always"]),
        ("playback_compression", [False, True]),
        ("streaming_mode", ["all", "off"]),
        ("copy_paste", [True, False]),
        ("mouse_mode", ["server", "client"]),
        ("file_transfer", [True, False]),
        ("gl_enable", [False, True]),
        ("gl_rendernode", ["/dev/dri/renderD130"]),
        ("audio_id", [7, 9]),
    ],
)
def test_each_field_edit_changes_only_that_field(registry: devframe.Registry, name: str, values: list[Any]) -> None:
    assert_edit_changes_only(registry, Graphics, SAMPLES + NEWER, name, values)


def test_every_modeled_field_has_an_edit_check() -> None:
    # The list above names every typed field of the class (listens and channels are lists).
    tested = {
        "port", "tls_port", "autoport", "websocket", "share_policy", "power_control", "socket", "keymap",
        "passwd_valid_to", "connected", "default_mode", "listen", "display", "xauth", "fullscreen", "multi_user",
        "replace_user", "username", "dbus_address", "p2p", "image_compression", "jpeg_compression",
        "zlib_compression", "playback_compression", "streaming_mode", "copy_paste", "mouse_mode", "file_transfer",
        "gl_enable", "gl_rendernode", "audio_id",
    }  # fmt: skip
    # the graphics type is structural; the password has its own tests above
    untested = {"type", "passwd", "alias", "address", "listens", "channels"}
    assert set(Graphics.fields) == tested | untested
