"""Tests of the Thor integration, its API client and the Thor simulator."""
