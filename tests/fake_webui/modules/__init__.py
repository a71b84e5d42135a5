"""Fake WebUI ``modules`` package for tests (see ../README.md). Never importable from the repository root."""
