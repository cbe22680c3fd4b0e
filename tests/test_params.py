"""Parameter resolution and every ParameterError case of the notebook contract."""

import ast
import json
import math
from pathlib import Path

import pytest

from ptft_utils.kit.params import (
    COMMON,
    FLOAT_MAXIMUM,
    INT_MAXIMUM,
    SEED_MAXIMUM,
    Knob,
    ParameterError,
    check_names,
    injected_names,
    profile_table,
    resolve,
)

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))

PROFILES = {
    "smoke": {"epochs": 1, "lr": 0.1, "k_values": [1, 2], "dataset": "digits", "augment": False},
    "default": {"epochs": 5, "lr": 0.01, "k_values": [1, 5, 10], "dataset": "auto", "augment": True},
    "full": {"epochs": 20, "lr": 0.01, "k_values": [1, 5, 10, 100], "dataset": "mnist", "augment": True},
}
KNOBS = {"dataset": Knob(str, choices=("auto", "mnist", "digits"))}
KNOWN = "profile, device, seed, output_dir, epochs, lr, k_values, dataset, augment"
INT_RANGE = "an integer between 1 and 10000000"
FLOAT_RANGE = "a number > 0 and <= 1000000"
LIST_RANGE = f"a list of 1 to 1000 items, each {INT_RANGE}"
SEED_RANGE = "an integer between 0 and 4294967295"


def namespace(**overrides):
    ns = {"profile": "default", "device": "auto", "seed": 0, "output_dir": "runs/x",
          "epochs": None, "lr": None, "k_values": None, "dataset": None, "augment": None}  # fmt: skip
    ns.update(overrides)
    return ns


def test_knobs_left_none_take_the_profile_value():
    cfg = resolve(namespace(profile="smoke"), PROFILES, KNOBS)
    assert (cfg.epochs, cfg.lr, cfg.k_values, cfg.dataset, cfg.augment) == (1, 0.1, [1, 2], "digits", False)
    assert cfg.source("epochs") == "profile smoke"


def test_given_values_override_the_profile():
    cfg = resolve(namespace(profile="full", epochs=3, k_values=[7]), PROFILES, KNOBS)
    assert cfg.epochs == 3 and cfg.k_values == [7] and cfg.source("epochs") == "given"
    assert cfg.lr == 0.01


def test_integer_given_for_a_float_knob_becomes_float():
    cfg = resolve(namespace(lr=1), PROFILES, KNOBS)
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float)


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("profile", "huge", "one of 'smoke', 'default', 'full'"),
        ("device", "tpu", "one of 'auto', 'cpu', 'cuda', 'mps'"),
        ("seed", -1, SEED_RANGE),
        ("seed", 1.5, SEED_RANGE),
        ("seed", 2**32, SEED_RANGE),
        ("seed", 10**20, SEED_RANGE),
        ("seed", 1e300, SEED_RANGE),
        ("output_dir", "", "a non-empty string"),
        ("epochs", -1, INT_RANGE),
        ("epochs", 0, INT_RANGE),
        ("epochs", "3", INT_RANGE),
        ("epochs", True, INT_RANGE),
        ("epochs", 10**12, INT_RANGE),
        ("epochs", INT_MAXIMUM + 1, INT_RANGE),
        ("epochs", float("inf"), INT_RANGE),
        ("lr", 0.0, FLOAT_RANGE),
        ("lr", "fast", FLOAT_RANGE),
        ("lr", float("nan"), FLOAT_RANGE),
        ("lr", float("inf"), FLOAT_RANGE),
        ("lr", 1e300, FLOAT_RANGE),
        ("lr", 10**400, FLOAT_RANGE),  # an int too large for a float
        ("k_values", [], LIST_RANGE),
        ("k_values", [1, "a"], LIST_RANGE),
        ("k_values", 5, LIST_RANGE),
        ("k_values", [1, 10**12], LIST_RANGE),
        ("k_values", [1] * 1001, LIST_RANGE),
        ("dataset", "imagenet", "one of 'auto', 'mnist', 'digits'"),
        ("augment", "yes", "True or False"),
    ],
)
def test_bad_value_raises_one_error_naming_parameter_value_and_allowed(name, value, allowed):
    with pytest.raises(ParameterError) as info:
        resolve(namespace(**{name: value}), PROFILES, KNOBS)
    error = info.value
    assert error.name == name
    assert error.allowed == allowed
    assert repr(name) in str(error) and allowed in str(error)


