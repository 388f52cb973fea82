"""The profile a `shain run` uses: the config's, with the command line's choices on top, and
the policy picked from the model's name when `--model` comes without a policy."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from agent.config.profiles import Config, Profile, resolve_profile
from agent.policy.by_model import policy_for_model


def run_profile(config: Config, args: argparse.Namespace, say: Callable[[str], None]) -> Profile:
    """The profile for the run; `say` tells the user which policy a model's name chose, why."""
    profile = resolve_profile(
        config,
        args.profile,
        policy=args.policy,
        model=args.model,
        base_url=args.base_url,
        marks=args.marks,
    )
    if args.model is None or args.policy is not None or _profile_sets_policy(config, args):
        return profile
    guess = policy_for_model(args.model)
    # The family's settings (UI-TARS 1.0's grid, GPT-5.4's tool) unless the profile set them.
    settings = {**guess.settings, **profile.model_dump(exclude_unset=True), "policy": guess.policy}
    say(f"policy {guess.policy}: {guess.why}")
    return Profile.model_validate(settings)


def _profile_sets_policy(config: Config, args: argparse.Namespace) -> bool:
    name = args.profile or config.default_profile
    return name is not None and "policy" in config.profiles[name].model_fields_set
