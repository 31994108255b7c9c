"""Validation against libvirt's own RelaxNG domain schema.

libvirt ships its schema with the daemon/clients packages at
``/usr/share/libvirt/schemas/domain.rng`` (it includes ``domaincommon.rng`` and
friends from the same folder). devframe does not bundle a copy: validating against the
schema of the libvirt actually installed is what tells whether *that* libvirt will
accept a document.

Used by ``devframe validate``, the test suite and the plugin contract suite::

    from devframe.schema import validate_domain_xml
    problems = validate_domain_xml(xml)      # [] when valid
"""

from __future__ import annotations

import functools
import multiprocessing
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from lxml import etree

from devframe.core.errors import DevframeError, XMLError
from devframe.core.safexml import DEFAULT_LIMITS, ParseLimits, parse_trusted_file, parse_xml

__all__ = [
    "DEFAULT_DOMAIN_SCHEMA",
    "SchemaError",
    "SchemaProblem",
    "SchemaTimeoutError",
    "domain_schema_problems",
    "load_domain_schema",
    "schema_path",
    "validate_domain_xml",
]

#: Where Debian's (and most distributions') libvirt installs its domain schema.
DEFAULT_DOMAIN_SCHEMA = Path("/usr/share/libvirt/schemas/domain.rng")

# An lxml RelaxNG object keeps its error log on itself: one validation at a time.
_VALIDATE_LOCK = threading.Lock()


class SchemaError(DevframeError):
    """The RelaxNG schema is missing or cannot be loaded (names the path)."""


class SchemaTimeoutError(SchemaError):
    """Validation did not finish in the time given.

    libxml2's RelaxNG engine is exponential in the number of optional attributes on one
    element: a ``<driver>`` carrying 16 of its attributes takes ~8 s against libvirt's
    schema here, 18 take ~6 minutes. Nothing is wrong with the document for that.
    """


class SchemaProblem(tuple[int | None, str]):
    """One schema violation: ``(line, message)``; ``str()`` gives ``line N: message``."""

    __slots__ = ()

    def __new__(cls, line: int | None, message: str) -> SchemaProblem:
        return super().__new__(cls, (line, message))

    @property
    def line(self) -> int | None:
        return self[0]

    @property
    def message(self) -> str:
        return self[1]

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def schema_path(path: str | Path | None = None) -> Path:
    """The schema file ``path`` names (default :data:`DEFAULT_DOMAIN_SCHEMA`), checked
    without opening it: a :class:`SchemaError` when it is missing or not a regular file."""
    resolved = (Path(path) if path is not None else DEFAULT_DOMAIN_SCHEMA).absolute()
    if not resolved.is_file():  # a FIFO or a device would block the read: not a schema
        raise SchemaError(
            f"libvirt domain schema not found at {resolved} (or not a regular file) "
            "(install libvirt's schemas, e.g. Debian's libvirt-daemon or libvirt-clients, or pass --schema PATH)"
        )
    return resolved


#: schemas this process has compiled (a forked child inherits them: no load to wait for)
_LOADED: set[Path] = set()


@functools.lru_cache(maxsize=8)
def _load(path: Path) -> etree.RelaxNG:
    schema_path(path)
    try:
        # A trusted local file, but parsed like everything else: no DTD, entities or network.
        document = parse_trusted_file(path)
        relaxng = etree.RelaxNG(document)
        _LOADED.add(path)
        return relaxng
    except XMLError as exc:  # names the path itself
        raise SchemaError(f"cannot load RelaxNG schema: {exc}") from None
    except (etree.RelaxNGParseError, OSError) as exc:
        raise SchemaError(f"cannot load RelaxNG schema {path}: {exc}") from None


def load_domain_schema(path: str | Path | None = None) -> etree.RelaxNG:
    """The compiled RelaxNG domain schema (cached per path).

    ``path`` defaults to :data:`DEFAULT_DOMAIN_SCHEMA`. Includes are resolved from the
    schema's own folder; nothing is fetched from the network. Raises
    :class:`SchemaError` naming the path when it is missing or unreadable.
    """
    return _load(schema_path(path))


