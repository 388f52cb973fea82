"""Learning routine work: runs (and the boss) turned into task files that replay them."""
