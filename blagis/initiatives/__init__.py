"""Initiatives: residents propose, staff moderate and answer, everyone follows."""
