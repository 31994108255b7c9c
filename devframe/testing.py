"""devframe's pytest plugin: fixtures and the plugin contract suite.

Installed with the core (``pytest11`` entry point), so any test session sees:

* ``devframe_registry`` — a factory: ``devframe_registry("sound", "video")`` builds a
  registry with only those entry-point plugins loaded.
* ``devframe_temp_plugin`` — a factory registering a plugin object (module, class or
  instance) for one test: ``devframe_temp_plugin(obj, name="x", with_entry_points=...)``.
* ``devframe_corpus`` — the domain XML files to test against: devframe's own sample
  domains (shipped in the package, :data:`SAMPLE_DOMAINS`), plus every ``*.xml`` under
  ``$DEVFRAME_CORPUS`` when that is set (a larger body of real domains of your own).

and a plugin author runs the contract suite against a plugin with one line::

    from devframe.testing import contract_tests

    TestContract = contract_tests("my_plugin", samples=[MY_ELEMENT_XML])
"""

from __future__ import annotations

import copy
import os
import re
import uuid as uuidlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeGuard, TypeVar, overload

import pytest
from lxml import etree

from devframe.core.device import Device, UnknownDevice
from devframe.core.domain import Domain, parse_domain
from devframe.core.errors import DevframeError, FieldValueError, SpecError
from devframe.core.fields import INT, Choice, ElementView, Field, Flag, _Bool, _split_path, put_path
from devframe.core.registry import Registry, create_registry
from devframe.core.safexml import parse_trusted_xml, parse_xml
from devframe.core.specread import plan_for

__all__ = [
    "CONTRACT_SCHEMA_TIMEOUT",
    "DOMAIN_RNG",
    "SAMPLE_DOMAINS",
    "assert_edit_changes_only",
    "assert_reads_as_fields",
    "assert_reported_not_raised",
    "assert_set_changes_only",
    "assert_set_refused",
    "assert_spec_refused",
    "assert_spec_round_trip",
    "canonical",
    "contract_tests",
    "corpus_files",
    "edit_tests",
    "find_corpus",
    "one_device",
    "plugin_registry",
    "sample_domain_files",
    "spec_canonical",
    "typed_form",
    "validate_against_schema",
    "without_field",
    "wrap_in_domain",
]

D = TypeVar("D", bound=Device)

DOMAIN_RNG = Path(os.environ.get("DEVFRAME_DOMAIN_RNG", "/usr/share/libvirt/schemas/domain.rng"))
#: devframe's own test domains, written for the project and shipped with the core; see its README.md
SAMPLE_DOMAINS = Path(__file__).resolve().parent / "sample_domains"
#: seconds the contract suite lets one schema validation run before it fails the sample
CONTRACT_SCHEMA_TIMEOUT = 120.0


# -- helpers ---------------------------------------------------------------------------


def canonical(xml: str | bytes | etree._Element) -> str:
    """C14N 2.0 with whitespace-only text stripped: the equality devframe promises.

    Takes any well-formed XML 1.0, names included: an attribute or element name may be
    any letter (``<a ü='1'/>``, CJK, astral planes), which neither lxml's default ASCII
    output nor Python's expat parser can carry, so text is parsed by libxml2 here and
    an element is serialized as text first. Bytes keep their declared encoding.
    """
    if isinstance(xml, etree._Element):
        # As text: inherited namespace declarations come along, names stay as written.
        xml = etree.tostring(xml, encoding="unicode", with_tail=False)
    data, encoding = (xml.encode("utf-8"), "utf-8") if isinstance(xml, str) else (xml, None)
    parser = etree.XMLParser(encoding=encoding, resolve_entities=False, load_dtd=False, no_network=True, huge_tree=True)
    tree = etree.fromstring(data, parser).getroottree()
    # lxml-stubs do not know c14n2's options.
    out: bytes = etree.tostring(tree, method="c14n2", strip_text=True, with_comments=True)  # type: ignore[call-overload]
    return out.decode("utf-8")


def spec_canonical(xml: str | bytes | etree._Element, unordered: Iterable[str] = ()) -> str:
    """:func:`canonical` of a device as it comes back from XML -> dev_spec -> XML.

    What it leaves aside, beyond :func:`canonical`'s attribute order and whitespace-only
    text: namespace prefixes (the namespaces are compared), comments and processing
    instructions (no dev_spec carries them, and libvirt drops them when it defines a
    domain), and the order of child elements of *different*
    tags (libvirt's schema interleaves a device's children, so that order means nothing;
    XML built from a spec comes in libvirt's order). The order of children of one tag
    (a disk's hosts, a graphics' listens) is kept: it means something, except for the
    ``unordered`` tags (a device class's ``unordered_children``: a spice graphics'
    channels, which libvirt keys by name).
    """
    loose = frozenset(unordered)
    if isinstance(xml, etree._Element):
        xml = etree.tostring(xml, encoding="unicode", with_tail=False)
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=True)
    root = etree.fromstring(data, parser)
    etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)
    for element in list(root.iter()):
        # stable: children of one tag keep their order, but for the unordered tags
        children = sorted(
            element, key=lambda child: (str(child.tag), etree.tostring(child) if child.tag in loose else b"")
        )
        for child in children:
            child.tail = None
        element[:] = children
    return canonical(_prefixes_rewritten(root))


