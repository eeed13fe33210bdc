"""closer: the service around the termination workflow: settings, CLI, starting and watching."""
