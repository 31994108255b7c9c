"""Compiled readers: a :class:`~devframe.core.specread.ReadPlan` as Python source (issue 16).

A plan says, once per view class, where each field reads. Walking that description for
every device cost more than the reading itself (a dict of found values, a call per
field, a sort), so the plan is turned into one function per class, generated as source
and compiled once: attributes read with ``element.get``, the first child of each tag
taken in one pass over the children, values kept in locals, then converted and stored
in declaration order (so the first bad value reported is the one a field-by-field read
reports).

Conversions stay declared once, in :mod:`devframe.core.fields`: a field offers a
shortcut (:meth:`~devframe.core.fields._Base.inline_read`) for the text it commonly finds
(decimal digits of an int kind, the words of a bool kind, presence of a flag), and any
other text goes to the field's own ``spec_from_located``, which converts or raises
exactly as before. Fields reading their own way are asked for ``spec_value``.

A ``to_spec`` plan also checks, in the same pass, what the raw-XML escape would find
(:mod:`devframe.core.escape`): each element it passes is held against the class's
``Consumed`` tree (attributes, text, children of tags carried, the first or every one),
and the reader returns whether anything was not carried, so the escape's own walk runs
only for such a device. A subtree no field reads below (a nested view read by its own
plan) is checked by a small generated function, one per shape of ``Consumed`` node for
the process, called from every place it is met: copied inline at each, a disk's reader was
69 k characters, and compiling it on the first ``to_spec`` peaked at ~6 MB.

Safety: no text of a document ever becomes code. The source holds local names made
here (``v3``, ``c1``, ``f7``), literals of the class's declarations (tags, attribute
names, spec keys, bounds) written with ``repr`` after checking their type, and nothing
else; the field objects are passed in as globals. The source is kept on the plan
(``plan.source``) for reading and debugging, compiled under a file name naming the
class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["AS_IS", "EACH", "LOCATED", "OWN_WAY", "SKIP", "Reader", "compile_reader"]

#: how a plan entry turns what was found into its value (devframe.core.specread): as
#: found, through the field's spec_from_located, read its own way, a slot for the caller,
#: or through the field's spec_from_each (what it found at each of its places)
AS_IS, LOCATED, OWN_WAY, SKIP, EACH = 0, 1, 2, 3, 4

#: an int's digits are taken by ``int()`` only below this length (far under the limit of
#: devframe.core.limits): longer text goes to the kind
_SHORT_DIGITS = 19


#: the reader's signature: (view, element, out, want_device) -> (the alias's name (spec
#: plans), whether the element may hold what no field carries (plans given a check))
Reader = Callable[[Any, Any, dict[str, Any], bool], tuple[Any, bool]]


def _literal(value: object) -> str:
    """A declaration's name or number as a Python literal (only str, int, None)."""
    if value is None or type(value) in (str, int):
        return repr(value)
    raise TypeError(f"a compiled reader takes str, int or None literals, got {type(value).__name__}")