def _prefixes_rewritten(root: etree._Element) -> etree._Element:
    """A copy of ``root`` with every namespace under a prefix of its sorted place (n0, n1,
    ...) declared on the root: a prefix names a namespace and holds no data, and an
    escaped namespaced attribute comes back under a prefix lxml picks."""
    uris: set[str] = set()
    for element in root.iter():
        for name in (element.tag, *element.keys()):
            if isinstance(name, str) and name.startswith("{"):
                uris.add(name[1 : name.index("}")])
    nsmap = {f"n{index}": uri for index, uri in enumerate(sorted(uris))}

    def copied(element: etree._Element, parent: etree._Element | None) -> etree._Element:
        attrib: dict[str, str] = {str(k): str(v) for k, v in element.attrib.items()}
        made = (
            etree.Element(element.tag, attrib, nsmap=nsmap)
            if parent is None
            else etree.SubElement(parent, element.tag, attrib)
        )
        made.text, made.tail = element.text, element.tail
        for child in element:
            if isinstance(child.tag, str):
                copied(child, made)
        return made

    return copied(root, None)


def typed_form(device: ElementView, built: etree._Element | None = None) -> etree._Element:
    """A copy of ``device``'s element with every value a field reads written as the
    field writes it (``0x0f`` as ``15``, ``2 GiB`` of a size as KiB): the form XML takes
    through a dev_spec, which holds typed values. Compare it with :func:`spec_canonical`
    to the XML a spec built (``built``): where that element carries the default of the
    ``device`` field the original leaves out (a dev_spec always names its device, and a
    kind may write the default it names), the default is made explicit here too.
    Values a field cannot read are left as written."""
    twin = copy.copy(device)
    twin.element = copy.deepcopy(device.element)
    pending: list[ElementView] = [twin]
    while pending:
        view = pending.pop()
        for field in type(view).fields.values():
            if not isinstance(field, Field):
                continue
            raw = field.raw(view)
            if raw is None:
                if view is twin and built is not None and field.spec == "device" and field.default is not None:
                    probe = copy.copy(twin)
                    probe.element = built
                    if field.raw(probe) == field.kind.format(field.default):
                        field.__set__(view, field.default)
                continue
            try:
                value = field.__get__(view, type(view))
                if type(field).__get__ is Field.__get__:
                    written = field.kind.format(value)
                    if written != raw:
                        field.set_raw(view, written)
                else:  # a field reading more than its text (a size and its unit): as a spec builds it
                    old = _leaf_at(view.element, field.steps)
                    attrs = {str(k): str(v) for k, v in old.attrib.items()}
                    children = [copy.deepcopy(child) for child in old]
                    field.__set__(view, None)
                    field.__set__(view, value)
                    leaf = _leaf_at(view.element, field.steps)
                    for name, text in attrs.items():  # what else the element held stays
                        if leaf.get(name) is None:
                            leaf.set(name, text)
                    leaf.extend(children)
            except (DevframeError, ValueError, TypeError):
                continue
        pending.extend(_nested_views(view))
    return twin.element


def _leaf_at(element: etree._Element, steps: Sequence[str]) -> etree._Element:
    for step in steps:
        element = next(element.iterchildren(step))
    return element


def find_corpus() -> Path | None:
    """An extra corpus of domain XML named by ``$DEVFRAME_CORPUS`` (None when unset).

    Nothing outside the checkout is searched: a test run depends only on what is in the
    repository, and a larger corpus is added on purpose. A set variable that names no
    directory is an error, so a typo cannot shrink a run silently.
    """
    env = os.environ.get("DEVFRAME_CORPUS")
    if not env:
        return None
    path = Path(env)
    if not path.is_dir():
        raise DevframeError(f"DEVFRAME_CORPUS={env!r} is not a directory")
    return path


def sample_domain_files() -> list[Path]:
    """devframe's own sample domains (:data:`SAMPLE_DOMAINS`), sorted."""
    return sorted(SAMPLE_DOMAINS.glob("*.xml"))


