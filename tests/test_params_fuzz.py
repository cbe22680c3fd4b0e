"""Fuzzing ``resolve``: whatever a run injects, nothing but ``ParameterError`` escapes.

Random values of every type (huge and negative integers, NaN and infinities, strings, None,
bools, nested lists, dicts) go into the common parameters and into knobs of several kinds; a
value that is accepted must satisfy its knob's bounds. Random input histories (``In``) exercise
the check of the names papermill injected.
"""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from ptft_utils.kit.params import COMMON, COMMON_KNOBS, Knob, ParameterError, infer_knob, resolve

PROFILES = {
    "smoke": {"steps": 1, "lr": 0.1, "budgets": [0, 10], "rates": [0.1], "corpora": ["a"], "dataset": "auto",
              "augment": False, "fraction": 0.3, "width": 8, "cap": None},
    "default": {"steps": 50, "lr": 0.01, "budgets": [0, 10, 100], "rates": [0.1, 0.2], "corpora": ["a", "b"],
                "dataset": "auto", "augment": True, "fraction": 0.3, "width": 64, "cap": None},
    "full": {"steps": 6000, "lr": 0.001, "budgets": [0, 10, 100, 4000], "rates": [0.1, 0.2, 0.5],
             "corpora": ["a", "b", "c"], "dataset": "mnist", "augment": True, "fraction": 0.3, "width": 512,
             "cap": None},
}  # fmt: skip
KNOBS = {
    "budgets": Knob(list, element=int, minimum=0),
    "corpora": Knob(list, element=str),
    "dataset": Knob(str, choices=("auto", "mnist", "digits")),
    "fraction": Knob(float, minimum=0.05, maximum=0.9),
    "width": Knob(int, minimum=1, maximum=1024),
    "cap": Knob(int, minimum=1, maximum=10**9, nullable=True),
}
NAMES = (*COMMON, *PROFILES["default"])
RULES = {**COMMON_KNOBS, **{n: KNOBS.get(n) or infer_knob(PROFILES["default"][n]) for n in PROFILES["default"]}}
DEFAULTS = {"profile": "default", "device": "auto", "seed": 0, "output_dir": "runs/fuzz"}

# 10**4000 overflows a float; ints over 4300 digits (whose repr raises) are in test_params.py,
# as Hypothesis could not print such a failing example.
EDGES = st.sampled_from(
    [0, 1, -1, 10**7, 10**7 + 1, 2**32 - 1, 2**32, 2**63, 10**20, 10**4000, -(10**4000), 0.0, -0.0, 1e6, 1e6 + 1,
     5e-324, 1e308, math.nan, math.inf, -math.inf, "", "1", "nan", "auto", "smoke", [1] * 1000, [1] * 1001]
)  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | EDGES
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=12,
)


def check_within(knob: Knob, value: object) -> None:
    """An accepted value has the knob's kind and lies inside its bounds."""
    if value is None:
        assert knob.nullable
    elif knob.kind is list:
        assert isinstance(value, list) and 1 <= len(value) <= knob.max_items
        for item in value:
            check_within(knob.item(), item)
    elif knob.kind in (int, float):
        assert type(value) is knob.kind
        lower, upper = knob.bounds()
        assert math.isfinite(value) and value <= upper
        assert value > lower if knob.exclusive_minimum else value >= lower
    else:
        assert type(value) is knob.kind
        assert knob.choices is None or value in knob.choices


def resolve_or_refuse(namespace: dict) -> None:
    """``resolve`` either returns values inside their bounds or raises ParameterError; nothing else."""
    try:
        cfg = resolve(namespace, PROFILES, KNOBS)
    except ParameterError as error:
        unknown = str(error).startswith("unknown parameter")  # a name papermill injected
        assert error.name in NAMES or unknown
        assert str(error)  # the message itself must be printable
        return
    for name in NAMES:
        check_within(RULES[name], cfg[name])


def namespace(**overrides: object) -> dict:
    return {**DEFAULTS, **dict.fromkeys(PROFILES["default"]), **overrides}


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(NAMES), value=VALUES)
def test_one_random_value_is_accepted_within_bounds_or_refused(name, value):
    resolve_or_refuse(namespace(**{name: value}))


@settings(max_examples=100, deadline=None)
@given(values=st.fixed_dictionaries({name: VALUES for name in NAMES}))
def test_random_values_everywhere_are_accepted_within_bounds_or_refused(values):
    resolve_or_refuse(namespace(**values))


@settings(max_examples=150, deadline=None)
@given(
    length=st.integers(990, 1010), fill=st.integers(0, 100), last=SCALARS, kind=st.sampled_from(["budgets", "rates"])
)
def test_long_lists_are_accepted_within_bounds_or_refused(length, fill, last, kind):
    resolve_or_refuse(namespace(**{kind: [fill] * (length - 1) + [last]}))


INJECTED = st.builds(
    "# Parameters\n{}\n".format,
    st.lists(st.sampled_from([*NAMES, "seedz", "PAPERMILL_INPUT_PATH", "x", "In"]), max_size=4).map(
        lambda names: "\n".join(f"{n} = 1" for n in names)
    ),
)
SOURCES = INJECTED | st.text(max_size=40) | st.text(max_size=40).map("# Parameters\n".__add__)


@settings(max_examples=200, deadline=None)
@given(history=st.lists(SOURCES, max_size=4) | VALUES)
def test_random_input_histories_are_accepted_or_refused(history):
    resolve_or_refuse(namespace(In=history))