def domain_schema_problems(
    xml: str | bytes | etree._Element | etree._ElementTree,
    *,
    schema: str | Path | None = None,
    source: str | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
    timeout: float | None = None,
) -> list[SchemaProblem]:
    """Every violation of the domain schema in ``xml``, with its line; [] when valid.

    Text is parsed with devframe's safe parser (hostile XML is refused with an
    :class:`~devframe.XMLError` naming ``source``), so line numbers refer to it.
    ``timeout`` (seconds): validate in a forked child process and raise
    :class:`SchemaTimeoutError` when it takes longer (see there why it can); a schema not
    loaded yet in this process is loaded in that child too, inside the limit (an include
    that blocks, a FIFO, cannot hang the caller). None validates in this process, however
    long it takes.
    """
    path = schema_path(schema)  # missing: reported here, before any child is started
    document: etree._Element | etree._ElementTree
    if isinstance(xml, (str, bytes)):
        document = parse_xml(xml, source=source, limits=limits)
    elif isinstance(xml, (etree._Element, etree._ElementTree)):
        document = xml
    else:
        raise XMLError(f"expected XML as str, bytes or an lxml element, got {type(xml).__name__}", source=source)
    if timeout is None:
        found = _validate(_load(path), document)
    else:
        found = _validate_in_child(path, document, timeout, source)
    problems = [SchemaProblem(line, message) for line, message in found]
    return problems


def _validate(
    relaxng: etree.RelaxNG, document: etree._Element | etree._ElementTree, *, lock: bool = True
) -> list[tuple[int | None, str]]:
    if lock:
        with _VALIDATE_LOCK:
            return _validate(relaxng, document, lock=False)
    if relaxng.validate(document):
        return []
    entries = list(relaxng.error_log)
    found = [(entry.line or None, entry.message) for entry in entries]
    return found or [(None, "document does not match the domain schema")]


def _child(
    path: Path, document: etree._Element | etree._ElementTree, conn: Connection
) -> None:  # pragma: no cover - runs in the forked child
    try:
        # Loaded here (or inherited, when the parent loaded it before): inside the limit.
        relaxng = _load(path)
        # Single-threaded here, and the lock may have been held by another thread at fork.
        conn.send(("ok", _validate(relaxng, document, lock=False)))
    except SchemaError as exc:
        conn.send(("schema", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _validate_in_child(
    path: Path, document: etree._Element | etree._ElementTree, timeout: float, source: str | None
) -> list[tuple[int | None, str]]:
    # A forked child inherits the parsed document and, once loaded, the compiled schema:
    # nothing is serialized or loaded twice, and a load or validation that runs away can
    # be killed.
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(path, document, send), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(timeout):
            prefix = f"{source}: " if source else ""
            loading = "" if path in _LOADED else f"loading the schema {path} and "
            raise SchemaTimeoutError(
                f"{prefix}{loading}schema validation did not finish within {timeout:g} s and was stopped: libxml2's "
                "RelaxNG engine is exponential in the optional attributes of one element (a <driver> with "
                "16 attributes takes seconds, 18 take minutes), and a schema file that blocks (a FIFO among "
                "its includes) never loads; the document may well be valid"
            )
        try:
            status, payload = receive.recv()
        except EOFError:
            raise SchemaError(f"schema validation process died (exit code {child.exitcode})") from None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    if status == "schema":
        raise SchemaError(str(payload))
    if status != "ok":
        raise SchemaError(f"schema validation failed: {payload}")
    return list(payload)


def validate_domain_xml(
    xml: str | bytes | etree._Element | etree._ElementTree,
    *,
    schema: str | Path | None = None,
    source: str | None = None,
    timeout: float | None = None,
) -> list[str]:
    """Validate domain XML against libvirt's RelaxNG schema: [] when valid.

    Otherwise one ``"line N: message"`` string per violation. ``schema`` overrides the
    schema path; a missing schema raises :class:`SchemaError`; ``timeout`` as in
    :func:`domain_schema_problems`.
    """
    problems = domain_schema_problems(xml, schema=schema, source=source, timeout=timeout)
    return [str(problem) for problem in problems]