def corpus_files(corpus: Path | None = None) -> list[Path]:
    """The domain XML files tests run on: the sample domains, then ``corpus`` (default
    :func:`find_corpus`) when there is one, each part sorted."""
    extra = corpus or find_corpus()
    files = sample_domain_files()
    if extra is not None:
        files += sorted(extra.rglob("*.xml"))
    return files


def validate_against_schema(
    xml: str | bytes | etree._Element, schema: Path | str = DOMAIN_RNG, *, timeout: float | None = None
) -> list[str]:
    """Errors of ``xml`` against libvirt's domain RelaxNG schema (empty when valid).

    With ``timeout`` (seconds), validation runs in a forked child and raises
    :class:`~devframe.schema.SchemaTimeoutError` when it takes longer: a sample element
    with many optional attributes can keep libxml2 busy for minutes. The contract suite
    validates with :data:`CONTRACT_SCHEMA_TIMEOUT`.
    """
    from devframe.schema import validate_domain_xml

    return validate_domain_xml(xml, schema=schema, timeout=timeout)


def without_field(element: etree._Element, field: Any) -> etree._Element:
    """A copy of ``element`` without ``field``'s value, nor the elements of its path left
    empty (also those that stood empty before it was set: ``<bandwidth/>`` gaining an
    ``<outbound>`` is the field's change only)."""
    out = copy.deepcopy(element)
    chain = [out]
    for step in field.steps:
        child = next(chain[-1].iterchildren(step), None)
        if child is None:
            break
        chain.append(child)
    else:
        leaf = chain[-1]
        if isinstance(field, Flag):
            chain[-2].remove(leaf)
            chain.pop()
        elif field.attr is not None:
            if field.attr in leaf.attrib:
                del leaf.attrib[field.attr]
        else:
            leaf.text = None
    for depth in range(len(chain) - 1, 0, -1):
        node = chain[depth]
        if node.attrib or len(node) or (node.text or "").strip():
            break
        chain[depth - 1].remove(node)
    return out


def assert_edit_changes_only(
    registry: Registry, dev_class: type[Device], samples: Sequence[str], name: str, values: Sequence[Any]
) -> None:
    """Setting field ``name`` of each sample's first device to one of ``values`` (one that
    differs from what it holds) changes that field's XML and nothing else; at least one
    sample must let it change."""
    field = dev_class.fields[name]
    changed = 0
    for sample in samples:
        text = sample if sample.startswith("<domain") else wrap_in_domain(sample)
        device = parse_domain(text, registry=registry).devices[0]
        is_flag = isinstance(field, Flag)
        current = getattr(device, name) if is_flag else field.raw(device)  # type: ignore[attr-defined]
        choices = [v for v in values if (v if is_flag else field.kind.format(v)) != current]  # type: ignore[attr-defined]
        if not choices:
            continue
        before = copy.deepcopy(device.element)
        setattr(device, name, choices[0])
        assert getattr(device, name) == choices[0], sample
        assert canonical(without_field(device.element, field)) == canonical(without_field(before, field)), sample
        changed += 1
    assert changed, f"no sample let {name} change"


def edit_tests(
    plugin: str, dev_class: type[Device], samples: Sequence[str], edits: Mapping[str, Sequence[Any]]
) -> type:
    """A pytest test class: ``edits`` names a value (or several) for every modeled field of
    ``dev_class`` (each :class:`Field` and :class:`Flag`), and setting each on the
    ``samples`` changes that field's XML only (:func:`assert_edit_changes_only`)."""

    class EditTests:
        __test__ = True

        def test_edits_cover_every_modeled_field(self) -> None:
            modeled = {n for n, f in dev_class.fields.items() if isinstance(f, (Field, Flag))}
            assert set(edits) == modeled

        @pytest.mark.parametrize("name", sorted(edits))
        def test_setting_each_modeled_field_changes_only_it(self, name: str) -> None:
            registry = create_registry(only=[plugin], strict=True, env={})
            assert_edit_changes_only(registry, dev_class, samples, name, edits[name])

    EditTests.__name__ = EditTests.__qualname__ = f"Edits_{plugin}"
    return EditTests


@overload
def one_device(registry: Registry, xml: str, dev_class: None = None, *, arch: str = ...) -> Device: ...
@overload
def one_device(registry: Registry, xml: str, dev_class: type[D], *, arch: str = ...) -> D: ...
def one_device(registry: Registry, xml: str, dev_class: type[D] | None = None, *, arch: str = "x86_64") -> Device:
    """The one device of ``xml`` (a device element, wrapped in a domain, or a whole domain)
    parsed with ``registry``; an instance of ``dev_class`` when given."""
    text = xml if xml.lstrip().startswith("<domain") else wrap_in_domain(xml, arch=arch)
    devices = parse_domain(text, registry=registry).devices
    assert len(devices) == 1, f"expected one device, got {devices!r}"
    (device,) = devices
    if dev_class is not None:
        assert isinstance(device, dev_class), f"{device!r} is not a {dev_class.__name__}: {device.error}"
    return device


