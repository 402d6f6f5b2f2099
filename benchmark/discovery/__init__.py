"""How plugins are found: the hook specifications (the whole plugin surface), the entry points
and ``--plugin`` files that implement them, and the registry of what they provide."""
