"""Policies decide what to do next from what is on the screen."""

from agent.policy.protocol import Decision, Observation, Policy, StepRecord, Usage

__all__ = ["Decision", "Observation", "Policy", "StepRecord", "Usage"]