def assert_spec_round_trip(registry: Registry, device: Device, xml: str | None = None) -> dict[str, Any]:
    """``device``'s dev_spec builds a device of its class with the same spec and, in
    canonical form, the same XML (``xml``, default: the device's own element). Returns
    the spec."""
    spec = device.to_spec()
    again = registry.device_from_spec(spec)
    assert type(again) is type(device), f"{device!r} came back as {again!r}"
    assert again.to_spec() == spec, f"spec round trip differs: {spec!r:.300}"
    assert canonical(again.to_xml()) == canonical(device.element if xml is None else xml)
    return spec


def assert_set_changes_only(device: Device, name: str, value: Any, place: str, raw: str) -> None:
    """Setting field ``name`` to ``value`` writes ``raw`` at ``place`` of the element (a
    field path written out by the test: ``"driver@iommu"``, ``"@model"``, ``"size"`` for a
    child's text, ``"."`` for the element's own) and changes nothing else; the field then
    reads ``value``. ``place`` must already be in the element."""
    steps, attr = _split_path(place)
    expected = copy.deepcopy(device.element)
    target: etree._Element | None = expected
    for step in steps:
        target = next(target.iterchildren(step), None) if target is not None else None
    assert target is not None, f"{place!r} is not in {device!r}"
    if attr is None:
        target.text = raw
    else:
        target.set(attr, raw)
    setattr(device, name, value)
    assert canonical(device.element) == canonical(expected), f"setting {name} changed more than {place}"
    assert getattr(device, name) == value


def assert_set_refused(device: Device, name: str, *values: Any) -> None:
    """Setting field ``name`` to each of ``values`` raises a :class:`FieldValueError` naming
    it and leaves the element as it was."""
    before = canonical(device.element)
    for value in values:
        with pytest.raises(FieldValueError, match=re.escape(repr(name))):
            setattr(device, name, value)
    assert canonical(device.element) == before, f"a refused {name} changed the element"


def assert_spec_refused(registry: Registry, spec: Mapping[str, Any], key: str) -> None:
    """``registry.device_from_spec(spec)`` raises a :class:`SpecError` naming ``key``."""
    with pytest.raises(SpecError, match=re.escape(key)):
        registry.device_from_spec(spec)


def assert_reported_not_raised(device: Device, name: str, xml: str | None = None) -> None:
    """A value of field ``name`` that does not fit it: ``problems()`` names the field,
    ``to_spec()`` raises a :class:`FieldValueError` (naming it, for a field of the device
    itself; an item of a :class:`Children` field names its own field), and the element is
    kept as written (equal to ``xml``, when given)."""
    quoted = repr(name)
    assert any(quoted in p or p.startswith(f"{name}: ") for p in device.problems()), device.problems()
    own = isinstance(device.fields.get(name), Field)
    with pytest.raises(FieldValueError, match=re.escape(quoted) if own else None):
        device.to_spec()
    if xml is not None:
        assert canonical(device.to_xml()) == canonical(xml)


def wrap_in_domain(*device_xml: str | etree._Element, arch: str = "x86_64", domain_type: str = "kvm") -> str:
    """A minimal schema-valid domain holding the given device elements."""
    parts = []
    for item in device_xml:
        parts.append(item if isinstance(item, str) else etree.tostring(item, encoding="unicode", with_tail=False))
    machine = {
        "x86_64": "pc",
        "aarch64": "virt",
        "ppc64": "pseries",
        "ppc64le": "pseries",
        "s390x": "s390-ccw-virtio",
    }.get(arch, "pc")
    return (
        f"<domain type='{domain_type}'><name>contract</name>"
        f"<uuid>{uuidlib.UUID(int=1)}</uuid><memory unit='KiB'>1048576</memory><vcpu>1</vcpu>"
        f"<os><type arch='{arch}' machine='{machine}'>hvm</type></os>"
        f"<devices>{''.join(parts)}</devices></domain>"
    )


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture
def devframe_registry() -> Callable[..., Registry]:
    """Factory: a registry with only the named entry-point plugins (strict by default)."""

    def make(*names: str, strict: bool = True, plugins: Iterable[tuple[str, object]] = ()) -> Registry:
        return create_registry(only=names, strict=strict, plugins=plugins, env={})

    return make


