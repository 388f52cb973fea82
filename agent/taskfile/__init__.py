"""Task files: the YAML schema, its items, checks, variables and params, loaded with line
numbers."""
