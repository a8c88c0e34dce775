"""Encounters: the bundled library's loading, instructors' authoring, export, and the
exercises generated from an encounter."""
