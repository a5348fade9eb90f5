"""YAML configurations, read once at the edge into typed dataclasses."""
