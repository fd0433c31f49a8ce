"""manifest.yml is a valid Slack app manifest and asks for exactly what the app needs.

The schema in tests/data/slack-manifest.schema.json is Slack's published app-manifest
schema (slackapi/manifest-schema, schemas/manifest.schema.1.0.0.json), stored unchanged.
Its top-level manifest.schema.json routes manifests with `_metadata.major_version: 1`
(or none) to this file, so validating against it is what Slack's own router would do.
"""

from __future__ import annotations

import ast
import copy
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from jsonschema import Draft7Validator
from jsonschema.validators import validator_for

from bot import functions
from bot.transport.oauth import REDIRECT_PATH
from bot.transport.wsgi import EVENTS_PATH

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_PATH = ROOT / "manifest.yml"
SCHEMA_PATH = ROOT / "tests" / "data" / "slack-manifest.schema.json"
SETUP_DOC_PATH = ROOT / "docs" / "slack-setup.md"

# The least bot scopes the app needs; docs/slack-setup.md explains each one.
LEAST_BOT_SCOPES = {
    "commands",
    "chat:write",
    "users:read",
    "files:write",
    "files:read",
    "im:write",
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
    "links:read",
    "links:write",
}

Manifest = dict[str, Any]
Mutation = Callable[[Manifest], None]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft7Validator:
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


@pytest.fixture
def manifest() -> Manifest:
    loaded = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _errors(validator: Draft7Validator, instance: Manifest) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


