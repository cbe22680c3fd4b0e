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

Each knob's type and range are inferred from its value in the ``default`` column (an ``int`` must
be >= 1, a ``float`` > 0, a list non-empty with elements of one type) unless a :class:`Knob`
says otherwise. Any bad value raises one :class:`ParameterError` that names the parameter, the
value given, and what is allowed; the same check runs whether the notebook is executed by
papermill, by ``ptft run`` or by hand.

This module does not know about notebooks or kernels; ``runner`` uses it to check names before a
kernel starts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

PROFILE_NAMES = ("smoke", "default", "full")
DEVICES = ("auto", "cpu", "cuda", "mps")
COMMON = ("profile", "device", "seed", "output_dir")


class ParameterError(ValueError):
    """A notebook parameter has a value that is not allowed."""

    def __init__(self, name: str, value: Any, allowed: str, message: str | None = None) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(message or f"parameter {name!r} = {value!r} is not allowed; expected {allowed}")


@dataclass(frozen=True)
class Knob:
    """What a parameter may hold.

    ``kind`` is one of ``int``, ``float``, ``str``, ``bool`` or ``list``; for lists ``element``
    is the kind of each item. ``minimum``/``maximum`` bound numbers (and list items);
    ``exclusive_minimum`` makes the lower bound strict. ``choices`` restricts strings.
    ``nullable`` lets ``None`` through after resolution (for knobs whose "off" value is None).
    """

    kind: type
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[Any, ...] | None = None
    element: type | None = None
    nullable: bool = False

    def describe(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is list:
            inner = Knob(self.element or float, self.minimum, self.maximum, self.exclusive_minimum)
            text = f"a non-empty list of {inner.describe()}"
        else:
            text = {int: "an integer", float: "a number", str: "a string", bool: "True or False"}[self.kind]
            if self.kind in (int, float):
                text += _range_text(self.minimum, self.maximum, self.exclusive_minimum)
        if self.nullable:
            text += " (or None)"
        return text


def _range_text(minimum: float | None, maximum: float | None, exclusive: bool) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if exclusive else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"<= {maximum:g}")
    return (" " + " and ".join(parts)) if parts else ""


COMMON_KNOBS: dict[str, Knob] = {
    "profile": Knob(str, choices=PROFILE_NAMES),
    "device": Knob(str, choices=DEVICES),
    "seed": Knob(int, minimum=0),
    "output_dir": Knob(str),
}


def infer_knob(value: Any) -> Knob:
    """The default rule for a profile-table value: counts >= 1, rates > 0, lists non-empty."""
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
        if not isinstance(value, (list, tuple)) or len(value) == 0:
            raise ParameterError(name, value, knob.describe())
        item_knob = Knob(knob.element or float, knob.minimum, knob.maximum, knob.exclusive_minimum)
        try:
            return [validate(name, item, item_knob) for item in value]
        except ParameterError:
            raise ParameterError(name, value, knob.describe()) from None
    converted = _convert(value, knob.kind)
    if converted is _INVALID:
        raise ParameterError(name, value, knob.describe())
    if knob.choices is not None and converted not in knob.choices:
        raise ParameterError(name, value, knob.describe())
    if knob.kind in (int, float):
        too_low = knob.minimum is not None and (
            converted <= knob.minimum if knob.exclusive_minimum else converted < knob.minimum
        )
        too_high = knob.maximum is not None and converted > knob.maximum
        if too_low or too_high:
            raise ParameterError(name, value, knob.describe())
    if knob.kind is str and not converted:
        raise ParameterError(name, value, "a non-empty string")
    return converted


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
        return float(value) if math.isfinite(value) else _INVALID
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
    Every value, given or from the table, is validated.
    """
    names = check_profiles(profiles)
    knobs = dict(knobs or {})
    unknown_rules = set(knobs) - set(names)
    if unknown_rules:
        raise ValueError(f"Knob rules for parameters the profile table does not have: {sorted(unknown_rules)}")
    missing = [n for n in (*COMMON, *names) if n not in namespace]
    if missing:
        raise ValueError(f"the parameters cell does not define {missing}; it must define every profile knob")

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


def check_names(given: Iterable[str], known: Iterable[str]) -> None:
    """Raise :class:`ParameterError` for the first name in ``given`` that is not in ``known``."""
    known = list(known)
    for name in given:
        if name not in known:
            allowed = ", ".join(known)
            raise ParameterError(
                name, None, allowed, f"unknown parameter {name!r}; the notebook's parameters are: {allowed}"
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
