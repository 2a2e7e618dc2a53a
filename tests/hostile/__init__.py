"""Hostile input: every file, list line and parameter a user can get wrong, driven through the public entry points."""