def plugin_registry(*plugins: str, name: str = "registry") -> Any:
    """A fixture giving a strict registry with only ``plugins`` loaded, for a plugin's
    tests: ``registry = plugin_registry("rng")`` at module level."""

    @pytest.fixture(name=name)
    def fixture() -> Registry:
        return create_registry(only=plugins, strict=True, env={})

    return fixture


@pytest.fixture
def devframe_temp_plugin() -> Iterator[Callable[..., Registry]]:
    """Factory: a registry with one temporary plugin object registered for this test.

    ``devframe_temp_plugin(obj, name="temp", only=("sound",))`` also loads the named
    entry-point plugins (none by default; ``only=None`` loads all installed).
    """

    def make(obj: object, name: str = "temp", only: Sequence[str] | None = (), strict: bool = False) -> Registry:
        return create_registry(only=only, plugins=[(name, obj)], strict=strict, env={})

    yield make


@pytest.fixture(scope="session")
def devframe_corpus() -> list[Path]:
    """The sample domains (and ``$DEVFRAME_CORPUS``); fails (not skips) when there are none."""
    files = corpus_files()
    if not files:
        pytest.fail(f"no sample domains under {SAMPLE_DOMAINS}: the devframe installation is incomplete")
    return files


# -- the contract suite ----------------------------------------------------------------


def _claimed_samples(registry: Registry, plugin: str, samples: Sequence[str], corpus: bool) -> list[tuple[str, str]]:
    """``(label, domain xml)`` pairs holding elements the plugin claims."""
    out: list[tuple[str, str]] = []
    for index, sample in enumerate(samples):
        text = sample.strip()
        out.append((f"sample[{index}]", text if text.startswith("<domain") else wrap_in_domain(text)))
    if corpus:
        tags = {claim.tag for route in registry.routes.values() if route.plugin == plugin for claim in route.claims}
        for path in corpus_files():
            data = path.read_text(encoding="utf-8")
            if any(f"<{tag}" in data for tag in tags):
                out.append((path.name, data))
    return out


def _plugin_devices(domain: Domain, plugin: str) -> list[Device]:
    return [d for d in domain.devices if d.plugin == plugin]


#: texts put in a field's place by :func:`assert_reads_as_fields`: what compiled readers
#: take a shortcut for (digits, a bool's words) and what lies next to it
ODD_TEXTS = ("", " 7", "7 ", "-1", "+3", "007", "0x1f", "1e3", "\u0663", "\u00b2", "9" * 25, "yes", "YES", "on",
             "true", "1", "0", "no", "@@x@@")  # fmt: skip


def _read_field_by_field(view: ElementView, mode: str) -> tuple[dict[str, Any], Any]:
    """What a view reads field by field (every field asked with ``spec_value``), as
    reading did before compiled readers: ``(fields, alias name)``; a "spec" read starts
    with the ``device`` value."""
    out: dict[str, Any] = {}
    alias = None
    if mode == "spec" and isinstance(view, Device):
        out["device"] = Device.spec_device.fget(view)  # type: ignore[attr-defined]
        alias = Device.alias.raw(view)
    for name, field in view.fields.items():
        key = field.spec if mode == "spec" else (field.spec or name)
        if key is None or (mode == "spec" and key == "device"):
            continue
        value = field.spec_value(view)
        if value is None and not (mode == "spec" and _has_default(field, view)):
            continue
        put_path(out, key, value)
    return out, alias


def _has_default(field: Any, view: ElementView) -> bool:
    """True when an absent ``field`` says None in ``view``'s spec: it has a default (for
    this element, where the field decides per element with ``default_for``)."""
    if not isinstance(field, Field) or field.default is None:
        return False
    default_for = getattr(field, "default_for", None)
    return default_for is None or default_for(view) is not None


def _outcome(read: Callable[[], tuple[dict[str, Any], Any]]) -> tuple[str, Any]:
    try:
        out, alias = read()
    except DevframeError as exc:
        return ("raised", (type(exc), str(exc)))
    return ("read", (out, list(out), alias))


def _nested_views(view: ElementView) -> list[ElementView]:
    """The views a view's fields give (Children items, ...), read without raising."""
    found: list[ElementView] = []
    for name in view.fields:
        try:
            value = getattr(view, name)
        except DevframeError:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, ElementView):
                found.append(item)
    return found


