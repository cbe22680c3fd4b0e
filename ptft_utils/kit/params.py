"""Notebook parameters: profiles, resolution of overrides, validation.

Every chapter has the same four common parameters (``profile``, ``device``, ``seed``,
``output_dir``) plus chapter knobs that default to ``None``, meaning "take the value from the
chapter's profile table". The table lives in the notebook, where the reader sees it::

    PROFILES = {
        "smoke":   {"epochs": 1, "seeds": 2, "k_values": [1, 10]},
        "default": {"epochs": 8, "seeds": 3, "k_values": [1, 5, 10, 50]},
        "full":    {"epochs": 20, "seeds": 5, "k_values": [1, 5, 10, 50, 500]},
    }
    cfg = resolve(globals(), PROFILES)

What is enforced, on given values and on the table's own values alike:

- every number is bounded on both sides: a knob's type and range are inferred from its value in
  the ``default`` column unless a :class:`Knob` says otherwise; an ``int`` must be between 1 and
  :data:`INT_MAXIMUM` (10**7), a ``float`` finite, > 0 and <= :data:`FLOAT_MAXIMUM` (1e6). A
  ``Knob`` that sets no ``maximum`` gets the same default ceiling, and one that sets no
  ``minimum`` the same ceiling negated;
- ``seed`` is an integer between 0 and 2**32 - 1 (what NumPy accepts), ``profile`` and
  ``device`` are one of their names, ``output_dir`` a non-empty string;
- a list holds 1 to :data:`LIST_MAX_ITEMS` (1000) items of one kind, each bounded as above;
- inside a Jupyter kernel, the names papermill injected (its cell starting ``# Parameters``, read
  back from IPython's input history ``In``) must be parameters of the chapter: papermill itself
  only warns about a misspelled ``-p seedz 7`` and runs on the defaults.

Any bad value or name raises one :class:`ParameterError` that names the parameter, the value
given, and what is allowed; the same check runs whether the notebook is executed by papermill,
by ``ptft run`` or by hand.

This module does not start kernels; ``runner`` uses it to check names before a kernel starts.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

PROFILE_NAMES = ("smoke", "default", "full")
DEVICES = ("auto", "cpu", "cuda", "mps")
COMMON = ("profile", "device", "seed", "output_dir")

INT_MAXIMUM = 10**7
"""Largest integer a knob takes unless its :class:`Knob` sets ``maximum``."""
FLOAT_MAXIMUM = 1e6
"""Largest number a float knob takes unless its :class:`Knob` sets ``maximum``."""
SEED_MAXIMUM = 2**32 - 1
"""Largest seed: NumPy's generators take seeds in 0 .. 2**32 - 1."""
LIST_MAX_ITEMS = 1000
"""Most items a list knob holds unless its :class:`Knob` sets ``max_items``."""

INJECTED_HEADER = "# Parameters"
"""The first line of the cell papermill injects (its default ``comment``)."""
PAPERMILL_NAMES = ("PAPERMILL_INPUT_PATH", "PAPERMILL_OUTPUT_PATH")
"""Names papermill itself injects with ``--inject-paths``; always allowed."""

_KINDS = (int, float, str, bool, list)