class _Source:
    def __init__(self, bad: str = "bad = True", making: frozenset[int] = frozenset()) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {}
        self._counter = 0
        #: the line saying "maybe not carried": a reader notes it and reads on, a checker
        #: (which reads nothing) answers at once
        self.bad = bad
        #: the nodes whose checkers are being made around this source (a chain met again
        #: there goes to the escape's walk)
        self.making = making
        #: slot -> the local of the device's child inside whose ``if cN is not None:`` block
        #: it is set ("" where it is set outside any, or under two): see compile_reader
        self.guards: dict[int, str] = {}
        #: a reader's source: its device's children mark where their slots may be made
        self.lazy = False

    def slot(self, index: int, guard: str) -> str:
        """``v<index>``, noted as set under ``guard`` (a child's local, "" for none)."""
        if self.guards.setdefault(index, guard) != guard:
            self.guards[index] = ""
        return f"v{index}"

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def fresh(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def constant(self, prefix: str, value: Any) -> str:
        name = self.fresh(prefix)
        self.names[name] = value
        return name


#: the mark, at the top of a device child's block, of where the slots only that block sets
#: and only code under the same child reads are made (compile_reader replaces it)
_INIT = "#init "

#: past this indentation the check of a subtree the plan reads is a call to its checker
#: (below). Inlined deeper, a disk's check (libvirt's whole <disk> schema) made its reader
#: 194 k characters of source, and compiling it took 14 MB at its peak (inspect of 1,000
#: devices: 4.4x lxml's tree).
_CHECK_DEPTH = 3


class _NoFields:
    """The empty plan node of what only the check walks (a checker reads no field)."""

    __slots__ = ()
    attrs: dict[str, list[int]] = {}
    items: dict[str, list[int]] = {}
    texts: list[int] = []
    elements: list[int] = []
    children: dict[str, Any] = {}


_NO_FIELDS = _NoFields()

#: the checkers made so far, by the shape of what they check (a node holding a chain's
#: link: by its id, the node kept with it so that id stays its own). A nested view's
#: subtree (a disk's <source> in <mirror> and <backingStore>, a character device's
#: source in every kind) is one function wherever it is met, compiled once per process.
_CHECKERS: dict[Any, tuple[Any, Callable[[Any], bool]]] = {}


def _shape(node: Any, seen: tuple[int, ...] = ()) -> Any:
    """What a check of ``node`` depends on, hashable; None where it holds a cycle."""
    if id(node) in seen:
        return None
    seen = (*seen, id(node))
    below = []
    for tag in sorted(node.children):
        shape = _shape(node.children[tag], seen)
        if shape is None:
            return None
        below.append((tag, tag in node.multi, shape))
    other = None
    if node.other is not None:
        other = _shape(node.other, seen)
        if other is None:
            return None
        other = (other,)  # an "other" carrying nothing is not no "other"
    return (frozenset(node.attrs), node.any_attrs, node.text, tuple(below), other)


def _checker(check: Any, making: frozenset[int]) -> Callable[[Any], bool] | None:
    """A function saying whether an element at ``check`` (a
    :class:`~devframe.core.escape.Consumed` node) may hold what is not carried, the
    inline check's rule as its own small function: its own level inline, each child with
    children below a call to that child's checker. None: ``check`` is being made (a chain)."""
    shape = _shape(check)
    key = ("id", id(check)) if shape is None else shape
    made = _CHECKERS.get(key)
    if made is not None:
        return made[1]
    if id(check) in making:
        return None
    src = _Source(bad="return True", making=making | {id(check)})
    src.emit(0, "def check(element):")
    _collect(src, _NO_FIELDS, "element", 1, check, own_level=True)
    src.emit(1, "return False")
    function: Callable[[Any], bool] = _compiled(src, "check", "<devframe escape check>")
    _CHECKERS[key] = (check, function)
    return function


def _check_call(src: _Source, check: Any, element: str, depth: int) -> None:
    """Code setting ``bad`` where the subtree at ``element`` holds what is not carried."""
    function = _checker(check, src.making)
    walk = check.holds_unknown if function is None else function
    src.emit(depth, f"if {src.constant('u', walk)}({element}):")
    src.emit(depth + 1, src.bad)


def _collect(
    src: _Source,
    node: Any,
    element: str,
    depth: int,
    check: Any = None,
    path: tuple[int, ...] = (),
    own_level: bool = False,
    guard: str = "",
    level: int = 0,
) -> None:
    """Code putting into ``v<index>`` what each field of ``node`` finds in ``element``.

    ``check``: the :class:`~devframe.core.escape.Consumed` node of ``element`` (None: not
    checked here). The code then also sets ``bad`` where the element may hold something
    no field carries, the escape's rule (:func:`devframe.core.escape.escape_of`) applied
    to what the pass meets anyway: an attribute not carried, text where no field reads
    text, a child of a tag not carried or a second one where the first is read. ``bad``
    only says "maybe": ``to_spec`` then asks ``escape_of``, the one maker of escapes; a
    clean element costs a branch per attribute and a look at its text.

    Where no field reads below ``element`` (a nested view read by its own plan, a child
    only the check walks) and it has children carried, its check is one call to its
    checker (:func:`_checker`, shared by every place meeting the same subtree) instead of
    a copy inline; a leaf, or a guest address whose parts go to the escape's walk, stays
    inline (a call would cost more than its few lines). ``own_level``: the checker's own
    body, inlined. ``guard``: the local of the device's child whose block this code is in
    ("" at the device's own level), noted for each slot set (:meth:`_Source.slot`).
    ``level``: how deep ``element`` is, for ``_CHECK_DEPTH`` (0: ``depth``, the indentation,
    which the test for children below adds to)."""
    level = level or depth
    if check is not None and id(check) in path:
        # a chain's link (a node holding itself): the escape's own walk, for this subtree
        src.emit(depth, f"if {src.constant('u', check.holds_unknown)}({element}):")
        src.emit(depth + 1, src.bad)
        check = None
    elif check is not None and not own_level:
        reads_below = node.attrs or node.texts or node.items or node.children
        if level > _CHECK_DEPTH or (not reads_below and check.children):
            _check_call(src, check, element, depth)
            if not reads_below:
                for index in node.elements:
                    src.emit(depth, f"{src.slot(index, guard)} = {element}")
                return
            check = None
    path = (*path, id(check))
    for index in node.elements:
        src.emit(depth, f"{src.slot(index, guard)} = {element}")
    # lxml makes a str of every attribute value it lists (the most of what a value costs)
    # and answers a get() in about as many instructions, so one get for one attribute;
    # for more, one pass over the attributes present, each matched against the names
    # declared (no dict built, no lookup per name declared but absent).
    attrs = node.attrs
    check_attrs = check is not None and not check.any_attrs
    if len(attrs) == 1:
        ((attr, indexes),) = attrs.items()
        src.emit(depth, f"{src.slot(indexes[0], guard)} = {element}.get({_literal(attr)})")
        for other in indexes[1:]:
            src.emit(depth, f"{src.slot(other, guard)} = v{indexes[0]}")
    elif attrs:
        name, value = src.fresh("n"), src.fresh("a")
        src.emit(depth, f"for {name}, {value} in {element}.items():")
        for position, (attr, indexes) in enumerate(attrs.items()):
            word = "if" if position == 0 else "elif"
            src.emit(depth + 1, f"{word} {name} == {_literal(attr)}:")
            src.emit(depth + 2, " = ".join(src.slot(index, guard) for index in indexes) + f" = {value}")
        if check_attrs:
            if set(check.attrs) <= set(attrs):
                src.emit(depth + 1, "else:")
            else:
                src.emit(depth + 1, f"elif {name} not in {src.constant('k', frozenset(check.attrs))}:")
            src.emit(depth + 2, src.bad)
        check_attrs = False
    if check_attrs:
        if check.attrs:
            src.emit(depth, f"if not {src.constant('k', frozenset(check.attrs))}.issuperset({element}.keys()):")
        else:
            src.emit(depth, f"if {element}.keys():")
        src.emit(depth + 1, src.bad)
    if node.texts:
        text = src.fresh("t")
        src.emit(depth, f"{text} = {element}.text")
        # whitespace before child elements is indentation, not a value (as Field.raw reads it)
        src.emit(depth, f"if {text} is not None and (not len({element}) or {text}.strip()):")
        for index in node.texts:
            src.emit(depth + 1, f"{src.slot(index, guard)} = {text}")
    if check is not None and not check.text:
        text = src.fresh("t")
        src.emit(depth, f"{text} = {element}.text")
        src.emit(depth, f"if {text} is not None and {text}.strip():")
        src.emit(depth + 1, src.bad)
    if check is not None and check.other is not None:
        # a guest address's parts (s390's <zpci>): children of any tag, the escape's own walk
        src.emit(depth, f"if len({element}) and {src.constant('u', check.holds_unknown)}({element}):")
        src.emit(depth + 1, src.bad)
        check = None
    tags = list(dict.fromkeys([*node.children, *node.items, *(check.children if check is not None else ())]))
    if not tags:
        if check is not None:
            src.emit(depth, f"if len({element}):  # a child where none is carried (or a comment: asked again)")
            src.emit(depth + 1, src.bad)
        return
    # what the check walks beyond the plan: the first child of each tag carried (an
    # empty plan below it), every child of a tag carried whole
    below_plan: dict[str, Any] = dict(node.children)
    firsts: dict[str, Any] = {}
    every: dict[str, Any] = {}
    if check is not None:
        for tag in tags:
            carried = check.children.get(tag)
            if carried is None:
                continue
            if tag in check.multi:
                every[tag] = carried
            else:
                firsts[tag] = carried
                below_plan.setdefault(tag, type(node)())
    found = {tag: src.fresh("c") for tag in below_plan}
    if element != "element":
        # below the device, most elements have no children: one test for the pass and
        # the look at each tag found (the device's own children are always looked at,
        # its run tests in compile_reader read their locals)
        src.emit(depth, f"if len({element}):")
        depth += 1
    if found:
        src.emit(depth, " = ".join(found.values()) + " = None")
    # one pass over the children (a search per tag costs more in lxml than a pass),
    # each matched against the tags declared; the first child of a tag is the one kept
    # el[0]/getnext() rather than lxml's child iterator, which costs about five child
    # reads to make: the same children (comments included) in the same order
    child, tag, following = src.fresh("e"), src.fresh("g"), src.fresh("n")
    if element != "element":
        src.emit(depth, f"{following} = {element}[0]")
    else:
        src.emit(depth, f"{following} = {element}[0] if len({element}) else None")
    src.emit(depth, f"while {following} is not None:")
    src.emit(depth + 1, f"{child} = {following}")
    src.emit(depth + 1, f"{following} = {child}.getnext()")
    src.emit(depth + 1, f"{tag} = {child}.tag")
    for position, name in enumerate(tags):
        word = "if" if position == 0 else "elif"
        src.emit(depth + 1, f"{word} {tag} == {_literal(name)}:")
        if name in node.items:
            src.emit(depth + 2, " = ".join(src.slot(index, guard) for index in node.items[name]) + f" = {element}")
        if name in found:
            src.emit(depth + 2, f"if {found[name]} is None:")
            src.emit(depth + 3, f"{found[name]} = {child}")
            if name in firsts:  # a second where the first is carried: escaped whole
                src.emit(depth + 2, "else:")
                src.emit(depth + 3, src.bad)
        if name in every:
            _collect(src, type(node)(), child, depth + 2, every[name], path, guard=guard, level=level + 2)
        elif check is not None and name not in firsts:
            src.emit(depth + 2, src.bad)  # a tag no field carries
    if check is not None:
        src.emit(depth + 1, f"elif type({tag}) is str:  # an element no field carries (comments are not carried)")
        src.emit(depth + 2, src.bad)
    for name, below in below_plan.items():
        local = found[name]
        src.emit(depth, f"if {local} is not None:")
        if src.lazy and not guard and element == "element":
            # a child of the device: the slots set in its block may be made there (see
            # compile_reader), at this line
            src.emit(depth + 1, f"{_INIT}{local}")
        _collect(src, below, local, depth + 1, firsts.get(name), path, guard=guard or local, level=level + 1)


def _store(src: _Source, key: str | tuple[str, ...], value: str, depth: int, dicts: dict[tuple[str, ...], str]) -> None:
    """Code storing ``value`` under ``key`` (parts: nested dicts, made on first use)."""
    if isinstance(key, str):
        src.emit(depth, f"out[{_literal(key)}] = {value}")
        return
    # one local per nested dict, made (or found: ``sub`` takes what is there) on first use
    # in one call down from ``out``: a check per store, not one per level
    prefix = key[:-1]
    name = dicts.get(prefix)
    if name is None:
        name = dicts[prefix] = src.fresh("d")
    src.emit(depth, f"if {name} is None:")
    if len(prefix) == 1:
        # _sub inline for one level (specParams: nearly every device), without the call
        src.emit(depth + 1, f"{name} = out.get({_literal(prefix[0])})")
        src.emit(depth + 1, f"if {name} is None:")
        src.emit(depth + 2, f"{name} = out[{_literal(prefix[0])}] = {{}}")
    else:
        src.emit(depth + 1, f"{name} = sub(out, {', '.join(_literal(part) for part in prefix)})")
    src.emit(depth, f"{name}[{_literal(key[-1])}] = {value}")


def _sub(target: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``target[key][...]``, a new dict at each level without one (dict.setdefault(key,
    {}) without a new dict on every call): once per nested dict and read."""
    for key in keys:
        found: dict[str, Any] | None = target.get(key)
        if found is None:
            found = target[key] = {}
        target = found
    return target


def _convert(src: _Source, field: Any, found: str, value: str, depth: int) -> None:
    """Code setting ``value`` from ``found`` (not None) as ``field.spec_from_located`` would."""
    own = src.constant("f", field)
    inline = field.inline_read()
    fallback = f"{value} = {own}.spec_from_located(view, {found})"
    if inline is not None and inline[0] in ("text", "call") and inline[2] is not None:
        src.emit(depth, f"{value} = {src.constant('g', inline[2])}({found})")
        return
    if inline is None or inline[0] not in ("int", "words", "match"):
        src.emit(depth, fallback)
        return
    kind, detail, to_spec = inline
    then = [] if to_spec is None else [f"{value} = {src.constant('g', to_spec)}({value})"]
    if kind == "match":
        src.emit(depth, f"if {src.constant('m', detail)}({found}) is not None:")
        then.insert(0, f"{value} = {found}")
    elif kind == "int":
        low, high = detail
        guard = f"{found}.isascii() and {found}.isdigit() and len({found}) < {_SHORT_DIGITS}"
        if low is None and high is None:
            src.emit(depth, f"if {guard}:")
            then.insert(0, f"{value} = int({found})")
        else:
            number = f"({value} := int({found}))"
            low_text = "" if low is None else f"{_literal(low)} <= "
            high_text = "" if high is None else f" <= {_literal(high)}"
            src.emit(depth, f"if {guard} and {low_text}{number}{high_text}:")
    else:
        src.emit(depth, f"{value} = {src.constant('w', dict(detail))}.get({found})")
        if not then:
            src.emit(depth, f"if {value} is None:  # anything else: the field converts it, or says why not")
            src.emit(depth + 1, fallback)
            return
        src.emit(depth, f"if {value} is not None:")
    for line in then or ["pass"]:  # the guard has set the value
        src.emit(depth + 1, line)
    src.emit(depth, "else:  # anything else: the field converts it, or says why not")
    src.emit(depth + 1, fallback)


def compile_reader(plan: Any, title: str) -> tuple[Reader, str]:
    """The reader of ``plan`` (a :class:`devframe.core.specread.ReadPlan`) and its source;
    ``title`` names it in tracebacks."""
    src = _Source()
    src.lazy = True
    src.emit(0, "def read(view, element, out, want_device):")
    slots_line = len(src.lines)
    check = getattr(plan, "check", None)
    if check is not None:
        src.emit(1, "bad = False")
    _collect(src, plan.root, "element", 1, check)
    if plan.device_field is not None:
        src.emit(1, "if want_device:")
        device = src.constant("f", plan.device_field)
        if plan.device_index < 0:
            src.emit(2, f"x = {device}.spec_value(view)")
        else:
            if plan.device_field.found_is_value():
                src.emit(2, f"x = v{plan.device_index}")
            else:
                src.emit(2, f"x = {device}.spec_from_located(view, v{plan.device_index})")
        src.emit(2, "out['device'] = view.dev_type if x is None else str(x)")
    else:
        src.emit(1, "if want_device:")
        src.emit(2, "out['device'] = view.dev_type")
    dicts: dict[tuple[str, ...], str] = {}
    lines_before = len(src.lines)
    runs = _runs(plan, src.guards)
    lazy = _lazy_slots(plan, runs)
    open_guard = ""
    for index, (field, key, how, says_none) in enumerate(plan.entries):
        if how == SKIP:
            continue
        found = f"v{index}"
        guard = runs.get(index, "")
        if guard and guard != open_guard:
            # a run of fields found only under one child of the device: one test of that
            # child for the run, not one per field (most children are absent)
            src.emit(1, f"if {guard} is not None:")
        open_guard = guard
        base = 2 if guard else 1
        depth = base
        if how == EACH:  # read where any of its places is found (nothing found: no value)
            slots = plan.each[index]
            src.emit(base, "if " + " or ".join(f"v{slot} is not None" for slot in slots) + ":")
            depth = base + 1
        elif index not in plan.always:  # nothing found, nothing said (as ReadPlan.fill did)
            src.emit(base, f"if {found} is not None:")
            depth = base + 1
        if how == EACH:
            places = ", ".join(f"v{slot}" for slot in plan.each[index])
            src.emit(depth, f"x = {src.constant('f', field)}.spec_from_each(view, ({places},))")
        elif how == OWN_WAY:
            src.emit(depth, f"x = {src.constant('f', field)}.spec_value(view)")
        elif how == AS_IS and depth > base:
            # found, so not None: stored as it is (and never None said)
            _store(src, key, found, depth, dicts)
            continue
        elif how == AS_IS:
            src.emit(depth, f"x = {found}")
        elif depth > base:
            _convert(src, field, found, "x", depth)
        else:
            inline = field.inline_read()
            if inline is not None and inline[0] == "present":
                src.emit(depth, f"x = {found} is not None")
            else:
                src.emit(depth, f"if {found} is None:")
                if getattr(field, "absent_is_none", lambda: False)():
                    src.emit(depth + 1, "x = None")
                else:
                    src.emit(depth + 1, f"x = {src.constant('f', field)}.spec_from_located(view, None)")
                src.emit(depth, "else:")
                _convert(src, field, found, "x", depth + 1)
        src.emit(depth, "if x is not None:")
        _store(src, key, "x", depth + 1, dicts)
        if says_none:
            # None said where the field has a default; for this element, when the field
            # decides per element (says_none_for)
            if not getattr(field, "says_none_per_element", lambda: True)():
                src.emit(depth, "else:")
            else:
                src.emit(depth, f"elif {src.constant('f', field)}.says_none_for(view):")
            _store(src, key, "None", depth + 1, dicts)
    if dicts:
        src.lines.insert(lines_before, "    " + " = ".join(dicts.values()) + " = None")
    alias = "None" if plan.alias_index < 0 else f"v{plan.alias_index}"
    src.emit(1, f"return {alias}, {'False' if check is None else 'bad'}")
    _place_slots(src, len(plan.entries), lazy, slots_line)
    source = "\n".join(src.lines) + "\n"
    reader: Reader = _compiled(src, "read", f"<devframe reader {title}>")
    return reader, source


def _runs(plan: Any, guards: dict[int, str]) -> dict[int, str]:
    """Entry -> the device child's local guarding it, for the entries stored in a run
    under one test of that child: two or more in a row (declaration order kept) whose
    value is found only in that child's block and stored only when found."""
    runs: dict[int, str] = {}
    run: list[int] = []
    run_guard = ""

    def close() -> None:
        if len(run) > 1:
            runs.update(dict.fromkeys(run, run_guard))

    for index, (_field, _key, how, _says_none) in enumerate(plan.entries):
        if how == SKIP:
            continue
        guard = guards.get(index, "") if how in (AS_IS, LOCATED, OWN_WAY) and index not in plan.always else ""
        if guard != run_guard or not guard:
            close()
            run, run_guard = [], guard
        if guard:
            run.append(index)
    close()
    return runs


def _lazy_slots(plan: Any, runs: dict[int, str]) -> dict[str, list[int]]:
    """The slots made in their child's block (by guard): read only by their own entry,
    inside its run's test of that child. Every other slot is made at the top."""
    shared = {plan.device_index, plan.alias_index}
    for places in plan.each.values():
        shared.update(places)
    lazy: dict[str, list[int]] = {}
    for index, guard in runs.items():
        if index not in shared:
            lazy.setdefault(guard, []).append(index)
    return lazy


def _place_slots(src: _Source, slots: int, lazy: dict[str, list[int]], top: int) -> None:
    """The lines making the slots (None): each lazy one at its child's mark, the rest at
    the top (line ``top``); marks without slots are dropped."""
    made = {index for indexes in lazy.values() for index in indexes}
    lines: list[str] = []
    for line in src.lines:
        stripped = line.lstrip()
        if not stripped.startswith(_INIT):
            lines.append(line)
            continue
        indexes = lazy.get(stripped[len(_INIT) :])
        if indexes:
            lines.append(line[: len(line) - len(stripped)] + " = ".join(f"v{index}" for index in indexes) + " = None")
    rest = [index for index in range(slots) if index not in made]
    if rest:
        lines.insert(top, "    " + " = ".join(f"v{index}" for index in rest) + " = None")
    src.lines = lines


def _compiled(src: _Source, name: str, filename: str) -> Any:
    """The function ``name`` of ``src``'s lines, compiled (its names as its globals)."""
    namespace: dict[str, Any] = dict(src.names)
    namespace["sub"] = _sub
    namespace["__builtins__"] = {"dict": dict, "int": int, "len": len, "str": str, "type": type}
    # our own source, made of literals and local names only (see the module doc)
    exec(compile("\n".join(src.lines) + "\n", filename, "exec"), namespace)
    return namespace[name]
