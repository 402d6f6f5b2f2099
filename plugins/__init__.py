"""Built-in strategies and dataset providers.

Each module is a plugin named by its own entry point in pyproject.toml, exactly as a
third-party package would register one; nothing here is imported by the core.
"""
