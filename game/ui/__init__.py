"""The pygame front end: the only code that imports pygame."""