@pytest.mark.parametrize(
    ("name", "value"),
    [("seed", 0), ("seed", SEED_MAXIMUM), ("epochs", INT_MAXIMUM), ("lr", FLOAT_MAXIMUM), ("k_values", [1] * 1000)],
)
def test_values_at_the_bounds_are_accepted(name, value):
    assert resolve(namespace(**{name: value}), PROFILES, KNOBS)[name] == value


def test_a_huge_value_is_named_in_a_short_message():
    with pytest.raises(ParameterError) as info:
        resolve(namespace(seed=10**5000), PROFILES, KNOBS)  # repr() of it would raise: > 4300 digits
    assert str(info.value).startswith("parameter 'seed' = <int too large to show> is not allowed")
    with pytest.raises(ParameterError) as info:
        resolve(namespace(k_values=list(range(1, 5000))), PROFILES, KNOBS)
    assert len(str(info.value)) < 300 and "'k_values'" in str(info.value)


def test_explicit_knob_allows_zero():
    cfg = resolve(namespace(epochs=0), PROFILES, {**KNOBS, "epochs": Knob(int, minimum=0)})
    assert cfg.epochs == 0


def test_explicit_maximum_replaces_the_default_ceiling():
    wide = {**KNOBS, "epochs": Knob(int, minimum=1, maximum=10**9)}
    assert resolve(namespace(epochs=10**8), PROFILES, wide).epochs == 10**8
    narrow = {**KNOBS, "epochs": Knob(int, minimum=1, maximum=50)}
    with pytest.raises(ParameterError, match="expected an integer between 1 and 50"):
        resolve(namespace(epochs=51), PROFILES, narrow)


def test_knob_without_a_minimum_is_bounded_below_too():
    signed = {**KNOBS, "epochs": Knob(int)}
    assert resolve(namespace(epochs=-INT_MAXIMUM), PROFILES, signed).epochs == -INT_MAXIMUM
    with pytest.raises(ParameterError, match="between -10000000 and 10000000"):
        resolve(namespace(epochs=-(10**30)), PROFILES, signed)


def test_knob_max_items_caps_a_list():
    short = {**KNOBS, "k_values": Knob(list, element=int, minimum=1, max_items=4)}
    with pytest.raises(ParameterError, match="a list of 1 to 4 items"):
        resolve(namespace(k_values=[1, 2, 3, 4, 5]), PROFILES, short)


@pytest.mark.parametrize("bounds", [{"maximum": math.inf}, {"minimum": math.nan}, {"minimum": 5, "maximum": 2}])
def test_knob_that_allows_no_finite_bounded_value_is_a_programming_error(bounds):
    with pytest.raises(ValueError, match="Knob|allows no value"):
        Knob(int, **bounds)


def test_profile_table_value_beyond_the_ceiling_is_refused():
    huge = {p: {**values, "epochs": 10**8} for p, values in PROFILES.items()}
    with pytest.raises(ParameterError) as info:
        resolve(namespace(), huge, KNOBS)
    assert info.value.name == "epochs" and info.value.allowed == INT_RANGE


def test_parameters_cell_missing_a_knob_is_a_programming_error():
    ns = namespace()
    del ns["lr"]
    with pytest.raises(ValueError, match="lr"):
        resolve(ns, PROFILES, KNOBS)


