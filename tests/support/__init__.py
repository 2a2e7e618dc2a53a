"""Helpers for the test suite only (not installed with the kit): data writers and shared test routines."""
