"""Agent core: settings, detection, storage and the Agent composition root."""
