"""The benchmark: runs of the suite's tasks on fresh screens, their scores, and grounding
accuracy."""
