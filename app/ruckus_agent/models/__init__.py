"""Pydantic wire models. No I/O, and nothing else of ours is imported here."""
