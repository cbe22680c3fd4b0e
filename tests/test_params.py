"""Parameter resolution and every ParameterError case of the notebook contract."""

import pytest

from ptft_utils.kit.params import Knob, ParameterError, check_names, profile_table, resolve

PROFILES = {
    "smoke": {"epochs": 1, "lr": 0.1, "k_values": [1, 2], "dataset": "digits", "augment": False},
    "default": {"epochs": 5, "lr": 0.01, "k_values": [1, 5, 10], "dataset": "auto", "augment": True},
    "full": {"epochs": 20, "lr": 0.01, "k_values": [1, 5, 10, 100], "dataset": "mnist", "augment": True},
}
KNOBS = {"dataset": Knob(str, choices=("auto", "mnist", "digits"))}


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
        ("seed", -1, "an integer >= 0"),
        ("seed", 1.5, "an integer >= 0"),
        ("output_dir", "", "a non-empty string"),
        ("epochs", -1, "an integer >= 1"),
        ("epochs", 0, "an integer >= 1"),
        ("epochs", "3", "an integer >= 1"),
        ("epochs", True, "an integer >= 1"),
        ("lr", 0.0, "a number > 0"),
        ("lr", "fast", "a number > 0"),
        ("lr", float("nan"), "a number > 0"),
        ("k_values", [], "a non-empty list of an integer >= 1"),
        ("k_values", [1, "a"], "a non-empty list of an integer >= 1"),
        ("k_values", 5, "a non-empty list of an integer >= 1"),
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


def test_explicit_knob_allows_zero():
    cfg = resolve(namespace(epochs=0), PROFILES, {**KNOBS, "epochs": Knob(int, minimum=0)})
    assert cfg.epochs == 0


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
    assert "profile, device, epochs" in str(info.value)


def test_profile_table_shows_every_knob_per_profile():
    table = profile_table(PROFILES)
    assert list(table.columns) == ["smoke", "default", "full"]
    assert list(table.index) == ["epochs", "lr", "k_values", "dataset", "augment"]
    assert table.loc["epochs", "full"] == 20
