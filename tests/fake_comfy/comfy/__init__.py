"""Fake ``comfy`` package: the few modules the node pack touches (see ../README.md)."""