def _shown(value: Any, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters; never raises (huge ints, deep nesting)."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # more than 4300 digits, or nested too deep
        text = f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ParameterError(ValueError):
    """A notebook parameter has a value that is not allowed."""

    def __init__(self, name: str, value: Any, allowed: str, message: str | None = None) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(message or f"parameter {name!r} = {_shown(value)} is not allowed; expected {allowed}")


@dataclass(frozen=True)
class Knob:
    """What a parameter may hold.

    ``kind`` is one of ``int``, ``float``, ``str``, ``bool`` or ``list``; for lists ``element``
    is the kind of each item (``float`` when not given). ``minimum``/``maximum`` bound numbers
    (and list items); left out, they default to ``-ceiling``/``ceiling`` with the ceiling
    :data:`INT_MAXIMUM` for integers and :data:`FLOAT_MAXIMUM` for floats, so every number is
    bounded. ``exclusive_minimum`` makes the lower bound strict. ``choices`` restricts strings.
    ``nullable`` lets ``None`` through after resolution (for knobs whose "off" value is None).
    ``max_items`` caps the length of a list.
    """

    kind: type
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[Any, ...] | None = None
    element: type | None = None
    nullable: bool = False
    max_items: int = LIST_MAX_ITEMS

    def __post_init__(self) -> None:
        if self.kind not in _KINDS or (self.element is not None and self.element not in _KINDS):
            raise TypeError(f"a Knob's kind and element must be among {[k.__name__ for k in _KINDS]}")
        for bound in (self.minimum, self.maximum):
            if bound is not None and not math.isfinite(bound):
                raise ValueError(f"a Knob's bounds must be finite numbers, got {bound!r}")
        lower, upper = self.bounds()
        if lower > upper or self.max_items < 1:
            raise ValueError(f"{self} allows no value: bounds {lower}..{upper}, max_items {self.max_items}")

    def bounds(self) -> tuple[float, float]:
        """The lower and upper bound numbers are checked against: the knob's own or the defaults."""
        kind = (self.element or float) if self.kind is list else self.kind
        ceiling = INT_MAXIMUM if kind is int else FLOAT_MAXIMUM
        lower = -ceiling if self.minimum is None else self.minimum
        upper = ceiling if self.maximum is None else self.maximum
        return lower, upper

    def item(self) -> Knob:
        """The rule for each item of a list knob."""
        return Knob(self.element or float, self.minimum, self.maximum, self.exclusive_minimum)

    def describe(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is list:
            text = f"a list of 1 to {self.max_items} items, each {self.item().describe()}"
        else:
            text = {int: "an integer", float: "a number", str: "a string", bool: "True or False"}[self.kind]
            if self.kind in (int, float):
                text += _range_text(*self.bounds(), self.exclusive_minimum)
        if self.nullable:
            text += " (or None)"
        return text


def _number_text(number: float) -> str:
    """``10000000`` rather than ``1e+07``; ``0.05`` and ``3e-05`` as ``:g`` writes them."""
    if isinstance(number, int) or (number.is_integer() and abs(number) < 1e16):
        return str(int(number))
    return f"{number:g}"


def _range_text(minimum: float, maximum: float, exclusive: bool) -> str:
    if exclusive:
        return f" > {_number_text(minimum)} and <= {_number_text(maximum)}"
    return f" between {_number_text(minimum)} and {_number_text(maximum)}"


COMMON_KNOBS: dict[str, Knob] = {
    "profile": Knob(str, choices=PROFILE_NAMES),
    "device": Knob(str, choices=DEVICES),
    "seed": Knob(int, minimum=0, maximum=SEED_MAXIMUM),
    "output_dir": Knob(str),
}


def infer_knob(value: Any) -> Knob:
    """The default rule for a profile-table value: counts >= 1, rates > 0, lists non-empty.

    Numbers get the default ceilings (:data:`INT_MAXIMUM`, :data:`FLOAT_MAXIMUM`).
    """
    if isinstance(value, bool):
        return Knob(bool)
    if isinstance(value, int):
        return Knob(int, minimum=1)
    if isinstance(value, float):
        return Knob(float, minimum=0.0, exclusive_minimum=True)
    if isinstance(value, str):
        return Knob(str)
    if isinstance(value, (list, tuple)) and value:
        first = infer_knob(value[0])
        return Knob(list, first.minimum, first.maximum, first.exclusive_minimum, element=first.kind)
    raise TypeError(f"cannot infer a parameter rule from {value!r}; give a Knob for it")


def validate(name: str, value: Any, knob: Knob) -> Any:
    """Return ``value`` converted to the knob's kind, or raise :class:`ParameterError`."""
    if value is None:
        if knob.nullable:
            return None
        raise ParameterError(name, value, knob.describe())
    if knob.kind is list:
        return _validate_list(name, value, knob)
    converted = _convert(value, knob.kind)
    if converted is _INVALID:
        raise ParameterError(name, value, knob.describe())
    if knob.choices is not None and converted not in knob.choices:
        raise ParameterError(name, value, knob.describe())
    if knob.kind in (int, float) and not _within(converted, knob):
        raise ParameterError(name, value, knob.describe())
    if knob.kind is str and not converted:
        raise ParameterError(name, value, "a non-empty string")
    return converted


def _validate_list(name: str, value: Any, knob: Knob) -> list[Any]:
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= knob.max_items:
        raise ParameterError(name, value, knob.describe())
    item_knob = knob.item()
    try:
        return [validate(name, item, item_knob) for item in value]
    except ParameterError:
        raise ParameterError(name, value, knob.describe()) from None


def _within(number: float, knob: Knob) -> bool:
    lower, upper = knob.bounds()
    above_lower = number > lower if knob.exclusive_minimum else number >= lower
    return above_lower and number <= upper


_INVALID = object()


def _convert(value: Any, kind: type) -> Any:
    if kind is bool:
        return value if isinstance(value, bool) else _INVALID
    if kind is int:
        if isinstance(value, bool):
            return _INVALID
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return _INVALID
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _INVALID
        try:
            number = float(value)
        except OverflowError:  # an int beyond the float range
            return _INVALID
        return number if math.isfinite(number) else _INVALID
    if kind is str:
        return value if isinstance(value, str) else _INVALID
    raise TypeError(f"unsupported knob kind {kind!r}")


class Params(Mapping[str, Any]):
    """Resolved parameters: read-only, by attribute (``cfg.epochs``) or key (``cfg["epochs"]``)."""

    def __init__(self, values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_sources", dict(sources))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no parameter named {name!r}; known: {', '.join(self._values)}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("resolved parameters are read-only")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def source(self, name: str) -> str:
        """``"given"`` when the run set it, else ``"profile <name>"``."""
        return self._sources[name]

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def table(self) -> str:
        """A small text table of each value and where it came from."""
        width = max(len(k) for k in self._values)
        return "\n".join(f"{k:<{width}}  {v!r:<30} ({self._sources[k]})" for k, v in self._values.items())

    def __repr__(self) -> str:
        return f"Params({self._values!r})"


def check_profiles(profiles: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Check a chapter's profile table; return its knob names."""
    if set(profiles) != set(PROFILE_NAMES):
        raise ValueError(f"a profile table needs exactly the profiles {PROFILE_NAMES}, got {tuple(profiles)}")
    names = list(profiles["default"])
    for profile in PROFILE_NAMES:
        if set(profiles[profile]) != set(names):
            missing = set(names) ^ set(profiles[profile])
            raise ValueError(f"profile {profile!r} does not set the same knobs as 'default': {sorted(missing)}")
        clash = set(names) & set(COMMON)
        if clash:
            raise ValueError(f"profile tables must not set the common parameters {sorted(clash)}")
    return names


def resolve(
    namespace: Mapping[str, Any],
    profiles: Mapping[str, Mapping[str, Any]],
    knobs: Mapping[str, Knob] | None = None,
) -> Params:
    """Resolve the common parameters and every chapter knob against the profile table.

    ``namespace`` is where the parameters cell left its values (``globals()`` in a notebook,
    or any dict). A knob left at ``None`` takes the profile's value; a given value overrides it.
    Every value, given or from the table, is validated; inside a kernel, so are the names
    papermill injected (see :func:`check_injected_names`).
    """
    names = check_profiles(profiles)
    knobs = dict(knobs or {})
    unknown_rules = set(knobs) - set(names)
    if unknown_rules:
        raise ValueError(f"Knob rules for parameters the profile table does not have: {sorted(unknown_rules)}")
    missing = [n for n in (*COMMON, *names) if n not in namespace]
    if missing:
        raise ValueError(f"the parameters cell does not define {missing}; it must define every profile knob")
    check_injected_names(namespace, (*COMMON, *names))

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in COMMON:
        values[name] = validate(name, namespace[name], COMMON_KNOBS[name])
        sources[name] = "given"
    profile = values["profile"]
    for name in names:
        knob = knobs.get(name) or infer_knob(profiles["default"][name])
        given = namespace[name]
        if given is None:
            raw, sources[name] = profiles[profile][name], f"profile {profile}"
        else:
            raw, sources[name] = given, "given"
        values[name] = validate(name, raw, knob)
    return Params(values, sources)


def injected_names(namespace: Mapping[str, Any]) -> list[str]:
    """The names assigned in the cell papermill injected, or ``[]`` outside a kernel.

    Inside IPython, ``In`` (also ``_ih``) lists the source of every executed cell; papermill's
    cell is the last one whose first line is ``# Parameters``. Only that cell is read, and only
    its top-level ``name = value`` lines count; nothing is executed.
    """
    history = namespace.get("In", namespace.get("_ih"))
    if not isinstance(history, (list, tuple)):
        return []
    for source in reversed(history):
        if isinstance(source, str) and source.lstrip().partition("\n")[0].rstrip() == INJECTED_HEADER:
            return _assigned_names(source)
    return []


def _assigned_names(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):  # not Python; the kernel would not have run it
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        else:
            continue
        names += [t.id for t in targets if isinstance(t, ast.Name) and t.id not in names]
    return names


def check_injected_names(namespace: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse names papermill injected that are not in ``known``, as ``ptft run`` does before a kernel starts.

    Papermill only warns when ``-p seedz 7`` names no parameter and then runs on the defaults;
    this makes the chapter's setup cell fail instead. ``PAPERMILL_INPUT_PATH`` and
    ``PAPERMILL_OUTPUT_PATH`` (papermill's ``--inject-paths``) are always allowed.
    """
    check_names([n for n in injected_names(namespace) if n not in PAPERMILL_NAMES], known)


def check_names(given: Iterable[str], known: Iterable[str]) -> None:
    """Raise one :class:`ParameterError` naming every name in ``given`` that is not in ``known``.

    The error's ``name`` is the first unknown name; its message lists them all and the known ones.
    """
    known = list(known)
    unknown = [name for name in given if name not in known]
    if unknown:
        allowed = ", ".join(known)
        listed = ", ".join(repr(name) for name in unknown)
        noun = "parameter" if len(unknown) == 1 else "parameters"
        raise ParameterError(
            unknown[0], None, allowed, f"unknown {noun} {listed}; the notebook's parameters are: {allowed}"
        )


def profile_table(profiles: Mapping[str, Mapping[str, Any]]):  # -> pandas.DataFrame
    """The chapter's profile table as a DataFrame (knobs as rows, profiles as columns)."""
    import pandas as pd

    names = check_profiles(profiles)
    return pd.DataFrame(
        {
            p: [repr(profiles[p][n]) if isinstance(profiles[p][n], list) else profiles[p][n] for n in names]
            for p in PROFILE_NAMES
        },
        index=pd.Index(names, name="knob"),
    )
