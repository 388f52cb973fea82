"""Policies decide what to do next from what is on the screen: a script, a model, a replay."""