def assert_reads_as_fields(view: ElementView, *, odd_values: bool = True) -> int:
    """Assert that ``view``'s compiled reader (:mod:`devframe.core.specgen`) reads what
    its fields read one by one: the same values, keys in the same order, the same alias,
    or the same first error; for ``to_spec`` ("spec") and ``to_dict`` ("dict") alike,
    for the views nested in it too. ``odd_values``: again with each field's text
    replaced by each of :data:`ODD_TEXTS`. Returns the number of reads compared."""
    compared = 0
    for mode in ("spec", "dict") if isinstance(view, Device) else ("dict",):
        plan = plan_for(type(view), mode)

        def compiled(plan: Any = plan, mode: str = mode) -> tuple[dict[str, Any], Any]:
            out: dict[str, Any] = {}
            alias = plan.read(view, out, mode == "spec")
            return out, alias

        expected = _outcome(lambda mode=mode: _read_field_by_field(view, mode))  # type: ignore[misc]
        got = _outcome(compiled)
        assert got == expected, f"{view.describe()} ({mode}): compiled {got} != field by field {expected}"
        compared += 1
    for item in _nested_views(view):
        compared += assert_reads_as_fields(item, odd_values=False)
    if not odd_values:
        return compared
    for field in view.fields.values():
        if not isinstance(field, Field) or field.raw(view) is None:
            continue
        for text in ODD_TEXTS:
            element = copy.deepcopy(view.element)
            target = element
            for step in field.steps:
                target = next(target.iterchildren(step))
            if field.attr is not None:
                target.set(field.attr, text)
            else:
                target.text = text
            compared += assert_reads_as_fields(type(view)(element), odd_values=False)
    return compared


def _new_value(field: Field[Any], value: Any) -> Any:
    kind = field.kind
    if kind is INT or (isinstance(value, int) and not isinstance(value, bool)):
        return int(value) + 1
    if isinstance(kind, _Bool):
        return not value
    if isinstance(kind, Choice) and kind.values:
        for candidate in sorted(kind.values):
            if candidate != value:
                return candidate
    if isinstance(value, str):
        return value + "x"
    return None


def _rejects_garbage(field: Any) -> TypeGuard[Field[Any]]:
    """True for a field whose kind refuses text that is no value at all."""
    if not isinstance(field, Field):
        return False
    try:
        field.kind.parse("@@not-a-value@@")
    except (ValueError, TypeError):
        return True
    return False


def _expected_after_raw_set(element: etree._Element, field: Field[Any], raw: str) -> etree._Element:
    expected = copy.deepcopy(element)
    target = _leaf_at(expected, field.steps)
    if field.attr is not None:
        target.set(field.attr, raw)
    else:
        target.text = raw
    return expected


