"""Settings: model profiles from the config file, and the API key in the system keyring."""