def test_profile_table_must_set_the_same_knobs_everywhere():
    broken = {**PROFILES, "full": {**PROFILES["full"], "extra": 1}}
    with pytest.raises(ValueError, match="extra"):
        resolve(namespace(), broken, KNOBS)


def test_resolved_parameters_are_read_only():
    cfg = resolve(namespace(), PROFILES, KNOBS)
    with pytest.raises(AttributeError):
        cfg.epochs = 3
    with pytest.raises(AttributeError, match="no parameter named 'epoch'"):
        _ = cfg.epoch


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ParameterError) as info:
        check_names(["profile", "bogus"], ["profile", "device", "epochs"])
    assert info.value.name == "bogus"
    assert str(info.value) == "unknown parameter 'bogus'; the notebook's parameters are: profile, device, epochs"


def test_several_unknown_names_are_all_named():
    with pytest.raises(ParameterError) as info:
        check_names(["bogus", "profile", "seedz"], ["profile", "device"])
    assert info.value.name == "bogus"
    assert str(info.value) == "unknown parameters 'bogus', 'seedz'; the notebook's parameters are: profile, device"


def test_profile_table_shows_every_knob_per_profile():
    table = profile_table(PROFILES)
    assert list(table.columns) == ["smoke", "default", "full"]
    assert list(table.index) == ["epochs", "lr", "k_values", "dataset", "augment"]
    assert table.loc["epochs", "full"] == 20


# --- names papermill injected: IPython's input history ``In`` holds each executed cell's source ---


def kernel_namespace(injected: str, **overrides):
    """A namespace as a kernel leaves it: the parameters cell, papermill's cell, then the setup cell."""
    history = ["", "profile = 'default'\nseed = 0\n", injected, "cfg = resolve(globals(), PROFILES)"]
    return namespace(In=history, _ih=history, **overrides)


def test_misspelled_name_injected_by_papermill_is_refused_with_the_known_names():
    with pytest.raises(ParameterError) as info:
        resolve(kernel_namespace("# Parameters\nseedz = 7\n", seedz=7), PROFILES, KNOBS)
    assert info.value.name == "seedz"
    assert str(info.value) == f"unknown parameter 'seedz'; the notebook's parameters are: {KNOWN}"


def test_every_unknown_injected_name_is_named():
    with pytest.raises(ParameterError, match="unknown parameters 'seedz', 'epoch'; "):
        resolve(kernel_namespace("# Parameters\nseedz = 7\nprofile = 'smoke'\nepoch = 3\n"), PROFILES, KNOBS)


def test_known_injected_names_resolve_as_given():
    cfg = resolve(kernel_namespace("# Parameters\nseed = 7\nepochs = 3\n", seed=7, epochs=3), PROFILES, KNOBS)
    assert (cfg.seed, cfg.epochs, cfg.source("epochs")) == (7, 3, "given")


def test_papermill_path_names_are_allowed():
    injected = "# Parameters\nPAPERMILL_INPUT_PATH = 'a.ipynb'\nPAPERMILL_OUTPUT_PATH = 'b.ipynb'\n"
    assert resolve(kernel_namespace(injected), PROFILES, KNOBS).profile == "default"


def test_only_the_last_injected_cell_is_read():
    ns = kernel_namespace("# Parameters\nepochs = 3\n")
    ns["In"] = ["", "# Parameters\nseedz = 7\n", *ns["In"][1:]]  # an earlier run, re-executed by hand
    assert injected_names(ns) == ["epochs"]


@pytest.mark.parametrize(
    "source",
    [
        "seedz = 7\n",  # not papermill's cell
        "x = 1  # Parameters\nseedz = 7\n",  # the header must be the first line
        "# Parameters for the sweep\nseedz = 7\n",
        "# Parameters\nseedz = = 7\n",  # not Python: the kernel would not have run it
    ],
)
def test_cells_that_are_not_papermills_are_not_read(source):
    assert injected_names(kernel_namespace(source)) == []


