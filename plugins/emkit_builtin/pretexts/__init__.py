"""Built-in pretext (self-supervised) objectives."""