def contract_tests(
    plugin: str,
    *,
    samples: Sequence[str] = (),
    corpus: bool = True,
    schema: bool = True,
    edit_values: Mapping[str, Any] | None = None,
    others: Sequence[str] | None = None,
) -> type:
    """A pytest test class checking that ``plugin`` keeps devframe's contract.

    ``samples``: device elements (or whole domains) the plugin claims; the sample
    domains (and ``$DEVFRAME_CORPUS``) are searched too unless ``corpus=False``. ``edit_values``: a value per field
    name for the "edit one field" check where a generic new value would not fit.
    ``others``: plugins to load beside it for the collision check (default: every
    installed plugin).

    Checks: claims do not collide; every claimed element parses and rebuilds
    losslessly; spec round trip; spec-built XML valid against libvirt's domain.rng;
    editing one field changes only that field; unparsable values are reported, not
    raised; metadata round trip; ``repr`` is safe.
    """
    edits = dict(edit_values or {})

    def registry() -> Registry:
        return create_registry(only=[plugin], strict=True, env={})

    def domains() -> list[tuple[str, Domain]]:
        reg = registry()
        found = []
        for label, xml in _claimed_samples(reg, plugin, samples, corpus):
            found.append((label, parse_domain(xml, registry=reg, source=label)))
        return found

    class ContractTests:
        __test__ = True

        def test_plugin_loads_and_claims_do_not_collide(self) -> None:
            reg = create_registry(only=others, strict=False, env={})
            info = reg.plugins.get(plugin)
            assert info is not None, f"plugin {plugin!r} is not installed under the devframe entry-point group"
            assert info.state == "loaded", f"plugin {plugin!r} is {info.state}: {info.error}"
            assert info.dev_types, f"plugin {plugin!r} declares no dev_types"
            broken = {n: i.error for n, i in reg.plugins.items() if i.state == "broken"}
            assert not broken, f"plugins broken beside {plugin!r}: {broken}"

        def test_has_samples(self) -> None:
            assert domains(), f"no sample of an element claimed by {plugin!r}: pass samples=[...]"

        def test_claimed_elements_parse_and_rebuild_losslessly(self) -> None:
            reg = registry()
            for label, xml in _claimed_samples(reg, plugin, samples, corpus):
                domain = parse_domain(xml, registry=reg, source=label)
                for device in domain.devices:
                    route = reg.route_for(device.element)
                    if route is not None:
                        assert not isinstance(device, UnknownDevice), f"{label}: {device!r} fell back: {device.error}"
                assert canonical(domain.to_xml()) == canonical(xml), f"{label}: not lossless"
                for device in _plugin_devices(domain, plugin):
                    assert canonical(device.to_xml()) == canonical(device.element), f"{label}: {device!r}"

        def test_spec_round_trip(self) -> None:
            reg = registry()
            for label, domain in domains():
                for device in _plugin_devices(domain, plugin):
                    if device.problems():
                        continue
                    spec = device.to_spec()
                    again = reg.device_from_spec(spec)
                    assert type(again) is type(device), f"{label}: {device!r} came back as {again!r}"
                    assert again.to_spec() == spec, f"{label}: {device!r} spec round trip differs"

        def test_xml_round_trip_through_the_spec(self) -> None:
            # XML -> dev_spec -> XML keeps everything (spec_canonical says what is set
            # aside): what no field carries travels in the escape (devframe.core.escape).
            reg = registry()
            checked = 0
            for label, domain in domains():
                for device in _plugin_devices(domain, plugin):
                    if device.problems():
                        continue
                    spec = device.to_spec(secrets=True)
                    again = reg.device_from_spec(spec)
                    loose = getattr(type(device), "unordered_children", ())
                    want = spec_canonical(typed_form(device, again.element), loose)
                    got = spec_canonical(again.to_xml(), loose)
                    assert got == want, f"{label}: {device!r} XML -> spec -> XML differs:\n{want}\n{got}"
                    checked += 1
            assert checked, f"no device of {plugin!r} without problems to take through its spec"

        def test_spec_built_xml_is_schema_valid(self) -> None:
            if not schema:
                return
            reg = registry()
            for label, xml in _claimed_samples(reg, plugin, samples, corpus):
                if validate_against_schema(xml, timeout=CONTRACT_SCHEMA_TIMEOUT):
                    continue  # only schema-valid hosts say anything about the rebuilt element
                domain = parse_domain(xml, registry=reg, source=label)
                for device in _plugin_devices(domain, plugin):
                    if device.problems():
                        continue
                    built = reg.device_from_spec(device.to_spec())
                    host = parse_xml(xml, source=label).getroot()
                    devices_el = host.find("devices")
                    assert devices_el is not None, f"{label}: parsed with devices, has no <devices>"
                    index = domain.devices.index(device)
                    children = [c for c in devices_el if isinstance(c.tag, str)]
                    rebuilt = parse_trusted_xml(built.to_xml(), source=f"{label}: spec-built {device!r}").getroot()
                    devices_el.replace(children[index], rebuilt)
                    errors = validate_against_schema(host, timeout=CONTRACT_SCHEMA_TIMEOUT)
                    assert not errors, f"{label}: spec-built {built.to_xml()} invalid: {errors[:3]}"

        def test_editing_one_field_changes_only_that_field(self) -> None:
            checked = 0
            for label, domain in domains():
                for device in _plugin_devices(domain, plugin):
                    for name, field in device.fields.items():
                        if not isinstance(field, Field) or field.check(device):
                            continue
                        value = getattr(device, name)
                        if value is None:
                            continue
                        new = edits.get(name, _new_value(field, value))
                        if new is None or new == value:
                            continue
                        before = copy.deepcopy(device.element)
                        try:
                            setattr(device, name, new)
                        except DevframeError:
                            continue  # the generic value does not fit; pass edit_values
                        raw = field.raw(device)
                        assert raw is not None, f"{label}: setting {name} removed it"
                        expected = _expected_after_raw_set(before, field, raw)
                        assert canonical(device.element) == canonical(expected), (
                            f"{label}: setting {type(device).__name__}.{name} changed more than {field.path}"
                        )
                        assert getattr(device, name) == new
                        checked += 1
            assert checked, f"no field of {plugin!r} could be edited in the samples"

        def test_unparsable_values_are_reported_not_raised(self) -> None:
            reg = registry()
            checked = expected = 0
            for label, xml in _claimed_samples(reg, plugin, samples, corpus)[:20]:
                domain = parse_domain(xml, registry=reg, source=label)
                for device in _plugin_devices(domain, plugin):
                    expected += any(_rejects_garbage(f) and f.raw(device) is not None for f in device.fields.values())
                    for name, field in device.fields.items():
                        if not isinstance(field, Field) or field.raw(device) is None:
                            continue
                        try:
                            field.kind.parse("@@not-a-value@@")
                            continue  # any text fits this field
                        except (ValueError, TypeError):
                            pass
                        broken_xml = copy.deepcopy(device.element)
                        target = _leaf_at(broken_xml, field.steps)
                        if field.attr is not None:
                            target.set(field.attr, "@@not-a-value@@")
                        else:
                            target.text = "@@not-a-value@@"
                        text = etree.tostring(broken_xml, encoding="unicode", with_tail=False)
                        again = parse_domain(wrap_in_domain(text), registry=reg).devices[0]
                        assert again.plugin == plugin and not isinstance(again, UnknownDevice)
                        assert any(name in p for p in again.problems()), f"{label}: {name} problem not reported"
                        assert "@@not-a-value@@" in again.to_xml(), "raw value lost"
                        repr(again)
                        with pytest.raises(DevframeError):
                            again.to_spec()
                        checked += 1
                        break
            # Every device holding a value of a typed field was checked (a plugin with no
            # typed fields has nothing to check here: both are zero).
            assert checked == expected, f"{checked} of {expected} devices with typed values were checked"

        def test_identity_is_a_mapping_that_keys_metadata_without_an_alias(self) -> None:
            reg = registry()
            identified = 0
            for label, domain in domains()[:10]:
                for device in _plugin_devices(domain, plugin):
                    found = device.identity()
                    assert found == device.identity(), f"{label}: identity() is not stable"
                    if found is None:
                        continue
                    assert isinstance(found, Mapping) and found, f"{label}: identity() gave {found!r}"
                    assert all(type(k) is str and type(v) is str and v for k, v in found.items()), (
                        f"{label}: identity() must map str to non-empty str, gave {found!r}"
                    )
                    identified += 1
                    others = [d for d in _plugin_devices(domain, plugin) if d is not device]
                    if any(o.identity() == found for o in others):
                        continue  # indistinguishable devices: nothing unique to key metadata by
                    alias = device.element.find("alias")
                    if alias is not None:
                        device.element.remove(alias)
                    device.metadata["contractIdentity"] = 1
                    again = parse_domain(domain.to_xml(), registry=reg, source=label)
                    bound = [d for d in again.devices if d.checked_identity() == found]
                    assert bound and bound[0].metadata.get("contractIdentity") == 1, (
                        f"{label}: metadata keyed by identity {found} did not bind back"
                    )
                    return
            if identified:
                pytest.fail(f"{plugin!r}: every identified sample device shares its identity with another")

        def test_metadata_round_trip(self) -> None:
            reg = registry()
            value = {"n": 1, "f": 1.5, "b": True, "s": "", "none": None, "l": [1, "1", []], "d": {"k": {}}}
            for label, domain in domains()[:3]:
                devices = _plugin_devices(domain, plugin)
                if not devices:
                    continue
                device = devices[0]
                device.alias = f"ua-{uuidlib.UUID(int=7)}"
                device.metadata["contractValue"] = value
                again = parse_domain(domain.to_xml(), registry=reg)
                match = again.find(alias=device.alias)
                assert match, f"{label}: device lost"
                assert match[0].metadata.get("contractValue") == value, f"{label}: metadata not round-tripped"
                return
            pytest.fail(f"no device of {plugin!r} to attach metadata to")

        def test_compiled_reading_reads_as_each_field_does(self) -> None:
            compared = 0
            odd: dict[type, int] = {}  # odd values for the first samples of each class: enough, and quick
            for _label, domain in domains():
                for device in _plugin_devices(domain, plugin):
                    seen = odd[type(device)] = odd.get(type(device), 0) + 1
                    compared += assert_reads_as_fields(device, odd_values=seen <= 8)
            assert compared, f"no device of {plugin!r} was read"

        def test_repr_is_safe(self) -> None:
            reg = registry()
            for route in reg.routes.values():
                if route.plugin != plugin:
                    continue
                bare = route.dev_class(etree.Element(route.dev_class.tag or route.dev_type))
                assert isinstance(repr(bare), str)
                weird = etree.Element(route.dev_class.tag or route.dev_type, {"type": "\x7f?", "model": ""})
                etree.SubElement(weird, "alias").set("name", "ua-" + "x" * 300)
                for field in route.dev_class.fields.values():
                    if isinstance(field, Field):
                        try:
                            field.set_raw(route.dev_class(weird), "@@")
                        except Exception:  # noqa: BLE001 - building a deliberately broken element
                            pass
                assert isinstance(repr(route.dev_class(weird)), str)
            for _label, domain in domains():
                for device in domain.devices:
                    assert isinstance(repr(device), str)
                    assert isinstance(device.summary(), dict)

    ContractTests.__name__ = f"Contract_{plugin}"
    ContractTests.__qualname__ = ContractTests.__name__
    return ContractTests