def test_outside_a_kernel_names_are_not_checked():
    assert injected_names(namespace(seedz=7)) == []
    assert injected_names(namespace(In="not a history")) == []
    assert resolve(namespace(seedz=7), PROFILES, KNOBS).seed == 0


def test_injected_names_are_read_without_executing_anything():
    source = "# Parameters\nseed = __import__('os').system('exit 3')\nepochs: int = 2\nlr += 1\n"
    assert injected_names(kernel_namespace(source)) == ["seed", "epochs", "lr"]


@pytest.mark.slow
def test_plain_papermill_run_with_a_misspelled_name_fails_in_the_setup_cell(tmp_path):
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from tiny_notebooks import write_notebook

    table = {p: {"epochs": 1} for p in ("smoke", "default", "full")}
    parameters = 'profile = "default"\ndevice = "auto"\nseed = 0\noutput_dir = "x"\nepochs = None'
    write_notebook(
        tmp_path / "tiny.ipynb", parameters, f"import ptft_utils\ncfg = ptft_utils.resolve(globals(), {table})"
    )
    with pytest.raises(PapermillExecutionError) as info:
        papermill.execute_notebook(
            str(tmp_path / "tiny.ipynb"), str(tmp_path / "out.ipynb"), parameters={"seedz": 7},
            kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
        )  # fmt: skip
    assert info.value.ename == "ParameterError"
    assert "ParameterError" in str(info.value) and "unknown parameter 'seedz'" in str(info.value)
    assert "profile, device, seed, output_dir, epochs" in str(info.value)


# --- every chapter's profile table stays inside the bounds ---


def parsed(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError:  # a cell with IPython magics
        return ast.Module([], [])


def chapter_setup(path: Path):
    """The parameters cell's namespace and the arguments of the chapter's ``resolve`` call.

    The call's arguments (``PROFILES``, ``KNOBS``) are evaluated from the assignments to those
    names in the cells up to the call: plain data and ``Knob(...)``; nothing else is executed.
    """
    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    parameters = next("".join(c["source"]) for c in cells if "parameters" in c["metadata"].get("tags", []))
    trees = [parsed("".join(c["source"])) for c in cells]
    calls = (
        n for t in trees for n in ast.walk(t) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "resolve"
    )
    call = next(calls)
    arguments = [*call.args[1:], *(k.value for k in call.keywords if k.arg == "knobs")]
    wanted = {n.id for a in arguments for n in ast.walk(a) if isinstance(n, ast.Name)}
    assignments = [n for t in trees for n in t.body if isinstance(n, ast.Assign)]
    while True:  # the names those tables are built from too (a shared Knob assigned to a name first)
        more = {
            n.id
            for node in assignments
            if {getattr(t, "id", None) for t in node.targets} & wanted
            for n in ast.walk(node.value)
            if isinstance(n, ast.Name)
        }
        if more <= wanted:
            break
        wanted |= more
    tables: dict = {"Knob": Knob, "dict": dict}
    for node in assignments:
        if {getattr(t, "id", None) for t in node.targets} & wanted:
            exec(compile(ast.Module([node], []), str(path), "exec"), tables)
    profiles, *knobs = (eval(compile(ast.Expression(a), str(path), "eval"), tables) for a in arguments)
    ns: dict = {}
    exec(parameters, ns)
    return ns, profiles, (knobs[0] if knobs else None)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_profile_resolves_within_the_bounds(path):
    ns, profiles, knobs = chapter_setup(path)
    # ptft run accepts the parameters cell's names, resolve the common ones and the knobs: the same
    assert set(ns) - {"__builtins__"} == {*COMMON, *profiles["default"]}
    for profile in profiles:
        cfg = resolve({**ns, "profile": profile}, profiles, knobs)
        assert cfg.profile == profile and set(COMMON) <= set(cfg)