def test_schema_is_draft_07_and_well_formed(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert validator_for(schema) is Draft7Validator
    Draft7Validator.check_schema(schema)


def test_manifest_validates_against_slack_schema(
    validator: Draft7Validator, manifest: Manifest
) -> None:
    assert _errors(validator, manifest) == []


def test_manifest_targets_the_schema_version_we_store(manifest: Manifest) -> None:
    # The stored schema is the one Slack's router applies to major version 1 (or none).
    assert manifest.get("_metadata", {}).get("major_version", 1) == 1


def test_customers_command_is_declared_with_hint_and_escaping(manifest: Manifest) -> None:
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/customers"}
    customers = commands["/customers"]
    assert customers["description"].strip()
    hint = customers["usage_hint"]
    for word in ("name", "new", "help", "chart", "staff", "add", "remove", "list", "@user"):
        assert word in hint
    # `/customers staff add @user` needs Slack to send <@U…> ids, not display names.
    assert customers["should_escape"] is True


def test_bot_user_and_app_home(manifest: Manifest) -> None:
    features = manifest["features"]
    assert features["bot_user"]["display_name"] == "Customer Records"
    assert features["app_home"]["home_tab_enabled"] is True


def test_events_interactivity_and_socket_mode(manifest: Manifest) -> None:
    settings = manifest["settings"]
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert settings["token_rotation_enabled"] is False


def test_workflow_steps_are_enabled_as_slack_requires(manifest: Manifest) -> None:
    settings = manifest["settings"]
    # Slack adds custom steps only to an org-ready app whose steps run on its own server.
    assert settings["org_deploy_enabled"] is True
    assert settings["function_runtime"] == "remote"
    assert "function_executed" in settings["event_subscriptions"]["bot_events"]


class _Registrations:
    """Stands in for the Bolt app to see which workflow steps bot/functions listens to."""

    def __init__(self) -> None:
        self.steps: dict[str, Callable[..., None]] = {}

    def function(self, callback_id: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
        def wire(listener: Callable[..., None]) -> Callable[..., None]:
            self.steps[callback_id] = listener
            return listener

        return wire


def _registered_steps() -> dict[str, Callable[..., None]]:
    registrations = _Registrations()
    functions.register(registrations)  # type: ignore[arg-type]
    return registrations.steps


def _inputs_read(listener: Callable[..., None]) -> set[str]:
    """The inputs a step's module reads (`step.text("name")`)."""
    tree = ast.parse(inspect.getsource(inspect.getmodule(listener)))  # type: ignore[arg-type]
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "text"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def test_declared_steps_are_exactly_the_registered_listeners(manifest: Manifest) -> None:
    assert set(manifest["functions"]) == set(_registered_steps())


def test_each_step_runs_as_a_staff_member_given_by_slack(manifest: Manifest) -> None:
    for callback_id, step in manifest["functions"].items():
        runner = step["input_parameters"]["runner"]
        assert runner["type"] == "slack#/types/user_context", callback_id
        assert runner["is_required"] is True, callback_id


def test_each_step_reads_only_what_it_declares(manifest: Manifest) -> None:
    steps = _registered_steps()
    for callback_id, step in manifest["functions"].items():
        declared = set(step["input_parameters"]) - {"runner"}
        read = _inputs_read(steps[callback_id])
        # Steps sharing a module may read each other's inputs, never an undeclared one.
        shared = {
            name
            for other, listener in steps.items()
            if inspect.getmodule(listener) is inspect.getmodule(steps[callback_id])
            for name in manifest["functions"][other]["input_parameters"]
        }
        assert declared <= read, (callback_id, declared - read)
        assert read <= shared, (callback_id, read - shared)
        for name, parameter in step["input_parameters"].items():
            assert parameter["name"] == name, (callback_id, name)
        for name, parameter in step["output_parameters"].items():
            assert parameter["name"] == name, (callback_id, name)


def test_bot_scopes_are_exactly_the_least_set(manifest: Manifest) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes) == {"bot"}, "no user scopes, no optional scopes"
    assert len(scopes["bot"]) == len(set(scopes["bot"]))
    assert set(scopes["bot"]) == LEAST_BOT_SCOPES


def test_every_scope_is_justified_in_the_setup_guide(manifest: Manifest) -> None:
    doc = SETUP_DOC_PATH.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z:._]+)` \|", doc, flags=re.MULTILINE))
    assert documented == set(manifest["oauth_config"]["scopes"]["bot"])


def test_background_color_is_a_hex_colour(manifest: Manifest) -> None:
    # The schema spells this check "regex", which JSON Schema ignores, so check it here.
    colour = manifest["display_information"]["background_color"]
    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", colour)


def _long_app_name(m: Manifest) -> None:
    m["display_information"]["name"] = "Customer Records for Studios and Gyms"  # 36 chars


def _unknown_top_level_key(m: Manifest) -> None:
    m["permissions"] = {"bot": ["commands"]}


def _command_without_slash(m: Manifest) -> None:
    m["features"]["slash_commands"][0]["command"] = "customers"


def _interactivity_without_is_enabled(m: Manifest) -> None:
    del m["settings"]["interactivity"]["is_enabled"]


def _socket_mode_as_string(m: Manifest) -> None:
    m["settings"]["socket_mode_enabled"] = "yes"


def _step_input_without_type(m: Manifest) -> None:
    del m["functions"]["find_customer"]["input_parameters"]["email"]["type"]


@pytest.mark.parametrize(
    ("mutation", "path"),
    [
        pytest.param(_long_app_name, "display_information/name", id="name-over-35-chars"),
        pytest.param(_unknown_top_level_key, "<root>", id="unknown-top-level-key"),
        pytest.param(
            _command_without_slash, "features/slash_commands/0/command", id="command-no-slash"
        ),
        pytest.param(
            _interactivity_without_is_enabled,
            "settings/interactivity",
            id="interactivity-missing-is_enabled",
        ),
        pytest.param(
            _socket_mode_as_string, "settings/socket_mode_enabled", id="socket-mode-not-bool"
        ),
        pytest.param(
            _step_input_without_type,
            "functions/find_customer/input_parameters/email",
            id="step-input-without-type",
        ),
    ],
)
def test_a_broken_manifest_fails_validation(
    validator: Draft7Validator, manifest: Manifest, mutation: Mutation, path: str
) -> None:
    broken = copy.deepcopy(manifest)
    mutation(broken)
    errors = _errors(validator, broken)
    assert errors, "the schema accepted a broken manifest"
    assert any(e.startswith(f"{path}: ") for e in errors), errors
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


# Every URL the app serves to Slack over HTTP, by where the manifest declares it.
SERVED_URLS = {
    ("features", "slash_commands", 0, "url"): EVENTS_PATH,
    ("settings", "event_subscriptions", "request_url"): EVENTS_PATH,
    ("settings", "interactivity", "request_url"): EVENTS_PATH,
    ("settings", "interactivity", "message_menu_options_url"): EVENTS_PATH,
    ("oauth_config", "redirect_urls", 0): REDIRECT_PATH,
}
HOST = "https://YOUR-HOST"
COMMENTED = re.compile(r"^(\s*)# (?:HTTP mode only|OAuth installs only): (.*)$")
NUMBERS = {"three": 3, "four": 4, "five": 5}


def _uncommented(text: str) -> Manifest:
    """The manifest with every 'HTTP mode only' / 'OAuth installs only' line un-commented."""
    lines = [COMMENTED.sub(r"\1\2", line) for line in text.splitlines()]
    loaded = yaml.safe_load("\n".join(lines))
    assert isinstance(loaded, dict)
    loaded["settings"]["socket_mode_enabled"] = False
    return loaded


def _urls(node: object, path: tuple[str | int, ...] = ()) -> dict[tuple[str | int, ...], str]:
    """Every string in the manifest that is one of our URLs, by its path."""
    if isinstance(node, dict):
        return {k: v for key, value in node.items() for k, v in _urls(value, (*path, key)).items()}
    if isinstance(node, list):
        return {k: v for i, value in enumerate(node) for k, v in _urls(value, (*path, i)).items()}
    if isinstance(node, str) and node.startswith(HOST):
        return {path: node.removeprefix(HOST)}
    return {}


def _dotted(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def test_un_commenting_the_manifest_declares_every_url_the_app_serves(
    validator: Draft7Validator,
) -> None:
    http = _uncommented(MANIFEST_PATH.read_text(encoding="utf-8"))
    assert _urls(http) == SERVED_URLS
    assert _errors(validator, http) == []


def test_the_manifest_header_counts_the_http_urls() -> None:
    header = MANIFEST_PATH.read_text(encoding="utf-8").split("_metadata:")[0]
    said = re.search(r"un-comment the (\w+)\s+#?\s*\"HTTP mode only\" URLs", header)
    assert said is not None, "the header should say how many URLs HTTP mode needs"
    http_only = [path for path, url in SERVED_URLS.items() if path[0] != "oauth_config"]
    assert NUMBERS[said.group(1)] == len(http_only)


def test_the_setup_guide_lists_every_url_the_app_serves() -> None:
    guide = SETUP_DOC_PATH.read_text(encoding="utf-8")
    for path, url in SERVED_URLS.items():
        if path[0] == "oauth_config":
            assert f"`{HOST}{url}`" in guide
        else:
            assert f"`{_dotted(path)}: {HOST}{url}`" in guide, _dotted(path)
