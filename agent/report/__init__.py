"""A run as one self-contained HTML page, and what to draw over each step's screenshot."""
