"""Model profiles from the user's TOML config, and the choices the command line puts on top."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config.profiles import Config, Profile, config_path, load_config, resolve_profile
from agent.errors import ConfigError

TWO_PROFILES = """
default_profile = "openai"

[profiles.openai]
policy = "openai-cua"
model = "computer-use-preview"
price_input_per_million = 3.0
price_output_per_million = 12.0

[profiles.local]
policy = "ui-tars"
base_url = "http://localhost:8000/v1"
image_long_side = 1024
history_screenshots = 5
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the real user's config."""
    monkeypatch.setenv("SHAIN_CONFIG", str(tmp_path / "absent" / "config.toml"))


# ---- loading


def test_a_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nowhere.toml")
    assert config == Config()
    assert config.default_profile is None
    assert config.profiles == {}


def test_no_config_file_at_the_default_path_is_an_empty_config() -> None:
    assert load_config() == Config()


def test_a_valid_file_gives_both_profiles(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, TWO_PROFILES))
    assert config.default_profile == "openai"
    assert set(config.profiles) == {"openai", "local"}
    openai = config.profiles["openai"]
    assert openai.policy == "openai-cua"
    assert openai.model == "computer-use-preview"
    assert openai.price_input_per_million == 3.0
    local = config.profiles["local"]
    assert local.policy == "ui-tars"
    assert local.base_url == "http://localhost:8000/v1"
    assert local.image_long_side == 1024
    assert local.history_screenshots == 5
    # What the file does not say keeps its default.
    assert local.timeout_seconds == 60.0
    assert local.api_key_env == "OPENAI_API_KEY"
    assert local.coordinates == "absolute"


def test_an_empty_file_is_an_empty_config(tmp_path: Path) -> None:
    assert load_config(_write(tmp_path, "")) == Config()


def test_a_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '[profiles.local\npolicy = "ui-tars"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert str(path) in message
    assert "not valid TOML" in message


@pytest.mark.parametrize(
    ("text", "key_path"),
    [
        ('[profiles.local]\npolicy = "ui-tars"\nimage_long_side = 10\n', "image_long_side"),
        ('[profiles.local]\nimage_long_side = "big"\n', "image_long_side"),
        ('[profiles.local]\npolicy = "gpt-magic"\n', "policy"),
        ('[profiles.local]\ncolour = "blue"\n', "colour"),
        ("[profiles.local]\nhistory_screenshots = 0\n", "history_screenshots"),
        ('[profiles.local]\ncoordinates = "polar"\n', "coordinates"),
        ("[profiles.local]\ntimeout_seconds = -1\n", "timeout_seconds"),
    ],
)
def test_a_bad_value_or_unknown_key_names_the_file_and_the_key_path(
    tmp_path: Path, text: str, key_path: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert str(path) in message
    assert f"profiles.local.{key_path}" in message


def test_an_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="default_profil"):
        load_config(_write(tmp_path, 'default_profil = "openai"\n'))


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    text = "[profiles.a]\nmax_retries = 99\n[profiles.b]\nimage_format = 'gif'\n"
    with pytest.raises(ConfigError) as raised:
        load_config(_write(tmp_path, text))
    assert "profiles.a.max_retries" in str(raised.value)
    assert "profiles.b.image_format" in str(raised.value)


# ---- choosing a profile


def test_the_default_profile_is_the_one_the_file_names(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, TWO_PROFILES))
    profile = resolve_profile(config)
    assert profile.policy == "openai-cua"
    assert profile.price_output_per_million == 12.0


def test_a_named_profile_is_chosen_over_the_default(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, TWO_PROFILES))
    profile = resolve_profile(config, "local")
    assert profile == config.profiles["local"]


def test_without_a_default_or_a_name_the_built_in_profile_is_used() -> None:
    profile = resolve_profile(Config())
    assert profile == Profile()
    assert profile.policy == "openai-chat"


def test_command_line_choices_go_on_top_of_the_profile(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, TWO_PROFILES))
    profile = resolve_profile(
        config, "local", policy="qwen-vl", model="my-qwen", base_url="http://127.0.0.1:9/v1"
    )
    assert profile.policy == "qwen-vl"
    assert profile.model == "my-qwen"
    assert profile.base_url == "http://127.0.0.1:9/v1"
    # Everything else still comes from the profile.
    assert profile.image_long_side == 1024
    assert profile.history_screenshots == 5
    # And the profile in the config is unchanged.
    assert config.profiles["local"].policy == "ui-tars"


def test_only_the_choices_given_are_changed(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, TWO_PROFILES))
    profile = resolve_profile(config, model="gpt-5")
    assert profile.policy == "openai-cua"
    assert profile.model == "gpt-5"
    assert profile.base_url is None


def test_an_unknown_policy_on_the_command_line_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'gpt-magic'"):
        resolve_profile(Config(), policy="gpt-magic")


def test_an_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, TWO_PROFILES))
    with pytest.raises(ConfigError) as raised:
        resolve_profile(config, "cloud")
    message = str(raised.value)
    assert "'cloud'" in message
    assert "local, openai" in message


def test_an_unknown_default_profile_is_a_config_error(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, 'default_profile = "gone"\n'))
    with pytest.raises(ConfigError, match=r"'gone'.*profiles: none"):
        resolve_profile(config)


# ---- the profile itself


@pytest.mark.parametrize(
    ("policy", "model"),
    [
        ("openai-chat", "gpt-4.1"),
        ("openai-cua", "computer-use-preview"),
        ("ui-tars", "ByteDance-Seed/UI-TARS-1.5-7B"),
        ("qwen-vl", "Qwen/Qwen2.5-VL-7B-Instruct"),
    ],
)
def test_each_policy_has_a_usual_model(policy: str, model: str) -> None:
    assert Profile.model_validate({"policy": policy}).model_name == model


def test_a_named_model_wins_over_the_usual_one() -> None:
    profile = Profile.model_validate({"policy": "ui-tars", "model": "my-ui-tars"})
    assert profile.model_name == "my-ui-tars"


def test_cost_is_tokens_times_price_per_million() -> None:
    profile = Profile(price_input_per_million=2.5, price_output_per_million=10.0)
    assert profile.cost_usd(1_000_000, 0) == pytest.approx(2.5)
    assert profile.cost_usd(0, 1_000_000) == pytest.approx(10.0)
    assert profile.cost_usd(2000, 500) == pytest.approx((2000 * 2.5 + 500 * 10.0) / 1e6)
    assert profile.cost_usd(0, 0) == 0.0


def test_a_free_model_costs_nothing() -> None:
    assert Profile().cost_usd(123_456, 7_890) == 0.0


# ---- where the file is


def test_shain_config_points_at_another_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _write(tmp_path, TWO_PROFILES)
    monkeypatch.setenv("SHAIN_CONFIG", str(path))
    assert config_path() == path
    assert load_config().default_profile == "openai"


def test_without_shain_config_the_file_is_in_the_user_config_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHAIN_CONFIG", raising=False)
    path = config_path()
    assert path.name == "config.toml"
    assert path.parent.name == "shain"


def test_the_unknown_profile_message_names_the_config_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _write(tmp_path, TWO_PROFILES)
    monkeypatch.setenv("SHAIN_CONFIG", str(path))
    with pytest.raises(ConfigError) as raised:
        resolve_profile(load_config(), "cloud")
    assert str(path) in str(raised.value)
