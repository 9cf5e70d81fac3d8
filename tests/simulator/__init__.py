"""Tests of the Thor simulator."""
