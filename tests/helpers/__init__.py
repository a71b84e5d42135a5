"""Test helpers (the fake WebUI host lives in tests/helpers/webui.py and tests/fake_webui/)."""
